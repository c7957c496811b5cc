// Package front holds what the emulator's wire protocols share — the one
// credential pair they check, JSON answers, the bound on request headers —
// and the interface by which package server composes them on one port. Each
// protocol is a package of its own below this one: native (the emulator's
// /v1/ API), scf (Tencent SCF API 3.0 with TC3 signatures) and aws (Lambda,
// durable executions, CloudWatch Logs and its live tail, with SigV4). A front
// reaches the engine only through package localemu's exported API.
package front

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Front is one wire protocol served on the emulator's port.
type Front interface {
	// Register adds the front's routes below its own paths.
	Register(mux *http.ServeMux)
	// Root is the handler for the requests to POST / that the front
	// claims (SCF and the JSON 1.1 AWS APIs share that path), or nil.
	Root() http.Handler
	// Claims reports whether a request is addressed to this front, so that
	// what is refused before routing reaches its client in the shape it parses.
	Claims(r *http.Request) bool
	// Refuse answers a claimed request that was refused before routing.
	Refuse(w http.ResponseWriter, r *http.Request, why Refusal, msg string)
}

// Refusal is why a request was refused before it reached a front's handler.
// A front's Refuse answers each in the shape its clients parse; Status and
// Code are the default for a front with no shape of its own for one.
type Refusal int

const (
	// HeadersTooLarge: the headers exceed MaxHeaderBytes.
	HeadersTooLarge Refusal = iota
	// NotFound: no route of the front matches.
	NotFound
	// ForbiddenHost: the Host header names neither a loopback name or
	// address, nor the address the emulator is bound to, nor a host it was
	// told to allow — a DNS-rebinding attempt, or a proxy to allow.
	ForbiddenHost
	// CrossOrigin: a browser sent the request from another origin (an
	// Origin header that is not the emulator's own, or Sec-Fetch-Site
	// cross-site or same-site). No CORS is granted to another origin.
	CrossOrigin
	// UnsupportedMediaType: the Content-Type is not the one the API
	// requires (SCF API 3.0: application/json; CloudWatch Logs:
	// application/x-amz-json-1.1).
	UnsupportedMediaType
)

// String names the refusal as Code does.
func (why Refusal) String() string { return why.Code() }

// Status is the default HTTP status of a refusal.
func (why Refusal) Status() int {
	switch why {
	case HeadersTooLarge:
		return http.StatusRequestHeaderFieldsTooLarge
	case NotFound:
		return http.StatusNotFound
	case ForbiddenHost, CrossOrigin:
		return http.StatusForbidden
	case UnsupportedMediaType:
		return http.StatusUnsupportedMediaType
	}
	return http.StatusBadRequest
}

// Code is the default error code of a refusal.
func (why Refusal) Code() string {
	switch why {
	case HeadersTooLarge:
		return "HeadersTooLarge"
	case NotFound:
		return "NotFound"
	case ForbiddenHost, CrossOrigin:
		return "Forbidden"
	case UnsupportedMediaType:
		return "UnsupportedMediaType"
	}
	return fmt.Sprintf("Refusal(%d)", int(why))
}

// Credentials are the one key pair the fronts accept. With none set, any
// well-formed request is accepted (the emulator listens on loopback).
type Credentials struct {
	ID  string // SecretId / access key id
	Key string // SecretKey / secret access key
}

// ParseCredentials reads "ID:KEY".
func ParseCredentials(s string) (*Credentials, error) {
	id, key, ok := strings.Cut(s, ":")
	if !ok || id == "" || key == "" {
		return nil, fmt.Errorf("credentials %q: use ID:KEY", s)
	}
	return &Credentials{ID: id, Key: key}, nil
}

// MaxHeaderBytes bounds a request's headers. The HTTP server reads up to
// ServerMaxHeaderBytes of them so that an oversize request still reaches the
// fronts and is answered in the shape its client parses, not with a bare 431.
const (
	MaxHeaderBytes       = 64 << 10
	ServerMaxHeaderBytes = 1 << 20
)

// HeaderBytes is the size of a request's request line and headers.
func HeaderBytes(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// WriteJSON answers with v as JSON (HTML characters unescaped, as the
// clouds send them).
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
