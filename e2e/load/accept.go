package main

// -mode accept: async invokes of a no-op function through a front (fronts.go),
// closed loop (-clients) or open loop (-rate); with -wait, the completions and
// the end-to-end latency of the accepted events.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

const noopJS = "exports.handler = async (event) => ({ ok: true });\n"

func makePayload(n int) []byte {
	const frame = `{"pad":""}`
	pad := max(0, n-len(frame))
	return []byte(`{"pad":"` + strings.Repeat("x", pad) + `"}`)
}

func (b *bench) accept(ctx context.Context, res *result) error {
	o := b.o
	fr, err := newFront(o, b.base)
	if err != nil {
		return err
	}
	b.front = fr
	provider := o.provider
	if provider == "" && o.front == "scf" {
		provider = "tencent"
	}
	if !o.noDeploy {
		if err := b.deploy(ctx, fnSpec{name: o.function, runtime: "nodejs20.x", handler: "index.handler", provider: provider,
			files: map[string]string{"index.js": noopJS}, reserved: o.reserved, timeout: 30}); err != nil {
			return fmt.Errorf("deploy %s: %w", o.function, err)
		}
	}
	res.set("front", o.front)
	res.set("signed", fr.signed())
	if !o.noDeploy {
		res.set("provider", cmpStr(provider, "aws"))
	}
	payload := makePayload(o.payload)
	res.set("cold", o.cold)
	if !o.cold {
		// Warm the connections and the function.
		if _, err := repeat(10, func(int) error { return b.acceptErr(ctx, payload, nil) }); err != nil {
			return fmt.Errorf("warm-up invoke: %w", err)
		}
		if o.warmup > 0 {
			if err := b.warm(ctx, payload); err != nil {
				return err
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	peak := watchTree(b.pid)
	defer func() { res.set("treePeakRssMB", mb(peak.stop())) }()

	var idCount atomic.Int64
	runCtx, cancel := context.WithTimeout(ctx, o.duration+30*time.Second)
	defer cancel()
	before := b.sample()
	childBefore := descendants(b.pid)
	start := time.Now()
	since := start.Add(-time.Millisecond).UTC()
	var next jobs
	var late *atomic.Int64
	if o.rate <= 0 {
		res.set("loop", fmt.Sprintf("closed, %d clients", o.clients))
		next = until(start.Add(o.duration), int64(o.maxRequests))
	} else {
		total := min(int(o.rate*o.duration.Seconds()), o.maxRequests)
		res.set("loop", fmt.Sprintf("open, %.0f/s offered, at most %d in flight", o.rate, o.clients))
		res.set("offered", total)
		next, late = paced(start, total, o.rate)
	}
	set := pool(o.clients, next, keepGoing, func(int64) error { return b.acceptErr(runCtx, payload, &idCount) })
	elapsed := time.Since(start)
	after := b.sample()
	childAfter := descendants(b.pid)

	res.set("function", o.function)
	res.set("payloadBytes", len(payload))
	res.set("reservedConcurrency", o.reserved)
	res.set("durationSec", elapsed.Seconds())
	res.set("accepted", set.ok)
	res.set("acceptedWithRequestId", idCount.Load())
	res.set("acceptedPerSec", math.Round(float64(set.ok)/elapsed.Seconds()))
	res.set("acceptLatency", latencySummary(set.lat))
	nerr := set.failed()
	res.set("errors", nerr)
	if nerr > 0 {
		res.set("errorKinds", set.errs)
	}
	if late != nil {
		res.set("dispatchedLateOver1ms", late.Load())
	}
	b.reportProc(res, before, after)
	res.set("childProcs", childAfter.procs)
	res.set("childRssMB", mb(childAfter.rssKB))
	// CPU of the function processes: the live ones' own plus what the
	// emulator reaped (cutime/cstime), so instances that exit still count.
	res.set("childCpuSec", (childAfter.cpu + after.childCPU - childBefore.cpu - before.childCPU).Seconds())
	if !o.wait {
		return nil
	}
	return b.waitDone(ctx, res, since, start, int(set.ok))
}

// acceptErr sends one async invoke through the front (acceptOne) and returns
// why it was not accepted, nil when it was; withID (when not nil) counts the
// accepted invokes whose answer named the event.
func (b *bench) acceptErr(ctx context.Context, payload []byte, withID *atomic.Int64) error {
	ok, id, msg := b.acceptOne(ctx, payload)
	if !ok {
		return errors.New(msg)
	}
	if id && withID != nil {
		withID.Add(1)
	}
	return nil
}

// warm sends o.warmup async invokes from o.clients clients and waits until
// none of the function's events is QUEUED or RUNNING.
func (b *bench) warm(ctx context.Context, payload []byte) error {
	o := b.o
	t := pool(min(o.clients, 64), numbered(int64(o.warmup), nil), keepGoing, func(int64) error { return b.acceptErr(ctx, payload, nil) })
	done, err := poll(time.Now().Add(o.waitTimeout), 250*time.Millisecond, func() (bool, error) {
		n, err := b.count(ctx, o.function, "status=QUEUED,RUNNING")
		return n == 0, err
	})
	if err != nil {
		return err
	}
	if !done {
		return fmt.Errorf("warm-up: events still QUEUED or RUNNING after %v", o.waitTimeout)
	}
	fmt.Fprintf(os.Stderr, "load: warm-up: %d invokes done (%d failed), %d function processes\n", o.warmup, t.failed(), descendants(b.pid).procs)
	return nil
}

const terminalQuery = "status=SUCCEEDED,FAILED,TIMED_OUT,TERMINATED"

// waitDone polls until n events created since `since` are terminal, then
// reads them for end-to-end latency (endedAt - createdAt, both the
// emulator's clock).
func (b *bench) waitDone(ctx context.Context, res *result, since, start time.Time, n int) error {
	o := b.o
	q := terminalQuery + "&since=" + url.QueryEscape(since.Format(time.RFC3339Nano))
	loadEnd := time.Now()
	doneAtLoadEnd, done := -1, 0
	if _, err := poll(loadEnd.Add(o.waitTimeout), 250*time.Millisecond, func() (bool, error) {
		c, err := b.count(ctx, o.function, q)
		if doneAtLoadEnd < 0 { // the count at the load's end: a failure counts none
			doneAtLoadEnd, err = c, nil
		}
		done = c
		return done >= n, err
	}); err != nil {
		return err
	}
	allDone := time.Now()
	res.set("completed", done)
	res.set("completedAtLoadEnd", doneAtLoadEnd)
	if done < n {
		res.set("waitTimedOut", true)
	}
	res.set("completionsPerSecOverall", math.Round(float64(done)/allDone.Sub(start).Seconds()))
	if d := allDone.Sub(loadEnd).Seconds(); d > 0.5 {
		res.set("completionsPerSecAfterLoad", math.Round(float64(done-doneAtLoadEnd)/d))
	}
	// End-to-end latency: page through the events in creation order.
	var e2e []time.Duration
	byStatus := map[string]int{}
	seen := map[string]bool{}
	cursor := since
	for pages := 0; len(e2e) < o.e2eMax && pages < o.e2eMax/50+10; pages++ {
		l, err := b.events(ctx, o.function, "limit=100&since="+url.QueryEscape(cursor.Format(time.RFC3339Nano)))
		if err != nil {
			return err
		}
		fresh := 0
		for _, ev := range l.Events {
			if seen[ev.RequestID] {
				continue
			}
			seen[ev.RequestID] = true
			fresh++
			byStatus[string(ev.Status)]++
			if ev.EndedAt != nil {
				e2e = append(e2e, ev.EndedAt.Sub(ev.CreatedAt))
			}
			cursor = ev.CreatedAt
		}
		if fresh == 0 {
			break
		}
	}
	res.set("endToEnd", latencySummary(e2e))
	res.set("endToEndByStatus", byStatus)
	return nil
}
