package aws_test

import (
	"testing"

	"github.com/asyncfn/asyncfn/adapters/conformance"
)

// TestConformance runs the conformance suite through the aws adapter (the
// AWS SDK for Go) against the Lambda and CloudWatch Logs fronts of an
// emulator started in this test, over both kinds of Lambda function: plain
// (events from their log lines) and durable (durable executions). Nothing
// stands between the adapter and the emulator.
func TestConformance(t *testing.T) {
	conformance.NeedNode(t)
	url := conformance.StartEmulator(t)
	t.Run("plain", func(t *testing.T) { conformance.Run(t, conformance.AWS(url)) })
	t.Run("durable", func(t *testing.T) { conformance.Run(t, conformance.AWSDurable(url)) })
}

// TestConformanceCloud runs the same suite against AWS Lambda itself, plain
// and durable, when ASYNCFN_CONFORMANCE_AWS_ROLE names an execution role
// (see conformance.Cloud); it removes the functions it creates.
func TestConformanceCloud(t *testing.T) {
	role := conformance.Cloud(t, "aws")
	t.Run("plain", func(t *testing.T) { conformance.Run(t, conformance.AWSCloud(role, false)) })
	t.Run("durable", func(t *testing.T) { conformance.Run(t, conformance.AWSCloud(role, true)) })
}
