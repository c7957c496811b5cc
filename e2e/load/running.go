package main

// -mode running: -events async events of a sleeping handler held RUNNING at
// once (started -ramp-step at a time while MemAvailable allows), the memory
// of the emulator and of its function processes with them, and the overhead
// of a warm sync invoke of a no-op handler under that load (-sync-invokes).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/asyncfn/asyncfn/nativeapi"
)

const sleepJS = `exports.handler = async (event) => {
  await new Promise((r) => setTimeout(r, event.sleepMs || 0));
  return { ok: true };
};
`

const sleepPy = `import time

def handler(event, context):
    ms = event.get("sleepMs", 0) if isinstance(event, dict) else 0
    if ms:
        time.sleep(ms / 1000.0)
    return {"ok": True}
`

// handlerFor returns a function spec of the runtime whose handler sleeps for
// the payload's sleepMs (0 = returns at once).
func handlerFor(rt, name string) (fnSpec, error) {
	switch rt {
	case "node":
		return fnSpec{name: name, runtime: "nodejs20.x", handler: "index.handler", files: map[string]string{"index.js": sleepJS}}, nil
	case "python":
		return fnSpec{name: name, runtime: "python3.11", handler: "handler.handler", files: map[string]string{"handler.py": sleepPy}}, nil
	case "provided":
		bin, err := buildSleeper()
		if err != nil {
			return fnSpec{}, err
		}
		return fnSpec{name: name, runtime: "provided.al2", handler: "bootstrap", execs: map[string]string{"bootstrap": bin}}, nil
	}
	return fnSpec{}, fmt.Errorf("-runtime %q is not provided, python or node", rt)
}

var sleeperOnce struct {
	sync.Once
	path string
	err  error
}

// buildSleeper builds e2e/load/sleeper (a static aws-lambda-go bootstrap).
func buildSleeper() (string, error) {
	sleeperOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			sleeperOnce.err = fmt.Errorf("go env GOMOD: %w", err)
			return
		}
		gomod := strings.TrimSpace(string(out))
		if gomod == "" || gomod == os.DevNull {
			sleeperOnce.err = errors.New("build the sleeper: run this from the asyncfn repository (go run ./e2e/load ...)")
			return
		}
		root := filepath.Dir(gomod)
		dir, err := os.MkdirTemp("", "asyncfn-load-sleeper-")
		if err != nil {
			sleeperOnce.err = err
			return
		}
		bin := filepath.Join(dir, "bootstrap")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./e2e/load/sleeper")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			sleeperOnce.err = fmt.Errorf("build the sleeper: %v: %s", err, out)
			return
		}
		sleeperOnce.path = bin
	})
	return sleeperOnce.path, sleeperOnce.err
}

func (b *bench) running(ctx context.Context, res *result) error {
	o := b.o
	started := 0
	res.set("memAvailableMBBefore", memAvailableMB())
	idle := b.sample()
	res.set("emulatorRssMBIdle", mb(idle.rssKB))
	if o.events > 0 {
		spec, err := handlerFor(o.runtimeName, o.function)
		if err != nil {
			return err
		}
		spec.reserved, spec.timeout = o.events, 900
		if err := b.deploy(ctx, spec); err != nil {
			return fmt.Errorf("deploy %s: %w", o.function, err)
		}
		res.set("runtime", o.runtimeName+" ("+spec.runtime+")")
		if started, err = b.ramp(ctx, res); err != nil {
			return err
		}
		time.Sleep(2 * time.Second) // let the instance start-up garbage settle
		s := b.sample()
		tree := descendants(b.pid)
		res.set("emulatorRssMBWithRunning", mb(s.rssKB))
		res.set("emulatorPeakRssMB", mb(s.hwmKB))
		res.set("emulatorThreads", s.threads)
		res.set("childProcs", tree.procs)
		res.set("childRssMBSum", mb(tree.rssKB))
		if tree.procs > 0 {
			res.set("childRssMBEach", math.Round(float64(tree.rssKB)/float64(tree.procs)/1024*10)/10)
		}
		res.set("memAvailableMBWithRunning", memAvailableMB())
	}
	if o.syncInvokes > 0 {
		if err := b.overhead(ctx, res); err != nil {
			return err
		}
	}
	if o.events > 0 && !o.leave {
		// SIGKILL every event still RUNNING or QUEUED: bounded by what was started.
		killed := int64(0)
		for tries := 0; tries < started/100+20; tries++ {
			l, err := b.events(ctx, o.function, "status=RUNNING,QUEUED&limit=100")
			if err != nil {
				return err
			}
			if len(l.Events) == 0 {
				break
			}
			t := pool(16, numbered(int64(len(l.Events)), nil), keepGoing, func(i int64) error {
				return b.terminate(ctx, o.function, l.Events[i].RequestID)
			})
			killed += t.ok
		}
		res.set("terminated", killed)
	}
	return nil
}

