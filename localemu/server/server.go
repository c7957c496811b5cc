// Package server serves an engine's API fronts on one port: it composes the
// wire protocols of localemu/front (native, scf, aws), bounds what a client
// may send before any front reads it, and listens on loopback unless the
// emulator is given credentials.
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/front"
	"github.com/asyncfn/asyncfn/localemu/front/aws"
	"github.com/asyncfn/asyncfn/localemu/front/native"
	"github.com/asyncfn/asyncfn/localemu/front/scf"
)

// DefaultAddr is the emulator's default listen address: one loopback port
// for every API front.
const DefaultAddr = "127.0.0.1:9770"

// Options configure the HTTP fronts.
type Options struct {
	// Credentials, when set, make the cloud fronts verify every signature
	// and the native API require them as HTTP Basic authentication.
	Credentials *front.Credentials
}

// Server exposes an Engine over HTTP: the native API under /v1/ and the
// cloud-compatible fronts on the same port.
type Server struct {
	engine *localemu.Engine
	fronts []front.Front // in the order they claim requests; the last claims every one
	mux    *http.ServeMux
}

// New wires the API fronts onto one handler.
func New(e *localemu.Engine, opts Options) *Server {
	log := e.Logger()
	s := &Server{
		engine: e,
		// AWS claims its versioned REST paths and X-Amz-Target requests,
		// SCF the rest of POST /, and the native API everything else.
		fronts: []front.Front{aws.New(e, opts.Credentials, log), scf.New(e, opts.Credentials, log), native.New(e, opts.Credentials, log)},
		mux:    http.NewServeMux(),
	}
	for _, f := range s.fronts {
		f.Register(s.mux)
	}
	s.mux.HandleFunc("POST /{$}", s.root)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.claimant(r).Refuse(w, r, front.NotFound, fmt.Sprintf("nothing is served at %s %s", r.Method, r.URL.Path))
	})
	return s
}

// Engine returns the engine behind the server.
func (s *Server) Engine() *localemu.Engine { return s.engine }

// claimant is the front a request is addressed to.
func (s *Server) claimant(r *http.Request) front.Front {
	for _, f := range s.fronts {
		if f.Claims(r) {
			return f
		}
	}
	return s.fronts[len(s.fronts)-1]
}

// root hands POST / to the front that claims it.
func (s *Server) root(w http.ResponseWriter, r *http.Request) {
	for _, f := range s.fronts {
		if h := f.Root(); h != nil && f.Claims(r) {
			h.ServeHTTP(w, r)
			return
		}
	}
	s.claimant(r).Refuse(w, r, front.NotFound, "nothing is served at POST /")
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if front.HeaderBytes(r) > front.MaxHeaderBytes {
		s.claimant(r).Refuse(w, r, front.HeadersTooLarge, fmt.Sprintf("the request headers exceed %d bytes", front.MaxHeaderBytes))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Serve answers on ln until ctx ends, then stops accepting connections and
// returns; the caller closes the engine (which drains running events).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: front.ServerMaxHeaderBytes}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	hs.Close() // ends long-lived log streams
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Listen opens addr, refusing a non-loopback address (the emulator runs code
// on request, so it is for this machine only unless explicitly exposed).
func Listen(addr string, allowRemote bool) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	if !allowRemote {
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("listen address %q is not a loopback address: the emulator runs code on request; pass --credentials to expose it beyond this machine", addr)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}
