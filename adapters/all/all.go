// Package all constructs the provider adapter a service asks for: the one
// place that knows every backend.
package all

import (
	"fmt"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/adapters/local"
	"github.com/asyncfn/asyncfn/spec"
)

// DefaultLocalURL is where `asyncfn local start` listens by default.
const DefaultLocalURL = "http://127.0.0.1:9770"

// Options choose the endpoint.
type Options struct {
	// Local selects the emulator's native API at Endpoint (or DefaultLocalURL).
	Local    bool
	Endpoint string
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
	switch svc.Provider.Name {
	case "tencent", "aws":
		return nil, &adapters.UnsupportedError{Provider: svc.Provider.Name, Op: "cloud access",
			Reason: "the " + svc.Provider.Name + " adapter is not available in this build yet",
			Alternative: "use --local to run against the local emulator (asyncfn local start)"}
	}
	return nil, fmt.Errorf("provider %q has no adapter", svc.Provider.Name)
}
