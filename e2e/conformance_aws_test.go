package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/adapters/aws"
	"github.com/asyncfn/asyncfn/adapters/conformance"
	"github.com/asyncfn/asyncfn/spec"
)

// noEnv hides the developer's AWS environment from the adapter, so the test
// is the same on every machine: a loopback endpoint without credentials.
func noEnv(string) (string, bool) { return "", false }

// TestConformanceAWS runs the suite through the aws adapter: the Lambda,
// durable-execution and CloudWatch Logs fronts of the emulator, via the SDK.
func TestConformanceAWS(t *testing.T) {
	needNode(t)
	url := startEmulator(t)
	conformance.Run(t, conformance.Target{Name: "aws", Provider: "aws", New: func(t *testing.T, svc *spec.Service) adapters.Provider {
		svc.Provider.Role = "arn:aws:iam::000000000000:role/conformance"
		p, err := aws.New(context.Background(), svc, aws.Options{Endpoint: url, Getenv: noEnv, PollInterval: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}})
}
