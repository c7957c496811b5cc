package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFamily(t *testing.T) {
	cases := map[string]string{
		"nodejs18.x": FamilyNode, "Nodejs16.13": FamilyNode, "NODEJS20.X": FamilyNode,
		"python3.11": FamilyPython, "Python3.9": FamilyPython,
		"provided": FamilyProvided, "provided.al2": FamilyProvided, "Provided.AL2023": FamilyProvided,
		"Go1": FamilyGo, "go1.x": FamilyGo,
		"CustomRuntime": FamilyCustom, "customruntime": FamilyCustom,
	}
	for rt, want := range cases {
		got, err := Family(rt)
		if err != nil || got != want {
			t.Errorf("Family(%q) = %q, %v; want %q", rt, got, err, want)
		}
	}
	for _, rt := range []string{"java8", "Python2.7", "", "php7"} {
		_, err := Family(rt)
		if err == nil {
			t.Errorf("Family(%q): no error", rt)
			continue
		}
		if !strings.Contains(err.Error(), "CustomRuntime") || !strings.Contains(err.Error(), "nodejs") {
			t.Errorf("Family(%q) error does not list the supported runtimes: %v", rt, err)
		}
	}
	if _, err := Start(context.Background(), Config{Runtime: "java8", CodeDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), `"java8"`) {
		t.Errorf("Start with java8: %v", err)
	}
}

// buildLambdaBootstrap builds testdata/lambdabootstrap, a real aws-lambda-go program.
func buildLambdaBootstrap(t *testing.T, dir, name string) {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go toolchain not on PATH")
	}
	cmd := exec.Command(gobin, "build", "-o", filepath.Join(dir, name), "./testdata/lambdabootstrap")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
}

func TestProvidedAWSLambdaGo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program")
	}
	code := t.TempDir()
	buildLambdaBootstrap(t, code, "bootstrap")
	for _, tc := range []struct{ runtime, handler string }{
		{"provided.al2", ""},
		{"Go1", "bootstrap"}, // Go1: the executable named by the handler
	} {
		t.Run(tc.runtime, func(t *testing.T) {
			sink := newSink()
			inst := start(t, Config{Function: "gofn", Runtime: tc.runtime, Handler: tc.handler, CodeDir: code,
				Env: map[string]string{"CUSTOM_VAR": "custom-value"}}, sink)

			var out struct {
				Greeting, FunctionName, RequestID, ARN, Custom string
				RemainingMs                                    int64
				PID                                            int
			}
			deadline := time.Now().Add(20 * time.Second)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			resp, err := inst.Invoke(ctx, Request{RequestID: "req-1", Payload: []byte(`{"name":"ada"}`), Deadline: deadline})
			if err != nil || resp.Error != nil {
				t.Fatalf("Invoke: %v %+v", err, resp.Error)
			}
			if err := json.Unmarshal(resp.Payload, &out); err != nil {
				t.Fatal(err)
			}
			if out.Greeting != "hello ada" || out.FunctionName != "gofn" || out.RequestID != "req-1" || out.Custom != "custom-value" {
				t.Errorf("unexpected result %+v", out)
			}
			if !strings.HasSuffix(out.ARN, ":function:gofn") {
				t.Errorf("ARN %q", out.ARN)
			}
			if out.RemainingMs < 15000 || out.RemainingMs > 20000 {
				t.Errorf("handler saw %d ms remaining; want about 20000", out.RemainingMs)
			}
			if out.PID != inst.PID() {
				t.Errorf("handler pid %d, instance pid %d", out.PID, inst.PID())
			}
			if resp.Duration <= 0 || resp.MaxMemoryMB <= 0 {
				t.Errorf("duration %v, memory %d MB", resp.Duration, resp.MaxMemoryMB)
			}
			l := sink.waitFor(t, "hello from go ada", 5*time.Second)
			if l.RequestID != "req-1" || l.Stream != "stdout" {
				t.Errorf("log line %+v", l)
			}

			// Warm: the same process answers the second invocation, and an error return.
			resp, err = invoke(t, inst, "req-2", `{"name":"bob","fail":true}`)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Error == nil || resp.Error.Message != "asked to fail" || resp.Error.Type != "errorString" {
				t.Fatalf("error result %+v (payload %s)", resp.Error, resp.Payload)
			}
			mustSucceed(t, inst, "req-3", `{"name":"cy"}`, &out)
			if out.PID != inst.PID() || out.RequestID != "req-3" {
				t.Errorf("warm reuse: %+v", out)
			}
		})
	}
}

