// Package e2e holds the end-to-end tests: the built binary against a running
// emulator, real cloud clients against the emulator's fronts, and the
// provider conformance suite against the built binary.
package e2e

import (
	"testing"

	"github.com/asyncfn/asyncfn/adapters/conformance"
)

// startEmulator runs an in-process emulator on a free loopback port and
// returns its base URL (the one way tests start one: adapters/conformance).
func startEmulator(t *testing.T, opts ...conformance.EmulatorOption) string {
	t.Helper()
	return conformance.StartEmulator(t, opts...)
}
