package localemu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/artifact"
	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/localemu/store"
)

// handlers is the Node.js code every engine test deploys: one file, several
// handlers, each behaving as its name says. The fronts' tests deploy the
// same file through package emutest (which imports this package, so the
// engine's own tests read the file instead).
var handlers = func() string {
	b, err := os.ReadFile(filepath.Join("emutest", "handlers", "index.js"))
	if err != nil {
		panic(err)
	}
	return string(b)
}()

func needNode(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
}

func codeZip(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(handlers), 0o644); err != nil {
		t.Fatal(err)
	}
	zip, _, err := artifact.Build(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return zip
}

func newEngine(t testing.TB, dir string, opts Options) *Engine {
	t.Helper()
	opts.StateDir = dir
	if opts.Backoff == nil {
		opts.Backoff = func(int) time.Duration { return 50 * time.Millisecond }
	}
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if opts.Retention == 0 {
		opts.Retention = -1 // fixtures at fixed dates must not be pruned mid-test
	}
	e, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func closeEngine(t testing.TB, e *Engine) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.Close(ctx); err != nil {
		t.Errorf("close: %v", err)
	}
}

func deploy(t *testing.T, e *Engine, name, handler string, mod func(*FunctionConfig)) {
	t.Helper()
	zero := 0
	cfg := FunctionConfig{Name: name, Provider: "tencent", Runtime: "Nodejs16.13", Handler: "index." + handler, MemorySize: 128, Timeout: 30,
		Async: AsyncConfig{Enabled: true, RetryAttempts: &zero}}
	if mod != nil {
		mod(&cfg)
	}
	if _, err := e.Deploy(context.Background(), cfg, codeZip(t)); err != nil {
		t.Fatal(err)
	}
}

func invokeAsync(t *testing.T, e *Engine, fn, payload string) store.Event {
	t.Helper()
	ev, err := e.Invoke(context.Background(), InvokeRequest{Function: fn, Payload: []byte(payload), Type: event.InvokeEvent})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Status != event.Queued || ev.RequestID == "" {
		t.Fatalf("async invoke returned %+v, want a QUEUED event with an id", ev)
	}
	return ev
}

func wait(t *testing.T, e *Engine, id string) store.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ev, err := e.Wait(ctx, id)
	if err != nil {
		t.Fatalf("wait for %s: %v", id, err)
	}
	return ev
}

// waitStatus polls until the event has status s.
func waitStatus(t *testing.T, e *Engine, id string, s event.Status) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ev, err := e.Event(context.Background(), "", id)
		if err == nil && ev.Status == s {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("event %s never reached %s", id, s)
}

// waitLog waits until the event's log has a line containing text.
func waitLog(t *testing.T, e *Engine, id, text string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		lines, err := e.Logs(context.Background(), store.LogQuery{RequestID: id})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			if strings.Contains(l.Text, text) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no log line of %s contains %q", id, text)
}

func logText(t *testing.T, e *Engine, id string) string {
	t.Helper()
	lines, err := e.Logs(context.Background(), store.LogQuery{RequestID: id})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Stream + " " + l.Text + "\n")
	}
	return b.String()
}

