package tencent

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/spec"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadCredential(t *testing.T) {
	home := t.TempDir()
	svcDir := t.TempDir()
	file := "[default]\ntencent_appid = 1250000000\ntencent_secret_id = AKIDfile\ntencent_secret_key = keyfile\n\n[other]\ntencent_secret_id = no\n"
	if err := os.WriteFile(filepath.Join(home, "credentials"), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(svcDir, "creds.ini"), []byte("tencent_secret_id=AKIDrel\ntencent_secret_key=\"k\"\ntencent_token=tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	svc := func(creds string) *spec.Service {
		return &spec.Service{Dir: svcDir, Provider: spec.Provider{Name: "tencent", Credentials: creds}}
	}
	c, err := loadCredential(svc("~/credentials"), envOf(map[string]string{"HOME": home, envSecretID: "AKIDenv", envSecretKey: "keyenv", envSessionToken: "t"}), false)
	if err != nil || c.SecretId != "AKIDenv" || c.SecretKey != "keyenv" || c.Token != "t" {
		t.Errorf("environment first: %+v, %v", c, err)
	}
	c, err = loadCredential(svc("~/credentials"), envOf(map[string]string{"HOME": home}), false)
	if err != nil || c.SecretId != "AKIDfile" || c.SecretKey != "keyfile" {
		t.Errorf("file with ~: %+v, %v", c, err)
	}
	c, err = loadCredential(svc("creds.ini"), envOf(nil), false)
	if err != nil || c.SecretId != "AKIDrel" || c.SecretKey != "k" || c.Token != "tok" {
		t.Errorf("relative file without sections: %+v, %v", c, err)
	}
	if _, err := loadCredential(svc("missing.ini"), envOf(nil), true); err == nil || !strings.Contains(err.Error(), "provider.credentials") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := loadCredential(svc(""), envOf(map[string]string{envSecretID: "only-id"}), false); err == nil {
		t.Error("only a SecretId was accepted")
	}
	_, err = loadCredential(svc(""), envOf(nil), false)
	if err == nil || !strings.Contains(err.Error(), envSecretID) || !strings.Contains(err.Error(), "provider.credentials") {
		t.Errorf("no credentials must name both ways: %v", err)
	}
	c, err = loadCredential(svc(""), envOf(nil), true)
	if err != nil || c.SecretId != placeholderID {
		t.Errorf("loopback emulator without credentials: %+v, %v", c, err)
	}
}

