package e2e

// invoke --each and events wait (issue 17), from the built binary against
// `asyncfn local start`.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// batchHandler fails the inputs that ask to, with their number in the error.
const batchHandler = `exports.work = async (e) => {
  if (e.fail) { throw new Error("input " + e.n + " asked to fail"); }
  return { n: e.n };
};
`

// batchService writes a service with one function, work (no retries, so a
// failing input fails once), and returns the serverless.yml path.
func batchService(t *testing.T, reserved int) string {
	t.Helper()
	dir := t.TempDir()
	yml := "service: batch\nprovider:\n  name: aws\n  runtime: nodejs18.x\n  region: us-east-1\n  iam:\n    role: arn:aws:iam::000000000000:role/batch\n" +
		"functions:\n  work:\n    handler: index.work\n    timeout: 30\n    maximumRetryAttempts: 0\n"
	if reserved > 0 {
		yml += fmt.Sprintf("    reservedConcurrency: %d\n", reserved)
	}
	for name, body := range map[string]string{"serverless.yml": yml, "index.js": batchHandler} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "serverless.yml")
}

// batchInputs writes n JSON lines {"n":i}, with "fail":true where fail(i).
func batchInputs(t *testing.T, n int, fail func(int) bool) string {
	t.Helper()
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "{\"n\":%d,\"fail\":%v}\n", i, fail(i))
	}
	p := filepath.Join(t.TempDir(), "inputs.jsonl")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func localEnv(url string) []string { return append(awsEnv(), "ASYNCFN_LOCAL_URL="+url) }

func lines(s string) []string { return strings.Fields(s) }

// eventCount is how many events fn has, as events list reports its total.
func eventCount(t *testing.T, env []string, yml string) int {
	t.Helper()
	r := mustRun(t, env, "-c", yml, "--local", "events", "list", "-f", "work", "--limit", "1", "-o", "json")
	var page struct{ Total int }
	if err := json.Unmarshal([]byte(r.stdout), &page); err != nil {
		t.Fatalf("events list -o json: %v\n%s", err, r.stdout)
	}
	return page.Total
}

