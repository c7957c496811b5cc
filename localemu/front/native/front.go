package native

import (
	"crypto/subtle"
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
		writeNativeError(w, &requestError{status: http.StatusRequestHeaderFieldsTooLarge, code: "HeadersTooLarge", msg: msg})
	case front.ForbiddenHost, front.CrossOrigin, front.UnsupportedMediaType:
		writeNativeError(w, &requestError{status: why.Status(), code: why.Code(), msg: msg}) // 403 Forbidden, 415
	default:
		writeNativeError(w, &requestError{status: http.StatusNotFound, code: "NotFound",
			msg: msg + " (native API under /v1/, SCF at POST /, Lambda under /2015-03-31/)"})
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
			writeNativeError(w, &requestError{status: http.StatusUnauthorized, code: "Unauthorized",
				msg: "the emulator requires credentials: use http://ID:KEY@host:port or ASYNCFN_CREDENTIALS=ID:KEY"})
			return
		}
		h(w, r)
	}
}

// route is one /v1/ route: its ServeMux pattern and its handler, adapted to
// HTTP by serve or, for the live log tail, the one route that streams, by
// serveStream.
type route struct {
	pattern string
	h       http.HandlerFunc
}

// routes are the /v1/ routes that require credentials (all but the health
// check); the last catches what matches none of the others.
func (s *Front) routes() []route {
	return []route{
		{"GET /v1/functions", serve(s.listFunctions)},
		{"PUT /v1/functions/{name}", serve(s.deploy)},
		{"GET /v1/functions/{name}", serve(s.getFunction)},
		{"DELETE /v1/functions/{name}", serve(s.deleteFunction)},
		{"POST /v1/functions/{name}/invocations", serve(s.invoke)},
		{"GET /v1/functions/{name}/events", serve(s.listEvents)},
		{"GET /v1/functions/{name}/events/{id}", serve(s.getEvent)},
		{"POST /v1/functions/{name}/events/{id}/terminate", serve(s.terminate)},
		{"GET /v1/functions/{name}/stats", serve(s.stats)},
		{"POST /v1/layers/{name}/versions", serve(s.publishLayer)},
		{"GET /v1/layers/{name}/versions", serve(s.listLayerVersions)},
		{"GET /v1/layers/{name}/versions/{version}", serve(s.getLayerVersion)},
		{"GET /v1/logs", serve(s.logs)},
		{"GET /v1/logs/stream", serveStream(s.logStream)},
		{"/v1/", serve(noRoute)},
	}
}

// Register adds the /v1/ routes.
func (s *Front) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/health", serve(health))
	for _, rt := range s.routes() {
		mux.HandleFunc(rt.pattern, s.authorized(rt.h))
	}
}
