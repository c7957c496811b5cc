package aws_test

import (
	"testing"

	"github.com/asyncfn/asyncfn/adapters/conformance"
)

// TestConformance runs the conformance suite through the aws adapter (the
// AWS SDK for Go), against the Lambda, durable-execution and CloudWatch Logs
// fronts of an emulator started in this test.
func TestConformance(t *testing.T) {
	conformance.NeedNode(t)
	conformance.Run(t, conformance.AWS(conformance.StartEmulator(t)))
}
