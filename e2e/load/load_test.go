package main

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// p999 is the nearest-rank 99.9th percentile: rank ⌈999·n/1000⌉.
func TestP999IsNearestRank(t *testing.T) {
	for n := 1; n <= 20_000; n++ {
		sorted := make([]int64, n)
		for i := range sorted {
			sorted[i] = int64(i + 1) // the value is its rank
		}
		if got, want := p999(sorted), int64((999*n+999)/1000); got != want {
			t.Fatalf("n=%d: p999 = rank %d, want %d", n, got, want)
		}
	}
	if got := p999(nil); got != 0 {
		t.Fatalf("p999(nil) = %d", got)
	}
}

func TestLatencySummary(t *testing.T) {
	var ds []time.Duration
	for i := 20; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	s := latencySummary(ds)
	want := map[string]any{"n": 20, "p50Ms": 10.0, "p95Ms": 19.0, "p99Ms": 20.0, "p999Ms": 20.0, "maxMs": 20.0}
	for k, v := range want {
		if s[k] != v {
			t.Errorf("%s = %v, want %v", k, s[k], v)
		}
	}
	if s := latencySummary(nil); len(s) != 1 || s["n"] != 0 {
		t.Errorf("latencySummary(nil) = %v", s)
	}
}

func TestPoolDoesEveryJobOnce(t *testing.T) {
	var mu sync.Mutex
	seen := map[int64]int{}
	tl := pool(8, numbered(1000, nil), keepGoing, func(i int64) error {
		mu.Lock()
		seen[i]++
		mu.Unlock()
		if i%10 == 0 {
			return errors.New("tenth")
		}
		return nil
	})
	if len(seen) != 1000 || tl.ok != 900 || len(tl.lat) != 900 || tl.failed() != 100 || tl.errs["tenth"] != 100 || tl.err == nil {
		t.Fatalf("seen %d jobs, ok %d, %d latencies, errors %v", len(seen), tl.ok, len(tl.lat), tl.errs)
	}
	for i, n := range seen {
		if n != 1 {
			t.Fatalf("job %d done %d times", i, n)
		}
	}
}

func TestRepeatStopsAtFirstError(t *testing.T) {
	var calls atomic.Int64
	ds, err := repeat(10, func(i int) error {
		calls.Add(1)
		if i == 3 {
			return errors.New("boom")
		}
		return nil
	})
	if err == nil || err.Error() != "boom" || calls.Load() != 4 || len(ds) != 3 {
		t.Fatalf("err %v, %d calls, %d durations", err, calls.Load(), len(ds))
	}
}

func TestPacedDueTimes(t *testing.T) {
	start := time.Now()
	next, late := paced(start, 5, 1000)
	for i := range 5 {
		_, due, ok := next()
		if !ok || !due.Equal(start.Add(time.Duration(i)*time.Millisecond)) {
			t.Fatalf("job %d: due %v (ok %v), want start+%dms", i, due.Sub(start), ok, i)
		}
	}
	if _, _, ok := next(); ok {
		t.Fatal("a sixth job")
	}
	_ = late.Load()
}

func TestPollGivesUpAtDeadline(t *testing.T) {
	n := 0
	done, err := poll(time.Now().Add(30*time.Millisecond), 5*time.Millisecond, func() (bool, error) { n++; return false, nil })
	if done || err != nil || n < 2 {
		t.Fatalf("done %v, err %v, %d checks", done, err, n)
	}
	done, err = poll(time.Now().Add(time.Hour), time.Hour, func() (bool, error) { return true, nil })
	if !done || err != nil {
		t.Fatalf("done %v, err %v", done, err)
	}
}