// ramp starts o.events sleeping events, o.rampStep at a time, each step
// waiting until all started are RUNNING, and stops early when MemAvailable
// falls below o.minFreeMB or they are not RUNNING within o.rampTimeout. It
// returns how many it started.
func (b *bench) ramp(ctx context.Context, res *result) (int, error) {
	o := b.o
	payload, _ := json.Marshal(map[string]any{"sleepMs": o.sleep.Milliseconds()})
	started := 0
	rampStart := time.Now()
	deadline := rampStart.Add(o.rampTimeout)
	lowMem := func() string {
		if free := memAvailableMB(); free >= 0 && free < int64(o.minFreeMB) {
			return fmt.Sprintf("MemAvailable %d MB < %d MB", free, o.minFreeMB)
		}
		return ""
	}
	stopped := ""
	for started < o.events && stopped == "" {
		step := min(o.rampStep, o.events-started)
		if _, err := repeat(step, func(i int) error {
			if _, err := b.invoke(ctx, o.function, "Event", payload); err != nil {
				return fmt.Errorf("invoke %d: %w", started+i+1, err)
			}
			return nil
		}); err != nil {
			return started, err
		}
		started += step
		n := 0
		running, err := poll(deadline, 200*time.Millisecond, func() (bool, error) {
			var err error
			if n, err = b.count(ctx, o.function, "status=RUNNING"); err != nil || n >= started {
				return true, err
			}
			stopped = lowMem()
			return stopped != "", nil
		})
		if err != nil {
			return started, err
		}
		if !running {
			stopped = fmt.Sprintf("only %d of %d RUNNING after %v", n, started, o.rampTimeout)
		}
		fmt.Fprintf(os.Stderr, "load: %d started, MemAvailable %d MB\n", started, memAvailableMB())
		if stopped == "" {
			stopped = lowMem()
		}
	}
	nRunning, _ := b.count(ctx, o.function, "status=RUNNING")
	res.set("eventsStarted", started)
	res.set("eventsRunning", nRunning)
	res.set("rampSec", math.Round(time.Since(rampStart).Seconds()*10)/10)
	if stopped != "" {
		res.set("rampStopped", stopped)
	}
	return started, nil
}

// overhead times sequential sync invokes of a no-op handler on a warm
// instance: the round trip minus the handler's own duration (the REPORT
// line's Duration, µs precision; durationMs of the event as a fallback).
func (b *bench) overhead(ctx context.Context, res *result) error {
	o := b.o
	spec, err := handlerFor(o.noopRuntime, "bench-noop")
	if err != nil {
		return err
	}
	spec.reserved, spec.timeout = 1, 30
	if err := b.deploy(ctx, spec); err != nil {
		return fmt.Errorf("deploy bench-noop: %w", err)
	}
	payload := []byte(`{"sleepMs":0}`)
	syncInvoke := func(int) error {
		_, err := b.invoke(ctx, "bench-noop", "RequestResponse", payload)
		return err
	}
	if _, err := repeat(20, syncInvoke); err != nil { // the first starts the instance
		return fmt.Errorf("warm-up sync invoke: %w", err)
	}
	runs := make([]nativeapi.EventInfo, o.syncInvokes)
	rtts, err := repeat(o.syncInvokes, func(i int) error {
		var err error
		runs[i], err = b.invoke(ctx, "bench-noop", "RequestResponse", payload)
		return err
	})
	if err != nil {
		return fmt.Errorf("sync invoke: %w", err)
	}
	var over, overMs, handler []time.Duration
	for i, r := range runs {
		rtt := rtts[i]
		overMs = append(overMs, rtt-time.Duration(r.DurationMs)*time.Millisecond)
		logs, err := b.logs(ctx, r.RequestID)
		if err != nil {
			return err
		}
		for _, l := range logs.Lines {
			_, rest, ok := strings.Cut(l.Text, "\tDuration: ")
			if !strings.HasPrefix(l.Text, "REPORT ") || !ok {
				continue
			}
			f := strings.Fields(rest)
			if v, err := strconv.ParseFloat(f[0], 64); err == nil {
				d := time.Duration(v * float64(time.Millisecond))
				handler = append(handler, d)
				over = append(over, rtt-d)
			}
		}
	}
	res.set("noopRuntime", spec.runtime)
	res.set("syncInvokes", len(runs))
	res.set("syncRoundTrip", latencySummary(rtts))
	res.set("handlerDurationFromReport", latencySummary(handler))
	res.set("overheadPerWarmInvoke", latencySummary(over))
	res.set("overheadPerWarmInvokeFromDurationMs", latencySummary(overMs))
	return nil
}
