package native

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/front"
)

// Front serves the native API under /v1/.
type Front struct {
	engine *localemu.Engine
	creds  *front.Credentials
	log    *slog.Logger
}

var _ front.Front = (*Front)(nil)

// New returns the native front of an engine. With credentials set, every
// route but /v1/health requires them as HTTP Basic authentication.
func New(e *localemu.Engine, creds *front.Credentials, log *slog.Logger) *Front {
	return &Front{engine: e, creds: creds, log: log}
}

// Root: the native API has nothing at POST /.
func (s *Front) Root() http.Handler { return nil }

// Claims every request: the native API is the emulator's own shape, the
// answer to anything no cloud front claims.
func (s *Front) Claims(r *http.Request) bool { return true }

// Refuse answers in the native error shape.
func (s *Front) Refuse(w http.ResponseWriter, r *http.Request, why front.Refusal, msg string) {
	switch why {
	case front.HeadersTooLarge:
		writeNativeError(w, http.StatusRequestHeaderFieldsTooLarge, "HeadersTooLarge", msg)
	default:
		writeNativeError(w, http.StatusNotFound, "NotFound", msg+" (native API under /v1/, SCF at POST /, Lambda under /2015-03-31/)")
	}
}

// authorized wraps a handler with the credential check: the native API runs
// code on request, so with credentials set it takes the same pair as HTTP
// Basic authentication (http://ID:KEY@host/).
func (s *Front) authorized(h http.HandlerFunc) http.HandlerFunc {
	if s.creds == nil {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		id, key, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(id), []byte(s.creds.ID)) != 1 ||
			subtle.ConstantTimeCompare([]byte(key), []byte(s.creds.Key)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="asyncfn"`)
			writeNativeError(w, http.StatusUnauthorized, "Unauthorized", "the emulator requires credentials: use http://ID:KEY@host:port or ASYNCFN_CREDENTIALS=ID:KEY")
			return
		}
		h(w, r)
	}
}

// Register adds the /v1/ routes.
func (s *Front) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/health", func(w http.ResponseWriter, r *http.Request) {
		front.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	routes := []struct {
		pattern string
		h       http.HandlerFunc
	}{
		{"GET /v1/functions", s.listFunctions},
		{"PUT /v1/functions/{name}", s.deploy},
		{"GET /v1/functions/{name}", s.getFunction},
		{"DELETE /v1/functions/{name}", s.deleteFunction},
		{"POST /v1/functions/{name}/invocations", s.invoke},
		{"GET /v1/functions/{name}/events", s.listEvents},
		{"GET /v1/functions/{name}/events/{id}", s.getEvent},
		{"POST /v1/functions/{name}/events/{id}/terminate", s.terminate},
		{"GET /v1/functions/{name}/stats", s.stats},
		{"GET /v1/logs", s.logs},
		{"GET /v1/logs/stream", s.logStream},
		{"/v1/", func(w http.ResponseWriter, r *http.Request) {
			writeNativeError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("no native API route for %s %s", r.Method, r.URL.Path))
		}},
	}
	for _, rt := range routes {
		mux.HandleFunc(rt.pattern, s.authorized(rt.h))
	}
}
