package aws

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/google/uuid"

	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/front"
)

// Front serves the AWS APIs the emulator speaks — Lambda REST (2015-03-31
// and its later additions), durable executions (2025-12-01), and CloudWatch
// Logs JSON 1.1 with StartLiveTail — which share one call type and SigV4.
type Front struct {
	engine *localemu.Engine
	creds  *front.Credentials
	log    *slog.Logger
}

var _ front.Front = (*Front)(nil)

// New returns the AWS front of an engine.
func New(e *localemu.Engine, creds *front.Credentials, log *slog.Logger) *Front {
	return &Front{engine: e, creds: creds, log: log}
}

// Root serves CloudWatch Logs: POST / with X-Amz-Target.
func (s *Front) Root() http.Handler { return s.awsHandler(s.cwLogs, json11Shape, smallBody) }

// Claims the versioned REST paths and X-Amz-Target requests.
func (s *Front) Claims(r *http.Request) bool {
	return r.Header.Get("X-Amz-Target") != "" || isRESTPath(r.URL.Path)
}

// isRESTPath: Lambda's paths start with an API version such as /2015-03-31/.
func isRESTPath(p string) bool { return len(p) > 5 && p[1:3] == "20" }

// Refuse answers in the shape of the AWS API the request was meant for.
func (s *Front) Refuse(w http.ResponseWriter, r *http.Request, why front.Refusal, msg string) {
	id := uuid.NewString()
	jsonAPI := r.Header.Get("X-Amz-Target") != "" && !isRESTPath(r.URL.Path)
	switch {
	case (why == front.ForbiddenHost || why == front.CrossOrigin) && jsonAPI:
		awsJSONError(w, http.StatusForbidden, "AccessDeniedException", msg, id)
	case why == front.ForbiddenHost || why == front.CrossOrigin:
		awsRESTError(w, http.StatusForbidden, "AccessDeniedException", msg, id)
	case why == front.UnsupportedMediaType && jsonAPI:
		// What AWS's JSON APIs answer a body not sent as application/x-amz-json-1.1.
		awsJSONError(w, http.StatusBadRequest, "UnknownOperationException", msg, id)
	case why == front.HeadersTooLarge && r.Header.Get("X-Amz-Target") != "":
		awsJSONError(w, http.StatusBadRequest, "InvalidParameterException", msg, id)
	case why == front.HeadersTooLarge:
		awsRESTError(w, http.StatusBadRequest, "InvalidRequestContentException", msg, id)
	case r.Header.Get("X-Amz-Target") != "" && !isRESTPath(r.URL.Path):
		awsJSONError(w, http.StatusBadRequest, "UnknownOperationException", msg, id)
	default:
		awsRESTError(w, http.StatusNotFound, "UnknownOperationException",
			fmt.Sprintf("the emulator serves no Lambda operation %s %s (API versions: 2015-03-31, 2017-10-31, 2019-09-25, 2019-09-30, 2025-12-01)", r.Method, r.URL.Path), id)
	}
}
