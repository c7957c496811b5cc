package e2e

import (
	"os/exec"
	"testing"

	"github.com/asyncfn/asyncfn/adapters/conformance"
)

func needNode(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
}

// noEnv hides the developer's AWS environment from the adapter, so the test
// is the same on every machine: a loopback endpoint without credentials.
var noEnv = conformance.NoEnv

// TestConformanceBinary runs the conformance suite through all three
// adapters against one emulator: the built binary, `asyncfn local start`.
// Each adapter's own package runs the suite against an emulator started
// in-process (go test ./adapters/aws/ -run Conformance); this run proves
// what those do not: that the binary serves every front, with its own
// defaults (such as the retry backoff), and that the three providers can
// share one emulator at once.
func TestConformanceBinary(t *testing.T) {
	needNode(t)
	emu := startLocal(t, freePort(t), t.TempDir())
	for _, target := range []conformance.Target{conformance.Local(emu.url), conformance.Tencent(emu.url), conformance.AWS(emu.url), conformance.AWSDurable(emu.url)} {
		t.Run(target.Name, func(t *testing.T) {
			t.Parallel()
			conformance.Run(t, target)
		})
	}
}
