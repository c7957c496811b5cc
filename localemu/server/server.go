// Package server serves an engine's API fronts on one port: it composes the
// wire protocols of localemu/front (native, scf, aws, s3); refuses, before any
// front reads a request, a Host that is not the emulator's (DNS rebinding),
// a browser request from another origin, and oversize headers; bounds how
// long a client may hold a connection and how many are served; and listens
// on loopback unless the emulator is given credentials.
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/asyncfn/asyncfn/cloud"
	"github.com/asyncfn/asyncfn/console"
	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/front"
	"github.com/asyncfn/asyncfn/localemu/front/aws"
	"github.com/asyncfn/asyncfn/localemu/front/cos"
	"github.com/asyncfn/asyncfn/localemu/front/native"
	"github.com/asyncfn/asyncfn/localemu/front/s3"
	"github.com/asyncfn/asyncfn/localemu/front/scf"
)

// DefaultAddr is the emulator's default listen address: one loopback port
// for every API front.
const DefaultAddr = "127.0.0.1:9770"

// The defaults of Options' bounds on connections.
const (
	// DefaultReadTimeout bounds reading a request, headers and body (the
	// largest, an 80 MB deploy, needs 1.4 MB/s).
	DefaultReadTimeout = time.Minute
	// DefaultIdleTimeout closes idle keep-alive connections; above the
	// 90 s after which the Go and AWS SDK clients close theirs, so that
	// the client, not the server, ends an idle connection.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultWriteTimeout bounds each write of a response: a client that
	// stops reading, a log stream's included, is dropped after it.
	DefaultWriteTimeout = time.Minute
	// DefaultMaxConns bounds concurrent connections.
	DefaultMaxConns = 1024
	// readHeaderTimeout bounds reading a request's headers.
	readHeaderTimeout = 10 * time.Second
)

