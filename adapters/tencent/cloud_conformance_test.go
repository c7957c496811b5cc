package tencent_test

import (
	"testing"

	"github.com/asyncfn/asyncfn/adapters/conformance"
)

// TestConformanceCloud runs the conformance suite against Tencent SCF
// itself when ASYNCFN_CONFORMANCE_TENCENT=1 (see conformance.Cloud); it
// removes the functions it creates.
func TestConformanceCloud(t *testing.T) {
	conformance.Cloud(t, "tencent")
	conformance.Run(t, conformance.TencentCloud())
}
