// Package emutest helps the emulator's front and server tests: a real engine
// in a temporary state directory, the Node.js handlers they deploy, and one
// front served alone over loopback.
package emutest

import (
	"context"
	_ "embed"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/artifact"
	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/front"
	"github.com/asyncfn/asyncfn/localemu/store"
)

// Handlers is the Node.js code the tests deploy: one file, several
// handlers, each behaving as its name says. The engine's own tests read the
// same file (handlers/index.js).
//
//go:embed handlers/index.js
var Handlers string

// NeedNode skips a test when node is not installed.
func NeedNode(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
}

// CodeZip is a deployable zip of Handlers as index.js.
func CodeZip(t testing.TB) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(Handlers), 0o644); err != nil {
		t.Fatal(err)
	}
	zip, _, err := artifact.Build(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return zip
}

// NewEngine starts an engine on a temporary state directory, with quick
// retries and a quiet logger, closed when the test ends.
func NewEngine(t testing.TB, opts localemu.Options) *localemu.Engine {
	t.Helper()
	if opts.StateDir == "" {
		opts.StateDir = t.TempDir()
	}
	if opts.Backoff == nil {
		opts.Backoff = func(int) time.Duration { return 50 * time.Millisecond }
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Retention == 0 {
		// Tests seed history at fixed dates (2024): retention would delete
		// it while they read it.
		opts.Retention = -1
	}
	e, err := localemu.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { CloseEngine(t, e) })
	return e
}

// CloseEngine closes an engine within 5 s (closing twice is harmless).
func CloseEngine(t testing.TB, e *localemu.Engine) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.Close(ctx); err != nil {
		t.Errorf("close: %v", err)
	}
}

// Handler serves one front alone, as the server would route to it.
func Handler(f front.Front) http.Handler {
	mux := http.NewServeMux()
	f.Register(mux)
	if root := f.Root(); root != nil {
		mux.Handle("POST /{$}", root)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		f.Refuse(w, r, front.NotFound, "nothing is served at "+r.Method+" "+r.URL.Path)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if front.HeaderBytes(r) > front.MaxHeaderBytes {
			f.Refuse(w, r, front.HeadersTooLarge, "the request headers are too large")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// Serve serves one front on a loopback port until the test ends, and
// returns its URL.
func Serve(t testing.TB, f front.Front) string {
	t.Helper()
	ts := httptest.NewServer(Handler(f))
	t.Cleanup(ts.Close)
	return ts.URL
}

// InvokeAsync accepts an async event and fails the test if it is refused.
func InvokeAsync(t testing.TB, e *localemu.Engine, fn, payload string) store.Event {
	t.Helper()
	ev, err := e.Invoke(context.Background(), localemu.InvokeRequest{Function: fn, Payload: []byte(payload), Type: event.InvokeEvent})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// Wait waits up to 30 s for an event's terminal status.
func Wait(t testing.TB, e *localemu.Engine, id string) store.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ev, err := e.Wait(ctx, id)
	if err != nil {
		t.Fatalf("wait for %s: %v", id, err)
	}
	return ev
}
