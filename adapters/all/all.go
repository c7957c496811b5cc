// Package all constructs the provider adapter a service asks for: the one
// place that knows every backend.
package all

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/adapters/aws"
	"github.com/asyncfn/asyncfn/adapters/local"
	"github.com/asyncfn/asyncfn/adapters/tencent"
	"github.com/asyncfn/asyncfn/spec"
)

// DefaultLocalURL is where `asyncfn local start` listens by default.
const DefaultLocalURL = "http://127.0.0.1:9770"

// Options choose the endpoint.
type Options struct {
	// Local selects the emulator's native API at Endpoint (or DefaultLocalURL).
	Local    bool
	Endpoint string
	// Progress receives deploy progress of the cloud adapters; nil means os.Stderr.
	Progress io.Writer
	// Getenv looks up credentials; nil means os.LookupEnv.
	Getenv func(string) (string, bool)
	// PollInterval is how often the cloud adapters poll for new log lines
	// (and statuses) while tailing; 0 means each adapter's default.
	PollInterval time.Duration
}

// New returns the provider for svc.
func New(svc *spec.Service, opts Options) (adapters.Provider, error) {
	if opts.Local {
		ep := opts.Endpoint
		if ep == "" {
			ep = DefaultLocalURL
		}
		return local.New(ep, svc)
	}
	progress, getenv := opts.Progress, opts.Getenv
	if progress == nil {
		progress = os.Stderr
	}
	if getenv == nil {
		getenv = os.LookupEnv
	}
	switch svc.Provider.Name {
	case "tencent":
		return tencent.New(svc, tencent.Options{Endpoint: opts.Endpoint, Progress: progress, Getenv: getenv, PollInterval: opts.PollInterval})
	case "aws":
		return aws.New(context.Background(), svc, aws.Options{Endpoint: opts.Endpoint, Progress: progress, Getenv: getenv, PollInterval: opts.PollInterval})
	}
	return nil, fmt.Errorf("provider %q has no adapter", svc.Provider.Name)
}
