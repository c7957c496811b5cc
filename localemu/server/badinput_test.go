package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/emutest"
	"github.com/asyncfn/asyncfn/localemu/store"
	"github.com/asyncfn/asyncfn/nativeapi"
)

// Bad requests to every front are answered in the shape that front's clients
// parse, and none of them stores anything. The oversize payloads go to real
// functions (one per cloud), so what answers is the size limit itself.
func TestBadInputIsRejectedAndNothingStored(t *testing.T) {
	e := emutest.NewEngine(t, localemu.Options{})
	defer emutest.CloseEngine(t, e)
	srv := httptest.NewServer(New(e, Options{}))
	defer srv.Close()
	zero := 0
	for _, cfg := range []localemu.FunctionConfig{
		{Name: "lam", Provider: "aws", Runtime: "nodejs18.x", Handler: "index.ok", MemorySize: 128, Timeout: 30},
		{Name: "scf-fn", Provider: "tencent", Runtime: "Nodejs16.13", Handler: "index.ok", MemorySize: 128, Timeout: 30,
			Async: localemu.AsyncConfig{Enabled: true, RetryAttempts: &zero}},
	} {
		if _, err := e.Deploy(context.Background(), cfg, emutest.CodeZip(t)); err != nil {
			t.Fatal(err)
		}
	}

	payload := func(n int) string { return `{"x":"` + strings.Repeat("a", n) + `"}` }
	huge := payload(7 << 20)                                    // over the 6 MB synchronous limit of both clouds
	overLambdaAsync := payload(nativeapi.MaxLambdaAsyncPayload) // over Lambda's 1 MB asynchronous limit
	overSCFAsync := payload(nativeapi.MaxSCFAsyncPayload)       // over SCF's 128 KB asynchronous limit
	bigHeader := strings.Repeat("h", 100<<10)
	withHeader := func(r *http.Request, k, v string) *http.Request { r.Header.Set(k, v); return r }
	scf := func(action, version, body string) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if action != "" {
			r.Header.Set("X-TC-Action", action)
		}
		if version != "" {
			r.Header.Set("X-TC-Version", version)
		}
		return r
	}
	req := func(method, path, body string, header ...string) *http.Request {
		r, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		return r
	}
	// code is the SCF Error.Code, the x-amzn-ErrorType, or the native error code.
	type badCase = struct {
		name   string
		req    *http.Request
		status int
		code   string
	}
	cases := []badCase{
		{"SCF invalid JSON", scf("CreateFunction", "2018-04-16", "{bad"), 200, "InvalidParameter"},
		{"SCF unknown action", scf("Transmogrify", "2018-04-16", "{}"), 200, "InvalidAction"},
		{"SCF unknown version", scf("ListFunctions", "2099-01-01", "{}"), 200, "NoSuchVersion"},
		{"SCF missing action", scf("", "2018-04-16", "{}"), 200, "MissingParameter"},
		{"SCF oversize sync invoke", scf("Invoke", "2018-04-16", `{"FunctionName":"scf-fn","ClientContext":`+mustJSON(huge)+`}`), 200, "InvalidParameter.RequestTooLarge"},
		{"SCF oversize async invoke", scf("Invoke", "2018-04-16", `{"FunctionName":"scf-fn","InvocationType":"Event","ClientContext":`+mustJSON(overSCFAsync)+`}`), 200, "InvalidParameter.RequestTooLarge"},
		{"Lambda invalid JSON", req("POST", "/2015-03-31/functions", "{bad"), 400, "InvalidRequestContentException"},
		{"Lambda unknown API version", req("GET", "/2099-01-01/functions/", ""), 404, "UnknownOperationException"},
		// The size is checked as the body is read, before the function is looked up.
		{"Lambda huge invoke of an unknown function", req("POST", "/2015-03-31/functions/nope/invocations", huge), 413, "RequestTooLargeException"},
		// Invoke's documented error for a payload over the limit (the SDKs decode it as RequestTooLargeException).
		{"Lambda oversize sync invoke", req("POST", "/2015-03-31/functions/lam/invocations", huge), 413, "RequestTooLargeException"},
		{"Lambda oversize async invoke", req("POST", "/2015-03-31/functions/lam/invocations", overLambdaAsync, "X-Amz-Invocation-Type", "Event"), 413, "RequestTooLargeException"},
		{"Lambda create without code", req("POST", "/2015-03-31/functions", `{"FunctionName":"f","Role":"arn:aws:iam::1:role/r","Runtime":"nodejs18.x","Handler":"i.h"}`), 400, "InvalidParameterValueException"},
		{"Logs unknown operation", req("POST", "/", "{}", "X-Amz-Target", "Logs_20140328.Transmogrify", "Content-Type", "application/x-amz-json-1.1"), 400, "UnknownOperationException"},
		{"native invalid JSON", req("PUT", "/v1/functions/f", "{bad"), 400, "InvalidRequest"},
		{"native unknown route", req("GET", "/v1/nope", ""), 404, "NotFound"},
		{"native bad status filter", req("GET", "/v1/functions/f/events?status=DONE", ""), 400, "InvalidParameter"},
		{"native invoke unknown function", req("POST", "/v1/functions/nope/invocations?type=Event", "{}"), 404, "FunctionNotFound"},
		{"native oversize sync payload", req("POST", "/v1/functions/lam/invocations", huge), 413, "PayloadTooLarge"},
		{"native oversize async payload, SCF's limit", req("POST", "/v1/functions/scf-fn/invocations?type=Event", overSCFAsync), 413, "PayloadTooLarge"},
		{"native oversize async payload, Lambda's limit", req("POST", "/v1/functions/lam/invocations?type=Event", overLambdaAsync), 413, "PayloadTooLarge"},
		{"SCF oversize headers", withHeader(scf("ListFunctions", "2018-04-16", "{}"), "X-Padding", bigHeader), 200, "InvalidParameter"},
		{"Lambda oversize headers", req("GET", "/2015-03-31/functions/", "", "X-Padding", bigHeader), 400, "InvalidRequestContentException"},
		{"Logs oversize headers", req("POST", "/", "{}", "X-Amz-Target", "Logs_20140328.DescribeLogGroups", "X-Padding", bigHeader), 400, "InvalidParameterException"},
		{"native oversize headers", req("GET", "/v1/functions", "", "X-Padding", bigHeader), 431, "HeadersTooLarge"},
	}
	// Names the clouds refuse are refused on every front, whatever the route.
	zipB64 := base64.StdEncoding.EncodeToString(emutest.CodeZip(t))
	for _, name := range []string{"../../x", "a/b", "x\x00y", strings.Repeat("n", 5000), "a.b"} {
		nativeBody, _ := json.Marshal(nativeapi.DeployRequest{Config: localemu.FunctionConfig{Name: name, Runtime: "nodejs20.x", Handler: "index.ok"}, Zip: emutest.CodeZip(t)})
		lambdaBody, _ := json.Marshal(map[string]any{"FunctionName": name, "Role": "arn:aws:iam::1:role/r", "Runtime": "nodejs20.x", "Handler": "index.ok", "Code": map[string]string{"ZipFile": zipB64}})
		scfBody, _ := json.Marshal(map[string]any{"FunctionName": name, "Runtime": "Nodejs16.13", "Handler": "index.ok", "Code": map[string]string{"ZipFile": zipB64}})
		short := fmt.Sprintf("%.12q", name)
		cases = append(cases,
			badCase{"native name " + short, req("PUT", "/v1/functions/"+url.PathEscape(name), string(nativeBody)), 400, "InvalidParameter"},
			badCase{"Lambda name " + short, req("POST", "/2015-03-31/functions", string(lambdaBody)), 400, "InvalidParameterValueException"},
			badCase{"SCF name " + short, scf("CreateFunction", "2018-04-16", string(scfBody)), 200, "InvalidParameterValue.FunctionName"},
		)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(c.req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("answer is not JSON: %v", err)
			}
			if resp.StatusCode != c.status {
				t.Errorf("HTTP %d, want %d (%v)", resp.StatusCode, c.status, body)
			}
			got := resp.Header.Get("X-Amzn-ErrorType")
			if r, ok := body["Response"].(map[string]any); ok {
				e, _ := r["Error"].(map[string]any)
				got, _ = e["Code"].(string)
				if _, ok := r["RequestId"].(string); !ok {
					t.Error("SCF error without a RequestId")
				}
			} else if e, ok := body["error"].(map[string]any); ok {
				got, _ = e["code"].(string)
			}
			if got != c.code {
				t.Errorf("code %q, want %q (%v)", got, c.code, body)
			}
		})
	}
	fns, err := e.Functions(context.Background())
	if err != nil || len(fns) != 2 {
		t.Errorf("functions stored after bad requests: %d, want the 2 deployed (%v)", len(fns), err)
	}
	evs, total, err := e.Events(context.Background(), store.EventQuery{})
	if err != nil || total != 0 || len(evs) != 0 {
		t.Errorf("events stored after bad requests: %d (%v)", total, err)
	}
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// FuzzLambdaRequest feeds arbitrary bodies and paths to the Lambda front: it
// must answer every one without panicking, and never with a 5xx.
func FuzzLambdaRequest(f *testing.F) {
	f.Add("POST", "/2015-03-31/functions", []byte(`{"FunctionName":"f","Role":"arn:aws:iam::1:role/r","Runtime":"nodejs18.x","Handler":"i.h","Code":{"ZipFile":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}}`))
	f.Add("POST", "/2015-03-31/functions/f/invocations", []byte(`{"a":1}`))
	f.Add("PUT", "/2015-03-31/functions/f/configuration", []byte(`{"Timeout":-1,"MemorySize":1e99}`))
	f.Add("PUT", "/2019-09-25/functions/f/event-invoke-config", []byte(`{"MaximumRetryAttempts":7}`))
	f.Add("GET", "/2025-12-01/functions/f/durable-executions?Statuses=RUNNING&MaxItems=-3", []byte(nil))
	f.Add("POST", "/2025-12-01/durable-executions/arn%3Aaws%3Alambda/stop", []byte(`{}`))
	f.Add("POST", "/", []byte(`{"logGroupName":"/aws/lambda/f","filterPattern":"\"x"}`))
	f.Add("GET", "/2015-03-31/functions?Marker=-1&MaxItems=0", []byte(nil))
	f.Add("GET", "/2015-03-31/functions?Marker=99999999999999999999", []byte(nil))
	e := emutest.NewEngine(f, localemu.Options{})
	defer emutest.CloseEngine(f, e)
	h := New(e, Options{})
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n") {
			return
		}
		switch method {
		case "GET", "POST", "PUT", "DELETE":
		default:
			return
		}
		r, err := http.NewRequest(method, "http://127.0.0.1"+path, bytes.NewReader(body))
		if err != nil {
			return
		}
		if path == "/" {
			r.Header.Set("X-Amz-Target", "Logs_20140328.FilterLogEvents")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r.WithContext(ctx))
		if w.Code >= 500 && w.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s -> %d %s", method, path, w.Code, w.Body.String())
		}
	})
}
