package local_test

import (
	"context"
	"strings"
	"testing"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/adapters/conformance"
	"github.com/asyncfn/asyncfn/adapters/local"
	"github.com/asyncfn/asyncfn/spec"
)

// Through the native API (--local), a function needing a binary and a
// module from two layers of its service runs; the layers are published
// once and bound in order.
func TestDeployWithLayersOnTheNativeAPI(t *testing.T) {
	conformance.NeedNode(t)
	ctx := context.Background()
	svc, fn, code := conformance.LayeredService(t)
	p, err := local.New(conformance.StartEmulator(t), svc)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second deploy finds both layers unchanged
		if _, err := p.Deploy(ctx, fn, adapters.Artifact{Zip: code}); err != nil {
			t.Fatal(err)
		}
	}
	inv, err := p.Invoke(ctx, fn.DeployedName, nil, adapters.InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	conformance.CheckLayered(t, inv.Result)
	// Published once: a second version would mean the unchanged check failed.
	fn.Layers = []spec.LayerUse{{Name: "tools", Version: 2}}
	if _, err := p.Deploy(ctx, fn, adapters.Artifact{Zip: code}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("binding tools:2: %v", err)
	}
}