func TestResponseTooLargeAndAPIErrors(t *testing.T) {
	needInterpreter(t, "python3", "python")
	py := pythonExecutable(t)
	code := t.TempDir()
	// A provided bootstrap in Python speaking the Lambda Runtime API by hand.
	writeFiles(t, code, map[string]string{"bootstrap": `#!` + py + `
import http.client, json, os
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
def call(method, path, body=None):
    c = http.client.HTTPConnection(host, int(port))
    c.request(method, "/2018-06-01/runtime" + path, body=body)
    r = c.getresponse()
    return r.status, r.getheader("Lambda-Runtime-Aws-Request-Id"), r.read()
while True:
    status, rid, body = call("GET", "/invocation/next")
    event = json.loads(body)
    if event.get("big"):
        st, _, _ = call("POST", "/invocation/%s/response" % rid, b"x" * (7 * 1024 * 1024))
        print("big response answered", st, flush=True)
        continue
    wrong, _, wbody = call("POST", "/invocation/not-the-id/response", b"{}")
    unknown, _, _ = call("GET", "/2018-06-01/nothing")
    ok, _, okbody = call("POST", "/invocation/%s/response" % rid, json.dumps({"wrong": wrong, "wrongBody": json.loads(wbody), "unknown": unknown}).encode())
    print("answered", ok, okbody.decode(), flush=True)
`})
	if err := os.Chmod(filepath.Join(code, "bootstrap"), 0o755); err != nil {
		t.Fatal(err)
	}
	sink := newSink()
	inst := start(t, Config{Runtime: "provided", CodeDir: code}, sink)

	var out struct {
		Wrong     int               `json:"wrong"`
		WrongBody map[string]string `json:"wrongBody"`
		Unknown   int               `json:"unknown"`
	}
	mustSucceed(t, inst, "r1", `{}`, &out)
	if out.Wrong != 400 || out.WrongBody["errorType"] == "" || out.Unknown != 404 {
		t.Errorf("API errors: %+v", out)
	}
	sink.waitFor(t, `answered 202 {"status":"OK"}`, 5*time.Second)

	resp, err := invoke(t, inst, "r2", `{"big":true}`)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Error == nil || resp.Error.Type != "Function.ResponseSizeTooLarge" || !strings.Contains(resp.Error.Message, "6291556") {
		t.Fatalf("oversize response: %+v", resp.Error)
	}
	sink.waitFor(t, "big response answered 413", 5*time.Second)
}

func TestCustomRuntime(t *testing.T) {
	needInterpreter(t, "python3", "python")
	py := pythonExecutable(t)
	handler := `
import http.client, json, os
host, port = os.environ["SCF_RUNTIME_API"], int(os.environ["SCF_RUNTIME_API_PORT"])
def call(method, path, body=None):
    c = http.client.HTTPConnection(host, port)
    c.request(method, path, body=body)
    r = c.getresponse()
    return r.status, r.getheaders(), r.read()
early, _, _ = call("POST", "/runtime/invocation/response", b"{}")
print("early response", early, flush=True)
st, _, _ = call("POST", "/runtime/init/ready", b" ")
print("ready", st, flush=True)
while True:
    st, headers, body = call("GET", "/runtime/invocation/next")
    h = dict(headers)
    event = json.loads(body)
    if event.get("fail"):
        st, _, _ = call("POST", "/runtime/invocation/error", b"custom failure")
    else:
        out = {"got": event, "rid": h.get("request_id"), "mem": h.get("memory_limit_in_mb"),
               "tl": h.get("time_limit_in_ms"), "fn": os.environ.get("SCF_FUNCTIONNAME"), "ns": os.environ.get("SCF_NAMESPACE")}
        st, _, _ = call("POST", "/runtime/invocation/response", json.dumps(out).encode())
    print("answered", st, flush=True)
`
	variants := map[string]map[string]string{
		// An executable scf_bootstrap.
		"executable": {"scf_bootstrap": "#!" + py + "\n" + handler},
		// A bash scf_bootstrap that lost its executable bit (run with bash).
		"bash": {"scf_bootstrap": "#!/bin/bash\nexec '" + py + "' \"$USER_CODE_ROOT/handler.py\"\n", "handler.py": handler},
	}
	for name, files := range variants {
		t.Run(name, func(t *testing.T) {
			code := t.TempDir()
			writeFiles(t, code, files)
			if name == "executable" {
				if err := os.Chmod(filepath.Join(code, "scf_bootstrap"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			sink := newSink()
			inst := start(t, Config{Function: "scffn", Runtime: "CustomRuntime", CodeDir: code, MemoryMB: 512, Timeout: 7 * time.Second}, sink)
			var out struct {
				Got                  map[string]any
				Rid, Mem, Tl, Fn, Ns string
			}
			defer func() {
				for _, l := range sink.all() {
					t.Log(l)
				}
			}()
			mustSucceed(t, inst, "scf-1", `{"k":"v"}`, &out)
			if out.Got["k"] != "v" || out.Rid != "scf-1" || out.Mem != "512" || out.Tl != "7000" || out.Fn != "scffn" || out.Ns != "default" {
				t.Errorf("result %+v", out)
			}
			sink.waitFor(t, "early response 400", 5*time.Second)
			sink.waitFor(t, "ready 200", 5*time.Second)
			sink.waitFor(t, "answered 200", 5*time.Second)

			resp, err := invoke(t, inst, "scf-2", `{"fail":true}`)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Error == nil || resp.Error.Message != "custom failure" {
				t.Fatalf("error: %+v", resp.Error)
			}
		})
	}
}

func TestDeadlineAndBusy(t *testing.T) {
	needInterpreter(t, "node", "nodejs")
	code := t.TempDir()
	writeFiles(t, code, map[string]string{"index.js": `
exports.sleepy = () => new Promise((r) => setTimeout(r, 10000));
`})
	inst := start(t, Config{Runtime: "nodejs20.x", Handler: "index.sleepy", CodeDir: code}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	errc := make(chan error, 1)
	begun := time.Now()
	go func() {
		_, err := inst.Invoke(ctx, Request{RequestID: "slow", Payload: []byte(`{}`), Deadline: time.Now().Add(500 * time.Millisecond)})
		errc <- err
	}()
	for !inst.Busy() {
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := inst.Invoke(context.Background(), Request{RequestID: "other"}); !errors.Is(err, ErrBusy) {
		t.Errorf("second Invoke: %v, want ErrBusy", err)
	}
	err := <-errc
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Invoke: %v, want DeadlineExceeded", err)
	}
	if d := time.Since(begun); d > 2*time.Second {
		t.Errorf("Invoke returned after %v", d)
	}
	inst.Terminate(0)
	waitDone(t, inst, 5*time.Second)
	if alive(inst.PID()) {
		t.Error("process still alive after Terminate(0)")
	}
}
