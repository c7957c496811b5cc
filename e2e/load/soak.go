package main

// -mode soak: a long run, the way a day-long job meets the emulator. For
// -duration, -events printer events (tailJS) are kept running at all times,
// together printing -lines-per-sec lines, each lasting -event-duration
// (when one ends the next starts); -subscribers clients follow the whole
// function's live log stream; a no-op function is invoked asynchronously at
// -rate per second. Every -sample-every it records the emulator's RSS, the
// state database's size (in -state-dir), the accept latency of the window
// and the lines delivered. At the end it checks that every subscriber got
// every line of every event, in order, once.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asyncfn/asyncfn/nativeapi"
)

// soakSub is one subscriber's view: per request, the next line number it
// expects and whether a line came out of order.
type soakSub struct {
	mu       sync.Mutex
	next     map[string]int
	bad      map[string]string // request → first problem
	received atomic.Int64
	err      error
}

func (s *soakSub) line(l *nativeapi.LogLineInfo) {
	i := strings.Index(l.Text, "BENCH ")
	if i < 0 || l.RequestID == "" {
		return
	}
	f := strings.Fields(l.Text[i+6:])
	if len(f) < 1 {
		return
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return
	}
	s.received.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if want := s.next[l.RequestID]; n != want {
		if _, seen := s.bad[l.RequestID]; !seen {
			s.bad[l.RequestID] = fmt.Sprintf("line %d came when %d was due", n, want)
		}
	}
	s.next[l.RequestID] = n + 1
}

// soakSample is one row of the run's time series.
type soakSample struct {
	AtSec         float64 `json:"atSec"`
	RssMB         float64 `json:"rssMB"`
	Threads       int64   `json:"threads"`
	StoreMB       float64 `json:"storeMB"` // state.db
	WalMB         float64 `json:"walMB"`
	Accepts       int     `json:"accepts"`
	AcceptP50Ms   float64 `json:"acceptP50Ms"`
	AcceptP99Ms   float64 `json:"acceptP99Ms"`
	AcceptErrors  int64   `json:"acceptErrors"`
	LinesReceived int64   `json:"linesReceived"` // by the first subscriber, so far
}

type soakEvent struct {
	id    string
	lines int
	err   string
}

