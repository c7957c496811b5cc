package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestColdStartIsNotTimed is issue 10 item 2: a module that takes 2 s to
// initialise, a timeout of 3 s, a handler that sleeps 1.5 s. The deadline
// starts when the invocation is handed to the runtime, so it succeeds, and the
// cold start is reported as InitDuration.
func TestColdStartIsNotTimed(t *testing.T) {
	const scfSlowInit = `#!/bin/bash
set -euo pipefail
API="http://$SCF_RUNTIME_API:$SCF_RUNTIME_API_PORT"
sleep 2
curl -d " " -X POST -s "$API/runtime/init/ready" >/dev/null
while true
do
  EVENT_DATA=$(curl -sS -X GET -s "$API/runtime/invocation/next")
  sleep 1.5
  curl -X POST -s "$API/runtime/invocation/response" -d '{"remainingMs":-1}' >/dev/null
done
`
	type tc struct {
		runtime, handler, payload string
		files                     map[string]string
		env                       map[string]string
		setup                     func(t *testing.T, code string)
	}
	cases := map[string]tc{
		"node": {runtime: "nodejs20.x", handler: "slow.handler", payload: `{}`, files: map[string]string{"slow.js": `
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000); // a slow require
exports.handler = async (event, context) => {
  const remainingMs = context.getRemainingTimeInMillis();
  await new Promise((r) => setTimeout(r, 1500));
  return { remainingMs };
};
`}},
		"python": {runtime: "python3.11", handler: "slow.handler", payload: `{}`, files: map[string]string{"slow.py": `
import time
time.sleep(2)  # a slow import
def handler(event, context):
    remaining = context.get_remaining_time_in_millis()
    time.sleep(1.5)
    return {"remainingMs": remaining}
`}},
		"provided": {runtime: "provided.al2", payload: `{"name":"cold","sleepMs":1500}`, env: map[string]string{"INIT_SLEEP_MS": "2000"},
			setup: func(t *testing.T, code string) { buildLambdaBootstrap(t, code, "bootstrap") }},
		"custom": {runtime: "CustomRuntime", payload: `{}`, files: map[string]string{"scf_bootstrap": scfSlowInit},
			setup: func(t *testing.T, code string) {
				if _, err := exec.LookPath("curl"); err != nil {
					t.Skip("curl not installed")
				}
				if err := os.Chmod(filepath.Join(code, "scf_bootstrap"), 0o755); err != nil {
					t.Fatal(err)
				}
			}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			switch name {
			case "node":
				needInterpreter(t, "node", "nodejs")
			case "python":
				needInterpreter(t, "python3", "python")
			case "provided":
				if testing.Short() {
					t.Skip("builds a Go program")
				}
			}
			code := t.TempDir()
			writeFiles(t, code, c.files)
			if c.setup != nil {
				c.setup(t, code)
			}
			sink := newSink()
			inst := start(t, Config{Runtime: c.runtime, Handler: c.handler, CodeDir: code, Env: c.env, Timeout: 3 * time.Second}, sink)
			for n, id := range []string{"cold-1", "warm-2"} {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				begun := time.Now()
				resp, err := inst.Invoke(ctx, Request{RequestID: id, Payload: []byte(c.payload), Timeout: 3 * time.Second})
				cancel()
				if err != nil || resp.Error != nil {
					t.Fatalf("%s: %v %+v; log %+v", id, err, resp.Error, sink.all())
				}
				var out struct{ RemainingMs int64 }
				if err := json.Unmarshal(resp.Payload, &out); err != nil {
					t.Fatalf("%s: %s: %v", id, resp.Payload, err)
				}
				if out.RemainingMs != -1 && (out.RemainingMs < 2500 || out.RemainingMs > 3000) {
					t.Errorf("%s: the handler saw %d ms remaining, want about 3000", id, out.RemainingMs)
				}
				if resp.Duration < 1500*time.Millisecond || resp.Duration > 2500*time.Millisecond {
					t.Errorf("%s: duration %v, want about 1.5 s", id, resp.Duration)
				}
				if given := resp.Deadline.Sub(begun); n == 0 && given < 4800*time.Millisecond {
					t.Errorf("%s: deadline %v after Invoke, want the 2 s init plus the 3 s timeout", id, given)
				}
				switch {
				case n == 0 && (resp.InitDuration < 1900*time.Millisecond || resp.InitDuration > 4*time.Second):
					t.Errorf("%s: InitDuration %v, want about 2 s", id, resp.InitDuration)
				case n == 1 && resp.InitDuration != 0:
					t.Errorf("%s: InitDuration %v on a warm instance", id, resp.InitDuration)
				}
			}
		})
	}
}

