package e2e

// The aws adapter against a *plain* (non-durable) Lambda function, under
// CloudWatch's conditions.
//
// The emulator models plain functions as Lambda does (no DurableConfig, no
// durable executions), and the conformance suite runs the adapter's plain
// path against it directly. Here an HTTP proxy in front of a live emulator
// adds what a loopback emulator lacks: CloudWatch Logs' ingestion lag, a
// principal without logs:StartLiveTail, and a record of every durable-API
// call, which the adapter must never make for a plain function. Nothing is
// mocked above the HTTP boundary: the adapter, the SDK, SigV4 signing and
// the emulator's real functions, retries, timeouts and log lines take part.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/adapters/aws"
	"github.com/asyncfn/asyncfn/artifact"
	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/spec"
)

// plainLambda is the proxy: everything goes to the emulator except what a
// plain function answers differently.
type plainLambda struct {
	target string        // the emulator's base URL
	lag    time.Duration // CloudWatch Logs ingestion delay

	mu        sync.Mutex
	durable   []string // durable-execution requests received (method and path)
	filters   int      // FilterLogEvents requests received
	liveTails int      // StartLiveTail requests refused
}

// newPlainLambda starts the proxy in front of the emulator at target. The
// emulator must run without --credentials: the proxy rewrites some requests
// (FilterLogEvents' endTime), which breaks their SigV4 signature, and the
// emulator without credentials accepts any signature.
func newPlainLambda(t *testing.T, target string, lag time.Duration) (*plainLambda, string) {
	t.Helper()
	p := &plainLambda{target: target, lag: lag}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

func (p *plainLambda) durableCalls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.durable...)
}

func (p *plainLambda) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/2025-12-01/") {
		// The durable-execution API (ListDurableExecutionsByFunction,
		// GetDurableExecution, StopDurableExecution) for a function without
		// DurableConfig. AWS documents the operations' errors
		// (InvalidParameterValueException 400, ResourceNotFoundException 404,
		// ...) but not which one a plain function gets (the emulator lists
		// none); here it is a 400 InvalidParameterValueException in Lambda's
		// REST error shape. The adapter must not depend on the choice: it
		// must not call these routes for a plain function at all, which the
		// test checks.
		p.mu.Lock()
		p.durable = append(p.durable, r.Method+" "+r.URL.Path)
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", "InvalidParameterValueException")
		w.Header().Set("X-Amzn-RequestId", "00000000-0000-4000-8000-00000000d00b")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"Type":"User","message":"The function does not have a durable configuration (DurableConfig); durable execution APIs are not available for it."}`)
		return
	}
	if r.Header.Get("X-Amz-Target") == "Logs_20140328.StartLiveTail" {
		// A principal allowed logs:FilterLogEvents but not logs:StartLiveTail
		// (the README's minimal policy): the adapter must fall back to polling.
		p.mu.Lock()
		p.liveTails++
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"AccessDeniedException","message":"User: arn:aws:iam::000000000000:user/plain is not authorized to perform: logs:StartLiveTail"}`)
		return
	}
	isFilter := r.Header.Get("X-Amz-Target") == "Logs_20140328.FilterLogEvents"
	if isFilter {
		p.mu.Lock()
		p.filters++
		p.mu.Unlock()
		body = p.withIngestionLag(body)
	}

	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = r.Header.Clone()
	out.Header.Del("Content-Length")
	out.ContentLength = int64(len(body))
	res, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer res.Body.Close()
	resBody, err := io.ReadAll(res.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	for k, vs := range res.Header {
		if strings.EqualFold(k, "Content-Length") {
			continue
		}
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(resBody)))
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(resBody)
}

// withIngestionLag caps a FilterLogEvents query's endTime at now minus the
// lag: a line becomes visible only some time after it was written, as in
// CloudWatch Logs, so the adapter has to cope with eventual consistency.
func (p *plainLambda) withIngestionLag(body []byte) []byte {
	if p.lag <= 0 {
		return body
	}
	var in map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		return body
	}
	cutoff := time.Now().Add(-p.lag).UnixMilli()
	if n, ok := in["endTime"].(json.Number); ok {
		if v, err := n.Int64(); err == nil && v < cutoff {
			cutoff = v
		}
	}
	in["endTime"] = cutoff
	if s, ok := in["startTime"].(json.Number); ok {
		if v, err := s.Int64(); err == nil && v > cutoff {
			in["endTime"] = v // an empty window, not an invalid one
		}
	}
	out, err := json.Marshal(in)
	if err != nil {
		return body
	}
	return out
}

