package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeEmulator answers the emulator's native API (/v1/) for one function
// with canned answers, in the emulator's wire shape.
type fakeEmulator struct {
	*httptest.Server
	mu         sync.Mutex
	invoke     http.HandlerFunc // POST .../invocations
	events     []map[string]any // GET .../events (and .../events/{id})
	terminated []string         // ids POSTed to .../terminate
	invoked    chan struct{}    // closed when an invoke arrived
}

func newFakeEmulator(t *testing.T) *fakeEmulator {
	f := &fakeEmulator{invoked: make(chan struct{})}
	var once sync.Once
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/functions/{name}/invocations", func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(f.invoked) })
		f.invoke(w, r)
	})
	mux.HandleFunc("GET /v1/functions/{name}/events", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		writeTestJSON(w, http.StatusOK, map[string]any{"events": f.events, "total": len(f.events)})
	})
	mux.HandleFunc("GET /v1/functions/{name}/events/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, ev := range f.events {
			if ev["requestId"] == r.PathValue("id") {
				writeTestJSON(w, http.StatusOK, ev)
				return
			}
		}
		writeTestJSON(w, http.StatusNotFound, map[string]any{"error": map[string]string{"code": "EventNotFound", "message": "no such event"}})
	})
	mux.HandleFunc("POST /v1/functions/{name}/events/{id}/terminate", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.terminated = append(f.terminated, r.PathValue("id"))
		for _, ev := range f.events {
			if ev["requestId"] == r.PathValue("id") && ev["status"] != "RUNNING" && ev["status"] != "QUEUED" {
				writeTestJSON(w, http.StatusConflict, map[string]any{"error": map[string]string{"code": "EventFinished",
					"message": "event already finished: " + r.PathValue("id") + " is " + ev["status"].(string)}})
				return
			}
		}
		writeTestJSON(w, http.StatusOK, map[string]any{"requestId": r.PathValue("id"), "status": "TERMINATED"})
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func writeTestJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// testService writes a one-function service (f, deployed as svc-dev-f).
func testService(t *testing.T) string {
	t.Helper()
	return writeFile(t, t.TempDir(), "serverless.yml", "service: svc\nprovider:\n  name: tencent\n  runtime: Nodejs16.13\nfunctions:\n  f:\n    handler: index.main\n")
}

// runCtx runs the CLI against the fake emulator with --local.
func runCtx(ctx context.Context, t *testing.T, url string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := map[string]string{"ASYNCFN_LOCAL_URL": url}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	all := append([]string{"asyncfn", "-c", testService(t), "--local"}, args...)
	code = RunContext(ctx, all, IO{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: getenv})
	return code, out.String(), errb.String()
}

func syncEvent(id, status, errType, errMsg string) map[string]any {
	return map[string]any{"requestId": id, "function": "svc-dev-f", "invokeType": "RequestResponse", "status": status, "attempts": 1,
		"createdAt": time.Now().UTC().Format(time.RFC3339Nano), "durationMs": 0, "errorType": errType, "errorMessage": errMsg}
}

// issue 10: durationMs was left out of a sync invoke's JSON when it was 0.
func TestInvokeJSONAlwaysHasTheDuration(t *testing.T) {
	em := newFakeEmulator(t)
	for _, c := range []struct {
		name   string
		answer map[string]any
		code   int
	}{
		{"success", map[string]any{"requestId": "r-ok", "status": "SUCCEEDED", "result": map[string]any{"ok": true}, "durationMs": 0}, 0},
		{"failure", map[string]any{"requestId": "r-bad", "status": "FAILED", "errorType": "Error", "errorMessage": "boom", "durationMs": 0}, 1},
	} {
		em.invoke = func(w http.ResponseWriter, r *http.Request) { writeTestJSON(w, http.StatusOK, c.answer) }
		code, stdout, stderr := runCtx(context.Background(), t, em.URL, "invoke", "-f", "f", "-o", "json")
		var doc map[string]any
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil || code != c.code {
			t.Fatalf("%s: exit %d, stdout %q (%v), stderr %q", c.name, code, stdout, err, stderr)
		}
		if d, ok := doc["durationMs"]; !ok || d != float64(0) {
			t.Errorf("%s: durationMs = %v (present %v), want 0: %s", c.name, d, ok, stdout)
		}
	}
	// An async invoke has not run yet: no duration.
	em.invoke = func(w http.ResponseWriter, r *http.Request) {
		writeTestJSON(w, http.StatusAccepted, map[string]any{"requestId": "r-async", "status": "QUEUED", "durationMs": 0})
	}
	if _, stdout, _ := runCtx(context.Background(), t, em.URL, "invoke", "-f", "f", "--async", "-o", "json"); strings.Contains(stdout, "durationMs") {
		t.Errorf("invoke --async -o json has a duration: %s", stdout)
	}
}

func TestDurationFromALambdaReportLine(t *testing.T) {
	log := "START RequestId: abc Version: 2\nhello\nEND RequestId: abc\n" +
		"REPORT RequestId: abc\tDuration: 13.54 ms\tBilled Duration: 14 ms\tMemory Size: 512 MB\tMax Memory Used: 41 MB\n"
	if got := reportedDuration(log, "abc"); got != 14 {
		t.Errorf("reportedDuration = %d, want 14", got)
	}
	if got := reportedDuration(log, "other"); got != 0 {
		t.Errorf("reportedDuration of another request = %d, want 0", got)
	}
}

// issue 10: a sync invoke whose event was terminated while it waited blamed
// the emulator ("is `asyncfn local start` running?").
func TestSyncInvokeThatLosesItsAnswerSaysWhatHappened(t *testing.T) {
	em := newFakeEmulator(t)
	em.invoke = func(w http.ResponseWriter, r *http.Request) {
		em.mu.Lock()
		em.events = []map[string]any{syncEvent("r-term", "TERMINATED", "Terminated", "terminated on request")}
		em.mu.Unlock()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close() // the answer never comes
		}
	}
	code, _, stderr := runCtx(context.Background(), t, em.URL, "invoke", "-f", "f")
	if code != exitFailure || !strings.Contains(stderr, "r-term") || !strings.Contains(stderr, "TERMINATED") || strings.Contains(stderr, "local start") {
		t.Errorf("exit %d, stderr %q; want exit 1 naming r-term as TERMINATED, not the emulator", code, stderr)
	}
}