// 1,000 inputs, some failing by their input: 1,000 ids in input order, and
// events wait exits 1 naming exactly the failing ones.
func TestBatchEachAndWait(t *testing.T) {
	needNode(t)
	em := startLocal(t, freePort(t), t.TempDir())
	env := localEnv(em.url)
	yml := batchService(t, 0)
	mustRun(t, env, "-c", yml, "--local", "deploy")
	const n = 1000
	failing := func(i int) bool { return i%97 == 13 }
	in := batchInputs(t, n, failing)

	r := mustRun(t, env, "-c", yml, "--local", "invoke", "-f", "work", "--async", "--each", in)
	ids := lines(r.stdout)
	t.Logf("invoke --each of %d inputs: %s; stderr: %s", n, r.took, strings.TrimSpace(r.stderr))
	if len(ids) != n || len(slices.Compact(slices.Sorted(slices.Values(ids)))) != n {
		t.Fatalf("invoke --each printed %d ids (%d distinct), want %d", len(ids), len(slices.Compact(slices.Sorted(slices.Values(ids)))), n)
	}
	var wantFailed []string
	for i, id := range ids {
		if failing(i) {
			wantFailed = append(wantFailed, id)
		}
	}

	idFile := filepath.Join(t.TempDir(), "ids.txt")
	if err := os.WriteFile(idFile, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	w := runBinary(t, env, "-c", yml, "--local", "events", "wait", "-f", "work", "--from", idFile, "--timeout", "3m")
	t.Logf("events wait: exit %d in %s; stderr tail: %s", w.code, w.took, tail(w.stderr, 3))
	if w.code != 1 {
		t.Fatalf("events wait exited %d, want 1 (some failed)\nstdout: %s\nstderr: %s", w.code, w.stdout, w.stderr)
	}
	var gotFailed []string
	for _, l := range strings.Split(strings.TrimSpace(w.stdout), "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 3 || f[1] != "FAILED" || !strings.Contains(f[2], "asked to fail") {
			t.Errorf("failure line %q: want ID, FAILED, the error", l)
		}
		gotFailed = append(gotFailed, f[0])
	}
	if !slices.Equal(gotFailed, wantFailed) {
		t.Fatalf("events wait named %v, want exactly the failing inputs' ids %v", gotFailed, wantFailed)
	}
	// Each failing id's error names its own input: the ids are in input order.
	for i, id := range ids {
		if failing(i) && !strings.Contains(w.stdout, fmt.Sprintf("%s\tFAILED\tError: input %d asked to fail", id, i)) {
			t.Errorf("input %d's id %s does not carry input %d's error", i, id, i)
		}
	}
	// And the succeeded ones returned their own input.
	for _, i := range []int{0, 1, 499, 998, 999} {
		var res struct{ N int }
		if ev := getBatchEvent(t, env, yml, ids[i]); json.Unmarshal(ev.Result, &res) != nil || res.N != i {
			t.Errorf("input %d's id %s returned %s", i, ids[i], ev.Result)
		}
	}
	// Not a line on stderr per poll per event: plain progress lines (stderr
	// is not a terminal here), failures as they happened, a summary.
	if !strings.Contains(w.stderr, "wait: ") || !strings.Contains(w.stderr, fmt.Sprintf("SUCCEEDED %d, FAILED %d", n-len(wantFailed), len(wantFailed))) {
		t.Errorf("stderr lacks progress or the counts:\n%s", w.stderr)
	}

	// --output json: the summary; ids given as arguments.
	j := runBinary(t, env, "-c", yml, "--local", "events", "wait", "-f", "work", ids[0], ids[13], ids[500], "-o", "json")
	var sum struct {
		Total    int
		ByStatus map[string]int
		P50Ms    *int64
		P95Ms    *int64
		MaxMs    *int64
		Failed   []struct{ RequestID, Status, ErrorType, ErrorMessage string }
	}
	if err := json.Unmarshal([]byte(j.stdout), &sum); err != nil || j.code != 1 {
		t.Fatalf("events wait -o json: exit %d, %v\n%s", j.code, err, j.stdout)
	}
	if sum.Total != 3 || sum.ByStatus["SUCCEEDED"] != 2 || sum.ByStatus["FAILED"] != 1 || len(sum.Failed) != 1 || sum.Failed[0].RequestID != ids[13] ||
		sum.Failed[0].ErrorMessage != "input 13 asked to fail" || sum.P50Ms == nil || sum.P95Ms == nil || sum.MaxMs == nil {
		t.Errorf("summary %s", j.stdout)
	}
	// All succeeded: exit 0, nothing on stdout.
	if ok := runBinary(t, env, "-c", yml, "--local", "events", "wait", "-f", "work", ids[0], ids[1]); ok.code != 0 || ok.stdout != "" {
		t.Errorf("events wait of two succeeded events: exit %d, stdout %q", ok.code, ok.stdout)
	}
	// Usage errors exit 2.
	if u := runBinary(t, env, "-c", yml, "--local", "events", "wait", "-f", "work"); u.code != 2 {
		t.Errorf("events wait without ids: exit %d, want 2", u.code)
	}
	if u := runBinary(t, env, "-c", yml, "--local", "invoke", "-f", "work", "--each", in); u.code != 2 || !strings.Contains(u.stderr, "--async") {
		t.Errorf("--each without --async: exit %d, %s", u.code, u.stderr)
	}
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	os.WriteFile(bad, []byte("{\"n\":1}\n\n{\"n\":\n"), 0o644)
	if u := runBinary(t, env, "-c", yml, "--local", "invoke", "-f", "work", "--async", "--each", bad); u.code != 2 || !strings.Contains(u.stderr, "line 3") || u.stdout != "" {
		t.Errorf("a bad input line: exit %d, stdout %q, stderr %s", u.code, u.stdout, u.stderr)
	}
}