const plainHandlers = `
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
exports.ok = async (event, context) => {
  console.log("step 1 of " + context.awsRequestId);
  console.error("warning: cache cold, this is not a failure");
  await sleep(event.ms || 0);
  console.log("done " + (event.tag || ""));
  return { tag: event.tag || null };
};
exports.fail = async (event) => {
  console.log("failing on purpose");
  throw new Error("boom " + (event.tag || ""));
};
exports.slow = async () => {
  console.log("slow job started");
  await sleep(3000);
  console.log("slow job finished (never: the timeout is 1 s)");
};
`

const plainServerless = `service: plain
provider:
  name: aws
  runtime: nodejs20.x
  region: us-east-1
  iam:
    role: arn:aws:iam::000000000000:role/plain
functions:
  ok:
    handler: index.ok
    timeout: 30
    maximumRetryAttempts: 0
  fail:
    handler: index.fail
    timeout: 30
    maximumRetryAttempts: 1
  slow:
    handler: index.slow
    timeout: 1
    maximumRetryAttempts: 0
`

type plainFixture struct {
	proxy *plainLambda
	url   string
	file  string
	svc   *spec.Service
	p     *aws.Provider
}

func (f *plainFixture) name(t *testing.T, fn string) string {
	t.Helper()
	s, ok := f.svc.Function(fn)
	if !ok {
		t.Fatalf("no function %s", fn)
	}
	return s.DeployedName
}

func plainCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return c
}

func (f *plainFixture) invoke(t *testing.T, fn, payload string) string {
	t.Helper()
	inv, err := f.p.Invoke(plainCtx(t), f.name(t, fn), []byte(payload), adapters.InvokeOptions{Async: true})
	if err != nil {
		t.Fatalf("async invoke %s: %v", fn, err)
	}
	if len(inv.RequestID) != 36 || inv.Status != event.Queued {
		t.Fatalf("async invoke %s: request id %q, status %s", fn, inv.RequestID, inv.Status)
	}
	if inv.ExecutionARN != "" {
		t.Errorf("async invoke of a plain function gave execution ARN %q", inv.ExecutionARN)
	}
	return inv.RequestID
}