// A user's Ctrl-C while a sync invoke waits is not the emulator's fault
// either: the event goes on, and the message says so.
func TestInterruptedSyncInvokeNamesTheRunningEvent(t *testing.T) {
	em := newFakeEmulator(t)
	em.events = []map[string]any{syncEvent("r-run", "RUNNING", "", "")}
	em.invoke = func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-em.invoked
		cancel()
	}()
	code, _, stderr := runCtx(ctx, t, em.URL, "invoke", "-f", "f")
	if code != exitFailure || !strings.Contains(stderr, "interrupted") || !strings.Contains(stderr, "r-run is still RUNNING") || strings.Contains(stderr, "local start") {
		t.Errorf("exit %d, stderr %q; want exit 1 naming r-run as still RUNNING, not the emulator", code, stderr)
	}
}

// When nothing answers at all, the emulator is what to check.
func TestSyncInvokeWithoutEmulatorNamesIt(t *testing.T) {
	em := newFakeEmulator(t)
	url := em.URL
	em.Close()
	code, _, stderr := runCtx(context.Background(), t, url, "invoke", "-f", "f")
	if code != exitFailure || !strings.Contains(stderr, "local start") {
		t.Errorf("exit %d, stderr %q; want exit 1 asking whether the emulator runs", code, stderr)
	}
}

// issue 10: terminate --grace announced SIGTERM before learning that the
// event had already finished.
func TestTerminateOfAFinishedEventSendsNothing(t *testing.T) {
	em := newFakeEmulator(t)
	em.events = []map[string]any{syncEvent("r-done", "SUCCEEDED", "", ""), syncEvent("r-run", "RUNNING", "", "")}
	code, _, stderr := runCtx(context.Background(), t, em.URL, "events", "terminate", "r-done", "-f", "f", "--grace", "5s")
	if code != exitFailure || strings.Contains(stderr, "SIGTERM") || !strings.Contains(stderr, "already finished") || !strings.Contains(stderr, "SUCCEEDED") {
		t.Errorf("finished event: exit %d, stderr %q; want exit 1, already finished (SUCCEEDED), no SIGTERM", code, stderr)
	}
	if len(em.terminated) != 0 {
		t.Errorf("a finished event was sent a terminate: %v", em.terminated)
	}
	code, _, stderr = runCtx(context.Background(), t, em.URL, "events", "terminate", "r-run", "-f", "f", "--grace", "5s")
	if code != 0 || !strings.Contains(stderr, "SIGTERM") || !strings.Contains(stderr, "r-run TERMINATED") {
		t.Errorf("running event: exit %d, stderr %q; want SIGTERM announced and TERMINATED", code, stderr)
	}
}
