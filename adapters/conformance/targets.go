package conformance

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/adapters/aws"
	"github.com/asyncfn/asyncfn/adapters/local"
	"github.com/asyncfn/asyncfn/adapters/tencent"
	"github.com/asyncfn/asyncfn/spec"
)

// The one way to build each target: the provider pointed at the emulator at
// url (StartEmulator's, or a running `asyncfn local start`), with nothing
// read from the developer's environment, so a run is the same on every
// machine. Each target's Name differs, so all three may share one emulator.

// NoEnv is a Getenv that finds nothing: no credentials, no profile, no
// region from the environment.
func NoEnv(string) (string, bool) { return "", false }

// Local is the local adapter: the emulator's native JSON API (/v1/).
func Local(url string) Target {
	return Target{Name: "local", Provider: "tencent", New: func(t *testing.T, svc *spec.Service) adapters.Provider {
		p, err := local.New(url, svc)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}}
}

// Tencent is the tencent adapter (the official Go SDK) against the
// emulator's SCF API 3.0 front. With no credentials in its environment the
// adapter signs with placeholders, which an emulator started without
// credentials accepts.
func Tencent(url string) Target {
	return Target{Name: "tencent", Provider: "tencent", New: func(t *testing.T, svc *spec.Service) adapters.Provider {
		p, err := tencent.New(svc, tencent.Options{Endpoint: url, Progress: io.Discard, PollInterval: 200 * time.Millisecond, Getenv: NoEnv})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}}
}

// AWS is the aws adapter (the AWS SDK for Go) against the emulator's Lambda,
// durable-execution and CloudWatch Logs fronts, on a loopback endpoint
// without credentials.
func AWS(url string) Target {
	return Target{Name: "aws", Provider: "aws", New: func(t *testing.T, svc *spec.Service) adapters.Provider {
		svc.Provider.Role = "arn:aws:iam::000000000000:role/conformance"
		p, err := aws.New(context.Background(), svc, aws.Options{Endpoint: url, Progress: io.Discard, Getenv: NoEnv, PollInterval: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}}
}
