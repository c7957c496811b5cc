package runtime

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// floodSink counts the "flood N" lines an instance delivers and remembers
// those not attributed to the expected request. Once most of the flood has
// arrived it turns slow, as an emulator under load would: the output still in
// the pipe when the function answers then takes far longer than a moment to
// read.
type floodSink struct {
	mu       sync.Mutex
	id       string
	count    int
	slowFrom int
	wrong    []Line
	other    []Line
}

func (s *floodSink) add(l Line) {
	if !strings.HasPrefix(l.Text, "flood ") {
		s.mu.Lock()
		s.other = append(s.other, l)
		s.mu.Unlock()
		return
	}
	s.mu.Lock()
	s.count++
	n := s.count
	if l.RequestID != s.id && len(s.wrong) < 5 {
		s.wrong = append(s.wrong, l)
	}
	s.mu.Unlock()
	if n > s.slowFrom {
		time.Sleep(time.Millisecond)
	}
}

func (s *floodSink) snapshot() (int, []Line, []Line) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count, append([]Line(nil), s.wrong...), append([]Line(nil), s.other...)
}

// scfCurlBootstrap is Tencent's bash example for CustomRuntime (curl -s prints
// the API's answers to stdout), with a flood and a per-invocation line.
const scfCurlBootstrap = `#!/bin/bash
set -euo pipefail
API="http://$SCF_RUNTIME_API:$SCF_RUNTIME_API_PORT"
curl -d " " -X POST -s "$API/runtime/init/ready"
while true
do
  HEADERS="$(mktemp)"
  EVENT_DATA=$(curl -sS -LD "$HEADERS" -X GET -s "$API/runtime/invocation/next")
  echo "handling $EVENT_DATA"
  case "$EVENT_DATA" in
    *flood*) seq 0 $(( FLOOD - 1 )) | sed 's/^/flood /' ;;
  esac
  curl -X POST -s "$API/runtime/invocation/response" -d '"ok"'
done
`

// TestFastOutputKeepsRequestID is issue 9 item 5: a handler that prints
// hundreds of thousands of lines as fast as it can and returns. Every line it
// wrote belongs to its invocation and has been delivered when Invoke returns.
func TestFastOutputKeepsRequestID(t *testing.T) {
	if testing.Short() {
		t.Skip("floods")
	}
	const n = 200000
	type tc struct {
		runtime, handler, payload string
		files                     map[string]string
		env                       map[string]string
		setup                     func(t *testing.T, code string)
	}
	cases := map[string]tc{
		// Node buffers pipe writes in user space: the bootstrap must drain them.
		"node": {runtime: "nodejs20.x", handler: "flood.handler", payload: fmt.Sprintf(`{"n":%d}`, n), files: map[string]string{"flood.js": `
exports.handler = async (event) => {
  const pad = 'x'.repeat(80);
  for (let i = 0; i < event.n; i++) process.stdout.write('flood ' + i + ' ' + pad + '\n');
  process.stderr.write('stderr after the flood\n');
  return 'ok';
};
`}},
		// Python with a buffered stdout (write_through off, for speed): the
		// bootstrap must flush it.
		"python": {runtime: "python3.11", handler: "flood.handler", payload: fmt.Sprintf(`{"n":%d}`, n), files: map[string]string{"flood.py": `
import sys
def handler(event, context):
    sys.stdout.reconfigure(write_through=False)
    pad = "x" * 80
    for i in range(event["n"]):
        sys.stdout.write("flood %d %s\n" % (i, pad))
    sys.stderr.write("stderr after the flood\n")
    return "ok"
`}},
		// A Go binary writes straight to the pipe: what is in the pipe when it
		// answers must be read before the invocation ends.
		"provided": {runtime: "provided.al2", payload: fmt.Sprintf(`{"name":"f","flood":%d}`, n),
			setup: func(t *testing.T, code string) { buildLambdaBootstrap(t, code, "bootstrap") }},
		"custom": {runtime: "CustomRuntime", payload: `{"flood":true}`, env: map[string]string{"FLOOD": fmt.Sprint(n)},
			files: map[string]string{"scf_bootstrap": scfCurlBootstrap},
			setup: func(t *testing.T, code string) {
				if _, err := exec.LookPath("curl"); err != nil {
					t.Skip("curl not installed")
				}
			}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			switch name {
			case "node":
				needInterpreter(t, "node", "nodejs")
			case "python":
				needInterpreter(t, "python3", "python")
			}
			code := t.TempDir()
			writeFiles(t, code, c.files)
			if c.setup != nil {
				c.setup(t, code)
			}
			sink := &floodSink{id: "flood-1", slowFrom: n - 3000}
			inst := start(t, Config{Runtime: c.runtime, Handler: c.handler, CodeDir: code, Env: c.env, OnLog: sink.add}, nil)
			begun := time.Now()
			resp, err := invoke(t, inst, "flood-1", c.payload)
			if err != nil || resp.Error != nil {
				t.Fatalf("Invoke: %v %+v", err, resp.Error)
			}
			count, wrong, other := sink.snapshot()
			t.Logf("%d lines in %v (duration %v)", count, time.Since(begun), resp.Duration)
			if count != n || len(wrong) > 0 {
				t.Errorf("when Invoke returned, %d of %d lines had arrived; misattributed: %+v", count, n, wrong)
			}
			for _, l := range other {
				if name == "custom" && l.Text == `{"status":"OK"}` && l.RequestID == "" {
					// curl prints the answer to its invocation/response POST after
					// the runtime has answered: that line comes after the invocation.
					continue
				}
				if l.RequestID != "flood-1" {
					t.Errorf("line %+v not attributed to the invocation", l)
				}
			}
			inst.Terminate(0)
			if count, wrong, _ := sink.snapshot(); count != n || len(wrong) > 0 {
				t.Errorf("after exit: %d of %d lines; misattributed: %+v", count, n, wrong)
			}
		})
	}
}

