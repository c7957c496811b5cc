package server

import (
	"fmt"
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
	// WriteTimeout bounds each write and flush of an answer (0: none).
	WriteTimeout time.Duration
	// Refuse answers a refused request in the handler's own shape.
	Refuse func(w http.ResponseWriter, r *http.Request, why front.Refusal, msg string)
}

// Guard gives h, a handler served on a listener of its own (asyncfn
// console), what the emulator's server does before any front reads a
// request — a Host that is not this machine's refused (DNS rebinding), a
// browser request from another origin refused, oversize headers refused —
// and a deadline on each write of the answer, so that a client that stops
// reading is dropped. Answer it with an http.Server whose ReadHeaderTimeout,
// ReadTimeout and IdleTimeout are set.
func Guard(h http.Handler, opts GuardOptions) http.Handler {
	hosts := newHostGuard(opts.AllowedHosts)
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
