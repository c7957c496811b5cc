package main

// -mode fanout: -events async events of a handler that sleeps -sleep, invoked
// together on a function with no instance yet; how long each waited before
// its handler began (its first output line's time minus its acceptance), set
// against the cold start of one event on a fresh function (the Init Duration
// of its REPORT line). Issue 14's "no loss for long functions": every event
// must begin within about one cold start of its invoke, not behind another
// event's run.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/asyncfn/asyncfn/event"
)

const fanoutJS = `exports.handler = async (event) => {
  console.log("begin");
  await new Promise((r) => setTimeout(r, event.ms));
  return { slept: event.ms };
};
`

func (b *bench) fanout(ctx context.Context, res *result) error {
	o := b.o
	n, sleep := o.events, o.sleep
	if n <= 0 || n > 200 {
		return fmt.Errorf("-events %d: fanout takes 1 to 200 events", n)
	}
	spec := func(name string) fnSpec {
		return fnSpec{name: name, runtime: "nodejs20.x", handler: "index.handler", files: map[string]string{"index.js": fanoutJS},
			reserved: -1, timeout: int(sleep.Seconds()) + 60}
	}
	payload := []byte(fmt.Sprintf(`{"ms": %d}`, sleep.Milliseconds()))

	// One cold start alone, for scale.
	one := o.function + "-one"
	if err := b.deploy(ctx, spec(one)); err != nil {
		return err
	}
	ev, err := b.invoke(ctx, one, "Event", payload)
	if err != nil {
		return err
	}
	if _, err := b.waitEnded(ctx, one, []string{ev.RequestID}, sleep+time.Minute); err != nil {
		return err
	}
	init, _, err := b.began(ctx, ev.RequestID, ev.CreatedAt)
	if err != nil {
		return err
	}
	res.set("coldStartAloneMs", init.Milliseconds())

	if err := b.deploy(ctx, spec(o.function)); err != nil {
		return err
	}
	ids := make([]string, n)
	created := make([]time.Time, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev, err := b.invoke(ctx, o.function, "Event", payload)
			if err != nil {
				errs <- err
				return
			}
			ids[i], created[i] = ev.RequestID, ev.CreatedAt
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	res.set("events", n)
	res.set("invokeSpreadMs", time.Since(start).Milliseconds())
	ended, err := b.waitEnded(ctx, o.function, ids, sleep+3*time.Minute)
	if err != nil {
		return err
	}
	res.set("succeeded", ended)
	var waits []time.Duration
	var inits []time.Duration
	for i, id := range ids {
		w, initDur, err := b.began(ctx, id, created[i])
		if err != nil {
			return err
		}
		waits = append(waits, w)
		if initDur > 0 {
			inits = append(inits, initDur)
		}
	}
	res.set("beganAfterInvoke", latencySummary(waits))
	res.set("coldStartsDuringFanout", latencySummary(inits))
	res.set("instancesStarted", len(inits))
	return nil
}

// began returns how long after created the event's handler printed its first
// line, and its attempt's Init Duration (0 on a warm instance).
func (b *bench) began(ctx context.Context, id string, created time.Time) (time.Duration, time.Duration, error) {
	l, err := b.logs(ctx, id)
	if err != nil {
		return 0, 0, err
	}
	var first time.Time
	var initDur time.Duration
	for _, line := range l.Lines {
		if first.IsZero() && strings.HasSuffix(line.Text, "begin") {
			first = line.Time
		}
		if _, rest, ok := strings.Cut(line.Text, "Init Duration: "); ok {
			if ms, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " ms"), 64); err == nil {
				initDur = time.Duration(ms * float64(time.Millisecond))
			}
		}
	}
	if first.IsZero() {
		return 0, 0, fmt.Errorf("event %s printed no begin line", id)
	}
	return first.Sub(created), initDur, nil
}

// waitEnded polls until every id is terminal and returns how many succeeded.
func (b *bench) waitEnded(ctx context.Context, fn string, ids []string, limit time.Duration) (int, error) {
	deadline := time.Now().Add(limit)
	for {
		ok, done := 0, 0
		for _, id := range ids {
			ev, err := b.event(ctx, fn, id)
			if err != nil {
				return 0, err
			}
			if ev.Status.Terminal() {
				done++
				if ev.Status == event.Succeeded {
					ok++
				}
			}
		}
		if done == len(ids) {
			return ok, nil
		}
		if time.Now().After(deadline) {
			return ok, fmt.Errorf("%d of %d events still running after %v", len(ids)-done, len(ids), limit)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
