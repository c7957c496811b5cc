// Package conformance is the one test suite every adapters.Provider must
// pass against a live emulator: the whole async lifecycle, from deploy to
// terminate, through nothing but the provider interface.
//
// Each backend's test calls Run with a Target; see e2e/conformance_test.go.
package conformance

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/artifact"
	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/spec"
)

// Target is one provider under test.
type Target struct {
	Name     string // used in deployed function names, so targets can share an emulator
	Provider string // "aws" or "tencent": the service's provider.name
	// New returns the provider for svc, pointed at the emulator.
	New func(t *testing.T, svc *spec.Service) adapters.Provider
}

// handlers are the functions the suite deploys.
const handlers = `
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
exports.ok = async (event, context) => {
  console.log("step 1 of " + context.awsRequestId);
  await sleep(event.ms || 0);
  console.log("done " + (event.tag || ""));
  return { tag: event.tag || null, version: process.env.CODE_VERSION || "1" };
};
exports.fail = async (event) => {
  console.log("failing on purpose");
  throw new Error("boom " + (event.tag || ""));
};
exports.long = async () => {
  process.on("SIGTERM", () => { console.log("SIGTERM received, checkpoint saved"); process.exit(0); });
  console.log("long job running");
  await sleep(120000);
};
`

type suite struct {
	t   *testing.T
	tg  Target
	svc *spec.Service
	p   adapters.Provider
	dir string
}

// Run runs the suite against target.
func Run(t *testing.T, target Target) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(handlers), 0o644); err != nil {
		t.Fatal(err)
	}
	zero, one := 0, 1
	fn := func(name, handler string, retries *int, timeout int) spec.Function {
		return spec.Function{Name: name, DeployedName: "conf-" + target.Name + "-" + name, Handler: "index." + handler, Runtime: "nodejs18.x",
			MemorySize: 128, Timeout: timeout, Environment: map[string]string{"CODE_VERSION": "1"},
			Async: spec.Async{Enabled: true, RetryAttempts: retries, MaxEventAge: 3600}}
	}
	svc := &spec.Service{Name: "conf", Stage: "test", Region: regionFor(target.Provider), Provider: spec.Provider{Name: target.Provider}, Dir: dir,
		File: filepath.Join(dir, "serverless.yml"),
		Functions: []spec.Function{
			fn("ok", "ok", &zero, 60),
			fn("fail", "fail", &one, 60),
			fn("long", "long", &zero, 600),
		}}
	s := &suite{t: t, tg: target, svc: svc, p: target.New(t, svc), dir: dir}
	t.Run("deploy", s.deploy)
	t.Run("async invoke runs to SUCCEEDED", s.asyncLifecycle)
	t.Run("sync invoke returns the result", s.syncInvoke)
	t.Run("logs tail follows a running event", s.logsTail)
	t.Run("retries then FAILED", s.retries)
	t.Run("terminate with grace", func(t *testing.T) { s.terminate(t, 10*time.Second) })
	t.Run("terminate without grace", func(t *testing.T) { s.terminate(t, 0) })
	t.Run("list filters and pages", s.list)
	t.Run("stats count per status", s.stats)
	t.Run("redeploy while running", s.redeployWhileRunning)
	t.Run("errors", s.errors)
}

func regionFor(provider string) string {
	if provider == "tencent" {
		return "ap-guangzhou"
	}
	return "us-east-1"
}

func (s *suite) fn(name string) spec.Function {
	f, ok := s.svc.Function(name)
	if !ok {
		s.t.Fatalf("no function %s", name)
	}
	return *f
}

