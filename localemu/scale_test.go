package localemu

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/localemu/store"
)

// TestSpawnBudget is the scaling policy's arithmetic: how many new
// instances a function may start now, from its queue, its busy instances,
// what it knows of its duration and of a cold start, and the machine's CPU.
func TestSpawnBudget(t *testing.T) {
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	busy := func(elapsed ...time.Duration) map[*run]time.Time {
		m := map[*run]time.Time{}
		for _, d := range elapsed {
			m[&run{}] = now.Add(-d)
		}
		return m
	}
	known := func(d time.Duration) ewma { return ewma{v: d, known: true} }
	cold := known(200 * ms)
	for _, tc := range []struct {
		name      string
		queued    int
		starting  int
		invoking  map[*run]time.Time
		duration  ewma
		saturated bool
		want      int
	}{
		{"first event, nothing known", 1, 0, nil, ewma{}, false, 1},
		{"a burst while nothing is known: a few cold starts at once", 100, 0, nil, ewma{}, false, coldStartBurst},
		{"the burst bound counts starting instances", 100, 3, nil, ewma{}, false, 1},
		{"unknown, a busy run may end soon: it serves one", 1, 0, busy(10 * ms), ewma{}, false, 0},
		{"unknown: the burst bound counts busy instances too", 100, 1, busy(10*ms, 10*ms), ewma{}, false, 1},
		{"known short: the bound is on cold starts under way", 2000, 1, busy(0, 0, 0, 0), known(ms), false, coldStartBurst - 1},
		{"unknown, a run has outlasted a cold start: slow, one instance each", 50, 4, busy(300*ms, 300*ms, 300*ms, 300*ms), ewma{}, false, 50},
		{"1 ms handler: 4 busy instances serve the queue before a cold start ends", 500, 0, busy(0, 0, 0, 0), known(ms), false, 0},
		{"1 ms handler, a queue beyond what they serve", 2000, 0, busy(0, 0, 0, 0), known(ms), false, coldStartBurst},
		{"5 s handler: every queued event gets an instance", 30, 0, busy(time.Second, 2*time.Second), known(5 * time.Second), false, 30},
		{"a run outlasting its duration by a cold start counts as busy", 3, 0, busy(500 * ms), known(10 * ms), false, 3},
		{"saturated CPU: a short function gets no more instances", 2000, 0, busy(0, 0), known(ms), true, 0},
		{"saturated CPU: a function with no instance still gets one", 10, 0, nil, ewma{}, true, coldStartBurst},
		{"saturated CPU: a slow function still fans out", 30, 0, busy(time.Second), known(5 * time.Second), true, 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &Engine{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			e.cpu.at = now // no fresh reading: the test sets the answer
			if tc.saturated {
				e.cpu.busy = 1
			}
			fs := &fnState{name: "f", starting: tc.starting, invoking: tc.invoking, duration: tc.duration, coldStart: cold}
			for range tc.queued {
				fs.queue = append(fs.queue, &tracked{readyAt: now})
			}
			if got := e.spawnBudgetLocked(fs, now); got != tc.want {
				t.Errorf("budget %d, want %d", got, tc.want)
			}
		})
	}
}

// coldStarts counts the REPORT lines of events with an Init Duration: the
// instances the engine started for them.
func coldStarts(t *testing.T, e *Engine, ids []string) int {
	t.Helper()
	n := 0
	for _, id := range ids {
		lines, err := e.Logs(context.Background(), store.LogQuery{RequestID: id})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			if strings.HasPrefix(l.Text, "REPORT RequestId: ") && strings.Contains(l.Text, "Init Duration: ") {
				n++
			}
		}
	}
	return n
}

// TestBurstOfShortEventsUsesFewInstances: 300 async events of a handler
// that returns at once, invoked together on a fresh engine, all succeed on
// a handful of instances — not one process each.
func TestBurstOfShortEventsUsesFewInstances(t *testing.T) {
	needNode(t)
	e := newEngine(t, t.TempDir(), Options{MaxConcurrency: 100})
	defer closeEngine(t, e)
	deploy(t, e, "quick", "ok", nil)
	var ids []string
	for i := range 300 {
		ids = append(ids, invokeAsync(t, e, "quick", fmt.Sprintf(`{"i":%d}`, i)).RequestID)
	}
	for _, id := range ids {
		if ev := wait(t, e, id); ev.Status != "SUCCEEDED" {
			t.Fatalf("%s: %s (%s)", id, ev.Status, ev.ErrorMessage)
		}
	}
	if n := coldStarts(t, e, ids); n < 1 || n > coldStartBurst {
		t.Errorf("%d instances started for 300 short events, want 1 to %d", n, coldStartBurst)
	}
}

// TestLongEventsRunAtOnce: async events of a handler that sleeps are not
// queued behind one another's runs: every one gets an instance, and all of
// them are running at the same time.
func TestLongEventsRunAtOnce(t *testing.T) {
	needNode(t)
	// The premise is a cold start much shorter than a run (4 s): then every
	// queued long event gets its own instance at once. On a machine loaded
	// far past its cores a cold start can take as long as a run, and the
	// scheduler rightly lets an event wait for a busy instance instead.
	if load, ok := loadAverage(); ok && load > float64(2*goruntime.NumCPU()) {
		t.Skipf("load average %.1f on %d cores: cold starts take about as long as this test's runs", load, goruntime.NumCPU())
	}
	e := newEngine(t, t.TempDir(), Options{MaxConcurrency: 100})
	defer closeEngine(t, e)
	deploy(t, e, "long", "ok", nil)
	const n = 12
	var ids []string
	for range n {
		ids = append(ids, invokeAsync(t, e, "long", `{"ms": 4000}`).RequestID)
	}
	var lastStart, firstEnd time.Time
	for _, id := range ids {
		ev := wait(t, e, id)
		if ev.Status != "SUCCEEDED" {
			t.Fatalf("%s: %s (%s)", id, ev.Status, ev.ErrorMessage)
		}
		if ev.StartedAt.After(lastStart) {
			lastStart = ev.StartedAt
		}
		if firstEnd.IsZero() || ev.EndedAt.Before(firstEnd) {
			firstEnd = ev.EndedAt
		}
	}
	if !lastStart.Before(firstEnd) {
		t.Errorf("the last event started at %s, after the first ended at %s: events waited for others' runs", lastStart.Format(time.StampMilli), firstEnd.Format(time.StampMilli))
	}
	if c := coldStarts(t, e, ids); c != n {
		t.Errorf("%d instances for %d concurrent long events", c, n)
	}
}

// TestCPUMeter: the meter reads /proc/stat where there is one, and says
// saturated only from a measured interval.
func TestCPUMeter(t *testing.T) {
	total, idle, ok := readCPUStat()
	if !ok {
		t.Skip("no /proc/stat here")
	}
	if total == 0 || idle > total {
		t.Fatalf("total %d, idle %d", total, idle)
	}
	var m cpuMeter
	now := time.Now()
	if m.saturated(now) {
		t.Error("saturated with a single reading")
	}
	m.at, m.total, m.idle = now.Add(-time.Second), total-100, idle // 100 jiffies since, none idle
	if !m.saturated(now) {
		t.Errorf("not saturated after an interval with no idle time (busy %.2f)", m.busy)
	}
}

// loadAverage is the machine's 1-minute load average, from /proc/loadavg.
func loadAverage() (float64, bool) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	return v, err == nil
}
