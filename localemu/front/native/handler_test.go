package native

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/emutest"
	"github.com/asyncfn/asyncfn/localemu/front"
)

// nativeError sends one request and reads its answer, which must be in the
// native error shape and nothing else: {"error":{"code","message"}}.
func nativeError(t *testing.T, method, url, body string, header http.Header) (status int, code string, resp *http.Response) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, url, ct)
	}
	var shape struct {
		Error *struct {
			Code    *string `json:"code"`
			Message *string `json:"message"`
		} `json:"error"`
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&shape); err != nil || shape.Error == nil || shape.Error.Code == nil || shape.Error.Message == nil || *shape.Error.Message == "" {
		t.Errorf("%s %s: %d %s is not a native error (%v)", method, url, resp.StatusCode, b, err)
		return resp.StatusCode, "", resp
	}
	return resp.StatusCode, *shape.Error.Code, resp
}

// Every route answers a malformed request — a bad query parameter or header,
// a bad JSON body, a function or event that does not exist — in the native
// error shape with the status of its code; and, with credentials set, a
// request without them with 401 and a Basic challenge.
func TestEveryRouteAnswersMalformedRequestsInTheNativeShape(t *testing.T) {
	e := emutest.NewEngine(t, localemu.Options{})
	f := New(e, nil, e.Logger())
	url := emutest.Serve(t, f)

	const (
		invalid  = "InvalidParameter"
		request  = "InvalidRequest"
		noFn     = "FunctionNotFound"
		noEvent  = "EventNotFound"
		notFound = "NotFound"
	)
	cases := []struct {
		route, name  string
		method, path string
		body, header string // header: "Name: value"
		status       int
		code         string
	}{
		{"PUT /v1/functions/{name}", "bad JSON body", "PUT", "/v1/functions/x", `{bad`, "", 400, request},
		{"PUT /v1/functions/{name}", "body not an object", "PUT", "/v1/functions/x", `[1]`, "", 400, request},
		{"PUT /v1/functions/{name}", "name unlike the URL's", "PUT", "/v1/functions/x", `{"config":{"name":"y"}}`, "", 400, invalid},
		{"PUT /v1/functions/{name}", "invalid config", "PUT", "/v1/functions/x", `{"config":{}}`, "", 400, invalid},
		{"GET /v1/functions/{name}", "unknown function", "GET", "/v1/functions/x", "", "", 404, noFn},
		{"DELETE /v1/functions/{name}", "unknown function", "DELETE", "/v1/functions/x", "", "", 404, noFn},
		{"POST /v1/functions/{name}/invocations", "bad type", "POST", "/v1/functions/x/invocations?type=bogus", "{}", "", 400, invalid},
		{"POST /v1/functions/{name}/invocations", "unknown function", "POST", "/v1/functions/x/invocations", "{}", "", 404, noFn},
		{"POST /v1/functions/{name}/invocations", "unknown function, async", "POST", "/v1/functions/x/invocations?type=Event", "{}", "", 404, noFn},
		{"GET /v1/functions/{name}/events", "bad status", "GET", "/v1/functions/x/events?status=NOPE", "", "", 400, invalid},
		{"GET /v1/functions/{name}/events", "bad time", "GET", "/v1/functions/x/events?endedBefore=yesterday", "", "", 400, invalid},
		{"GET /v1/functions/{name}/events", "negative limit", "GET", "/v1/functions/x/events?limit=-1", "", "", 400, invalid},
		{"GET /v1/functions/{name}/events", "bad order", "GET", "/v1/functions/x/events?order=up", "", "", 400, invalid},
		{"GET /v1/functions/{name}/events/{id}", "unknown event", "GET", "/v1/functions/x/events/abc", "", "", 404, noEvent},
		{"POST /v1/functions/{name}/events/{id}/terminate", "bad grace", "POST", "/v1/functions/x/events/abc/terminate?grace=soon", "", "", 400, invalid},
		{"POST /v1/functions/{name}/events/{id}/terminate", "negative grace", "POST", "/v1/functions/x/events/abc/terminate?grace=-1s", "", "", 400, invalid},
		{"POST /v1/functions/{name}/events/{id}/terminate", "unknown event", "POST", "/v1/functions/x/events/abc/terminate", "", "", 404, noEvent},
		{"GET /v1/functions/{name}/stats", "bad status", "GET", "/v1/functions/x/stats?status=NOPE", "", "", 400, invalid},
		{"GET /v1/functions/{name}/stats", "bad offset", "GET", "/v1/functions/x/stats?offset=x", "", "", 400, invalid},
		{"GET /v1/logs", "bad since", "GET", "/v1/logs?since=x", "", "", 400, invalid},
		{"GET /v1/logs", "bad cursor", "GET", "/v1/logs?after=x", "", "", 400, invalid},
		{"GET /v1/logs", "bad Last-Event-ID", "GET", "/v1/logs", "", "Last-Event-ID: x", 400, invalid},
		{"GET /v1/logs", "zero limit", "GET", "/v1/logs?limit=0", "", "", 400, invalid},
		{"GET /v1/logs/stream", "bad since", "GET", "/v1/logs/stream?since=x", "", "", 400, invalid},
		{"GET /v1/logs/stream", "bad cursor", "GET", "/v1/logs/stream?after=x", "", "", 400, invalid},
		{"GET /v1/logs/stream", "bad Last-Event-ID", "GET", "/v1/logs/stream?from=now", "", "Last-Event-ID: x", 400, invalid},
		{"POST /v1/layers/{name}/versions", "bad JSON body", "POST", "/v1/layers/l/versions", `{bad`, "", 400, request},
		{"POST /v1/layers/{name}/versions", "no code", "POST", "/v1/layers/l/versions", `{}`, "", 400, invalid},
		{"POST /v1/layers/{name}/versions", "bad name", "POST", "/v1/layers/a.b/versions", `{"zip":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}`, "", 400, invalid},
		{"POST /v1/layers/{name}/versions", "zip and object", "POST", "/v1/layers/l/versions", `{"zip":"UEs=","codeObject":{"bucket":"b","key":"k"}}`, "", 400, invalid},
		{"POST /v1/layers/{name}/versions", "missing object", "POST", "/v1/layers/l/versions", `{"codeObject":{"bucket":"nob","key":"k"}}`, "", 404, notFound},
		{"GET /v1/layers/{name}/versions/{version}", "bad version", "GET", "/v1/layers/l/versions/x", "", "", 400, invalid},
		{"GET /v1/layers/{name}/versions/{version}", "unknown version", "GET", "/v1/layers/l/versions/3", "", "", 404, notFound},
		{"/v1/", "no such route", "GET", "/v1/nothing", "", "", 404, notFound},
		{"/v1/", "no such method", "PATCH", "/v1/functions/x", "", "", 404, notFound},
	}
	// Routes with nothing a client can get wrong but the credentials.
	noInput := map[string]bool{"GET /v1/functions": true, "GET /v1/layers/{name}/versions": true}

	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.route] = true
		t.Run(c.route+"/"+c.name, func(t *testing.T) {
			h := http.Header{}
			if k, v, ok := strings.Cut(c.header, ": "); ok {
				h.Set(k, v)
			}
			if status, code, _ := nativeError(t, c.method, url+c.path, c.body, h); status != c.status || code != c.code {
				t.Errorf("%s %s = %d %s, want %d %s", c.method, c.path, status, code, c.status, c.code)
			}
			if status, _ := wireErrorOf(c.code); status != 0 && status != c.status {
				t.Errorf("code %s is answered %d elsewhere, here %d", c.code, status, c.status)
			}
		})
	}
	for _, rt := range f.routes() {
		if !covered[rt.pattern] && !noInput[rt.pattern] {
			t.Errorf("route %s has no malformed request in the table", rt.pattern)
		}
	}

	// Every route but the health check, without the credentials it requires.
	curl := emutest.Serve(t, New(e, &front.Credentials{ID: "id", Key: "key"}, e.Logger()))
	for _, rt := range f.routes() {
		method, path, ok := strings.Cut(rt.pattern, " ")
		if !ok {
			method, path = http.MethodGet, rt.pattern+"nothing"
		}
		path = strings.NewReplacer("{name}", "x", "{id}", "abc").Replace(path)
		status, code, resp := nativeError(t, method, curl+path, "", nil)
		if status != http.StatusUnauthorized || code != "Unauthorized" || resp.Header.Get("WWW-Authenticate") != `Basic realm="asyncfn"` {
			t.Errorf("%s %s without credentials = %d %s, WWW-Authenticate %q", method, path, status, code, resp.Header.Get("WWW-Authenticate"))
		}
	}
}

// wireErrorOf is the status wireError gives a code, or 0 if no kind has it.
func wireErrorOf(code string) (int, localemu.Kind) {
	for _, k := range localemu.Kinds() {
		if status, c := wireError(k); c == code {
			return status, k
		}
	}
	return 0, 0
}
