package conformance

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/front"
	"github.com/asyncfn/asyncfn/localemu/server"
)

// This file is the one place a test starts an emulator in-process: the
// engine's and the HTTP server's constructors are named here and nowhere
// else in the adapters' tests.

// EmulatorOption configures StartEmulator.
type EmulatorOption func(*emulatorConfig)

type emulatorConfig struct {
	creds *front.Credentials
}

// WithCredentials makes the emulator's cloud fronts verify every signature
// against this one key pair (as `asyncfn local start --credentials ID:KEY`).
// Without it they accept any well-formed request.
func WithCredentials(id, key string) EmulatorOption {
	return func(c *emulatorConfig) { c.creds = &front.Credentials{ID: id, Key: key} }
}

// StartEmulator runs an emulator in the test's process — a real engine with
// its state in a fresh t.TempDir(), served on a free 127.0.0.1 port — and
// returns its base URL (http://127.0.0.1:PORT). Retries wait 100 ms, and the
// engine's log is discarded. The server and the engine are closed in
// t.Cleanup.
func StartEmulator(t testing.TB, opts ...EmulatorOption) string {
	t.Helper()
	var cfg emulatorConfig
	for _, o := range opts {
		o(&cfg)
	}
	eng, err := localemu.New(localemu.Options{StateDir: t.TempDir(), Backoff: func(int) time.Duration { return 100 * time.Millisecond },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		closeEngine(eng)
		t.Fatal(err)
	}
	srv := server.New(eng, server.Options{Credentials: cfg.creds})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("emulator server: %v", err)
		}
		closeEngine(eng)
	})
	return "http://" + ln.Addr().String()
}

func closeEngine(eng *localemu.Engine) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	eng.Close(ctx)
}

// NeedNode skips the test when Node.js is not installed: the suite's
// handlers, and the functions most emulator tests deploy, are Node.js.
func NeedNode(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: the functions these tests deploy are Node.js")
	}
}