func (b *bench) soak(ctx context.Context, res *result) error {
	o := b.o
	if o.stateDir == "" {
		return errors.New("-mode soak needs -state-dir (the emulator's state directory) to measure the store")
	}
	printer, noop := o.function, o.function+"-noop"
	evDur := o.eventDuration
	if err := b.deploy(ctx, fnSpec{name: printer, runtime: "nodejs20.x", handler: "index.handler",
		files: map[string]string{"index.js": tailJS}, reserved: o.events + 2, timeout: int(evDur.Seconds()) + 60}); err != nil {
		return fmt.Errorf("deploy %s: %w", printer, err)
	}
	if err := b.deploy(ctx, fnSpec{name: noop, runtime: "nodejs20.x", handler: "index.handler",
		files: map[string]string{"index.js": "exports.handler = async () => 'ok';\n"}, reserved: 4, timeout: 10}); err != nil {
		return fmt.Errorf("deploy %s: %w", noop, err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()

	// Subscribers first: they must see every line of every event.
	subs := make([]*soakSub, o.subscribers)
	var subWG, ready sync.WaitGroup
	streamURL := b.base + "/v1/logs/stream?from=now&function=" + url.QueryEscape(printer)
	for i := range subs {
		subs[i] = &soakSub{next: map[string]int{}, bad: map[string]string{}}
		ready.Add(1)
		subWG.Go(func() { subs[i].err = b.follow(runCtx, streamURL, subs[i], sync.OnceFunc(ready.Done)) })
	}
	if !within(30*time.Second, ready.Wait) {
		return errors.New("subscribers did not connect within 30 s")
	}

	start := time.Now()
	deadline := start.Add(o.duration)
	var evMu sync.Mutex
	var events []soakEvent
	// The printers: -events slots, each running one event after another.
	var slots sync.WaitGroup
	rate := max(1, o.linesPerSec/max(o.events, 1))
	for range o.events {
		slots.Go(func() {
			for time.Now().Before(deadline) {
				d := min(evDur, time.Until(deadline))
				payload, _ := json.Marshal(map[string]any{"rate": rate, "durationMs": d.Milliseconds()})
				ev, err := b.invoke(ctx, printer, "Event", payload)
				if err != nil {
					evMu.Lock()
					events = append(events, soakEvent{err: err.Error()})
					evMu.Unlock()
					time.Sleep(time.Second)
					continue
				}
				var final nativeapi.EventInfo
				_, err = poll(time.Now().Add(d+2*time.Minute), 500*time.Millisecond, func() (bool, error) {
					var err error
					final, err = b.event(ctx, printer, ev.RequestID)
					return final.Status.Terminal(), err
				})
				se := soakEvent{id: ev.RequestID}
				var written struct {
					Lines int `json:"lines"`
				}
				_ = json.Unmarshal(final.Result, &written)
				se.lines = written.Lines
				if err != nil || final.Status != "SUCCEEDED" {
					se.err = fmt.Sprintf("%s %v", final.Status, err)
				}
				evMu.Lock()
				events = append(events, se)
				evMu.Unlock()
			}
		})
	}

	// The accept probe: -rate no-op invokes per second, each timed.
	type accept struct {
		at  time.Duration
		lat time.Duration
	}
	var accMu sync.Mutex
	var accepts []accept
	var acceptErrs atomic.Int64
	var probe sync.WaitGroup
	probe.Go(func() {
		n := int(o.rate * o.duration.Seconds())
		next, _ := paced(start, n, o.rate)
		pool(8, next, keepGoing, func(i int64) error {
			t0 := time.Now()
			_, err := b.invoke(ctx, noop, "Event", []byte(`{}`))
			if err != nil {
				acceptErrs.Add(1)
				return err
			}
			accMu.Lock()
			accepts = append(accepts, accept{at: t0.Sub(start), lat: time.Since(t0)})
			accMu.Unlock()
			return nil
		})
	})

	// The samples.
	var samples []soakSample
	taken := 0
	sampleNow := func() {
		p := b.sample()
		accMu.Lock()
		window := accepts[taken:]
		taken = len(accepts)
		accMu.Unlock()
		lat := make([]time.Duration, len(window))
		for i, a := range window {
			lat[i] = a.lat
		}
		sum := latencySummary(lat)
		s := soakSample{AtSec: time.Since(start).Round(time.Second).Seconds(), RssMB: mb(p.rssKB), Threads: p.threads,
			StoreMB: fileMB(filepath.Join(o.stateDir, "state.db")), WalMB: fileMB(filepath.Join(o.stateDir, "state.db-wal")),
			Accepts: len(window), AcceptErrors: acceptErrs.Load()}
		if len(window) > 0 {
			s.AcceptP50Ms, s.AcceptP99Ms = sum["p50Ms"].(float64), sum["p99Ms"].(float64)
		}
		if len(subs) > 0 {
			s.LinesReceived = subs[0].received.Load()
		}
		samples = append(samples, s)
		fmt.Fprintf(os.Stderr, "soak %5.0fs  rss %6.1f MB  threads %3d  store %7.1f MB (+wal %6.1f)  accepts %5d p50 %6.2f ms p99 %7.2f ms  lines %d\n",
			s.AtSec, s.RssMB, s.Threads, s.StoreMB, s.WalMB, s.Accepts, s.AcceptP50Ms, s.AcceptP99Ms, s.LinesReceived)
	}
	tick := time.NewTicker(o.sampleEvery)
	for time.Now().Before(deadline) {
		select {
		case <-tick.C:
			sampleNow()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	tick.Stop()
	probe.Wait()
	slots.Wait()
	sampleNow()

	// Every subscriber got every line of every event that ran.
	time.Sleep(2 * time.Second) // the stream's last lines
	stop()
	subWG.Wait()
	var lost, outOfOrder int64
	var problems []string
	var written int64
	var failedEvents []string
	for _, ev := range events {
		if ev.err != "" {
			failedEvents = append(failedEvents, ev.id+": "+ev.err)
		}
		if ev.id == "" {
			continue
		}
		written += int64(ev.lines)
		for i, s := range subs {
			s.mu.Lock()
			if got := s.next[ev.id]; got != ev.lines {
				lost += int64(ev.lines - got)
				if len(problems) < 5 {
					problems = append(problems, fmt.Sprintf("subscriber %d: %s: got %d of %d lines", i, ev.id, got, ev.lines))
				}
			}
			if p, ok := s.bad[ev.id]; ok {
				outOfOrder++
				if len(problems) < 5 {
					problems = append(problems, fmt.Sprintf("subscriber %d: %s: %s", i, ev.id, p))
				}
			}
			s.mu.Unlock()
		}
	}
	for i, s := range subs {
		if s.err != nil && len(problems) < 5 {
			problems = append(problems, fmt.Sprintf("subscriber %d: %v", i, s.err))
		}
	}
	res.set("durationSec", o.duration.Seconds())
	res.set("events", len(events))
	res.set("failedEvents", failedEvents)
	res.set("linesWritten", written)
	res.set("subscribers", o.subscribers)
	res.set("linesLost", lost)
	res.set("eventsOutOfOrder", outOfOrder)
	res.set("problems", problems)
	res.set("samples", samples)
	all := make([]time.Duration, len(accepts))
	for i, a := range accepts {
		all[i] = a.lat
	}
	res.set("accept", latencySummary(all))
	res.set("acceptErrors", acceptErrs.Load())
	return nil
}

// follow reads the live log stream at streamURL into s until ctx ends.
func (b *bench) follow(ctx context.Context, streamURL string, s *soakSub, ready func()) error {
	defer ready()
	req, _ := http.NewRequestWithContext(ctx, "GET", streamURL, nil)
	resp, err := b.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("stream: HTTP %d", resp.StatusCode)
	}
	br := bufio.NewReaderSize(resp.Body, 256<<10)
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if bytes.HasPrefix(line, []byte(streamHello)) {
			ready()
			continue
		}
		if !bytes.HasPrefix(line, []byte(streamData)) {
			continue
		}
		var l nativeapi.LogLineInfo
		if err := json.Unmarshal(line[len(streamData):], &l); err == nil {
			s.line(&l)
		}
	}
}

func fileMB(path string) float64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return mb(fi.Size() / 1024)
}