// TestOutputBeforeFirstNext is issue 10 item 6: what the process prints while
// it initialises belongs to the invocation that started it, and a bootstrap
// that dies says why in its ExitError.
func TestOutputBeforeFirstNext(t *testing.T) {
	t.Run("node module prints while loading", func(t *testing.T) {
		needInterpreter(t, "node", "nodejs")
		code := t.TempDir()
		writeFiles(t, code, map[string]string{"index.js": "console.log('loading module');\nconsole.error('loading to stderr');\nexports.h = async () => 'ok';\n"})
		sink := newSink()
		inst := start(t, Config{Runtime: "nodejs20.x", Handler: "index.h", CodeDir: code}, sink)
		mustSucceed(t, inst, "load-1", `{}`, nil)
		for _, text := range []string{"loading module", "loading to stderr"} {
			if l := sink.waitFor(t, text, 5*time.Second); l.RequestID != "load-1" {
				t.Errorf("%q: %+v", text, l)
			}
		}
	})
	t.Run("python module prints while loading", func(t *testing.T) {
		needInterpreter(t, "python3", "python")
		code := t.TempDir()
		writeFiles(t, code, map[string]string{"m.py": "print('loading module')\ndef h(event, context):\n    return 'ok'\n"})
		sink := newSink()
		inst := start(t, Config{Runtime: "python3.11", Handler: "m.h", CodeDir: code}, sink)
		time.Sleep(300 * time.Millisecond) // initialised before the invocation arrives
		mustSucceed(t, inst, "load-2", `{}`, nil)
		if l, ok := sink.find("loading module"); !ok || l.RequestID != "load-2" {
			t.Errorf("%+v (found %v)", l, ok)
		}
	})

	crash := "#!/bin/sh\necho \"starting up\"\necho \"fatal: config file /var/task/app.conf is missing\" >&2\nexit 2\n"
	for _, tc := range []struct{ name, runtime, file string }{
		{"provided", "provided.al2", "bootstrap"},
		{"custom", "CustomRuntime", "scf_bootstrap"},
	} {
		for _, wait := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s bootstrap crashes (invoked after the crash: %v)", tc.name, wait), func(t *testing.T) {
				code := t.TempDir()
				writeFiles(t, code, map[string]string{tc.file: crash})
				if err := os.Chmod(filepath.Join(code, tc.file), 0o755); err != nil {
					t.Fatal(err)
				}
				sink := newSink()
				inst := start(t, Config{Runtime: tc.runtime, CodeDir: code}, sink)
				if wait {
					waitDone(t, inst, 5*time.Second)
				}
				_, err := invoke(t, inst, "crash-1", `{}`)
				var ee *ExitError
				if !errors.As(err, &ee) || ee.Code != 2 {
					t.Fatalf("Invoke: %v", err)
				}
				if !strings.Contains(err.Error(), "exited with code 2") || !strings.Contains(err.Error(), "fatal: config file /var/task/app.conf is missing") {
					t.Errorf("the error does not say why: %q", err.Error())
				}
				for _, text := range []string{"starting up", "fatal: config file"} {
					if l, ok := sink.find(text); !ok || l.RequestID != "crash-1" {
						t.Errorf("%q: %+v (found %v)", text, l, ok)
					}
				}
			})
		}
	}
	t.Run("AWS docs bootstrap under dash", func(t *testing.T) {
		dash, err := exec.LookPath("dash")
		if err != nil {
			t.Skip("dash not installed")
		}
		code := t.TempDir()
		// The tutorial's first lines, run by a POSIX sh without pipefail.
		writeFiles(t, code, map[string]string{"bootstrap": "#!" + dash + "\nset -euo pipefail\nsource $LAMBDA_TASK_ROOT/\"$(echo $_HANDLER | cut -d. -f1).sh\"\n"})
		if err := os.Chmod(filepath.Join(code, "bootstrap"), 0o755); err != nil {
			t.Fatal(err)
		}
		sink := newSink()
		inst := start(t, Config{Runtime: "provided.al2", Handler: "function.handler", CodeDir: code}, sink)
		_, err = invoke(t, inst, "dash-1", `{}`)
		if err == nil || !strings.Contains(err.Error(), "Illegal option -o pipefail") {
			t.Fatalf("Invoke: %v", err)
		}
		if l, ok := sink.find("Illegal option"); !ok || l.RequestID != "dash-1" {
			t.Errorf("%+v (found %v)", l, ok)
		}
	})
}

