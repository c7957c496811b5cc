package e2e

// The aws adapter's log tail through CloudWatch Logs StartLiveTail, against
// the emulator behind a proxy that counts the Logs requests and can cut a
// live session short.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/adapters/aws"
	"github.com/asyncfn/asyncfn/artifact"
	"github.com/asyncfn/asyncfn/spec"
)

// liveTailProxy forwards everything to the emulator. It counts StartLiveTail
// and FilterLogEvents requests, and streams StartLiveTail answers frame by
// frame; with cut set it ends a session after the sessionUpdate that
// carries "tick 2", as a dropped connection would.
type liveTailProxy struct {
	target    string
	cut       atomic.Bool
	liveTails atomic.Int32
	filters   atomic.Int32
}

func (p *liveTailProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	switch target {
	case "Logs_20140328.StartLiveTail":
		p.liveTails.Add(1)
	case "Logs_20140328.FilterLogEvents":
		p.filters.Add(1)
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = r.Header.Clone()
	res, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer res.Body.Close()
	for k, vs := range res.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(res.StatusCode)
	if target != "Logs_20140328.StartLiveTail" || res.StatusCode != http.StatusOK {
		_, _ = io.Copy(w, res.Body)
		return
	}
	dec, enc, rc := eventstream.NewDecoder(), eventstream.NewEncoder(), http.NewResponseController(w)
	for {
		msg, err := dec.Decode(res.Body, nil)
		if err != nil {
			return
		}
		if enc.Encode(w, msg) != nil || rc.Flush() != nil {
			return
		}
		if t := msg.Headers.Get(":event-type"); p.cut.Load() && t != nil && t.String() == "sessionUpdate" {
			var upd struct{ SessionResults []struct{ Message string } }
			if json.Unmarshal(msg.Payload, &upd) == nil {
				for _, e := range upd.SessionResults {
					if strings.Contains(e.Message, "\tINFO\ttick 2") {
						return // the session ends here
					}
				}
			}
		}
	}
}

// syncBuffer is the adapter's progress writer.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

const liveTailHandlers = `
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
exports.ticks = async (event, context) => {
  console.log("tick 1 of " + context.awsRequestId);
  await sleep(1500);
  console.log("tick 2");
  await sleep(1500);
  console.log("tick 3");
  return "ok";
};
`

const liveTailServerless = `service: livetail
provider:
  name: aws
  runtime: nodejs20.x
  region: eu-west-1
  iam:
    role: arn:aws:iam::000000000000:role/livetail
functions:
  ticks:
    handler: index.ticks
    timeout: 30
    maximumRetryAttempts: 0
`

func TestAWSLogsTailWithStartLiveTail(t *testing.T) {
	needNode(t)
	proxy := &liveTailProxy{target: startEmulator(t)}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(liveTailHandlers), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "serverless.yml")
	if err := os.WriteFile(file, []byte(liveTailServerless), 0o644); err != nil {
		t.Fatal(err)
	}
	loaded, err := spec.Load(file, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	progress := &syncBuffer{}
	p, err := aws.New(context.Background(), loaded.Service, aws.Options{Endpoint: srv.URL, Getenv: noEnv, Progress: progress, PollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	zip, info, err := artifact.Build(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	fn, _ := loaded.Service.Function("ticks")
	if _, err := p.Deploy(plainCtx(t), *fn, adapters.Artifact{Zip: zip, SHA256: info.SHA256}); err != nil {
		t.Fatal(err)
	}

	// tail follows one event to its REPORT line; every line must come once.
	tail := func(t *testing.T) (lines []adapters.LogLine, id string) {
		t.Helper()
		inv, err := p.Invoke(plainCtx(t), fn.DeployedName, []byte(`{}`), adapters.InvokeOptions{Async: true})
		if err != nil {
			t.Fatal(err)
		}
		id = inv.RequestID
		c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		stream, err := p.Logs(c, adapters.LogQuery{Function: fn.DeployedName, RequestID: id, Tail: true})
		if err != nil {
			t.Fatal(err)
		}
		defer stream.Close()
		for {
			l, err := stream.Next(c)
			if err != nil {
				t.Fatalf("tail ended early: %v (got %d lines)\nprogress: %s", err, len(lines), progress)
			}
			if l.RequestID != id {
				t.Errorf("a line not of %s: %+v", id, l)
			}
			lines = append(lines, l)
			if strings.HasPrefix(l.Text, "REPORT RequestId: "+id) {
				break
			}
		}
		// Nothing else comes (no late duplicates).
		c2, cancel2 := context.WithTimeout(c, 1500*time.Millisecond)
		defer cancel2()
		if l, err := stream.Next(c2); err == nil {
			t.Errorf("a line after REPORT: %+v", l)
		}
		want := []string{"START RequestId: " + id, "tick 1 of " + id, "tick 2", "tick 3", "END RequestId: " + id, "REPORT RequestId: " + id}
		if len(lines) != len(want) {
			t.Errorf("%d lines, want %d:\n%s", len(lines), len(want), texts(lines))
		}
		for i, w := range want {
			if i < len(lines) && !strings.HasPrefix(lines[i].Text, w) {
				t.Errorf("line %d = %q, want %q", i, lines[i].Text, w)
			}
		}
		return lines, id
	}
	live := func(l adapters.LogLine) bool { return strings.HasPrefix(l.Cursor, "live-") }

	t.Run("live session", func(t *testing.T) {
		liveBefore, filtersBefore := proxy.liveTails.Load(), proxy.filters.Load()
		lines, _ := tail(t)
		if n := proxy.liveTails.Load() - liveBefore; n != 1 {
			t.Errorf("%d StartLiveTail requests, want 1", n)
		}
		// The history before the session takes one FilterLogEvents request;
		// polling every 100 ms for 3 s would take about 30.
		if n := proxy.filters.Load() - filtersBefore; n > 2 {
			t.Errorf("%d FilterLogEvents requests while a live session was open", n)
		}
		// Lines written after the session started came through it.
		for _, l := range lines[2:] {
			if !live(l) {
				t.Errorf("%q did not come from the live session (cursor %q)", l.Text, l.Cursor)
			}
		}
		if got := progress.String(); !strings.Contains(got, "following /aws/lambda/"+fn.DeployedName+" with StartLiveTail") || strings.Contains(got, "polling") {
			t.Errorf("progress: %s", got)
		}
	})

	t.Run("session cut short", func(t *testing.T) {
		proxy.cut.Store(true)
		defer proxy.cut.Store(false)
		lines, _ := tail(t)
		// The session ended after the update with "tick 2"; polling, from
		// the newest line shown, brought the rest without repeating it.
		var sawLive, sawPolled bool
		for _, l := range lines {
			if live(l) {
				if sawPolled {
					t.Errorf("a live line after a polled one: %q", l.Text)
				}
				sawLive = true
			} else if sawLive {
				sawPolled = true
			}
		}
		if !sawLive || !sawPolled || len(lines) < 4 || !live(lines[2]) || live(lines[3]) {
			t.Errorf("want live lines, then polled ones:\n%s", texts(lines))
		}
		if got := progress.String(); !strings.Contains(got, "the live tail of /aws/lambda/"+fn.DeployedName+" ended") {
			t.Errorf("progress: %s", got)
		}
	})
}

func texts(lines []adapters.LogLine) string {
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%s  %s\n", l.Cursor, l.Text)
	}
	return b.String()
}
