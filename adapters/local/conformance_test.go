package local_test

import (
	"testing"

	"github.com/asyncfn/asyncfn/adapters/conformance"
)

// TestConformance runs the conformance suite through the local adapter,
// against the native API of an emulator started in this test.
func TestConformance(t *testing.T) {
	conformance.NeedNode(t)
	conformance.Run(t, conformance.Local(conformance.StartEmulator(t)))
}