// TestLineBelongsToInvocationWhereItEnds is issue 10 item 9: a line is
// attributed to the invocation running when it is completed, and the API's
// answers end with a newline, so a shell bootstrap that prints them with
// curl -s does not glue them to the handler's first line.
func TestLineBelongsToInvocationWhereItEnds(t *testing.T) {
	t.Run("custom bootstrap with curl", func(t *testing.T) {
		if _, err := exec.LookPath("curl"); err != nil {
			t.Skip("curl not installed")
		}
		code := t.TempDir()
		writeFiles(t, code, map[string]string{"scf_bootstrap": scfCurlBootstrap})
		if err := os.Chmod(filepath.Join(code, "scf_bootstrap"), 0o755); err != nil {
			t.Fatal(err)
		}
		sink := newSink()
		inst := start(t, Config{Runtime: "CustomRuntime", CodeDir: code}, sink)
		for i := 1; i <= 3; i++ {
			id, payload := fmt.Sprintf("curl-%d", i), fmt.Sprintf(`{"n":%d}`, i)
			var out string
			mustSucceed(t, inst, id, payload, &out)
			want := "handling " + payload
			var got []Line
			for _, l := range sink.all() {
				if strings.Contains(l.Text, want) {
					got = append(got, l)
				}
			}
			if len(got) != 1 || got[0].Text != want || got[0].RequestID != id {
				t.Errorf("invocation %s: lines %+v, want one %q", id, got, want)
			}
		}
	})
	t.Run("partial line completed in the next invocation", func(t *testing.T) {
		needInterpreter(t, "python3", "python")
		py := pythonExecutable(t)
		code := t.TempDir()
		writeFiles(t, code, map[string]string{"bootstrap": "#!" + py + `
import http.client, os, sys
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
def call(method, path, body=None):
    c = http.client.HTTPConnection(host, int(port))
    c.request(method, "/2018-06-01/runtime" + path, body=body)
    r = c.getresponse()
    return r.getheader("Lambda-Runtime-Aws-Request-Id"), r.read()
while True:
    sys.stdout.write("begun before next, ")
    sys.stdout.flush()
    rid, _ = call("GET", "/invocation/next")
    sys.stdout.write("finished in " + rid + "\n")
    sys.stdout.write("unfinished when answering " + rid)
    sys.stdout.flush()
    call("POST", "/invocation/%s/response" % rid, b'"ok"')
    sys.stdout.write("\n")
`})
		if err := os.Chmod(filepath.Join(code, "bootstrap"), 0o755); err != nil {
			t.Fatal(err)
		}
		sink := newSink()
		inst := start(t, Config{Runtime: "provided", CodeDir: code}, sink)
		for _, id := range []string{"part-1", "part-2"} {
			mustSucceed(t, inst, id, `{}`, nil)
			want := "begun before next, finished in " + id
			if l, ok := sink.find(want); !ok || l.RequestID != id {
				t.Errorf("%q: %+v (found %v)", want, l, ok)
			}
			// Output still without a newline when the runtime answers is
			// the invocation's: it is cut there.
			want = "unfinished when answering " + id
			if l, ok := sink.find(want); !ok || l.RequestID != id || l.Text != want {
				t.Errorf("%q: %+v (found %v)", want, l, ok)
			}
		}
	})
}
