package main

// The loops every mode shares: pool runs jobs from a number of workers and
// counts what succeeded, how long each success took and what failed (accept's
// closed and open loops and warm-up, tail's subscribers, running's ramp,
// terminations and timed sync invokes, list's seeding and timed queries);
// poll waits until the emulator reports a state.

import (
	"sync"
	"sync/atomic"
	"time"
)

// jobs hands out the next job: its number and the time it was due; ok is
// false when there is none left. Every worker of a pool calls it, at once.
type jobs func() (i int64, due time.Time, ok bool)

// numbered hands out jobs 0 … n-1, each due when a worker takes it, while
// more (nil: always) reports true.
func numbered(n int64, more func() bool) jobs {
	var next atomic.Int64
	return func() (int64, time.Time, bool) {
		if more != nil && !more() {
			return 0, time.Time{}, false
		}
		if i := next.Add(1) - 1; i < n {
			return i, time.Now(), true
		}
		return 0, time.Time{}, false
	}
}

// until hands out at most n jobs, each due when a worker takes it, until
// deadline: a closed loop.
func until(deadline time.Time, n int64) jobs {
	return numbered(n, func() bool { return time.Now().Before(deadline) })
}

// paced hands out n jobs, job i due at start + i/rate: an open loop. A
// dispatcher queues each job at its due time, however many are still waiting
// for a worker, so the latency of a job that waited (from its due time)
// includes the wait: a stalled emulator shows up as latency of the requests
// queued behind it (no coordinated omission). late counts the jobs the
// dispatcher itself queued more than 1 ms after their due time; read it once
// the pool has returned.
func paced(start time.Time, n int, rate float64) (next jobs, late *atomic.Int64) {
	due := make(chan time.Time, n)
	late = new(atomic.Int64)
	go func() {
		period := time.Duration(float64(time.Second) / rate)
		for i := range n {
			t := start.Add(time.Duration(i) * period)
			if d := time.Until(t); d > 0 {
				time.Sleep(d)
			} else if d < -time.Millisecond {
				late.Add(1)
			}
			due <- t
		}
		close(due)
	}()
	return func() (int64, time.Time, bool) {
		t, ok := <-due
		return 0, t, ok
	}, late
}

// tally is what a pool counted.
type tally struct {
	ok   int64
	lat  []time.Duration // of the successes, from their due times
	errs map[string]int  // failures by message
	err  error           // one failure (repeat: the one it stopped at)
}

func (t *tally) failed() int {
	n := 0
	for _, v := range t.errs {
		n += v
	}
	return n
}

// onError says whether a pool goes on after a failed job.
type onError bool

const (
	keepGoing onError = false // count the failure, go on
	stopAll   onError = true  // start no job after the first failure
)

// pool runs workers goroutines, each taking jobs from next until there are
// none left and doing them with do, and returns what they counted once all
// have stopped.
func pool(workers int, next jobs, policy onError, do func(i int64) error) *tally {
	total := &tally{errs: map[string]int{}}
	var mu sync.Mutex
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			t := tally{errs: map[string]int{}}
			for !(policy == stopAll && failed.Load()) {
				i, due, more := next()
				if !more {
					break
				}
				if err := do(i); err != nil {
					t.errs[err.Error()]++
					if t.err == nil {
						t.err = err
					}
					if policy == stopAll {
						failed.Store(true)
					}
					continue
				}
				t.ok++
				t.lat = append(t.lat, time.Since(due))
			}
			mu.Lock()
			defer mu.Unlock()
			total.ok += t.ok
			total.lat = append(total.lat, t.lat...)
			for k, v := range t.errs {
				total.errs[k] += v
			}
			if total.err == nil {
				total.err = t.err
			}
		})
	}
	wg.Wait()
	return total
}

// repeat does do n times, one after another, and returns how long each took;
// it stops at the first error.
func repeat(n int, do func(i int) error) ([]time.Duration, error) {
	t := pool(1, numbered(int64(n), nil), stopAll, func(i int64) error { return do(int(i)) })
	return t.lat, t.err
}

// poll calls check, then again every `every`, until it reports done or
// fails; done is false when deadline passed first.
func poll(deadline time.Time, every time.Duration, check func() (bool, error)) (done bool, err error) {
	for {
		if done, err := check(); done || err != nil {
			return done, err
		}
		if !time.Now().Before(deadline) {
			return false, nil
		}
		time.Sleep(every)
	}
}

// within calls wait and reports whether it returned within d (it is left
// running when not).
func within(d time.Duration, wait func()) bool {
	done := make(chan struct{})
	go func() { wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}
