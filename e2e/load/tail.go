package main

// -mode tail: -subscribers clients on the live log stream (GET
// /v1/logs/stream, Server-Sent Events) while one async invocation prints
// -lines-per-sec lines for -duration; the latency from a line's write to its
// receipt, over every delivery.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/asyncfn/asyncfn/nativeapi"
)

// tailJS prints rate lines/s for durationMs, each carrying the wall-clock
// time at which it is written in µs (performance.timeOrigin + now(): the
// same clock as the subscriber's time.Now on this machine).
const tailJS = `const { performance } = require('perf_hooks');
const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
exports.handler = async (event) => {
  const rate = event.rate, durationMs = event.durationMs;
  const t0 = performance.now();
  let n = 0;
  for (;;) {
    const el = performance.now() - t0;
    if (el >= durationMs) break;
    const due = Math.floor(el * rate / 1000);
    while (n < due) { console.log('BENCH ' + n + ' ' + nowUs()); n++; }
    await new Promise((r) => setTimeout(r, 1));
  }
  return { lines: n };
};
`

type subStats struct {
	lat      []time.Duration
	received int
	maxSeq   int
	err      error
}

func (b *bench) tail(ctx context.Context, res *result) error {
	o := b.o
	if err := b.deploy(ctx, fnSpec{name: o.function, runtime: "nodejs20.x", handler: "index.handler",
		files: map[string]string{"index.js": tailJS}, reserved: 1, timeout: int(o.duration.Seconds()) + 60}); err != nil {
		return fmt.Errorf("deploy %s: %w", o.function, err)
	}
	// Warm instance first, so the run measures the log path rather than a cold start.
	warm, _ := json.Marshal(map[string]any{"rate": 10, "durationMs": 100})
	if _, err := b.invoke(ctx, o.function, "RequestResponse", warm); err != nil {
		return fmt.Errorf("warm-up invoke: %w", err)
	}

	subCtx, cancel := context.WithTimeout(ctx, o.duration+60*time.Second)
	defer cancel()
	stats := make([]subStats, o.subscribers)
	expectLines := int(float64(o.linesPerSec) * o.duration.Seconds())
	streamURL := b.base + "/v1/logs/stream?from=now&function=" + url.QueryEscape(o.function)
	var ready, subs sync.WaitGroup
	ready.Add(o.subscribers)
	subs.Go(func() {
		pool(o.subscribers, numbered(int64(o.subscribers), nil), keepGoing, func(i int64) error {
			b.subscribe(subCtx, streamURL, &stats[i], expectLines, ready.Done)
			return stats[i].err
		})
	})
	if !within(30*time.Second, ready.Wait) {
		return errors.New("subscribers did not connect within 30 s")
	}
	before := b.sample()
	payload, _ := json.Marshal(map[string]any{"rate": o.linesPerSec, "durationMs": o.duration.Milliseconds()})
	ev, err := b.invoke(ctx, o.function, "Event", payload)
	if err != nil {
		return fmt.Errorf("invoke: %w", err)
	}
	// Wait for the event to end, then give subscribers a moment for the tail.
	var final nativeapi.EventInfo
	if _, err := poll(time.Now().Add(o.duration+60*time.Second), 200*time.Millisecond, func() (bool, error) {
		var err error
		final, err = b.event(ctx, o.function, ev.RequestID)
		return final.Status.Terminal(), err
	}); err != nil {
		return err
	}
	after := b.sample()
	if !within(10*time.Second, subs.Wait) {
		cancel()
		subs.Wait()
	}
	var written struct {
		Lines int `json:"lines"`
	}
	_ = json.Unmarshal(final.Result, &written)
	var all []time.Duration
	minRecv, maxRecv := math.MaxInt, 0
	var subErrs []string
	for i := range stats {
		all = append(all, stats[i].lat...)
		minRecv = min(minRecv, stats[i].received)
		maxRecv = max(maxRecv, stats[i].received)
		if stats[i].err != nil && len(subErrs) < 5 {
			subErrs = append(subErrs, stats[i].err.Error())
		}
	}
	res.set("function", o.function)
	res.set("subscribers", o.subscribers)
	res.set("linesPerSec", o.linesPerSec)
	res.set("durationSec", o.duration.Seconds())
	res.set("eventStatus", final.Status)
	res.set("linesWritten", written.Lines)
	res.set("linesReceivedMinPerSub", minRecv)
	res.set("linesReceivedMaxPerSub", maxRecv)
	res.set("deliveries", len(all))
	res.set("writeToReceive", latencySummary(all))
	if len(subErrs) > 0 {
		res.set("subscriberErrors", subErrs)
	}
	b.reportProc(res, before, after)
	return nil
}

// subscribe reads the live log stream at streamURL into st until the run's
// invocation has ended (its REPORT line, after its BENCH lines), the stream
// fails or ctx ends: for each BENCH line, the time from its write (the
// handler's clock) to its receipt (time.Now, the same clock on this machine).
// It calls ready once, when the subscription is in place or has failed.
func (b *bench) subscribe(ctx context.Context, streamURL string, st *subStats, expectLines int, ready func()) {
	st.lat = make([]time.Duration, 0, expectLines+16)
	st.maxSeq = -1
	signal := sync.OnceFunc(ready)
	defer signal()
	req, _ := http.NewRequestWithContext(ctx, "GET", streamURL, nil)
	resp, err := b.hc.Do(req)
	if err != nil {
		st.err = err
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		st.err = fmt.Errorf("stream: HTTP %d", resp.StatusCode)
		return
	}
	br := bufio.NewReaderSize(resp.Body, 256<<10)
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			if !errors.Is(err, context.Canceled) && ctx.Err() == nil {
				st.err = err
			}
			return
		}
		now := time.Now().UnixMicro()
		if bytes.HasPrefix(line, []byte(streamHello)) {
			signal()
			continue
		}
		if !bytes.HasPrefix(line, []byte(streamData)) {
			continue
		}
		i := bytes.Index(line, []byte("BENCH "))
		if i < 0 {
			if bytes.Contains(line, []byte("REPORT RequestId: ")) && st.received > 0 {
				return // the run's invocation ended; its lines came before
			}
			continue
		}
		f := strings.Fields(string(line[i+6:]))
		if len(f) < 2 {
			continue
		}
		seq, _ := strconv.Atoi(f[0])
		us, _ := strconv.ParseInt(strings.TrimRight(f[1], `"}`), 10, 64)
		st.received++
		st.maxSeq = max(st.maxSeq, seq)
		st.lat = append(st.lat, time.Duration(now-us)*time.Microsecond)
	}
}