func TestParseEndpoint(t *testing.T) {
	for _, c := range []struct{ in, host, scheme string }{
		{"http://127.0.0.1:9770", "127.0.0.1:9770", "HTTP"},
		{"http://localhost:9770/", "localhost:9770", "HTTP"},
		{"127.0.0.1:9770", "127.0.0.1:9770", "HTTP"},
		{"https://scf.internal.example:8443", "scf.internal.example:8443", "HTTPS"},
		{"scf.ap-guangzhou.tencentcloudapi.com", "scf.ap-guangzhou.tencentcloudapi.com", "HTTPS"},
	} {
		host, scheme, err := parseEndpoint(c.in)
		if err != nil || host != c.host || scheme != c.scheme {
			t.Errorf("%s: %s %s %v", c.in, host, scheme, err)
		}
	}
	for _, bad := range []string{"ftp://x", "http://x/path", "http://"} {
		if _, _, err := parseEndpoint(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	svc := &spec.Service{Provider: spec.Provider{Name: "tencent"}}
	if _, err := New(svc, Options{Endpoint: "http://10.0.0.8:9770", Getenv: envOf(map[string]string{envSecretID: "a", envSecretKey: "b"})}); err == nil {
		t.Error("plain HTTP to a remote host was accepted")
	}
}

func TestStatusMapping(t *testing.T) {
	for scfStatus, want := range map[string]event.Status{"RUNNING": event.Running, "FINISHED": event.Succeeded, "FAILED": event.Failed, "ABORTED": event.Terminated} {
		if got := statusOf(scfStatus); got != want {
			t.Errorf("%s -> %s, want %s", scfStatus, got, want)
		}
	}
	got := scfStatuses([]event.Status{event.Queued, event.Running, event.TimedOut, event.Failed})
	if len(got) != 2 || *got[0] != "RUNNING" || *got[1] != "FAILED" {
		t.Errorf("filter mapping: %v", got)
	}
}

func TestAPIErrorKeepsCodeAndRequestID(t *testing.T) {
	p := &Provider{profile: nil}
	err := p.apiError(context.Background(), "GetFunction", tcerr.NewTencentCloudSDKError("ResourceNotFound.Function", "no such function", "req-1"))
	var ae *adapters.APIError
	if !errors.As(err, &ae) || ae.Code != "ResourceNotFound.Function" || ae.RequestID != "req-1" || !errors.Is(err, adapters.ErrNotFound) {
		t.Errorf("mapped to %#v", err)
	}
	err = p.apiError(context.Background(), "Invoke", tcerr.NewTencentCloudSDKError("InvalidParameter.RequestTooLarge", "too big", "req-2"))
	if !errors.As(err, &ae) || errors.Is(err, adapters.ErrNotFound) {
		t.Errorf("mapped to %#v", err)
	}
}

// fakeLogs is an SCF endpoint that answers GetFunctionLogs from a script
// that the test advances between polls.
type fakeLogs struct {
	mu      sync.Mutex
	entries []map[string]any
	calls   int
}

func (f *fakeLogs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if r.Header.Get("X-TC-Action") != "GetFunctionLogs" {
		json.NewEncoder(w).Encode(map[string]any{"Response": map[string]any{"Error": map[string]string{"Code": "InvalidAction", "Message": "x"}, "RequestId": "r"}})
		return
	}
	var req struct {
		Offset, Limit int
	}
	body, _ := io.ReadAll(r.Body)
	json.Unmarshal(body, &req)
	data := f.entries
	if req.Offset < len(data) {
		data = data[req.Offset:]
	} else {
		data = nil
	}
	if len(data) > req.Limit {
		data = data[:req.Limit]
	}
	json.NewEncoder(w).Encode(map[string]any{"Response": map[string]any{"Data": data, "TotalCount": len(f.entries), "RequestId": "r"}})
}

func (f *fakeLogs) set(entries ...map[string]any) {
	f.mu.Lock()
	f.entries = entries
	f.mu.Unlock()
}

func entry(id string, retry int, start time.Time, finished bool, log string) map[string]any {
	fin, code := 0, 2 // running (SCF API, FunctionLog.RetCode)
	if finished {
		fin, code = 1, 0
	}
	return map[string]any{"RequestId": id, "RetryNum": retry, "StartTime": start.In(scfZone()).Format("2006-01-02 15:04:05.000"),
		"InvokeFinished": fin, "RetCode": code, "Log": log, "FunctionName": "f"}
}

// TestTailNoDuplicatesNoGaps follows growing log entries across polls: lines
// being written are held back, finished entries are not re-emitted, a retry
// (same RequestId, next RetryNum) is a new entry.
func TestTailNoDuplicatesNoGaps(t *testing.T) {
	fake := &fakeLogs{}
	ts := httptest.NewServer(fake)
	defer ts.Close()
	p, err := New(&spec.Service{Provider: spec.Provider{Name: "tencent"}}, Options{Endpoint: ts.URL, PollInterval: 10 * time.Millisecond, Getenv: envOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := p.Logs(ctx, adapters.LogQuery{Function: "f", Tail: true})
	if err != nil {
		t.Fatal(err)
	}
	steps := [][]map[string]any{
		{entry("a", 0, now, false, "a1\na2 part")},
		{entry("a", 0, now, false, "a1\na2 partial done\na3\n"), entry("b", 0, now.Add(time.Millisecond), true, "b1\nb2\n")},
		{entry("a", 0, now, true, "a1\na2 partial done\na3\na4 end"), entry("b", 0, now.Add(time.Millisecond), true, "b1\nb2\n"),
			entry("a", 1, now.Add(2*time.Millisecond), true, "retry1\n")},
	}
	want := []string{"a1", "a2 partial done", "a3", "b1", "b2", "a4 end", "retry1"}
	var got []string
	fake.set(steps[0]...)
	step := 0
	for len(got) < len(want) {
		nctx, ncancel := context.WithTimeout(ctx, 200*time.Millisecond)
		l, err := st.Next(nctx)
		ncancel()
		if err != nil {
			if step++; step >= len(steps) {
				t.Fatalf("stream stalled after %q: %v", got, err)
			}
			fake.set(steps[step]...)
			continue
		}
		got = append(got, l.Text)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines %q, want %q", got, want)
	}
	// Nothing more comes after everything finished.
	nctx, ncancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer ncancel()
	if l, err := st.Next(nctx); err == nil {
		t.Errorf("extra line %q", l.Text)
	}
}

// SCF takes a TimeInterval only with both bounds: a one-sided query gets the
// other side filled in.
func TestListRequestSendsBothBounds(t *testing.T) {
	since := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	for _, q := range []adapters.EventQuery{{Since: since}, {Until: since}, {Since: since, Until: since.Add(time.Hour)}} {
		iv := listRequest("fn", q).StartTimeInterval
		if iv == nil || iv.Start == nil || iv.End == nil || *iv.Start == "" || *iv.End == "" {
			t.Errorf("%+v: interval %+v", q, iv)
		}
	}
	if iv := listRequest("fn", adapters.EventQuery{}).StartTimeInterval; iv != nil {
		t.Errorf("no bounds: interval %+v, want none", iv)
	}
}

// The end of an execution, as GetFunctionLogs documents its codes: RetCode 2
// is running, 3 interrupted, other non-zero values failures; InvokeFinished 1
// is ended, anything else an invocation exception (SCF API, FunctionLog).
func TestExecutionEndFromRetCodeAndInvokeFinished(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	for _, c := range []struct {
		invokeFinished, retCode *int64
		over                    bool
	}{
		{n(1), n(0), true},   // succeeded
		{n(1), n(433), true}, // failed (timeout)
		{n(1), n(3), true},   // interrupted
		{n(0), n(2), false},  // running
		{nil, n(2), false},   // running
		{n(0), n(3), true},   // interrupted, reported as an invocation exception
		{n(0), n(439), true}, // invocation exception with a failure code
		{n(-1), n(0), true},  // invocation exception
		{nil, nil, false},    // nothing said: still running
		{n(1), nil, true},    // ended
	} {
		if got := over(c.invokeFinished, c.retCode); got != c.over {
			t.Errorf("InvokeFinished %v RetCode %v: over %t, want %t", deref(c.invokeFinished), deref(c.retCode), got, c.over)
		}
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// An interrupted execution (RetCode 3 with InvokeFinished 0) ends the tail's
// wait for it: its last line, without a newline, is emitted, and the entry
// is not read again as running.
func TestTailEndsAtAnInterruptedExecution(t *testing.T) {
	fake := &fakeLogs{}
	ts := httptest.NewServer(fake)
	defer ts.Close()
	p, err := New(&spec.Service{Provider: spec.Provider{Name: "tencent"}}, Options{Endpoint: ts.URL, PollInterval: 10 * time.Millisecond, Getenv: envOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := p.Logs(ctx, adapters.LogQuery{Function: "f", Tail: true})
	if err != nil {
		t.Fatal(err)
	}
	interrupted := entry("a", 0, now, false, "a1\nkilled mid-line")
	interrupted["RetCode"] = 3
	fake.set(interrupted)
	var got []string
	for len(got) < 2 {
		l, err := st.Next(ctx)
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got = append(got, l.Text)
	}
	if strings.Join(got, "|") != "a1|killed mid-line" {
		t.Errorf("lines %q", got)
	}
}
