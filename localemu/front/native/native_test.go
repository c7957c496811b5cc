package native

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/emutest"
	"github.com/asyncfn/asyncfn/localemu/front"
	"github.com/asyncfn/asyncfn/nativeapi"
)

// call sends one request and decodes the JSON answer into out (if not nil).
func call(t *testing.T, method, url string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: decode: %v", method, url, err)
		}
	}
	return resp.StatusCode
}

// An event's life through the native API alone: deploy, invoke, follow it
// to its end, read its log, and the errors of a wrong request.
func TestNativeAPILifecycle(t *testing.T) {
	emutest.NeedNode(t)
	e := emutest.NewEngine(t, localemu.Options{})
	url := emutest.Serve(t, New(e, nil, e.Logger()))

	zero := 0
	cfg := localemu.FunctionConfig{Name: "job", Provider: "aws", Runtime: "nodejs20.x", Handler: "index.ok", MemorySize: 128, Timeout: 10,
		Async: localemu.AsyncConfig{RetryAttempts: &zero}}
	var fn nativeapi.FunctionInfo
	if st := call(t, http.MethodPut, url+"/v1/functions/job", nativeapi.DeployRequest{Config: cfg, Zip: emutest.CodeZip(t)}, &fn); st != http.StatusCreated || fn.Version != 1 {
		t.Fatalf("deploy: %d %+v", st, fn)
	}
	var ev nativeapi.EventInfo
	if st := call(t, http.MethodPost, url+"/v1/functions/job/invocations?type=Event", map[string]int{"ms": 10}, &ev); st != http.StatusAccepted || ev.Status != "QUEUED" {
		t.Fatalf("invoke: %d %+v", st, ev)
	}
	deadline := time.Now().Add(20 * time.Second)
	for ev.Status != "SUCCEEDED" {
		if time.Now().After(deadline) {
			t.Fatalf("event never succeeded: %+v", ev)
		}
		time.Sleep(20 * time.Millisecond)
		call(t, http.MethodGet, url+"/v1/functions/job/events/"+ev.RequestID, nil, &ev)
	}
	if !strings.Contains(string(ev.Result), `"fn":"job"`) || ev.Attempts != 1 {
		t.Errorf("event = %+v", ev)
	}
	var page struct {
		Lines []nativeapi.LogLineInfo `json:"lines"`
	}
	call(t, http.MethodGet, url+"/v1/logs?requestId="+ev.RequestID, nil, &page)
	var text strings.Builder
	for _, l := range page.Lines {
		text.WriteString(l.Text + "\n")
	}
	if !strings.Contains(text.String(), "working on "+ev.RequestID) || !strings.Contains(text.String(), "REPORT RequestId: "+ev.RequestID) {
		t.Errorf("log of the event:\n%s", text.String())
	}

	var apiErr struct{ Error nativeapi.APIError }
	for _, c := range []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/v1/functions/nope", http.StatusNotFound, "FunctionNotFound"},
		{http.MethodGet, "/v1/functions/job/events/00000000-0000-0000-0000-000000000000", http.StatusNotFound, "EventNotFound"},
		{http.MethodPost, "/v1/functions/job/events/" + ev.RequestID + "/terminate", http.StatusConflict, "EventFinished"},
		{http.MethodGet, "/v1/nothing", http.StatusNotFound, "NotFound"},
	} {
		apiErr.Error = nativeapi.APIError{}
		if st := call(t, c.method, url+c.path, nil, &apiErr); st != c.status || apiErr.Error.Code != c.code {
			t.Errorf("%s %s = %d %+v, want %d %s", c.method, c.path, st, apiErr.Error, c.status, c.code)
		}
	}
}

// With credentials, every route but the health check requires them.
func TestNativeAPIRequiresCredentials(t *testing.T) {
	e := emutest.NewEngine(t, localemu.Options{})
	url := emutest.Serve(t, New(e, &front.Credentials{ID: "id", Key: "key"}, e.Logger()))
	if st := call(t, http.MethodGet, url+"/v1/health", nil, nil); st != http.StatusOK {
		t.Errorf("health = %d", st)
	}
	var apiErr struct{ Error nativeapi.APIError }
	if st := call(t, http.MethodGet, url+"/v1/functions", nil, &apiErr); st != http.StatusUnauthorized || apiErr.Error.Code != "Unauthorized" {
		t.Errorf("without credentials: %d %+v", st, apiErr)
	}
	url = strings.Replace(url, "http://", "http://id:key@", 1)
	if st := call(t, http.MethodGet, url+"/v1/functions", nil, nil); st != http.StatusOK {
		t.Errorf("with credentials: %d", st)
	}
}
