package scf

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/front"
)

// Front serves Tencent Cloud SCF's API 3.0 (version 2018-04-16) at POST /,
// with TC3-HMAC-SHA256 signatures checked when credentials are set.
type Front struct {
	engine *localemu.Engine
	creds  *front.Credentials
	log    *slog.Logger
	// syncWait is how long a RequestResponse Invoke waits for its result:
	// syncInvokeLimit, shorter in tests.
	syncWait time.Duration
}

var _ front.Front = (*Front)(nil)

// New returns the SCF front of an engine.
func New(e *localemu.Engine, creds *front.Credentials, log *slog.Logger) *Front {
	return &Front{engine: e, creds: creds, log: log, syncWait: syncInvokeLimit}
}

// Register: SCF's one path is POST /, served through Root.
func (s *Front) Register(mux *http.ServeMux) {}

// Root serves SCF's API actions.
func (s *Front) Root() http.Handler { return http.HandlerFunc(s.serve) }

// Claims a POST to the root path.
func (s *Front) Claims(r *http.Request) bool { return r.Method == http.MethodPost && r.URL.Path == "/" }

// Refuse answers in SCF's shape: HTTP 200 with Response.Error.
func (s *Front) Refuse(w http.ResponseWriter, r *http.Request, why front.Refusal, msg string) {
	code := "InvalidParameter" // also for UnsupportedMediaType: API 3.0 takes application/json
	switch why {
	case front.NotFound:
		code = "InvalidAction"
	case front.ForbiddenHost, front.CrossOrigin:
		code = "AuthFailure.UnauthorizedOperation"
	}
	writeResponse(w, map[string]any{"Error": map[string]string{"Code": code, "Message": msg}, "RequestId": uuid.NewString()})
}