func TestAsyncEventLifecycle(t *testing.T) {
	needNode(t)
	e := newEngine(t, t.TempDir(), Options{})
	defer closeEngine(t, e)
	deploy(t, e, "transcode", "ok", nil)

	sub := e.SubscribeLogs(LogFilter{Functions: []string{"transcode"}}, -1)
	defer sub.Close()
	ev := invokeAsync(t, e, "transcode", `{"ms": 1500, "file": "a.mp4"}`)

	// The first handler line reaches a live subscriber while the event still runs.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var seen bool
	for !seen {
		lines, err := sub.Next(ctx, 100)
		if err != nil {
			t.Fatalf("subscription: %v", err)
		}
		for _, l := range lines {
			if strings.Contains(l.Text, "working on "+ev.RequestID) {
				seen = true
				if l.RequestID != ev.RequestID || l.Stream != "stdout" {
					t.Errorf("line attributed to %q/%q", l.RequestID, l.Stream)
				}
			}
		}
	}
	cur, err := e.Event(context.Background(), "transcode", ev.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Status != event.Running {
		t.Errorf("status while the handler sleeps = %s, want RUNNING", cur.Status)
	}

	final := wait(t, e, ev.RequestID)
	if final.Status != event.Succeeded || final.Attempts != 1 {
		t.Fatalf("final = %s after %d attempts, want SUCCEEDED after 1", final.Status, final.Attempts)
	}
	var res struct {
		Echo map[string]any `json:"echo"`
		Fn   string         `json:"fn"`
	}
	if err := json.Unmarshal(final.Result, &res); err != nil || res.Echo["file"] != "a.mp4" || res.Fn != "transcode" {
		t.Errorf("result = %s (%v)", final.Result, err)
	}
	if final.StartedAt.IsZero() || final.EndedAt.Before(final.StartedAt) || final.DurationMs < 1000 {
		t.Errorf("times: started %v ended %v duration %d ms", final.StartedAt, final.EndedAt, final.DurationMs)
	}
	log := logText(t, e, ev.RequestID)
	for _, want := range []string{"START RequestId: " + ev.RequestID, "stdout done", "END RequestId: " + ev.RequestID, "REPORT RequestId: " + ev.RequestID, "Max Memory Used:"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}

	// The warm instance is reused: a second invoke starts no new process.
	e.mu.Lock()
	idle := len(e.fns["transcode"].idle)
	e.mu.Unlock()
	if idle != 1 {
		t.Errorf("idle instances after the run = %d, want 1", idle)
	}
}

func TestRetriesThenFailed(t *testing.T) {
	needNode(t)
	e := newEngine(t, t.TempDir(), Options{})
	defer closeEngine(t, e)
	two := 2
	deploy(t, e, "fail", "fail", func(c *FunctionConfig) { c.Async.RetryAttempts = &two })
	ev := invokeAsync(t, e, "fail", `{"file": "missing.mov"}`)
	final := wait(t, e, ev.RequestID)
	if final.Status != event.Failed || final.Attempts != 3 {
		t.Fatalf("final = %s after %d attempts, want FAILED after 3", final.Status, final.Attempts)
	}
	if final.ErrorType != "Error" || !strings.Contains(final.ErrorMessage, "source file not found: missing.mov") {
		t.Errorf("error = %q %q", final.ErrorType, final.ErrorMessage)
	}
	attempts, err := e.Attempts(context.Background(), ev.RequestID)
	if err != nil || len(attempts) != 3 {
		t.Fatalf("attempts = %d (%v), want 3", len(attempts), err)
	}
	if log := logText(t, e, ev.RequestID); strings.Count(log, "RETRY RequestId") != 2 {
		t.Errorf("want 2 RETRY lines:\n%s", log)
	}
}

func TestTimeoutIsEnforced(t *testing.T) {
	needNode(t)
	e := newEngine(t, t.TempDir(), Options{})
	defer closeEngine(t, e)
	deploy(t, e, "slow", "ok", func(c *FunctionConfig) { c.Timeout = 1 })
	ev := invokeAsync(t, e, "slow", `{"ms": 20000}`)
	final := wait(t, e, ev.RequestID)
	if final.Status != event.TimedOut {
		t.Fatalf("status = %s, want TIMED_OUT", final.Status)
	}
	if !strings.Contains(logText(t, e, ev.RequestID), "Task timed out after 1.00 seconds") {
		t.Error("no timeout line in the log")
	}
}

func TestTerminate(t *testing.T) {
	needNode(t)
	e := newEngine(t, t.TempDir(), Options{})
	defer closeEngine(t, e)
	deploy(t, e, "graceful", "graceful", nil)
	deploy(t, e, "stubborn", "stubborn", nil)

	t.Run("grace sends SIGTERM first", func(t *testing.T) {
		ev := invokeAsync(t, e, "graceful", `{}`)
		waitLog(t, e, ev.RequestID, "long job started")
		final, err := e.Terminate(context.Background(), "graceful", ev.RequestID, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if final.Status != event.Terminated {
			t.Fatalf("status = %s", final.Status)
		}
		if final.MaxMemoryMB <= 0 || final.DurationMs <= 0 {
			t.Errorf("a terminated attempt still reports what it used: %d MB, %d ms", final.MaxMemoryMB, final.DurationMs)
		}
		waitLog(t, e, ev.RequestID, "got SIGTERM, saving checkpoint")
	})
	t.Run("without grace kills at once", func(t *testing.T) {
		ev := invokeAsync(t, e, "stubborn", `{}`)
		waitLog(t, e, ev.RequestID, "stubborn job started")
		start := time.Now()
		final, err := e.Terminate(context.Background(), "stubborn", ev.RequestID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if final.Status != event.Terminated {
			t.Fatalf("status = %s", final.Status)
		}
		if strings.Contains(logText(t, e, ev.RequestID), "ignoring SIGTERM") {
			t.Error("a kill without grace must not send SIGTERM")
		}
		t.Logf("killed in %s", time.Since(start))
	})
	t.Run("grace expires on a handler that ignores SIGTERM", func(t *testing.T) {
		ev := invokeAsync(t, e, "stubborn", `{}`)
		waitLog(t, e, ev.RequestID, "stubborn job started")
		final, err := e.Terminate(context.Background(), "stubborn", ev.RequestID, 300*time.Millisecond)
		if err != nil || final.Status != event.Terminated {
			t.Fatalf("terminate = %v, %v", final.Status, err)
		}
		waitLog(t, e, ev.RequestID, "ignoring SIGTERM")
	})
	t.Run("finished events cannot be terminated", func(t *testing.T) {
		deploy(t, e, "quick", "ok", nil)
		ev := invokeAsync(t, e, "quick", `{}`)
		wait(t, e, ev.RequestID)
		if _, err := e.Terminate(context.Background(), "quick", ev.RequestID, 0); !errors.Is(err, ErrEventFinished) {
			t.Fatalf("err = %v, want ErrEventFinished", err)
		}
	})
	t.Run("unknown event", func(t *testing.T) {
		if _, err := e.Terminate(context.Background(), "quick", "00000000-0000-0000-0000-000000000000", 0); !errors.Is(err, ErrEventNotFound) {
			t.Fatalf("err = %v, want ErrEventNotFound", err)
		}
	})
}

func TestConcurrencyCapQueuesInOrder(t *testing.T) {
	needNode(t)
	e := newEngine(t, t.TempDir(), Options{})
	defer closeEngine(t, e)
	one := 1
	deploy(t, e, "single", "graceful", func(c *FunctionConfig) { c.ReservedConcurrency = &one })
	first := invokeAsync(t, e, "single", `{}`)
	second := invokeAsync(t, e, "single", `{}`)
	waitStatus(t, e, first.RequestID, event.Running)
	time.Sleep(200 * time.Millisecond)
	if ev, _ := e.Event(context.Background(), "single", second.RequestID); ev.Status != event.Queued {
		t.Fatalf("second event = %s, want QUEUED behind the cap", ev.Status)
	}
	// A queued event is simply taken off the queue.
	final, err := e.Terminate(context.Background(), "single", second.RequestID, 0)
	if err != nil || final.Status != event.Terminated || final.Attempts != 0 {
		t.Fatalf("terminate queued = %+v, %v", final, err)
	}
	if _, err := e.Terminate(context.Background(), "single", first.RequestID, 0); err != nil {
		t.Fatal(err)
	}
}

func TestSyncInvoke(t *testing.T) {
	needNode(t)
	e := newEngine(t, t.TempDir(), Options{})
	defer closeEngine(t, e)
	deploy(t, e, "report", "ok", nil)
	deploy(t, e, "fail", "fail", nil)
	ev, err := e.Invoke(context.Background(), InvokeRequest{Function: "report", Payload: []byte(`{"n":1}`)})
	if err != nil || ev.Status != event.Succeeded || !strings.Contains(string(ev.Result), `"n":1`) {
		t.Fatalf("sync ok = %+v, %v", ev, err)
	}
	ev, err = e.Invoke(context.Background(), InvokeRequest{Function: "fail", Payload: []byte(`{}`)})
	if err != nil || ev.Status != event.Failed || ev.Attempts != 1 {
		t.Fatalf("sync fail = %s after %d attempts (%v); sync invokes are not retried", ev.Status, ev.Attempts, err)
	}
	if ev.InvokeType != event.InvokeRequestResponse {
		t.Errorf("invoke type = %q", ev.InvokeType)
	}
}

func TestInvokeRejectsBadInput(t *testing.T) {
	needNode(t)
	e := newEngine(t, t.TempDir(), Options{})
	defer closeEngine(t, e)
	deploy(t, e, "scf", "ok", nil)
	deploy(t, e, "lambda", "ok", func(c *FunctionConfig) { c.Provider = "aws"; c.Async.Enabled = false })
	big := func(n int) []byte { return []byte(`"` + strings.Repeat("x", n-2) + `"`) }
	var tooLarge *PayloadTooLargeError
	cases := []struct {
		name    string
		req     InvokeRequest
		wantErr func(error) bool
	}{
		{"unknown function", InvokeRequest{Function: "nope", Type: event.InvokeEvent}, func(err error) bool { return errors.Is(err, ErrFunctionNotFound) }},
		{"SCF async over 128 KB", InvokeRequest{Function: "scf", Type: event.InvokeEvent, Payload: big(128<<10 + 1)}, func(err error) bool { return errors.As(err, &tooLarge) && tooLarge.Limit == 128<<10 }},
		{"Lambda async over 1 MB", InvokeRequest{Function: "lambda", Type: event.InvokeEvent, Payload: big(1<<20 + 1)}, func(err error) bool { return errors.As(err, &tooLarge) && tooLarge.Limit == 1<<20 }},
		{"sync over 6 MB", InvokeRequest{Function: "lambda", Payload: big(6<<20 + 1)}, func(err error) bool { return errors.As(err, &tooLarge) && tooLarge.Limit == 6<<20 }},
		{"not JSON", InvokeRequest{Function: "scf", Type: event.InvokeEvent, Payload: []byte("{nope")}, func(err error) bool { var inv *InvalidParameterError; return errors.As(err, &inv) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := e.Invoke(context.Background(), c.req); !c.wantErr(err) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	// Nothing was stored for rejected invokes.
	evs, total, err := e.Events(context.Background(), store.EventQuery{})
	if err != nil || total != 0 || len(evs) != 0 {
		t.Fatalf("events after rejected invokes = %d (%v)", total, err)
	}
	// Lambda accepts an async payload that SCF would refuse.
	if _, err := e.Invoke(context.Background(), InvokeRequest{Function: "lambda", Type: event.InvokeEvent, Payload: big(128<<10 + 1)}); err != nil {
		t.Fatalf("Lambda async of 128 KB+1: %v", err)
	}
}

func TestDestinationReceivesLambdaRecord(t *testing.T) {
	needNode(t)
	e := newEngine(t, t.TempDir(), Options{})
	defer closeEngine(t, e)
	deploy(t, e, "notify", "record", nil)
	deploy(t, e, "work", "ok", func(c *FunctionConfig) { c.Provider = "aws"; c.Async.OnSuccess = "notify" })
	ev := invokeAsync(t, e, "work", `{"job": 7}`)
	wait(t, e, ev.RequestID)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		evs, _, err := e.Events(context.Background(), store.EventQuery{Function: "notify", Statuses: []event.Status{event.Succeeded}})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 1 {
			var rec struct {
				RequestContext struct {
					RequestID string `json:"requestId"`
					Condition string `json:"condition"`
				} `json:"requestContext"`
				RequestPayload  map[string]any `json:"requestPayload"`
				ResponsePayload map[string]any `json:"responsePayload"`
			}
			if err := json.Unmarshal(evs[0].Payload, &rec); err != nil {
				t.Fatal(err)
			}
			if rec.RequestContext.RequestID != ev.RequestID || rec.RequestContext.Condition != "Success" || rec.RequestPayload["job"] != float64(7) || rec.ResponsePayload == nil {
				t.Fatalf("destination record = %s", evs[0].Payload)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the destination function was never invoked")
}

func TestEventsSurviveRestart(t *testing.T) {
	needNode(t)
	dir := t.TempDir()
	e := newEngine(t, dir, Options{})
	one := 1
	deploy(t, e, "long", "ok", func(c *FunctionConfig) { c.Async.RetryAttempts = &one })
	running := invokeAsync(t, e, "long", `{"ms": 20000}`)
	waitStatus(t, e, running.RequestID, event.Running)
	// Close with no time to drain: the running attempt is cut short and counts
	// as failed; its retry waits for the next start.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}

	e2 := newEngine(t, dir, Options{})
	defer closeEngine(t, e2)
	ev, err := e2.Event(context.Background(), "long", running.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Status.Terminal() {
		t.Fatalf("after restart the event is %s; it should have been retried", ev.Status)
	}
	waitStatus(t, e2, running.RequestID, event.Running)
	final, err := e2.Terminate(context.Background(), "long", running.RequestID, 0)
	if err != nil || final.Status != event.Terminated || final.Attempts != 2 {
		t.Fatalf("after restart: %s after %d attempts (%v)", final.Status, final.Attempts, err)
	}
}

func TestStateDirectoryIsLocked(t *testing.T) {
	dir := t.TempDir()
	e := newEngine(t, dir, Options{})
	if _, err := New(Options{StateDir: dir}); err == nil || !strings.Contains(err.Error(), "in use by another asyncfn emulator") {
		t.Fatalf("second engine on the same state: %v", err)
	}
	closeEngine(t, e)
	e2 := newEngine(t, dir, Options{}) // free again once the first has closed
	closeEngine(t, e2)
}

func TestMemoryLimitIsEnforced(t *testing.T) {
	needNode(t)
	e := newEngine(t, t.TempDir(), Options{})
	defer closeEngine(t, e)
	dir := t.TempDir()
	// Touch 300 MB of memory, well past the 128 MB the function is given.
	code := `exports.hog = async () => {
  const keep = [];
  for (let i = 0; i < 30; i++) { keep.push(Buffer.alloc(10 << 20, 1)); console.log("allocated " + (i + 1) * 10 + " MB"); await new Promise((r) => setTimeout(r, 50)); }
  return keep.length;
};`
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	zip, _, err := artifact.Build(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	zero := 0
	if _, err := e.Deploy(context.Background(), FunctionConfig{Name: "hog", Provider: "aws", Runtime: "nodejs18.x", Handler: "index.hog",
		MemorySize: 128, Timeout: 60, Async: AsyncConfig{RetryAttempts: &zero}}, zip); err != nil {
		t.Fatal(err)
	}
	ev := invokeAsync(t, e, "hog", `{}`)
	final := wait(t, e, ev.RequestID)
	if final.Status != event.Failed || final.ErrorType != "Runtime.OutOfMemory" || final.MaxMemoryMB <= 128 {
		t.Fatalf("final = %s %s (%s), max memory %d MB", final.Status, final.ErrorType, final.ErrorMessage, final.MaxMemoryMB)
	}
	if strings.Contains(logText(t, e, ev.RequestID), "allocated 300 MB") {
		t.Error("the function ran to the end despite the limit")
	}
}

// An attempt that ended and was recorded just before the emulator died keeps
// its outcome: a handler that succeeded is not run a second time.
func TestRestartKeepsARecordedOutcome(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	started := time.Now().Add(-time.Minute).UTC()
	ev := store.Event{RequestID: "5b0c7d55-5d1f-4a43-9f55-0f4b1e0f0a01", Function: "f", InvokeType: event.InvokeEvent, Payload: []byte(`{}`),
		Status: event.Running, Attempts: 1, CreatedAt: started, StartedAt: started}
	if err := st.InsertEvent(ctx, &ev); err != nil {
		t.Fatal(err)
	}
	if err := st.PutAttempt(ctx, store.Attempt{RequestID: ev.RequestID, N: 1, StartedAt: started, EndedAt: started.Add(time.Second),
		Status: event.Succeeded, DurationMs: 1000}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, dir, Options{})
	defer closeEngine(t, e)
	got, err := e.Event(ctx, "f", ev.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != event.Succeeded || got.Attempts != 1 || got.DurationMs != 1000 {
		t.Fatalf("after restart: %s after %d attempts (%d ms), want SUCCEEDED after 1", got.Status, got.Attempts, got.DurationMs)
	}
}

// floodCode prints {lines} numbered lines of {size} bytes as fast as it can
// ("<n> xxxx..."), and returns how many it printed.
const floodCode = `exports.flood = async (ev) => {
  const pad = "x".repeat(Math.max(0, ev.size - 8));
  for (let n = 0; n < ev.lines; n++) {
    const line = String(n).padStart(7, "0") + " " + pad + "\n";
    if (!process.stdout.write(line)) await new Promise((r) => process.stdout.once("drain", r));
  }
  return ev.lines;
};
exports.ok = async () => "fine";`

func deployFlood(t *testing.T, e *Engine) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(floodCode), 0o644); err != nil {
		t.Fatal(err)
	}
	zip, _, err := artifact.Build(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"flood", "ok"} {
		if _, err := e.Deploy(context.Background(), FunctionConfig{Name: h, Provider: "aws", Runtime: "nodejs18.x", Handler: "index." + h,
			MemorySize: 512, Timeout: 120}, zip); err != nil {
			t.Fatal(err)
		}
	}
}

// follow reads every line of fn's output from sub until the line numbered
// want-1 arrives, checking that the numbers come in order without a gap;
// pause slows the reader down every 1,000 lines.
func follow(t *testing.T, sub *Subscription, want int, pause time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	next := 0
	for next < want {
		lines, err := sub.Next(ctx, 1000)
		if err != nil {
			return fmt.Errorf("after line %d of %d: %w", next, want, err)
		}
		for _, l := range lines {
			if l.Stream != "stdout" {
				continue
			}
			n, err := strconv.Atoi(l.Text[:7])
			if err != nil {
				return fmt.Errorf("line %q: %w", l.Text[:min(20, len(l.Text))], err)
			}
			if n != next {
				return fmt.Errorf("got line %d, want %d: a line was lost or doubled", n, next)
			}
			next++
		}
		if pause > 0 {
			time.Sleep(pause)
		}
	}
	return nil
}

// A handler that floods its output neither blocks the emulator nor loses a
// line for a live subscriber, however far behind the subscriber falls; the
// store keeps the head and the tail of the output with one marker line
// saying what was elided between.
func TestLogFloodReachesSubscribersAndStoreKeepsHeadAndTail(t *testing.T) {
	needNode(t)
	e := newEngine(t, t.TempDir(), Options{LogKeep: 1 << 20, elideAfter: 50 * time.Millisecond})
	defer closeEngine(t, e)
	deployFlood(t, e)
	// 200,000 lines of 100 bytes (20 MB): three times the ring's lines
	// (100,000 under the race detector, still past the ring).
	lines, size := 200000, 100
	if raceDetector {
		lines = 100000
	}
	fast := e.SubscribeLogs(LogFilter{Functions: []string{"flood"}}, -1)
	defer fast.Close()
	slow := e.SubscribeLogs(LogFilter{Functions: []string{"flood"}}, -1)
	defer slow.Close()
	flood := invokeAsync(t, e, "flood", fmt.Sprintf(`{"lines": %d, "size": %d}`, lines, size))
	errs := make(chan error, 2)
	go func() { errs <- follow(t, fast, lines, 0) }()
	go func() { errs <- follow(t, slow, lines, 20*time.Millisecond) }() // 50,000 lines/s at most: falls behind the ring
	waitStatus(t, e, flood.RequestID, event.Running)
	// Another function is served while the flood runs.
	start := time.Now()
	ok, err := e.Invoke(context.Background(), InvokeRequest{Function: "ok", Payload: []byte(`{}`)})
	if err != nil || ok.Status != event.Succeeded {
		t.Fatalf("invoke during the flood: %v %v", ok.Status, err)
	}
	t.Logf("a sync invoke during the flood took %s", time.Since(start))
	wctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	final, err := e.Wait(wctx, flood.RequestID)
	if err != nil || final.Status != event.Succeeded {
		t.Fatalf("flood ended %s: %s (%v)", final.Status, final.ErrorMessage, err)
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// What is kept: the first and the last half MiB, and a marker between
	// (the deletes take a while under the race detector).
	deadline := time.Now().Add(time.Minute)
	for {
		stored, err := e.Logs(context.Background(), store.LogQuery{RequestID: flood.RequestID})
		if err != nil {
			t.Fatal(err)
		}
		var kept, markers int
		var first, last string
		for _, l := range stored {
			switch {
			case l.Stream == "stdout":
				kept += len(l.Text) + 1
				if first == "" {
					first = l.Text[:7]
				}
				last = l.Text[:7]
			case strings.Contains(l.Text, "of this attempt's output elided here"):
				markers++
			}
		}
		// Elided by whole chunks: the tail kept is within a chunk of its bound.
		if markers == 1 && kept <= 1<<20+outputChunkBytes && kept > 1<<20-outputChunkBytes && first == "0000000" && last == fmt.Sprintf("%07d", lines-1) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("kept %d bytes of output (keep 1 MiB), %d markers, first line %s, last %s", kept, markers, first, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Terminate racing the handler's own completion ends in exactly one terminal
// status, and the answer to terminate says which.
func TestTerminateRacingCompletion(t *testing.T) {
	needNode(t)
	e := newEngine(t, t.TempDir(), Options{})
	defer closeEngine(t, e)
	deploy(t, e, "quick", "ok", nil)
	for i := 0; i < 20; i++ {
		ev := invokeAsync(t, e, "quick", `{"ms": 30}`)
		time.Sleep(time.Duration(i%5) * 10 * time.Millisecond)
		got, err := e.Terminate(context.Background(), "quick", ev.RequestID, 0)
		final := wait(t, e, ev.RequestID)
		switch {
		case err == nil && final.Status == event.Terminated && got.Status == event.Terminated:
		case errors.Is(err, ErrEventFinished) && final.Status == event.Succeeded:
		default:
			t.Fatalf("round %d: terminate = %v (%v), final %s", i, got.Status, err, final.Status)
		}
	}
}

// Handlers that kill their own process end FAILED with the runtime's error,
// and the next event gets a fresh instance.
func TestCrashingHandlers(t *testing.T) {
	needNode(t)
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	e := newEngine(t, t.TempDir(), Options{})
	defer closeEngine(t, e)
	dir := t.TempDir()
	files := map[string]string{
		"crash.js": `exports.exit = async (ev) => { if (ev.crash) { console.log("exiting"); process.exit(3); } return "alive"; };`,
		"crash.py": "import ctypes\ndef segv(event, context):\n    print('about to fault', flush=True)\n    ctypes.string_at(0)\n",
	}
	for name, code := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(code), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	zip, _, err := artifact.Build(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	zero := 0
	for _, f := range []struct{ name, runtime, handler string }{{"exit", "nodejs18.x", "crash.exit"}, {"segv", "python3.11", "crash.segv"}} {
		if _, err := e.Deploy(context.Background(), FunctionConfig{Name: f.name, Provider: "aws", Runtime: f.runtime, Handler: f.handler,
			MemorySize: 256, Timeout: 30, Async: AsyncConfig{RetryAttempts: &zero}}, zip); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		fn, payload, wantMsg string
	}{
		{"exit", `{"crash": true}`, "exited with code 3"},
		{"segv", `{}`, "SIGSEGV"},
	}
	for _, c := range cases {
		t.Run(c.fn, func(t *testing.T) {
			ev := invokeAsync(t, e, c.fn, c.payload)
			final := wait(t, e, ev.RequestID)
			if final.Status != event.Failed || final.ErrorType != "Runtime.ExitError" || !strings.Contains(final.ErrorMessage, c.wantMsg) {
				t.Fatalf("final = %s %s: %s", final.Status, final.ErrorType, final.ErrorMessage)
			}
		})
	}
	// The crashed instance is gone; the next invoke starts a new one.
	ev, err := e.Invoke(context.Background(), InvokeRequest{Function: "exit", Payload: []byte(`{}`)})
	if err != nil || ev.Status != event.Succeeded || string(ev.Result) != `"alive"` {
		t.Fatalf("invoke after a crash: %s %s (%v)", ev.Status, ev.Result, err)
	}
}