type batchEvent struct {
	Status string
	Result json.RawMessage
}

func getBatchEvent(t *testing.T, env []string, yml, id string) batchEvent {
	t.Helper()
	r := mustRun(t, env, "-c", yml, "--local", "events", "get", id, "-f", "work", "-o", "json")
	var ev batchEvent
	if err := json.Unmarshal([]byte(r.stdout), &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func tail(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(len(l)-n, 0):], " | ")
}

// --output json and a JSON array on stdin: one line per input, its index,
// line and id.
func TestBatchEachJSONFromStdin(t *testing.T) {
	needNode(t)
	em := startLocal(t, freePort(t), t.TempDir())
	env := localEnv(em.url)
	yml := batchService(t, 0)
	mustRun(t, env, "-c", yml, "--local", "deploy")
	cmd := exec.Command(binary, "-c", yml, "--local", "invoke", "-f", "work", "--async", "--each", "-", "-o", "json", "--rate", "200")
	cmd.Env = env
	cmd.Stdin = strings.NewReader("[\n  {\"n\": 0},\n  {\"n\": 1},\n  {\"n\": 2}\n]\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(got) != 3 {
		t.Fatalf("want 3 lines:\n%s", out)
	}
	for i, l := range got {
		var v struct {
			Index, Line int
			RequestID   string
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil || v.Index != i || v.Line != i+2 || len(v.RequestID) != 36 {
			t.Errorf("line %d = %s (%v)", i, l, err)
		}
	}
	// The JSON lines feed events wait as they are.
	w := exec.Command(binary, "-c", yml, "--local", "events", "wait", "-f", "work", "--from", "-")
	w.Env, w.Stdin = env, bytes.NewReader(out)
	if b, err := w.CombinedOutput(); err != nil || !strings.Contains(string(b), "SUCCEEDED 3") {
		t.Fatalf("events wait --from - of the JSON lines: %v\n%s", err, b)
	}
}

// SIGINT in the middle of a fan-out: every id the emulator handed out is
// printed, in input order, before the command exits 130.
func TestBatchEachInterrupt(t *testing.T) {
	needNode(t)
	em := startLocal(t, freePort(t), t.TempDir())
	env := localEnv(em.url)
	yml := batchService(t, 0)
	mustRun(t, env, "-c", yml, "--local", "deploy")
	in := batchInputs(t, 5000, func(int) bool { return false })
	cmd := exec.Command(binary, "-c", yml, "--local", "invoke", "-f", "work", "--async", "--each", in, "--rate", "400", "--max-in-flight", "8")
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	code := -1
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	ids := lines(out.String())
	t.Logf("interrupted after %d ids; stderr: %s", len(ids), strings.TrimSpace(errb.String()))
	if code != 130 || !strings.Contains(errb.String(), "interrupted") {
		t.Fatalf("exit %d (%v), want 130 with a note; stderr: %s", code, err, errb.String())
	}
	if len(ids) == 0 || len(ids) >= 5000 {
		t.Fatalf("%d ids printed: the interrupt was not mid-fan-out", len(ids))
	}
	// Nothing the emulator accepted is missing from stdout.
	if total := eventCount(t, env, yml); total != len(ids) {
		t.Fatalf("the emulator has %d events, %d ids were printed", total, len(ids))
	}
	if !strings.Contains(errb.String(), fmt.Sprintf("the first not sent is input %d", len(ids)+1)) {
		t.Errorf("stderr does not say where to resume: %s", errb.String())
	}
	// In input order: input i's event got {"n": i}.
	for _, i := range []int{0, len(ids) / 2, len(ids) - 1} {
		r := mustRun(t, env, "-c", yml, "--local", "events", "get", ids[i], "-f", "work", "-o", "json")
		var ev struct{ RequestID string }
		json.Unmarshal([]byte(r.stdout), &ev)
		if ev.RequestID != ids[i] {
			t.Errorf("id %s: %s", ids[i], r.stdout)
		}
	}
}

// throttler is a proxy in front of the emulator that refuses every third
// async invoke with the provider's throttling answer, without forwarding
// it: the emulator queues async invokes rather than throttle them (as
// Lambda and SCF do under reserved concurrency), so the throttles the
// retry must handle are made here, in each API's own wire form.
type throttler struct {
	proxy *httputil.ReverseProxy
	mu    sync.Mutex
	seen  int
	sent  int // throttles answered
}

func newThrottler(t *testing.T, target string) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&throttler{proxy: httputil.NewSingleHostReverseProxy(u)})
	t.Cleanup(srv.Close)
	return srv.URL
}

