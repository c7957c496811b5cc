// Package conformance is the one test suite every adapters.Provider must
// pass against a live emulator: the whole async lifecycle, from deploy to
// terminate, through nothing but the provider interface.
//
// Like rclone's backends, every adapter runs the suite from its own test
// package, against an emulator started in the test, so that
// `go test ./adapters/aws/` proves that adapter:
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, conformance.AWS(conformance.StartEmulator(t)))
//	}
//
// Local, Tencent and AWS build the three targets (targets.go); StartEmulator
// is the one place a test starts an emulator in-process (emulator.go). The
// e2e tests run the same targets against the built binary.
//
// Only tests import this package: it imports the emulator (localemu), which
// the adapters themselves never do.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
	// Durable declares durableConfig on every function (AWS): their async
	// invokes are durable executions.
	Durable bool
	// FromLogs says the provider knows async events only from their log
	// lines (a plain Lambda function): it has no result, cannot terminate,
	// and cannot tell an unknown request id from one not yet logged.
	FromLogs bool
	// Patience is how long the suite waits for an event to reach a status
	// or a log line to arrive; 0 means a minute, right for an emulator. A
	// cloud needs more: Lambda retries a failed async attempt after about a
	// minute, then two, and CloudWatch shows lines seconds after they are
	// written.
	Patience time.Duration
	// Region is the service's region; empty means the suite's default
	// (us-east-1, ap-guangzhou).
	Region string
}

func (tg Target) patience() time.Duration {
	if tg.Patience > 0 {
		return tg.Patience
	}
	return time.Minute
}

