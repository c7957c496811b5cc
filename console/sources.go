package console

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/adapters/local"
	"github.com/asyncfn/asyncfn/localemu/front"
	"github.com/asyncfn/asyncfn/spec"
)

// Service is the source of `asyncfn console`: the functions of a
// serverless.yml, on the provider it deploys to.
type Service struct {
	Svc *spec.Service
	P   adapters.Provider
}

var _ Source = (*Service)(nil)

// Functions lists the service's functions in the order the file declares them.
func (s *Service) Functions(context.Context) ([]Function, error) {
	out := make([]Function, len(s.Svc.Functions))
	for i, fn := range s.Svc.Functions {
		out[i] = Function{Name: fn.DeployedName, Label: fn.Name, Config: local.Config(s.Svc, fn)}
	}
	return out, nil
}

// Provider is the service's provider.
func (s *Service) Provider() adapters.Provider { return s.P }

// emulatorSource is everything deployed to an emulator, through its native
// API (adapters/local): the console at the emulator's /console/.
type emulatorSource struct {
	p *local.Provider

	mu     sync.Mutex
	fns    []Function
	listed time.Time
}

func (s *emulatorSource) Provider() adapters.Provider { return s.p }

// functionsTTL is how long a listing of the emulator's functions is reused:
// every poll of a page looks its function up, and a deploy shows within it.
const functionsTTL = time.Second

func (s *emulatorSource) Functions(ctx context.Context) ([]Function, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fns != nil && time.Since(s.listed) < functionsTTL {
		return s.fns, nil
	}
	infos, err := s.p.Functions(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Function, len(infos))
	for i, f := range infos {
		out[i] = Function{Name: f.Name, Config: f.Config}
	}
	s.fns, s.listed = out, time.Now()
	return out, nil
}

// Emulator returns the console an emulator serves at /console/, for every
// function deployed to it. It calls the emulator's native API like any
// client — over HTTP, through the same Host, Origin and credential checks —
// at the address each request arrived on, with creds (which it requires of
// the browser, too).
func Emulator(creds *front.Credentials, opts Options) (*Console, error) {
	var mu sync.Mutex
	byAddr := map[string]*emulatorSource{} // a provider per local address the emulator is reached on
	opts.Prefix, opts.Credentials = "/console/", creds
	if opts.Title == "" {
		opts.Title = "local emulator"
	}
	opts.Source = func(r *http.Request) (Source, error) {
		addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		if !ok {
			return nil, &httpError{status: http.StatusInternalServerError, msg: "the console does not know the emulator's address"}
		}
		mu.Lock()
		defer mu.Unlock()
		if s, ok := byAddr[addr.String()]; ok {
			return s, nil
		}
		u := &url.URL{Scheme: "http", Host: addr.String()}
		if creds != nil {
			u.User = url.UserPassword(creds.ID, creds.Key)
		}
		p, err := local.New(u.String(), nil)
		if err != nil {
			return nil, err
		}
		s := &emulatorSource{p: p}
		byAddr[addr.String()] = s
		return s, nil
	}
	return New(opts)
}