func (th *throttler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	native := r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/invocations") && r.URL.Query().Get("type") == "Event"
	lambda := r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/2015-03-31/functions/") && r.Header.Get("X-Amz-Invocation-Type") == "Event"
	if native || lambda {
		th.mu.Lock()
		th.seen++
		throttle := th.seen%3 == 0
		if throttle {
			th.sent++
		}
		th.mu.Unlock()
		if throttle {
			io.Copy(io.Discard, r.Body)
			if native {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				io.WriteString(w, `{"error":{"code":"Throttled","message":"function is at its reserved concurrency"}}`)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Amzn-Errortype", "TooManyRequestsException")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"Type":"User","message":"Rate Exceeded.","Reason":"ReservedFunctionConcurrentInvocationLimitExceeded"}`)
			return
		}
	}
	th.proxy.ServeHTTP(w, r)
}

// A function with a small reservedConcurrency, and throttled invokes (on
// the native API and on Lambda's): every input is sent exactly once, the
// retries are reported, and every event finishes.
func TestBatchEachThrottled(t *testing.T) {
	needNode(t)
	em := startLocal(t, freePort(t), t.TempDir())
	yml := batchService(t, 2)
	mustRun(t, localEnv(em.url), "-c", yml, "--local", "deploy")
	const n = 150
	in := batchInputs(t, n, func(int) bool { return false })
	total := 0
	for _, via := range []string{"native", "lambda"} {
		t.Run(via, func(t *testing.T) {
			proxy := newThrottler(t, em.url)
			args := []string{"-c", yml, "--endpoint", proxy, "invoke", "-f", "work", "--async", "--each", in, "--max-in-flight", "4"}
			env := awsEnv("AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=x")
			if via == "native" {
				args = append([]string{"--local"}, args...)
				env = localEnv(proxy)
			}
			r := mustRun(t, env, args...)
			ids := lines(r.stdout)
			t.Logf("%s: %d ids in %s; stderr: %s", via, len(ids), r.took, strings.TrimSpace(r.stderr))
			if len(ids) != n || len(slices.Compact(slices.Sorted(slices.Values(ids)))) != n {
				t.Fatalf("%d ids, want %d distinct", len(ids), n)
			}
			// Through Lambda's API the AWS SDK's own retryer takes the
			// throttles first (and --each any it gives up on); through the
			// native API --each sees them all.
			if via == "native" && !strings.Contains(r.stderr, "throttled invoke(s) retried") {
				t.Errorf("stderr does not report the retried throttles: %s", r.stderr)
			}
			total += n
			if got := eventCount(t, localEnv(em.url), yml); got != total {
				t.Fatalf("the emulator has %d events, want %d: an input dropped or sent twice", got, total)
			}
			idFile := filepath.Join(t.TempDir(), "ids")
			os.WriteFile(idFile, []byte(r.stdout), 0o644)
			mustRun(t, localEnv(em.url), "-c", yml, "--local", "events", "wait", "-f", "work", "--from", idFile, "--timeout", "2m")
		})
	}
}