// handlers are the functions the suite deploys.
const handlers = `
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
exports.ok = async (event, context) => {
  console.log("step 1 of " + (context.awsRequestId || context.request_id)); // Lambda's name, SCF's name
  await sleep(event.ms || 0);
  console.log("done " + (event.tag || ""));
  return { tag: event.tag || null, version: process.env.CODE_VERSION || "1" };
};
exports.fail = async (event) => {
  console.log("failing on purpose");
  throw new Error("boom " + (event.tag || ""));
};
exports.work = async (event) => {
  await sleep(event.ms || 0);
  if (event.fail) throw new Error("failing after " + event.ms + " ms");
  return { ms: event.ms };
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

	mu       sync.Mutex
	deployed map[string]bool // functions this suite has deployed
}

// Run runs the suite against target. Every subtest stands on its own: it
// deploys the functions it uses (once per suite) and asserts only on what
// it created, so any one of them can run alone, e.g.
// go test ./adapters/aws/ -run 'Conformance/stats'.
//
// Run skips the test when Node.js is missing (the handlers are Node.js).
func Run(t *testing.T, target Target) {
	NeedNode(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(handlers), 0o644); err != nil {
		t.Fatal(err)
	}
	zero, one := 0, 1
	fn := func(name, handler string, retries *int, timeout int) spec.Function {
		f := spec.Function{Name: name, DeployedName: "conf-" + target.Name + "-" + name, Handler: "index." + handler, Runtime: runtimeFor(target.Provider),
			MemorySize: 128, Timeout: timeout, Environment: map[string]string{"CODE_VERSION": "1"},
			Async: spec.Async{Enabled: true, RetryAttempts: retries, MaxEventAge: 3600}}
		if target.Durable {
			f.Async.Durable = &spec.Durable{ExecutionTimeout: 3600}
		}
		return f
	}
	svc := &spec.Service{Name: "conf", Stage: "test", Region: target.region(), Provider: spec.Provider{Name: target.Provider}, Dir: dir,
		File: filepath.Join(dir, "serverless.yml"),
		Functions: []spec.Function{
			fn("ok", "ok", &zero, 60),
			fn("fail", "fail", &one, 60),
			fn("long", "long", &zero, 600),
			fn("stats", "work", &one, 60), // only the stats subtest invokes it
		}}
	s := &suite{t: t, tg: target, svc: svc, p: target.New(t, svc), dir: dir, deployed: map[string]bool{}}
	t.Cleanup(s.removeAll)
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

// removeAll removes every function the suite deployed, so that a run
// against a cloud leaves nothing behind; a failure is reported, not fatal.
func (s *suite) removeAll() {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	for name := range s.deployed {
		if err := s.p.Remove(c, s.fn(name).DeployedName); err != nil && !errors.Is(err, adapters.ErrNotFound) {
			s.t.Errorf("clean up: remove %s: %v", s.fn(name).DeployedName, err)
		}
	}
}

// runtimeFor names Node.js as each cloud does, in a version both still
// accept for new functions.
func runtimeFor(provider string) string {
	if provider == "tencent" {
		return "Nodejs18.15"
	}
	return "nodejs22.x"
}

func (tg Target) region() string {
	if tg.Region != "" {
		return tg.Region
	}
	if tg.Provider == "tencent" {
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

// need deploys the named functions unless this suite already has: each
// subtest calls it for the functions it uses.
func (s *suite) need(t *testing.T, names ...string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, name := range names {
		if s.deployed[name] {
			continue
		}
		if _, err := s.p.Deploy(ctx(t), s.fn(name), s.artifact(t)); err != nil {
			t.Fatalf("deploy %s: %v", name, err)
		}
		s.deployed[name] = true
	}
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
		s.mu.Lock()
		s.deployed[f.Name] = true
		s.mu.Unlock()
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
	deadline := time.Now().Add(s.tg.patience())
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
	s.need(t, "ok")
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
	s.need(t, "ok", "fail")
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
	s.need(t, "ok")
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
	s.need(t, "fail")
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
	s.need(t, "long")
	id := s.invokeAsync(t, "long", `{}`)
	s.waitFor(t, "long", id, "RUNNING", func(ev adapters.Event) bool { return ev.Status == event.Running })
	s.waitLog(t, "long", id, "long job running")
	err := s.p.Terminate(ctx(t), s.fn("long").DeployedName, id, grace)
	if s.tg.FromLogs {
		// Nothing stops a plain Lambda function's async invoke: the
		// provider says so, with what to do instead.
		var unsupported *adapters.UnsupportedError
		if !errors.As(err, &unsupported) || unsupported.Alternative == "" {
			t.Fatalf("terminate: %v, want an UnsupportedError with an alternative", err)
		}
		return
	}
	if err != nil {
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
	deadline := time.Now().Add(s.tg.patience())
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
	s.need(t, "ok")
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

// stats runs its own events on a function no other subtest invokes, so it
// knows every event the stats cover: four that succeed and one that fails
// twice (retryAttempts 1), each sleeping a known time. Every provider must
// report one duration per event — its last attempt's, as REPORT gives it —
// the same in events list and events get, and stats must be the nearest-rank
// summary of exactly those listed durations.
func (s *suite) stats(t *testing.T) {
	s.need(t, "stats")
	fn := s.fn("stats").DeployedName
	runs := []struct {
		ms   int64
		fail bool
	}{{100, false}, {200, false}, {300, false}, {400, false}, {150, true}}
	sleeps := map[string]int64{}
	var ids []string
	for _, r := range runs {
		id := s.invokeAsync(t, "stats", fmt.Sprintf(`{"ms": %d, "fail": %t}`, r.ms, r.fail))
		sleeps[id] = r.ms
		ids = append(ids, id)
	}
	for _, id := range ids {
		s.waitTerminal(t, "stats", id)
	}

	page, err := s.p.Events(ctx(t), fn, adapters.EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != len(runs) || len(page.Events) != len(runs) {
		t.Fatalf("listed %d of %d events, want %d", len(page.Events), page.Total, len(runs))
	}
	var all, succeeded []int64
	for _, ev := range page.Events {
		ms, ok := sleeps[ev.RequestID]
		if !ok {
			t.Errorf("listed an event this subtest did not create: %+v", ev)
			continue
		}
		// The handler's own time: at least its sleep (a loose upper bound:
		// CI machines are slow, and list = get = stats is checked below).
		if ev.DurationMs < ms || ev.DurationMs >= ms+5000 {
			t.Errorf("event %s slept %d ms and lists a duration of %d ms", ev.RequestID, ms, ev.DurationMs)
		}
		wantAttempts := 1
		if ev.Status == event.Failed {
			wantAttempts = 2
		}
		if ev.Attempts != wantAttempts {
			t.Errorf("event %s (%s) lists %d attempts, want %d", ev.RequestID, ev.Status, ev.Attempts, wantAttempts)
		}
		got, err := s.p.Event(ctx(t), fn, ev.RequestID)
		if err != nil {
			t.Fatal(err)
		}
		if got.DurationMs != ev.DurationMs || got.Attempts != ev.Attempts {
			t.Errorf("event %s: list says %d ms after %d attempts, get says %d ms after %d", ev.RequestID, ev.DurationMs, ev.Attempts, got.DurationMs, got.Attempts)
		}
		all = append(all, ev.DurationMs)
		if ev.Status == event.Succeeded {
			succeeded = append(succeeded, ev.DurationMs)
		}
	}

	st, err := s.p.Stats(ctx(t), fn, adapters.EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	p50, p95, max := event.Summarize(all)
	if st.Total != len(runs) || st.ByStatus[event.Succeeded] != 4 || st.ByStatus[event.Failed] != 1 {
		t.Errorf("stats count %d events, %d SUCCEEDED, %d FAILED; want 5, 4, 1 (%+v)", st.Total, st.ByStatus[event.Succeeded], st.ByStatus[event.Failed], st)
	}
	if st.P50Ms != p50 || st.P95Ms != p95 || st.MaxMs != max {
		t.Errorf("stats p50/p95/max = %d/%d/%d ms; the listed durations %v give %d/%d/%d", st.P50Ms, st.P95Ms, st.MaxMs, all, p50, p95, max)
	}
	ok, err := s.p.Stats(ctx(t), fn, adapters.EventQuery{Statuses: []event.Status{event.Succeeded}})
	if err != nil {
		t.Fatal(err)
	}
	p50, p95, max = event.Summarize(succeeded)
	if ok.Total != 4 || ok.P50Ms != p50 || ok.P95Ms != p95 || ok.MaxMs != max {
		t.Errorf("SUCCEEDED stats = %+v; the listed durations %v give %d/%d/%d", ok, succeeded, p50, p95, max)
	}
}

func (s *suite) redeployWhileRunning(t *testing.T) {
	s.need(t, "ok")
	id := s.invokeAsync(t, "ok", `{"ms": 2500, "tag": "old"}`)
	s.waitFor(t, "ok", id, "RUNNING", func(ev adapters.Event) bool { return ev.Status == event.Running })
	f := s.fn("ok")
	f.Environment = map[string]string{"CODE_VERSION": "2"}
	if _, err := s.p.Deploy(ctx(t), f, s.artifact(t)); err != nil {
		t.Fatal(err)
	}
	ev := s.waitTerminal(t, "ok", id)
	if ev.Status != event.Succeeded || !s.tg.FromLogs && !strings.Contains(string(ev.Result), `"version":"1"`) {
		t.Fatalf("running event after redeploy: %s %s", ev.Status, ev.Result)
	}
	if s.tg.FromLogs {
		s.waitLog(t, "ok", id, "done old") // it ran to its end on the old code
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
	s.need(t, "ok")
	_, err := s.p.Invoke(ctx(t), "conf-"+s.tg.Name+"-nope", []byte(`{}`), adapters.InvokeOptions{Async: true})
	if !errors.Is(err, adapters.ErrNotFound) {
		t.Errorf("invoke of an unknown function: %v, want ErrNotFound", err)
	}
	ev, err := s.p.Event(ctx(t), s.fn("ok").DeployedName, "6f1d1f5e-0000-4000-8000-000000000000")
	switch {
	case s.tg.FromLogs:
		// Lambda cannot tell an invoke it never had from one whose lines
		// have not arrived yet: the provider shows it waiting.
		if err != nil || ev.Status != event.Queued {
			t.Errorf("unknown request id of a plain function: %+v, %v; want QUEUED", ev, err)
		}
	case !errors.Is(err, adapters.ErrNotFound):
		t.Errorf("unknown event: %v, want ErrNotFound", err)
	}
	big := []byte(`{"x":"` + strings.Repeat("a", 7<<20) + `"}`)
	_, err = s.p.Invoke(ctx(t), s.fn("ok").DeployedName, big, adapters.InvokeOptions{Async: true})
	var apiErr *adapters.APIError
	if !errors.As(err, &apiErr) {
		t.Errorf("oversize payload: %v, want an API error", err)
	}
}
