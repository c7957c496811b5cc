package conformance

import (
	"os/exec"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/asyncfntest"
)

// The adapters' tests start an emulator in-process here, through
// asyncfntest, the package users' own Go tests start one with: one way to
// start an emulator in a test.

// EmulatorOption configures StartEmulator.
type EmulatorOption = asyncfntest.Option

// WithCredentials makes the emulator's cloud fronts verify every signature
// against this one key pair (as `asyncfn local start --credentials ID:KEY`).
// Without it they accept any well-formed request.
func WithCredentials(id, key string) EmulatorOption {
	return asyncfntest.WithCredentials(id, key)
}

// StartEmulator runs an emulator in the test's process — a real engine with
// its state in a fresh t.TempDir(), served on a free 127.0.0.1 port — and
// returns its base URL (http://127.0.0.1:PORT). Retries wait 100 ms, and the
// engine's log is discarded. The server and the engine are closed in
// t.Cleanup.
func StartEmulator(t testing.TB, opts ...EmulatorOption) string {
	t.Helper()
	opts = append([]EmulatorOption{asyncfntest.WithBackoff(func(int) time.Duration { return 100 * time.Millisecond })}, opts...)
	return asyncfntest.Start(t, opts...).URL
}

// NeedNode skips the test when Node.js is not installed: the suite's
// handlers, and the functions most emulator tests deploy, are Node.js.
func NeedNode(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: the functions these tests deploy are Node.js")
	}
}