// waitEvent polls Event until cond holds, recording every status seen.
func (f *plainFixture) waitEvent(t *testing.T, fn, id, what string, seen map[event.Status]bool, cond func(adapters.Event) bool) adapters.Event {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last adapters.Event
	var lastErr error
	for time.Now().Before(deadline) {
		ev, err := f.p.Event(plainCtx(t), f.name(t, fn), id)
		lastErr = err
		if err == nil {
			last = ev
			if seen != nil {
				seen[ev.Status] = true
			}
			if cond(ev) {
				return ev
			}
		} else if !errors.Is(err, adapters.ErrNotFound) {
			t.Fatalf("event %s: %v", id, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("event %s of %s never became %s (last: %+v, error %v)", id, fn, what, last, lastErr)
	return last
}

func TestAWSPlainFunction(t *testing.T) {
	needNode(t)
	emu := startEmulator(t) // no credentials: the proxy re-sends (and rewrites) requests
	proxy, url := newPlainLambda(t, emu, time.Second)

	dir := t.TempDir()
	file := filepath.Join(dir, "serverless.yml")
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(plainHandlers), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(plainServerless), 0o644); err != nil {
		t.Fatal(err)
	}
	loaded, err := spec.Load(file, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := loaded.Service
	p, err := aws.New(context.Background(), svc, aws.Options{Endpoint: url, Getenv: noEnv, PollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	f := &plainFixture{proxy: proxy, url: url, file: file, svc: svc, p: p}

	zip, info, err := artifact.Build(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range svc.Functions {
		if fn.Async.Durable != nil {
			t.Fatalf("%s declares durableConfig", fn.Name)
		}
		if _, err := p.Deploy(plainCtx(t), fn, adapters.Artifact{Zip: zip, SHA256: info.SHA256}); err != nil {
			t.Fatalf("deploy %s: %v", fn.Name, err)
		}
	}

	t.Run("succeeded from log lines", f.succeeded)
	t.Run("failed after retries from log lines", f.failed)
	t.Run("timed out from log lines", f.timedOut)
	t.Run("list and stats", f.listAndStats)
	t.Run("terminate is unsupported", f.terminate)
	t.Run("logs tail by request id", f.tail)
	t.Run("cli logs tail right after an async invoke", f.cliTail)

	if calls := proxy.durableCalls(); len(calls) > 0 {
		t.Errorf("the adapter called the durable-execution API for plain functions: %q", calls)
	}
	proxy.mu.Lock()
	filters, liveTails := proxy.filters, proxy.liveTails
	proxy.mu.Unlock()
	if filters == 0 {
		t.Error("no FilterLogEvents request went through the proxy")
	}
	if liveTails == 0 {
		t.Error("no StartLiveTail request reached the proxy: the tails never tried it before polling")
	}
}

func (f *plainFixture) succeeded(t *testing.T) {
	id := f.invoke(t, "ok", `{"ms": 1500, "tag": "lifecycle"}`)
	// Right after the invoke no line is visible yet (the ingestion lag):
	// the event is QUEUED, not unknown.
	ev, err := f.p.Event(plainCtx(t), f.name(t, "ok"), id)
	if err != nil {
		t.Fatalf("event right after the invoke: %v (want QUEUED)", err)
	}
	if ev.Status != event.Queued || ev.RequestID != id {
		t.Errorf("event right after the invoke: %+v, want QUEUED", ev)
	}
	seen := map[event.Status]bool{}
	ev = f.waitEvent(t, "ok", id, "terminal", seen, func(ev adapters.Event) bool { return ev.Status.Terminal() })
	if ev.Status != event.Succeeded {
		t.Fatalf("status %s (%s: %s), want SUCCEEDED: a console.error line is not a failure", ev.Status, ev.ErrorType, ev.ErrorMessage)
	}
	if !seen[event.Running] {
		t.Errorf("never saw RUNNING while the handler slept 1.5 s; saw %v", seen)
	}
	if ev.Attempts != 1 || ev.CreatedAt.IsZero() || ev.StartedAt == nil || ev.EndedAt == nil || ev.InvokeType != event.InvokeEvent {
		t.Errorf("event fields: %+v", ev)
	}
	// END and REPORT arrive together; once REPORT is visible the duration is known.
	ev = f.waitEvent(t, "ok", id, "reported", nil, func(ev adapters.Event) bool { return ev.DurationMs > 0 })
	if ev.DurationMs < 1400 || ev.MaxMemoryMB < 0 {
		t.Errorf("duration %d ms, memory %d MB for a 1.5 s handler", ev.DurationMs, ev.MaxMemoryMB)
	}
	if _, err := f.p.Event(plainCtx(t), f.name(t, "ok"), "not-a-request-id"); !errors.Is(err, adapters.ErrNotFound) {
		t.Errorf("a malformed request id: %v, want ErrNotFound", err)
	}
}

func (f *plainFixture) failed(t *testing.T) {
	id := f.invoke(t, "fail", `{"tag": "plain"}`)
	premature := false
	ev := f.waitEvent(t, "fail", id, "FAILED after 2 attempts", nil, func(ev adapters.Event) bool {
		premature = premature || ev.Status == event.Failed && ev.Attempts < 2
		return ev.Status == event.Failed && ev.Attempts == 2
	})
	if premature {
		t.Error("FAILED was shown after the first attempt, while its retry (maximumRetryAttempts 1) was still due")
	}
	if ev.ErrorType != "Error" || !strings.Contains(ev.ErrorMessage, "boom plain") {
		t.Errorf("error %q: %q", ev.ErrorType, ev.ErrorMessage)
	}
	if ev.EndedAt == nil || ev.StartedAt == nil || ev.EndedAt.Before(*ev.StartedAt) {
		t.Errorf("times: %+v", ev)
	}
}

func (f *plainFixture) timedOut(t *testing.T) {
	id := f.invoke(t, "slow", `{}`)
	ev := f.waitEvent(t, "slow", id, "terminal", nil, func(ev adapters.Event) bool { return ev.Status.Terminal() })
	if ev.Status != event.TimedOut {
		t.Fatalf("status %s (%s: %s), want TIMED_OUT (timeout 1 s, handler 3 s)", ev.Status, ev.ErrorType, ev.ErrorMessage)
	}
	if !strings.Contains(ev.ErrorMessage, "Task timed out after 1.00 seconds") || ev.Attempts != 1 {
		t.Errorf("timed-out event: %+v", ev)
	}
	// It stays TIMED_OUT once END and REPORT are visible too.
	ev = f.waitEvent(t, "slow", id, "reported", nil, func(ev adapters.Event) bool { return ev.DurationMs > 0 })
	if ev.Status != event.TimedOut || ev.DurationMs < 900 || ev.DurationMs > 2500 {
		t.Errorf("after REPORT: %s, %d ms", ev.Status, ev.DurationMs)
	}
}

func (f *plainFixture) listAndStats(t *testing.T) {
	fn := f.name(t, "ok")
	before, err := f.p.Events(plainCtx(t), fn, adapters.EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < 4; i++ {
		ids = append(ids, f.invoke(t, "ok", fmt.Sprintf(`{"ms": %d, "tag": "list%d"}`, 200+100*i, i)))
		time.Sleep(20 * time.Millisecond) // distinct START times, for ordering
	}
	want := before.Total + len(ids)
	// Eventually consistent: poll until every event is listed and finished.
	deadline := time.Now().Add(60 * time.Second)
	var page adapters.EventPage
	for {
		page, err = f.p.Events(plainCtx(t), fn, adapters.EventQuery{Statuses: []event.Status{event.Succeeded}})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total == want {
			break
		}
		if page.Total > want || time.Now().After(deadline) {
			t.Fatalf("SUCCEEDED events of ok: %d, want %d: %+v", page.Total, want, page.Events)
		}
		time.Sleep(100 * time.Millisecond)
	}
	all, err := f.p.Events(plainCtx(t), fn, adapters.EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if all.Total != want || len(all.Events) != want {
		t.Errorf("all events of ok: total %d, %d listed, want %d", all.Total, len(all.Events), want)
	}
	seen := map[string]bool{}
	for _, ev := range all.Events {
		if seen[ev.RequestID] {
			t.Errorf("%s listed twice", ev.RequestID)
		}
		seen[ev.RequestID] = true
		if ev.Function != fn || ev.Status != event.Succeeded {
			t.Errorf("listed event %+v", ev)
		}
	}
	desc, err := f.p.Events(plainCtx(t), fn, adapters.EventQuery{Desc: true, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if desc.Total != want || len(desc.Events) != 2 || desc.Events[0].RequestID != ids[3] || desc.Events[1].RequestID != ids[2] {
		t.Errorf("newest first, 2 of %d: %+v", want, desc)
	}
	next, err := f.p.Events(plainCtx(t), fn, adapters.EventQuery{Desc: true, Limit: 2, Offset: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(next.Events) != 2 || next.Events[0].RequestID != ids[1] || next.Events[1].RequestID != ids[0] {
		t.Errorf("second page: %+v", next.Events)
	}
	none, err := f.p.Events(plainCtx(t), fn, adapters.EventQuery{Statuses: []event.Status{event.Failed, event.TimedOut}})
	if err != nil {
		t.Fatal(err)
	}
	if none.Total != 0 {
		t.Errorf("FAILED/TIMED_OUT events of ok: %+v", none.Events)
	}

	st, err := f.p.Stats(plainCtx(t), fn, adapters.EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Total != want || st.ByStatus[event.Succeeded] != want || len(st.ByStatus) != 1 || st.MaxMs < 1400 || st.P50Ms < 200 || st.P50Ms > st.MaxMs {
		t.Errorf("stats of ok = %+v, want %d SUCCEEDED, max >= 1.4 s", st, want)
	}
	for fn, want := range map[string]event.Status{"fail": event.Failed, "slow": event.TimedOut} {
		st, err := f.p.Stats(plainCtx(t), f.name(t, fn), adapters.EventQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if st.Total != 1 || st.ByStatus[want] != 1 {
			t.Errorf("stats of %s = %+v, want 1 %s", fn, st, want)
		}
	}
	future, err := f.p.Events(plainCtx(t), fn, adapters.EventQuery{Since: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if future.Total != 0 {
		t.Errorf("a window in the future matched %d events", future.Total)
	}
}

func (f *plainFixture) terminate(t *testing.T) {
	id := f.invoke(t, "ok", `{"ms": 2000, "tag": "terminate"}`)
	f.waitEvent(t, "ok", id, "RUNNING", nil, func(ev adapters.Event) bool { return ev.Status == event.Running })
	err := f.p.Terminate(plainCtx(t), f.name(t, "ok"), id, 5*time.Second)
	var unsupported *adapters.UnsupportedError
	if !errors.As(err, &unsupported) {
		t.Fatalf("terminate of a plain function: %v (%T), want *adapters.UnsupportedError", err, err)
	}
	if !strings.Contains(err.Error(), "durableConfig") || unsupported.Provider != "aws" {
		t.Errorf("terminate error %q does not suggest durableConfig", err)
	}
	// Nothing was stopped: the event runs to the end.
	ev := f.waitEvent(t, "ok", id, "terminal", nil, func(ev adapters.Event) bool { return ev.Status.Terminal() })
	if ev.Status != event.Succeeded {
		t.Errorf("after the refused terminate: %s", ev.Status)
	}
}

func (f *plainFixture) tail(t *testing.T) {
	fn := f.name(t, "ok")
	id := f.invoke(t, "ok", `{"ms": 2000, "tag": "tail"}`)
	other := f.invoke(t, "ok", `{"ms": 1000, "tag": "other"}`) // its lines must not show
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stream, err := f.p.Logs(c, adapters.LogQuery{Function: fn, RequestID: id, Tail: true})
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	var texts []string
	cursors := map[string]bool{}
	for {
		l, err := stream.Next(c)
		if err != nil {
			t.Fatalf("tail ended early: %v (got %q)", err, texts)
		}
		if l.RequestID != id {
			t.Errorf("line not of %s: %+v", id, l)
		}
		if strings.Contains(l.Text, other) || strings.Contains(l.Text, "done other") {
			t.Errorf("line of the other event: %+v", l)
		}
		if cursors[l.Cursor] {
			t.Errorf("event %s returned twice: %q", l.Cursor, l.Text)
		}
		cursors[l.Cursor] = true
		texts = append(texts, l.Text)
		if strings.HasPrefix(l.Text, "REPORT RequestId: "+id) {
			break
		}
	}
	// A short wait more: nothing else arrives (no late duplicates).
	c2, cancel2 := context.WithTimeout(c, 1500*time.Millisecond)
	defer cancel2()
	if l, err := stream.Next(c2); err == nil {
		t.Errorf("a line after REPORT: %+v", l)
	}
	// Lambda keeps the order of one stream (stdout); stderr lines may
	// interleave anywhere, so only stdout and platform lines are in order.
	want := []string{"START RequestId: " + id, "step 1 of " + id, "done tail", "END RequestId: " + id, "REPORT RequestId: " + id}
	at := 0
	for _, x := range texts {
		if at < len(want) && strings.Contains(x, want[at]) {
			at++
		}
	}
	if at != len(want) {
		t.Errorf("tail lacks (in order) %q:\n%s", want[at], strings.Join(texts, "\n"))
	}
	if !strings.Contains(strings.Join(texts, "\n"), "\tERROR\twarning: cache cold") {
		t.Errorf("tail lacks the console.error line:\n%s", strings.Join(texts, "\n"))
	}
	want = append(want, "warning")
	if len(texts) != len(want) {
		t.Errorf("tail gave %d lines, want %d:\n%s", len(texts), len(want), strings.Join(texts, "\n"))
	}
}

// cliTail runs `asyncfn logs --request-id ID --tail` the moment an async
// invoke returned, as a user does: no line of the event is visible yet, and
// the tail must wait for them (not fail with "not found"), then stop once the
// event has finished.
func (f *plainFixture) cliTail(t *testing.T) {
	id := f.invoke(t, "ok", `{"ms": 1000, "tag": "cli"}`)
	cmd := exec.Command(binary, "-c", f.file, "--endpoint", f.url, "logs", "-f", "ok", "--request-id", id, "--tail")
	cmd.Env = awsEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("logs --tail: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("logs --tail did not stop after the event finished\nstdout: %s\nstderr: %s", stdout.String(), stderr.String())
	}
	var lines []string
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	joined := strings.Join(lines, "\n")
	for _, want := range []string{"START RequestId: " + id, "done cli", "END RequestId: " + id} {
		if !strings.Contains(joined, want) {
			t.Errorf("cli tail lacks %q:\n%s\nstderr: %s", want, joined, stderr.String())
		}
	}
	count := map[string]int{}
	for _, l := range lines {
		if count[l]++; count[l] > 1 {
			t.Errorf("cli tail repeated %q", l)
		}
	}
}
