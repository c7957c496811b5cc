// Package e2e holds the end-to-end tests: the built binary against a running
// emulator, and the provider conformance suite against a live emulator.
package e2e

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/server"
)

// startEmulator runs an in-process emulator on a free loopback port and
// returns its base URL.
func startEmulator(t *testing.T) string {
	t.Helper()
	return startEmulatorWith(t, server.Options{})
}

// startEmulatorWith is startEmulator with server options, such as the
// credentials that make the cloud fronts verify signatures.
func startEmulatorWith(t *testing.T, opts server.Options) string {
	t.Helper()
	eng, err := localemu.New(localemu.Options{StateDir: t.TempDir(), Backoff: func(int) time.Duration { return 100 * time.Millisecond },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.New(eng, opts).Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer ccancel()
		eng.Close(cctx)
	})
	return "http://" + ln.Addr().String()
}