func (s *suite) artifact(t *testing.T) adapters.Artifact {
	zip, info, err := artifact.Build(s.dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return adapters.Artifact{Zip: zip, SHA256: info.SHA256}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return c
}

func (s *suite) deploy(t *testing.T) {
	for _, f := range s.svc.Functions {
		d, err := s.p.Deploy(ctx(t), f, s.artifact(t))
		if err != nil {
			t.Fatalf("deploy %s: %v", f.Name, err)
		}
		if d.Function != f.DeployedName {
			t.Errorf("deployed %q, want %q", d.Function, f.DeployedName)
		}
	}
	// Deploying again updates in place.
	d, err := s.p.Deploy(ctx(t), s.fn("ok"), s.artifact(t))
	if err != nil {
		t.Fatal(err)
	}
	if d.Created {
		t.Error("a second deploy reported a new function")
	}
}

func (s *suite) invokeAsync(t *testing.T, name, payload string) string {
	t.Helper()
	start := time.Now()
	inv, err := s.p.Invoke(ctx(t), s.fn(name).DeployedName, []byte(payload), adapters.InvokeOptions{Async: true})
	if err != nil {
		t.Fatalf("async invoke %s: %v", name, err)
	}
	if len(inv.RequestID) < 8 {
		t.Fatalf("async invoke gave request id %q", inv.RequestID)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("async invoke took %s", d) // a bound against hangs, not a performance target
	}
	return inv.RequestID
}

// waitFor polls the event until cond holds.
func (s *suite) waitFor(t *testing.T, name, id string, what string, cond func(adapters.Event) bool) adapters.Event {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last adapters.Event
	for time.Now().Before(deadline) {
		ev, err := s.p.Event(ctx(t), s.fn(name).DeployedName, id)
		if err == nil {
			last = ev
			if cond(ev) {
				return ev
			}
		} else if !errors.Is(err, adapters.ErrNotFound) {
			t.Fatalf("event %s: %v", id, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("event %s never became %s (last: %+v)", id, what, last)
	return last
}

func (s *suite) waitTerminal(t *testing.T, name, id string) adapters.Event {
	t.Helper()
	return s.waitFor(t, name, id, "terminal", func(ev adapters.Event) bool { return ev.Status.Terminal() })
}

func (s *suite) asyncLifecycle(t *testing.T) {
	id := s.invokeAsync(t, "ok", `{"ms": 1500, "tag": "lifecycle"}`)
	seen := map[event.Status]bool{}
	ev := s.waitFor(t, "ok", id, "SUCCEEDED", func(ev adapters.Event) bool {
		seen[ev.Status] = true
		return ev.Status.Terminal()
	})
	if ev.Status != event.Succeeded {
		t.Fatalf("status = %s (%s: %s)", ev.Status, ev.ErrorType, ev.ErrorMessage)
	}
	if !seen[event.Running] {
		t.Errorf("never saw RUNNING while the handler slept 1.5 s; saw %v", seen)
	}
	if ev.RequestID != id || ev.Attempts != 1 || ev.CreatedAt.IsZero() || ev.StartedAt == nil || ev.EndedAt == nil {
		t.Errorf("event fields: %+v", ev)
	}
	if ev.DurationMs < 1000 {
		t.Errorf("duration %d ms for a 1.5 s handler", ev.DurationMs)
	}
}

func (s *suite) syncInvoke(t *testing.T) {
	inv, err := s.p.Invoke(ctx(t), s.fn("ok").DeployedName, []byte(`{"tag": "sync"}`), adapters.InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Error != nil || !strings.Contains(string(inv.Result), `"tag":"sync"`) {
		t.Fatalf("sync result = %s, error %v", inv.Result, inv.Error)
	}
	inv, err = s.p.Invoke(ctx(t), s.fn("fail").DeployedName, []byte(`{"tag": "sync"}`), adapters.InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Error == nil || !strings.Contains(inv.Error.Message, "boom sync") {
		t.Fatalf("sync function error = %+v", inv.Error)
	}
}

func (s *suite) logsTail(t *testing.T) {
	id := s.invokeAsync(t, "ok", `{"ms": 2000, "tag": "tail"}`)
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stream, err := s.p.Logs(c, adapters.LogQuery{Function: s.fn("ok").DeployedName, RequestID: id, Tail: true})
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	var texts []string
	sawRunning := false
	for {
		l, err := stream.Next(c)
		if err != nil {
			t.Fatalf("tail ended early: %v (got %q)", err, texts)
		}
		if l.RequestID != "" && l.RequestID != id {
			t.Errorf("line of another event: %+v", l)
		}
		texts = append(texts, l.Text)
		if strings.Contains(l.Text, "step 1 of "+id) {
			ev, err := s.p.Event(c, s.fn("ok").DeployedName, id)
			if err == nil && ev.Status == event.Running {
				sawRunning = true
			}
		}
		if strings.HasPrefix(l.Text, "REPORT RequestId: "+id) {
			break
		}
	}
	if !sawRunning {
		t.Errorf("the first line did not arrive while the event was RUNNING")
	}
	joined := strings.Join(texts, "\n")
	for _, want := range []string{"START RequestId: " + id, "step 1 of " + id, "done tail", "END RequestId: " + id} {
		if !strings.Contains(joined, want) {
			t.Errorf("tail lacks %q:\n%s", want, joined)
		}
	}
	seen := map[string]int{}
	for _, x := range texts {
		seen[x]++
		if seen[x] > 1 {
			t.Errorf("line repeated: %q", x)
		}
	}
}

func (s *suite) retries(t *testing.T) {
	id := s.invokeAsync(t, "fail", `{"tag": "retry"}`)
	ev := s.waitTerminal(t, "fail", id)
	if ev.Status != event.Failed || ev.Attempts != 2 {
		t.Fatalf("status %s after %d attempts, want FAILED after 2 (retryAttempts 1)", ev.Status, ev.Attempts)
	}
	if !strings.Contains(ev.ErrorMessage, "boom retry") {
		t.Errorf("error message = %q", ev.ErrorMessage)
	}
}

func (s *suite) terminate(t *testing.T, grace time.Duration) {
	id := s.invokeAsync(t, "long", `{}`)
	s.waitFor(t, "long", id, "RUNNING", func(ev adapters.Event) bool { return ev.Status == event.Running })
	s.waitLog(t, "long", id, "long job running")
	if err := s.p.Terminate(ctx(t), s.fn("long").DeployedName, id, grace); err != nil {
		t.Fatalf("terminate: %v", err)
	}
	ev := s.waitTerminal(t, "long", id)
	if ev.Status != event.Terminated {
		t.Fatalf("status = %s, want TERMINATED", ev.Status)
	}
	if grace > 0 {
		s.waitLog(t, "long", id, "SIGTERM received, checkpoint saved")
	}
	// Terminating it again is an error that says so.
	if err := s.p.Terminate(ctx(t), s.fn("long").DeployedName, id, 0); err == nil {
		t.Error("terminating a TERMINATED event succeeded")
	}
}

func (s *suite) waitLog(t *testing.T, name, id, text string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		stream, err := s.p.Logs(ctx(t), adapters.LogQuery{Function: s.fn(name).DeployedName, RequestID: id})
		if err != nil {
			t.Fatal(err)
		}
		for {
			l, err := stream.Next(ctx(t))
			if err != nil {
				break
			}
			if strings.Contains(l.Text, text) {
				stream.Close()
				return
			}
		}
		stream.Close()
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("log of %s never contained %q", id, text)
}

func (s *suite) list(t *testing.T) {
	fn := s.fn("ok").DeployedName
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, s.invokeAsync(t, "ok", `{"tag": "list"}`))
		time.Sleep(5 * time.Millisecond) // distinct creation times for ordering
	}
	for _, id := range ids {
		s.waitTerminal(t, "ok", id)
	}
	page, err := s.p.Events(ctx(t), fn, adapters.EventQuery{Statuses: []event.Status{event.Succeeded}, Desc: true, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 2 || page.Total < 5 {
		t.Fatalf("page of 2: got %d events, total %d", len(page.Events), page.Total)
	}
	if page.Events[0].RequestID != ids[4] || page.Events[1].RequestID != ids[3] {
		t.Errorf("newest first: got %s, %s; want %s, %s", page.Events[0].RequestID, page.Events[1].RequestID, ids[4], ids[3])
	}
	next, err := s.p.Events(ctx(t), fn, adapters.EventQuery{Statuses: []event.Status{event.Succeeded}, Desc: true, Limit: 2, Offset: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(next.Events) != 2 || next.Events[0].RequestID != ids[2] {
		t.Errorf("second page starts with %v, want %s", next.Events, ids[2])
	}
	none, err := s.p.Events(ctx(t), fn, adapters.EventQuery{Statuses: []event.Status{event.TimedOut}})
	if err != nil {
		t.Fatal(err)
	}
	if len(none.Events) != 0 || none.Total != 0 {
		t.Errorf("TIMED_OUT filter matched %d", none.Total)
	}
	future, err := s.p.Events(ctx(t), fn, adapters.EventQuery{Since: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(future.Events) != 0 {
		t.Errorf("a window in the future matched %d events", len(future.Events))
	}
}

func (s *suite) stats(t *testing.T) {
	st, err := s.p.Stats(ctx(t), s.fn("fail").DeployedName, adapters.EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if st.ByStatus[event.Failed] < 1 || st.Total < st.ByStatus[event.Failed] {
		t.Errorf("stats of fail = %+v", st)
	}
	st, err = s.p.Stats(ctx(t), s.fn("ok").DeployedName, adapters.EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if st.ByStatus[event.Succeeded] < 6 || st.MaxMs < 1000 || st.P50Ms > st.MaxMs {
		t.Errorf("stats of ok = %+v", st)
	}
}

func (s *suite) redeployWhileRunning(t *testing.T) {
	id := s.invokeAsync(t, "ok", `{"ms": 2500, "tag": "old"}`)
	s.waitFor(t, "ok", id, "RUNNING", func(ev adapters.Event) bool { return ev.Status == event.Running })
	f := s.fn("ok")
	f.Environment = map[string]string{"CODE_VERSION": "2"}
	if _, err := s.p.Deploy(ctx(t), f, s.artifact(t)); err != nil {
		t.Fatal(err)
	}
	ev := s.waitTerminal(t, "ok", id)
	if ev.Status != event.Succeeded || !strings.Contains(string(ev.Result), `"version":"1"`) {
		t.Fatalf("running event after redeploy: %s %s", ev.Status, ev.Result)
	}
	inv, err := s.p.Invoke(ctx(t), f.DeployedName, []byte(`{}`), adapters.InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(inv.Result), `"version":"2"`) {
		t.Errorf("new invoke ran old configuration: %s", inv.Result)
	}
}

func (s *suite) errors(t *testing.T) {
	_, err := s.p.Invoke(ctx(t), "conf-"+s.tg.Name+"-nope", []byte(`{}`), adapters.InvokeOptions{Async: true})
	if !errors.Is(err, adapters.ErrNotFound) {
		t.Errorf("invoke of an unknown function: %v, want ErrNotFound", err)
	}
	_, err = s.p.Event(ctx(t), s.fn("ok").DeployedName, "6f1d1f5e-0000-4000-8000-000000000000")
	if !errors.Is(err, adapters.ErrNotFound) {
		t.Errorf("unknown event: %v, want ErrNotFound", err)
	}
	big := []byte(`{"x":"` + strings.Repeat("a", 7<<20) + `"}`)
	_, err = s.p.Invoke(ctx(t), s.fn("ok").DeployedName, big, adapters.InvokeOptions{Async: true})
	var apiErr *adapters.APIError
	if !errors.As(err, &apiErr) {
		t.Errorf("oversize payload: %v, want an API error", err)
	}
}
