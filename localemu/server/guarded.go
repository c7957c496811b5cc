package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/asyncfn/asyncfn/localemu/front"
)

// GuardOptions configure Guard.
type GuardOptions struct {
	// What names the server in refusals ("console").
	What string
	// AllowedHosts and AllowFlag: as Options.AllowedHosts, and the flag
	// that sets them, named in the refusal of another Host.
	AllowedHosts []string
	AllowFlag    string
	// ReadTimeout, IdleTimeout, WriteTimeout: as in Options (the same
	// defaults; negative: none).
	ReadTimeout, IdleTimeout, WriteTimeout time.Duration
	// Refuse answers a refused request in the handler's own shape.
	Refuse func(w http.ResponseWriter, r *http.Request, why front.Refusal, msg string)
}

// Guard gives h, a handler served on a listener of its own (asyncfn
// console), what the emulator's server does before any front reads a
// request — a Host that is not this machine's refused (DNS rebinding), a
// browser request from another origin refused, oversize headers refused —
// and a deadline on each write of the answer, so that a client that stops
// reading is dropped. ServeGuarded serves it with the rest of the
// emulator's bounds on slow and idle clients.
func Guard(h http.Handler, opts GuardOptions) http.Handler {
	hosts := newHostGuard(opts.AllowedHosts)
	opts.WriteTimeout = orDefault(opts.WriteTimeout, DefaultWriteTimeout)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w, done := boundWrites(w, opts.WriteTimeout)
		defer done()
		if why, msg, refused := hosts.check(r, opts.What, opts.AllowFlag); refused {
			opts.Refuse(w, r, why, msg)
			return
		}
		if front.HeaderBytes(r) > front.MaxHeaderBytes {
			opts.Refuse(w, r, front.HeadersTooLarge, fmt.Sprintf("the request headers exceed %d bytes", front.MaxHeaderBytes))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// ServeGuarded answers on ln with Guard(h, opts) until ctx ends, bounding
// slow and idle clients as the emulator does (opts' timeouts), then shuts
// down as Server.Serve does.
func ServeGuarded(ctx context.Context, ln net.Listener, h http.Handler, opts GuardOptions) error {
	return serveHTTP(ctx, ln, Guard(h, opts), orDefault(opts.ReadTimeout, DefaultReadTimeout), orDefault(opts.IdleTimeout, DefaultIdleTimeout))
}
