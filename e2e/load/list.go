package main

// -mode list: with -seed, events inserted straight into a state directory's
// store (before the emulator starts on it); without, the latency of
// event-list queries over them (-queries timed runs of each, after two
// untimed ones).

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"time"

	"github.com/google/uuid"

	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/localemu/store"
	"github.com/asyncfn/asyncfn/nativeapi"
)

// seed inserts o.seed terminal events straight into the store of
// o.stateDir: 90% for -function, 10% for <function>-other; created over the
// last 30 days in creation order; 80% SUCCEEDED, 10% FAILED, 5% TIMED_OUT,
// 5% TERMINATED. The emulator must not be running on that directory.
func seed(ctx context.Context, o *options, res *result) error {
	if o.stateDir == "" {
		return errors.New("-seed needs -state-dir (the directory the emulator will be started on)")
	}
	st, err := store.Open(o.stateDir)
	if err != nil {
		return err
	}
	defer st.Close()
	const span = 30 * 24 * time.Hour
	end := time.Now().UTC()
	begin := end.Add(-span)
	step := span / time.Duration(o.seed)
	payload := []byte(`{"bucket":"videos","key":"uploads/2025/06/07/abcdef0123456789.mp4","preset":"1080p","notify":"https://example.com/hook"}`)
	t0 := time.Now()
	t := pool(64, numbered(int64(o.seed), nil), stopAll, func(i int64) error {
		created := begin.Add(time.Duration(i) * step)
		started := created.Add(15 * time.Millisecond)
		dur := time.Duration(100+(i*7919)%100_000) * time.Millisecond
		ev := &store.Event{RequestID: uuid.NewString(), Function: o.function, Version: 1, InvokeType: event.InvokeEvent,
			Payload: payload, Attempts: 1, CreatedAt: created, StartedAt: started, EndedAt: started.Add(dur),
			DurationMs: dur.Milliseconds(), MaxMemoryMB: 40}
		if i%10 == 9 {
			ev.Function = o.function + "-other"
		}
		switch r := i % 20; {
		case r < 16:
			ev.Status, ev.Result = event.Succeeded, []byte(`{"ok":true}`)
		case r < 18:
			ev.Status, ev.ErrorType, ev.ErrorMessage = event.Failed, "Error", "boom"
		case r < 19:
			ev.Status, ev.ErrorType, ev.ErrorMessage = event.TimedOut, "Sandbox.Timedout", "Task timed out after 60.00 seconds"
		default:
			ev.Status, ev.ErrorType, ev.ErrorMessage = event.Terminated, "Terminated", "terminated on request"
		}
		if err := st.InsertEvent(ctx, ev); err != nil {
			return err
		}
		if i > 0 && i%100_000 == 0 {
			fmt.Fprintf(os.Stderr, "load: seeded %d events (%.0f/s)\n", i, float64(i)/time.Since(t0).Seconds())
		}
		return nil
	})
	if t.err != nil {
		return t.err
	}
	el := time.Since(t0)
	res.set("seeded", o.seed)
	res.set("stateDir", o.stateDir)
	res.set("seedSec", math.Round(el.Seconds()*10)/10)
	res.set("seedInsertsPerSec", math.Round(float64(o.seed)/el.Seconds()))
	res.set("seedRange", begin.Format(time.RFC3339)+" .. "+end.Format(time.RFC3339))
	return nil
}

func (b *bench) list(ctx context.Context, res *result) error {
	o := b.o
	now := time.Now().UTC()
	ts := func(d time.Duration) string { return url.QueryEscape(now.Add(-d).Format(time.RFC3339Nano)) }
	queries := []struct{ name, q string }{
		{"status+since7d+limit100", "status=SUCCEEDED&since=" + ts(7*24*time.Hour) + "&limit=100"},
		{"status+since7d+limit100+desc", "status=SUCCEEDED&since=" + ts(7*24*time.Hour) + "&limit=100&order=desc"},
		{"2statuses+since7d+limit100", "status=FAILED,TIMED_OUT&since=" + ts(7*24*time.Hour) + "&limit=100"},
		{"status+since30d+limit100", "status=SUCCEEDED&since=" + ts(31*24*time.Hour) + "&limit=100"},
		{"window1h+limit100", "since=" + ts(7*24*time.Hour) + "&until=" + ts(7*24*time.Hour-time.Hour) + "&limit=100"},
		{"nofilter+limit100", "limit=100"},
		{"status+since7d+offset5000", "status=SUCCEEDED&since=" + ts(7*24*time.Hour) + "&limit=100&offset=5000"},
	}
	before := b.sample()
	total, err := b.count(ctx, o.function, "")
	if err != nil {
		return err
	}
	res.set("function", o.function)
	res.set("functionEvents", total)
	var out []map[string]any
	for _, q := range queries {
		var l nativeapi.EventPage
		query := func(int) error {
			var err error
			l, err = b.events(ctx, o.function, q.q)
			return err
		}
		if _, err := repeat(2, query); err != nil { // two warm-ups
			return err
		}
		ds, err := repeat(o.queries, query)
		if err != nil {
			return err
		}
		s := latencySummary(ds)
		m := map[string]any{"query": q.name, "matches": l.Total, "returned": len(l.Events), "medianMs": s["p50Ms"], "maxMs": s["maxMs"], "n": len(ds)}
		out = append(out, m)
		fmt.Fprintf(os.Stderr, "load: %-30s matches %8d  median %7.2f ms  max %7.2f ms\n", q.name, l.Total, s["p50Ms"], s["maxMs"])
	}
	res.set("queries", out)
	b.reportProc(res, before, b.sample())
	return nil
}
