package localemu

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/asyncfn/asyncfn/artifact"
	"github.com/asyncfn/asyncfn/cloud"
	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/localemu/store"
)

// A Terminate that arrives after a failed attempt has ended and before its
// retry is queued must win: the event ends TERMINATED and is not retried.
// The window is held open by a hook, so the interleaving is forced, not hoped for.
func TestTerminateBetweenAttemptAndRetry(t *testing.T) {
	needNode(t)
	e := newEngine(t, t.TempDir(), Options{})
	defer closeEngine(t, e)
	two := 2
	deploy(t, e, "flaky", "fail", func(c *FunctionConfig) { c.Async.RetryAttempts = &two })

	inWindow := make(chan string, 1)
	release := make(chan struct{})
	e.hooks.settling = func(id string) {
		select {
		case inWindow <- id:
			<-release // hold only the first attempt's hand-off
		default:
		}
	}
	ev := invokeAsync(t, e, "flaky", `{}`)
	if got := <-inWindow; got != ev.RequestID {
		t.Fatalf("hook saw %s", got)
	}
	type result struct {
		ev  store.Event
		err error
	}
	done := make(chan result, 1)
	go func() {
		final, err := e.Terminate(context.Background(), "flaky", ev.RequestID, 0)
		done <- result{final, err}
	}()
	// Wait until the request is recorded on the event, then let the engine go on.
	for deadline := time.Now().Add(10 * time.Second); ; {
		e.mu.Lock()
		recorded := e.stopRequestedLocked(ev.RequestID)
		e.mu.Unlock()
		if recorded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Terminate never recorded its request")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	r := <-done
	if r.err != nil || r.ev.Status != event.Terminated {
		t.Fatalf("terminate = %s, %v; want TERMINATED", r.ev.Status, r.err)
	}
	final := wait(t, e, ev.RequestID)
	if final.Status != event.Terminated || final.Attempts != 1 {
		t.Fatalf("final = %s after %d attempts, want TERMINATED after 1", final.Status, final.Attempts)
	}
	time.Sleep(200 * time.Millisecond) // a retry, had one been queued, would run now (backoff 50 ms)
	if again, _ := e.Event(context.Background(), "", ev.RequestID); again.Attempts != 1 || again.Status != event.Terminated {
		t.Fatalf("after terminate: %s, %d attempts", again.Status, again.Attempts)
	}
}

// A terminate requested while the event runs ends it TERMINATED even when
// the handler survives SIGTERM and returns; what it returned is kept.
func TestGracefulTerminateThatReturns(t *testing.T) {
	needNode(t)
	e := newEngine(t, t.TempDir(), Options{})
	defer closeEngine(t, e)
	deploy(t, e, "partial", "partial", nil)
	ev := invokeAsync(t, e, "partial", `{}`)
	waitLog(t, e, ev.RequestID, "partial job started")
	final, err := e.Terminate(context.Background(), "partial", ev.RequestID, 5*time.Second)
	if err != nil {
		t.Fatalf("terminate: %v", err)
	}
	if final.Status != event.Terminated || string(final.Result) != `{"partial":true}` {
		t.Fatalf("final = %s result %s, want TERMINATED with the partial result\n%s", final.Status, final.Result, logText(t, e, ev.RequestID))
	}
	waitLog(t, e, ev.RequestID, "SIGTERM: returning what is done")
}

// deployVersion deploys the "version" handler with CODE_VERSION set, as a
// code change would: a new zip each time.
func deployVersion(t *testing.T, e *Engine, name, v string) {
	t.Helper()
	deploy(t, e, name, "version", func(c *FunctionConfig) {
		c.Provider = "aws"
		c.Runtime = "nodejs20.x"
		c.Environment = map[string]string{"CODE_VERSION": v}
	})
}

// An instance never outlives its function: after remove and a new deploy
// under the same name (versions start at 1 again), no invoke reaches the
// old code, not even through the instance that was busy during the remove.
func TestRemoveThenDeployRunsTheNewCode(t *testing.T) {
	needNode(t)
	e := newEngine(t, t.TempDir(), Options{})
	defer closeEngine(t, e)
	deploy(t, e, "job", "ok", nil)
	busy := invokeAsync(t, e, "job", `{"ms": 1500}`)
	waitLog(t, e, busy.RequestID, "working on")
	queued := make([]store.Event, 0, 2)
	one := 1
	deploy(t, e, "job", "ok", func(c *FunctionConfig) { c.ReservedConcurrency = &one })
	for i := 0; i < 2; i++ {
		queued = append(queued, invokeAsync(t, e, "job", `{}`))
	}
	if err := e.RemoveFunction(context.Background(), "job"); err != nil {
		t.Fatal(err)
	}
	// Events still waiting end at once, without an attempt.
	for _, q := range queued {
		ev, err := e.Event(context.Background(), "", q.RequestID)
		if err != nil || ev.Status != event.Failed || ev.ErrorType != ErrTypeFunctionRemoved || ev.Attempts != 0 {
			t.Fatalf("queued event after remove: %s %s, %d attempts (%v)", ev.Status, ev.ErrorType, ev.Attempts, err)
		}
	}
	deployVersion(t, e, "job", "B")
	// The running event finishes on the old code and is not retried.
	if final := wait(t, e, busy.RequestID); final.Status != event.Succeeded {
		t.Fatalf("the event running at remove: %s %s", final.Status, final.ErrorMessage)
	}
	for i := 0; i < 3; i++ {
		got, err := e.Invoke(context.Background(), InvokeRequest{Function: "job", Payload: []byte(`{}`)})
		if err != nil || string(got.Result) != `"B"` {
			t.Fatalf("invoke %d after remove and deploy: %s %s (%v), want \"B\"", i, got.Status, got.Result, err)
		}
	}
}

// invokeAged accepts an async event as Invoke does, but created age ago: a
// function's maximum event age is at least a minute, too long to wait for.
func invokeAged(t *testing.T, e *Engine, fn string, age time.Duration) store.Event {
	t.Helper()
	ev := store.Event{RequestID: uuid.NewString(), Function: fn, Version: 1, InvokeType: event.InvokeEvent,
		Payload: []byte(`{}`), Status: event.Queued, CreatedAt: time.Now().UTC().Add(-age)}
	if err := e.store.InsertEvent(context.Background(), &ev); err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	e.enqueueLocked(e.trackLocked(&ev), time.Time{})
	e.dispatchLocked()
	e.mu.Unlock()
	return ev
}

// Events expire at their maximum age wherever they wait, say why, and reach
// the on-failure destination with the condition EventAgeExceeded.
func TestEventAgeExpiresWaitingEvents(t *testing.T) {
	needNode(t)
	e := newEngine(t, t.TempDir(), Options{Backoff: func(int) time.Duration { return 2 * time.Second }})
	defer closeEngine(t, e)
	zero, two := 0, 2
	deploy(t, e, "dlq", "record", nil)
	deploy(t, e, "throttled", "ok", func(c *FunctionConfig) {
		c.Provider = "aws"
		c.ReservedConcurrency = &zero
		c.Async.MaxEventAge = 60
		c.Async.OnFailure = "dlq"
	})
	deploy(t, e, "failing", "fail", func(c *FunctionConfig) {
		c.Provider = "aws"
		c.Async.RetryAttempts = &two
		c.Async.MaxEventAge = 60
	})

	t.Run("queued behind a reserved concurrency of 0", func(t *testing.T) {
		ev := invokeAged(t, e, "throttled", 59500*time.Millisecond)
		final := wait(t, e, ev.RequestID)
		if final.Status != event.Failed || final.ErrorType != ErrTypeEventAge || final.Attempts != 0 {
			t.Fatalf("final = %s %s after %d attempts", final.Status, final.ErrorType, final.Attempts)
		}
		if !strings.Contains(logText(t, e, ev.RequestID), "EXPIRED RequestId: "+ev.RequestID) {
			t.Errorf("no EXPIRED line in the event's log:\n%s", logText(t, e, ev.RequestID))
		}
		waitLog(t, e, ev.RequestID, "DESTINATION dlq invoked")
	})
	t.Run("waiting for a retry", func(t *testing.T) {
		ev := invokeAged(t, e, "failing", 58*time.Second)
		final := wait(t, e, ev.RequestID)
		if final.Status != event.Failed || final.ErrorType != ErrTypeEventAge || final.Attempts != 1 {
			t.Fatalf("final = %s %s after %d attempts", final.Status, final.ErrorType, final.Attempts)
		}
		if !strings.Contains(final.ErrorMessage, "source file not found") {
			t.Errorf("the message should keep the last attempt's error: %q", final.ErrorMessage)
		}
		if got := final.EndedAt.Sub(final.CreatedAt); got < 59*time.Second || got > 62*time.Second {
			t.Errorf("ended %s after creation, want at its maximum age (60 s)", got)
		}
	})
	t.Run("a synchronous invoke is throttled, not queued", func(t *testing.T) {
		_, err := e.Invoke(context.Background(), InvokeRequest{Function: "throttled", Payload: []byte(`{}`)})
		var throttled *ThrottledError
		if !errors.As(err, &throttled) {
			t.Fatalf("err = %v, want a ThrottledError", err)
		}
	})
}

// A name the cloud refuses is refused, and no name ever becomes a path: a
// deploy of "../x" creates nothing outside the state directory.
func TestFunctionNamesAreCheckedAndNeverPaths(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "state")
	e := newEngine(t, dir, Options{})
	defer closeEngine(t, e)
	for _, c := range []struct {
		provider cloud.Provider
		name     string
	}{{cloud.AWS, "../x"}, {cloud.AWS, "a/b"}, {cloud.AWS, "x\x00"}, {cloud.AWS, strings.Repeat("n", 65)}, {cloud.Tencent, "f"}, {cloud.Tencent, "9fn"}, {cloud.Tencent, "fn-"}} {
		_, err := e.Deploy(context.Background(), FunctionConfig{Name: c.name, Provider: c.provider, Runtime: "nodejs20.x", Handler: "index.ok"}, codeZip(t))
		var invalid *InvalidParameterError
		if !errors.As(err, &invalid) {
			t.Errorf("%s name %q: %v, want an invalid parameter", c.provider, c.name, err)
		}
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 {
		t.Errorf("the state directory's parent holds %d entries, want only state/", len(entries))
	}
	if got := workDirName("../../x"); strings.ContainsAny(got, "./") {
		t.Errorf("work directory name %q comes from the function name", got)
	}
}

// Unpacked code that no function version and no instance uses is removed:
// after a redeploy once the old instances are gone, and after a remove. Code
// a running event uses stays until it ends.
func TestUnusedCodeIsCollected(t *testing.T) {
	needNode(t)
	dir := t.TempDir()
	e := newEngine(t, dir, Options{})
	defer closeEngine(t, e)
	codeDirs := func() int {
		entries, _ := os.ReadDir(filepath.Join(dir, "code"))
		n := 0
		for _, ent := range entries {
			if ent.IsDir() && !strings.HasPrefix(ent.Name(), ".") {
				n++
			}
		}
		return n
	}
	waitDirs := func(want int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); codeDirs() != want; {
			if time.Now().After(deadline) {
				t.Fatalf("%d code directories, want %d", codeDirs(), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	zipWith := func(marker string) []byte {
		t.Helper()
		src := t.TempDir()
		for name, body := range map[string]string{"index.js": handlers, "marker.txt": marker} {
			if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		zip, _, err := artifact.Build(src, nil)
		if err != nil {
			t.Fatal(err)
		}
		return zip
	}
	z1, z2 := zipWith("1"), zipWith("2")
	put := func(name string, zip []byte) {
		t.Helper()
		zero := 0
		if _, err := e.Deploy(context.Background(), FunctionConfig{Name: name, Provider: cloud.AWS, Runtime: "nodejs20.x", Handler: "index.ok",
			MemorySize: 128, Timeout: 30, Async: AsyncConfig{RetryAttempts: &zero}}, zip); err != nil {
			t.Fatal(err)
		}
	}
	put("job", z1)
	wait(t, e, invokeAsync(t, e, "job", `{}`).RequestID) // a warm instance of z1
	put("job", z2)
	waitDirs(1) // z1's warm instance retired with its code

	put("job2", z1)
	running := invokeAsync(t, e, "job2", `{"ms": 1500}`)
	waitLog(t, e, running.RequestID, "working on")
	put("job2", z2) // new code while the old runs
	time.Sleep(100 * time.Millisecond)
	if n := codeDirs(); n != 2 {
		t.Fatalf("%d code directories while an event runs the old code, want 2", n)
	}
	if final := wait(t, e, running.RequestID); final.Status != event.Succeeded {
		t.Fatalf("the event running on the old code: %s %s", final.Status, final.ErrorMessage)
	}
	waitDirs(1)
	for _, fn := range []string{"job", "job2"} {
		if err := e.RemoveFunction(context.Background(), fn); err != nil {
			t.Fatal(err)
		}
	}
	waitDirs(0)
}

// Many waiting events expire through the one engine-wide queue, each at its
// own age; an event settled otherwise (terminated) leaves the queue at once.
func TestExpiryQueue(t *testing.T) {
	needNode(t)
	e := newEngine(t, t.TempDir(), Options{})
	defer closeEngine(t, e)
	zero := 0
	deploy(t, e, "held", "ok", func(c *FunctionConfig) {
		c.Provider = cloud.AWS
		c.ReservedConcurrency = &zero
		c.Async.MaxEventAge = 60
	})
	var ids []string
	for i := 0; i < 40; i++ {
		// Ages from 58.8 s to 59.97 s: each expires between 30 ms and 1.2 s from now.
		ids = append(ids, invokeAged(t, e, "held", 58800*time.Millisecond+time.Duration(i)*30*time.Millisecond).RequestID)
	}
	stopped := invokeAged(t, e, "held", time.Second).RequestID // expires in 59 s: terminated first
	if _, err := e.Terminate(context.Background(), "held", stopped, 0); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if final := wait(t, e, id); final.ErrorType != ErrTypeEventAge {
			t.Fatalf("%s: %s %s", id, final.Status, final.ErrorType)
		}
	}
	e.mu.Lock()
	left := len(e.expiries)
	e.mu.Unlock()
	if left != 0 {
		t.Errorf("%d events still in the expiry queue after all settled", left)
	}
}

// A process a handler starts in a session of its own (setsid) stays inside
// its instance: terminating the event ends it too.
func TestTerminateEndsASetsidChild(t *testing.T) {
	needNode(t)
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("setsid is not installed")
	}
	e := newEngine(t, t.TempDir(), Options{})
	defer closeEngine(t, e)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(`
const { spawn } = require("child_process");
exports.run = async () => {
  const child = spawn("setsid", ["sleep", "987654"], { stdio: "ignore", detached: true });
  child.unref();
  await new Promise((r) => setTimeout(r, 300));
  console.log("escaped child started");
  await new Promise((r) => setTimeout(r, 60000));
};`), 0o644); err != nil {
		t.Fatal(err)
	}
	zip, _, err := artifact.Build(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	zero := 0
	if _, err := e.Deploy(context.Background(), FunctionConfig{Name: "escaper", Provider: cloud.AWS, Runtime: "nodejs20.x", Handler: "index.run",
		MemorySize: 256, Timeout: 120, Async: AsyncConfig{RetryAttempts: &zero}}, zip); err != nil {
		t.Fatal(err)
	}
	sleepers := func() []string {
		out, _ := exec.Command("pgrep", "-f", "^sleep 987654$").Output()
		return strings.Fields(string(out))
	}
	before := len(sleepers())
	ev := invokeAsync(t, e, "escaper", `{}`)
	waitLog(t, e, ev.RequestID, "escaped child started")
	if n := len(sleepers()); n != before+1 {
		t.Fatalf("%d setsid sleepers running, want %d", n, before+1)
	}
	final, err := e.Terminate(context.Background(), "escaper", ev.RequestID, 0)
	if err != nil || final.Status != event.Terminated {
		t.Fatalf("terminate: %s %v", final.Status, err)
	}
	for deadline := time.Now().Add(10 * time.Second); len(sleepers()) > before; {
		if time.Now().After(deadline) {
			t.Fatalf("the setsid child outlived its terminated event (%d sleepers, %d before)", len(sleepers()), before)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// START lines read as Lambda writes them: the version executed, $LATEST
// when invoked unqualified.
func TestStartLineIsLambdas(t *testing.T) {
	needNode(t)
	e := newEngine(t, t.TempDir(), Options{})
	defer closeEngine(t, e)
	deploy(t, e, "job", "ok", nil)
	ev := invokeAsync(t, e, "job", `{}`)
	wait(t, e, ev.RequestID)
	if want := "platform START RequestId: " + ev.RequestID + " Version: $LATEST\n"; !strings.Contains(logText(t, e, ev.RequestID), want) {
		t.Errorf("no %q in\n%s", want, logText(t, e, ev.RequestID))
	}
}