// TestInitTimeout: past its init bound, an initialisation goes on under the
// function's timeout counted from the process's start, as Lambda retries the
// init phase inside the first invocation with the function's timeout.
func TestInitTimeout(t *testing.T) {
	needInterpreter(t, "node", "nodejs")
	code := t.TempDir()
	writeFiles(t, code, map[string]string{"slow.js": `
console.log('initialising');
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);
exports.handler = async (event, context) => {
  const remainingMs = context.getRemainingTimeInMillis();
  await new Promise((r) => setTimeout(r, 500));
  return { remainingMs };
};
`})
	t.Run("init and handler exceed the timeout", func(t *testing.T) {
		t.Parallel()
		sink := newSink()
		inst := start(t, Config{Runtime: "nodejs20.x", Handler: "slow.handler", CodeDir: code, InitTimeout: time.Second}, sink)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		begun := time.Now()
		resp, err := inst.Invoke(ctx, Request{RequestID: "it-1", Payload: []byte(`{}`), Timeout: 1500 * time.Millisecond})
		if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Invoke: %v %+v", err, resp)
		}
		if d := time.Since(begun); d > 2*time.Second {
			t.Errorf("timed out after %v, want at the 1.5 s timeout", d)
		}
		if resp.Duration < 1400*time.Millisecond || resp.Duration > 1600*time.Millisecond || resp.InitDuration != 0 {
			t.Errorf("duration %v, init duration %v", resp.Duration, resp.InitDuration)
		}
		l := sink.waitFor(t, "INIT_REPORT", time.Second)
		if l.RequestID != "it-1" || l.Stream != "platform" || !strings.Contains(l.Text, "Phase: init\tStatus: timeout") {
			t.Errorf("INIT_REPORT line %+v", l)
		}
		if l, ok := sink.find("initialising"); !ok || l.RequestID != "it-1" {
			t.Errorf("init output %+v (found %v)", l, ok)
		}
	})
	t.Run("init and handler fit in the timeout", func(t *testing.T) {
		t.Parallel()
		sink := newSink()
		inst := start(t, Config{Runtime: "nodejs20.x", Handler: "slow.handler", CodeDir: code, InitTimeout: time.Second}, sink)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		resp, err := inst.Invoke(ctx, Request{RequestID: "it-2", Payload: []byte(`{}`), Timeout: 5 * time.Second})
		if err != nil || resp.Error != nil {
			t.Fatalf("Invoke: %v %+v", err, resp.Error)
		}
		var out struct{ RemainingMs int64 }
		if err := json.Unmarshal(resp.Payload, &out); err != nil {
			t.Fatal(err)
		}
		// The handler has what the init left of the timeout, as on Lambda.
		// (Bounds loose enough for a loaded machine, where node's own start is slow:
		// what matters is that the init's 2 s were taken from the 5 s.)
		if out.RemainingMs <= 0 || out.RemainingMs > 3100 {
			t.Errorf("the handler saw %d ms remaining, want about 3000", out.RemainingMs)
		}
		if resp.Duration < 2400*time.Millisecond || resp.Duration > 5*time.Second || resp.InitDuration != 0 {
			t.Errorf("duration %v (want init and handler, about 2.5 s), init duration %v", resp.Duration, resp.InitDuration)
		}
		if _, ok := sink.find("INIT_REPORT"); !ok {
			t.Error("no INIT_REPORT line")
		}
		// Warm: an ordinary invocation.
		resp = mustSucceed(t, inst, "it-3", `{}`, nil)
		if resp.InitDuration != 0 || resp.Duration > 1500*time.Millisecond {
			t.Errorf("warm: %+v", resp)
		}
	})
}
