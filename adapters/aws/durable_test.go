package aws_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/adapters/aws"
	"github.com/asyncfn/asyncfn/adapters/conformance"
	"github.com/asyncfn/asyncfn/artifact"
	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/spec"
)

// recorder passes every request to the emulator and keeps its method, path
// and query, so a test can say what the adapter sent.
type recorder struct {
	mu       sync.Mutex
	requests []string
	proxy    *httputil.ReverseProxy
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.requests = append(r.requests, req.Method+" "+req.URL.EscapedPath()+"?"+req.URL.RawQuery)
	r.mu.Unlock()
	r.proxy.ServeHTTP(w, req)
}

func (r *recorder) sent() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.requests...)
}

// TestDurableFunctions: the adapter invokes a durable function qualified
// ($LATEST), finds an execution by the whole ARN it kept — from the invoke's
// answer, or looked up by name or id in a provider that never saw it —,
// sorts executions itself instead of relying on ReverseOrder, and stops a
// deploy that would add or drop durableConfig, which Lambda sets only at
// creation.
func TestDurableFunctions(t *testing.T) {
	conformance.NeedNode(t)
	target, err := url.Parse(conformance.StartEmulator(t))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{proxy: httputil.NewSingleHostReverseProxy(target)}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(`
exports.job = async (event) => { await new Promise((r) => setTimeout(r, event.ms || 0)); return { ok: true }; };
`), 0o644); err != nil {
		t.Fatal(err)
	}
	zip, info, err := artifact.Build(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	code := adapters.Artifact{Zip: zip, SHA256: info.SHA256}
	durable := spec.Function{Name: "job", DeployedName: "svc-dev-job", Handler: "index.job", Runtime: "nodejs20.x", MemorySize: 128, Timeout: 60,
		Async: spec.Async{Durable: &spec.Durable{ExecutionTimeout: 3600}}}
	plain := spec.Function{Name: "plain", DeployedName: "svc-dev-plain", Handler: "index.job", Runtime: "nodejs20.x", MemorySize: 128, Timeout: 60}
	svc := &spec.Service{Name: "svc", Region: "us-east-1", Dir: dir, File: filepath.Join(dir, "serverless.yml"),
		Provider: spec.Provider{Name: "aws", Role: "arn:aws:iam::000000000000:role/test"}, Functions: []spec.Function{durable, plain}}
	newProvider := func() *aws.Provider {
		p, err := aws.New(context.Background(), svc, aws.Options{Endpoint: srv.URL, Progress: io.Discard, Getenv: conformance.NoEnv})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p := newProvider()
	for _, f := range []spec.Function{durable, plain} {
		if _, err := p.Deploy(ctx, f, code); err != nil {
			t.Fatalf("deploy %s: %v", f.Name, err)
		}
	}

	// Invoked unqualified by the user, qualified by the adapter.
	first, err := p.Invoke(ctx, durable.DeployedName, []byte(`{"ms":30000}`), adapters.InvokeOptions{Async: true})
	if err != nil {
		t.Fatalf("async invoke of a durable function: %v", err)
	}
	if !strings.Contains(first.ExecutionARN, ":function:svc-dev-job:$LATEST/durable-execution/") {
		t.Errorf("execution ARN %q", first.ExecutionARN)
	}
	named, err := p.Invoke(ctx, durable.DeployedName, []byte(`{"ms":30000}`), adapters.InvokeOptions{Async: true, DurableName: "nightly-7"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(named.ExecutionARN, "/durable-execution/nightly-7/") {
		t.Fatalf("named execution ARN %q", named.ExecutionARN)
	}
	syncInv, err := p.Invoke(ctx, durable.DeployedName, []byte(`{}`), adapters.InvokeOptions{})
	if err != nil || syncInv.Status != event.Succeeded {
		t.Fatalf("sync invoke of a durable function: %+v %v", syncInv, err)
	}
	for _, r := range rec.sent() {
		if strings.Contains(r, "/functions/svc-dev-job/invocations") && !strings.Contains(r, "Qualifier=%24LATEST") {
			t.Errorf("invoke of a durable function sent unqualified: %s", r)
		}
	}

	// A provider that never saw the invokes finds each execution by its
	// request id, and the named one by its name too.
	fresh := newProvider()
	for _, id := range []string{first.RequestID, named.RequestID, "nightly-7", named.ExecutionARN} {
		ev, err := fresh.Event(ctx, durable.DeployedName, id)
		if err != nil || ev.Status.Terminal() {
			t.Errorf("event %s: %+v %v", id, ev, err)
		}
	}
	if err := fresh.Terminate(ctx, durable.DeployedName, "nightly-7", 0); err != nil {
		t.Errorf("terminate by execution name: %v", err)
	}
	_, err = fresh.Event(ctx, durable.DeployedName, "6f1d1f5e-0000-4000-8000-000000000000")
	if !errors.Is(err, adapters.ErrNotFound) {
		t.Errorf("unknown execution: %v, want ErrNotFound", err)
	}

	// Newest first without ReverseOrder.
	page, err := fresh.Events(ctx, durable.DeployedName, adapters.EventQuery{Desc: true})
	if err != nil || len(page.Events) != 2 || page.Events[0].RequestID != named.RequestID {
		t.Fatalf("newest first: %+v %v", page, err)
	}
	for _, r := range rec.sent() {
		if strings.Contains(r, "ReverseOrder") {
			t.Errorf("the adapter relied on ReverseOrder: %s", r)
		}
	}
	if err := p.Terminate(ctx, durable.DeployedName, first.RequestID, 0); err != nil {
		t.Errorf("terminate by request id: %v", err)
	}

	// durableConfig is fixed at creation: deploy stops and says what to do.
	for _, f := range []spec.Function{
		{Name: "job", DeployedName: durable.DeployedName, Handler: "index.job", Runtime: "nodejs20.x", MemorySize: 128, Timeout: 60},
		{Name: "plain", DeployedName: plain.DeployedName, Handler: "index.job", Runtime: "nodejs20.x", MemorySize: 128, Timeout: 60,
			Async: spec.Async{Durable: &spec.Durable{ExecutionTimeout: 60}}},
	} {
		_, err := p.Deploy(ctx, f, code)
		if err == nil || !strings.Contains(err.Error(), "durableConfig") || !strings.Contains(err.Error(), "asyncfn remove -f "+f.Name) {
			t.Errorf("deploy that changes durableConfig of %s: %v", f.Name, err)
		}
	}
	// Changing a durable function's settings is an update.
	longer := durable
	longer.Async.Durable = &spec.Durable{ExecutionTimeout: 7200, RetentionPeriodInDays: 30}
	if _, err := p.Deploy(ctx, longer, code); err != nil {
		t.Errorf("deploy with a longer execution timeout: %v", err)
	}
}
