package e2e

import (
	"os/exec"
	"testing"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/adapters/conformance"
	"github.com/asyncfn/asyncfn/adapters/local"
	"github.com/asyncfn/asyncfn/spec"
)

func needNode(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
}

func TestConformanceLocal(t *testing.T) {
	needNode(t)
	url := startEmulator(t)
	conformance.Run(t, conformance.Target{Name: "local", Provider: "tencent", New: func(t *testing.T, svc *spec.Service) adapters.Provider {
		p, err := local.New(url, svc)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}})
}