// Options configure the HTTP fronts.
type Options struct {
	// Credentials, when set, make the cloud fronts verify every signature
	// and the native API require them as HTTP Basic authentication.
	Credentials *front.Credentials
	// AllowedHosts are the Host headers the emulator answers besides
	// loopback names and addresses and the address it is bound to: "NAME"
	// (any port) or "NAME:PORT". For a proxy or a container that reaches
	// it under another name; any other Host is refused (DNS rebinding).
	AllowedHosts []string
	// ReadTimeout bounds reading one request, its headers and body
	// (default DefaultReadTimeout; negative: none). The handler itself is
	// not bounded by it: a sync invoke runs up to its function's timeout.
	ReadTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle this long (default
	// DefaultIdleTimeout; negative: never).
	IdleTimeout time.Duration
	// WriteTimeout bounds each write and flush of a response (default
	// DefaultWriteTimeout; negative: none). Long-lived log streams run past
	// it as long as their client keeps reading.
	WriteTimeout time.Duration
	// MaxConns bounds the connections served at once (default
	// DefaultMaxConns; negative: no bound); more wait to be accepted.
	MaxConns int
}

// orDefault is d when v is zero, no bound (0) when v is negative, else v.
func orDefault[T time.Duration | int](v, d T) T {
	switch {
	case v == 0:
		return d
	case v < 0:
		return 0
	}
	return v
}

// Server exposes an Engine over HTTP: the native API under /v1/ and the
// cloud-compatible fronts on the same port.
type Server struct {
	engine *localemu.Engine
	fronts []front.Front // in the order they claim requests; the last claims every one
	cos    *cos.Front    // claims COS bucket hosts, whatever the path
	mux    *http.ServeMux
	hosts  *hostGuard
	opts   Options // with the defaults applied
}

// New wires the API fronts onto one handler.
func New(e *localemu.Engine, opts Options) *Server {
	log := e.Logger()
	opts.ReadTimeout = orDefault(opts.ReadTimeout, DefaultReadTimeout)
	opts.IdleTimeout = orDefault(opts.IdleTimeout, DefaultIdleTimeout)
	opts.WriteTimeout = orDefault(opts.WriteTimeout, DefaultWriteTimeout)
	opts.MaxConns = orDefault(opts.MaxConns, DefaultMaxConns)
	cosFront := cos.New(e, opts.Credentials, "", log)
	s := &Server{
		engine: e,
		cos:    cosFront,
		hosts:  newHostGuard(opts.AllowedHosts),
		opts:   opts,
		// COS claims its bucket hosts, S3 what is signed for s3 (both serve
		// what they claim whole: their keys are paths no mux pattern may
		// clean, and S3's path-style paths overlap every other front's),
		// AWS its versioned REST paths and X-Amz-Target requests, SCF the
		// rest of POST /, and the native API everything else.
		fronts: []front.Front{cosFront, s3.New(e, opts.Credentials, log), aws.New(e, opts.Credentials, log), scf.New(e, opts.Credentials, log), native.New(e, opts.Credentials, log)},
		mux:    http.NewServeMux(),
	}
	for _, f := range s.fronts {
		f.Register(s.mux)
	}
	// The web console (asyncfn console) for everything deployed here.
	if c, err := console.Emulator(opts.Credentials, console.Options{Logger: log}); err != nil {
		log.Error("the console is not served", "error", err)
	} else {
		s.mux.Handle("/console/", c)
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

// root hands POST / to the front that claims it, with the content type its
// API requires.
func (s *Server) root(w http.ResponseWriter, r *http.Request) {
	for _, f := range s.fronts {
		if h := f.Root(); h != nil && f.Claims(r) {
			if want := requiredMediaType(f); want != "" && mediaTypeOf(r.Header.Get("Content-Type")) != want {
				f.Refuse(w, r, front.UnsupportedMediaType, fmt.Sprintf("the request's Content-Type is %q: this API takes %s", r.Header.Get("Content-Type"), want))
				return
			}
			h.ServeHTTP(w, r)
			return
		}
	}
	s.claimant(r).Refuse(w, r, front.NotFound, "nothing is served at POST /")
}

// ServeHTTP refuses what no front may answer — a foreign Host, a
// cross-origin browser request, oversize headers — before any front reads
// the body, then routes the request; every write of the answer has the
// write timeout.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w, done := boundWrites(w, s.opts.WriteTimeout)
	defer done()
	if s.guard(w, r) {
		return
	}
	if front.HeaderBytes(r) > front.MaxHeaderBytes {
		s.claimant(r).Refuse(w, r, front.HeadersTooLarge, fmt.Sprintf("the request headers exceed %d bytes", front.MaxHeaderBytes))
		return
	}
	if h, ok := s.claimant(r).(http.Handler); ok {
		// COS and S3 serve what they claim themselves: COS is addressed by
		// Host, S3 by its signature, and their keys are paths no mux
		// pattern may clean.
		h.ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Serve answers on ln until ctx ends, then stops accepting connections and
// returns; the caller closes the engine (which drains running events).
// Connections beyond Options.MaxConns wait to be accepted.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if nl, ok := ln.(*namedListener); ok && nl.host != "" {
		s.hosts.allow(nl.host) // the name the emulator was bound to, if a name
	}
	if s.opts.MaxConns > 0 {
		ln = newLimitListener(ln, s.opts.MaxConns)
	}
	return serveHTTP(ctx, ln, s, s.opts.ReadTimeout, s.opts.IdleTimeout)
}

// serveHTTP answers on ln with h until ctx ends, then stops accepting
// connections, gives those in flight 2 s, and closes the rest (long-lived
// log streams). Reading a request is bounded by readTimeout, an idle
// keep-alive connection by idleTimeout (0: none for either).
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler, readTimeout, idleTimeout time.Duration) error {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    front.ServerMaxHeaderBytes,
	}
	if hs.ReadTimeout > 0 && hs.ReadTimeout < hs.ReadHeaderTimeout {
		hs.ReadHeaderTimeout = hs.ReadTimeout
	}
	if hs.IdleTimeout == 0 {
		hs.IdleTimeout = -1 // net/http would use ReadTimeout
	}
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
	return &namedListener{Listener: ln, host: host}, nil
}

// FunctionEnv is what the emulator at url gives its functions so that
// their own SDKs reach it as they would reach the cloud (localemu.Options.FunctionEnv):
// for AWS functions the S3 and Lambda endpoints (AWS_ENDPOINT_URL_S3,
// AWS_ENDPOINT_URL_LAMBDA: the service-specific endpoint variables every
// current AWS SDK reads) and credentials it accepts — its own when it has
// them (Lambda gives a function its execution role's in the same
// variables), else a placeholder the emulator takes. S3 is path-style:
// boto3 uses path-style for an address endpoint by itself; other SDKs need
// forcePathStyle / UsePathStyle. For Tencent functions the keys in SCF's
// variables for a function's role (TENCENTCLOUD_SECRETID, _SECRETKEY) and
// ASYNCFN_COS_PROXY, the emulator's address: COS names the bucket in the
// Host, so a function's COS client sends its requests to the emulator as
// to an HTTP proxy (see package cos, Addressing; example/cos.js).
func FunctionEnv(url string, creds *front.Credentials) map[cloud.Provider]map[string]string {
	id, key := "asyncfn-local", "asyncfn-local"
	if creds != nil {
		id, key = creds.ID, creds.Key
	}
	return map[cloud.Provider]map[string]string{
		cloud.AWS: {
			"AWS_ENDPOINT_URL_S3":     url,
			"AWS_ENDPOINT_URL_LAMBDA": url,
			"AWS_ACCESS_KEY_ID":       id,
			"AWS_SECRET_ACCESS_KEY":   key,
		},
		cloud.Tencent: {
			"ASYNCFN_COS_PROXY":      url,
			"TENCENTCLOUD_SECRETID":  id,
			"TENCENTCLOUD_SECRETKEY": key,
		},
	}
}
