package runtime

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

const pythonCode = `
import asyncio, os, signal, subprocess, sys, time

def plain(event, context):
    return {"echo": event, "fn": context.function_name, "rid": context.aws_request_id,
            "scf_rid": context["request_id"], "mem": context.memory_limit_in_mb,
            "arn": context.invoked_function_arn, "ver": context.function_version}

async def asyn(event, context):
    await asyncio.sleep(0.01)
    return {"kind": "async", "rid": context.request_id}

class QuotaError(Exception):
    pass

def fail(event, context):
    raise QuotaError("over quota")

def printer(event, context):
    print("printed early", context.aws_request_id)
    time.sleep(1)
    print("printed last")
    return "ok"

def remaining(event, context):
    return context.get_remaining_time_in_millis()

def environ(event, context):
    return dict(os.environ)

def exit3(event, context):
    os._exit(3)

def segv(event, context):
    import ctypes
    ctypes.string_at(0)

def spawn(event, context):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    p = subprocess.Popen(["sleep", "1000"])
    print("child", p.pid)
    time.sleep(1000)
`

func TestPythonHandlers(t *testing.T) {
	needInterpreter(t, "python3", "python")
	code := t.TempDir()
	writeFiles(t, code, map[string]string{
		"handler.py":   pythonCode,
		"pkg/mod.py":   "def hello(event, context):\n    return 'hello ' + event['name']\n",
		"broken.py":    "import does_not_exist_anywhere\n",
		"syntaxerr.py": "def f(:\n",
	})
	startPy := func(t *testing.T, handler string, sink *logSink, env map[string]string) *Instance {
		return start(t, Config{Function: "pyfn", Runtime: "Python3.9", Handler: handler, CodeDir: code, Env: env}, sink)
	}

	t.Run("def and context", func(t *testing.T) {
		inst := startPy(t, "handler.plain", nil, nil)
		var out struct {
			Echo              map[string]any
			Fn, Rid, Arn, Ver string
			ScfRid            string `json:"scf_rid"`
			Mem               int
		}
		for _, id := range []string{"p-1", "p-2"} { // warm reuse
			mustSucceed(t, inst, id, `{"a":"b"}`, &out)
			if out.Echo["a"] != "b" || out.Fn != "pyfn" || out.Rid != id || out.ScfRid != id || out.Mem != 256 || out.Ver != "$LATEST" ||
				!strings.HasSuffix(out.Arn, ":function:pyfn") {
				t.Errorf("%+v", out)
			}
		}
	})
	t.Run("async def", func(t *testing.T) {
		var out struct{ Kind, Rid string }
		mustSucceed(t, startPy(t, "handler.asyn", nil, nil), "as-1", `{}`, &out)
		if out.Kind != "async" || out.Rid != "as-1" {
			t.Errorf("%+v", out)
		}
	})
	t.Run("module paths", func(t *testing.T) {
		for _, h := range []string{"pkg.mod.hello", "pkg/mod.hello"} {
			var s string
			mustSucceed(t, startPy(t, h, nil, nil), "m-1", `{"name":"py"}`, &s)
			if s != "hello py" {
				t.Errorf("%s: %q", h, s)
			}
		}
	})
	t.Run("exception", func(t *testing.T) {
		sink := newSink()
		resp, err := invoke(t, startPy(t, "handler.fail", sink, nil), "f-1", `{}`)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Error == nil || resp.Error.Type != "QuotaError" || resp.Error.Message != "over quota" || len(resp.Error.Trace) == 0 {
			t.Fatalf("%+v", resp.Error)
		}
		if l := sink.waitFor(t, "QuotaError", 5*time.Second); l.RequestID != "f-1" || l.Stream != "stderr" {
			t.Errorf("error log line %+v", l)
		}
	})
	t.Run("init errors", func(t *testing.T) {
		for handler, wantType := range map[string]string{
			"broken.f":       "Runtime.ImportModuleError",
			"syntaxerr.f":    "Runtime.UserCodeSyntaxError",
			"handler.absent": "Runtime.HandlerNotFound",
		} {
			_, err := invoke(t, startPy(t, handler, nil, nil), "i-1", `{}`)
			var ee *ExitError
			if !errors.As(err, &ee) || ee.InitError == nil || ee.InitError.Type != wantType || ee.Code != 1 {
				t.Errorf("%s: %v", handler, err)
			}
		}
	})
	t.Run("print arrives at once", func(t *testing.T) {
		sink := newSink()
		inst := startPy(t, "handler.printer", sink, nil)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if _, err := invoke(t, inst, "pr-1", `{}`); err != nil {
				t.Error(err)
			}
		}()
		l := sink.waitFor(t, "printed early pr-1", 5*time.Second)
		select {
		case <-done:
			t.Fatal("the line was only seen after the handler returned")
		default:
		}
		if l.RequestID != "pr-1" {
			t.Errorf("%+v", l)
		}
		<-done
		if l, ok := sink.find("printed last"); !ok || l.RequestID != "pr-1" {
			t.Errorf("last line %+v %v", l, ok)
		}
	})
	t.Run("remaining time", func(t *testing.T) {
		var ms int64
		mustSucceed(t, startPy(t, "handler.remaining", nil, nil), "r-1", `{}`, &ms)
		if ms < 18000 || ms > 20000 {
			t.Errorf("get_remaining_time_in_millis = %d, want about 20000", ms)
		}
	})
	t.Run("clean environment", func(t *testing.T) {
		t.Setenv("ASYNCFN_LEAK_MARKER", "leaked")
		var env map[string]string
		inst := startPy(t, "handler.environ", nil, map[string]string{"DECLARED": "yes", "TZ": "Asia/Shanghai"})
		mustSucceed(t, inst, "env-1", `{}`, &env)
		if _, ok := env["ASYNCFN_LEAK_MARKER"]; ok {
			t.Error("the emulator's environment leaked into the function")
		}
		want := map[string]string{
			"DECLARED": "yes", "TZ": "Asia/Shanghai", "AWS_LAMBDA_FUNCTION_NAME": "pyfn", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
			"AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_REGION": "ap-guangzhou", "SCF_FUNCTIONNAME": "pyfn",
			"SCF_FUNCTIONVERSION": "$LATEST", "SCF_RUNTIME": "Python3.9", "TENCENTCLOUD_REGION": "ap-guangzhou",
			"LAMBDA_TASK_ROOT": code, "_HANDLER": "handler.environ", "PYTHONUNBUFFERED": "1",
			"AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/pyfn",
		}
		for k, v := range want {
			if env[k] != v {
				t.Errorf("%s = %q, want %q", k, env[k], v)
			}
		}
		for _, k := range []string{"AWS_LAMBDA_RUNTIME_API", "SCF_RUNTIME_API_PORT", "AWS_LAMBDA_LOG_STREAM_NAME", "PATH", "HOME", "TMPDIR"} {
			if env[k] == "" {
				t.Errorf("%s not set", k)
			}
		}
		if env["SCF_RUNTIME_API_PORT"] != strings.TrimPrefix(env["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:") {
			t.Errorf("ports differ: %q %q", env["SCF_RUNTIME_API_PORT"], env["AWS_LAMBDA_RUNTIME_API"])
		}
		if strings.Contains(env["PATH"], os.Getenv("PATH")) && os.Getenv("PATH") != "" && !strings.HasPrefix(os.Getenv("PATH"), "/usr/local/bin:/usr/bin:/bin") {
			t.Errorf("the emulator's PATH leaked: %q", env["PATH"])
		}
	})
	t.Run("exit and segfault", func(t *testing.T) {
		_, err := invoke(t, startPy(t, "handler.exit3", nil, nil), "x-1", `{}`)
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Code != 3 || ee.Signal != "" {
			t.Errorf("exit: %v", err)
		}
		_, err = invoke(t, startPy(t, "handler.segv", nil, nil), "x-2", `{}`)
		if !errors.As(err, &ee) || ee.Signal != "SIGSEGV" || ee.Code != -1 {
			t.Errorf("segfault: %v", err)
		}
	})
	t.Run("terminate kills the process group", func(t *testing.T) {
		sink := newSink()
		inst := startPy(t, "handler.spawn", sink, nil)
		go func() { _, _ = invoke(t, inst, "sp-1", `{}`) }()
		l := sink.waitFor(t, "child ", 5*time.Second)
		child, err := strconv.Atoi(strings.TrimPrefix(l.Text, "child "))
		if err != nil {
			t.Fatal(err)
		}
		if !alive(child) {
			t.Fatal("child not running")
		}
		if inst.MemoryMB() <= 0 {
			t.Error("MemoryMB of a running instance is 0")
		}
		inst.Terminate(0) // the handler ignores SIGTERM; SIGKILL needs no grace
		waitDone(t, inst, time.Second)
		deadline := time.Now().Add(2 * time.Second)
		for alive(child) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(inst.PID()) || alive(child) {
			t.Errorf("alive after Terminate(0): leader %v, child %v", alive(inst.PID()), alive(child))
		}
	})
	t.Run("grace runs out", func(t *testing.T) {
		sink := newSink()
		inst := startPy(t, "handler.spawn", sink, nil)
		go func() { _, _ = invoke(t, inst, "sp-2", `{}`) }()
		sink.waitFor(t, "child ", 5*time.Second)
		begun := time.Now()
		inst.Terminate(300 * time.Millisecond) // SIGTERM is ignored: SIGKILL after the grace
		if d := time.Since(begun); d < 300*time.Millisecond || d > 3*time.Second {
			t.Errorf("Terminate took %v", d)
		}
		if alive(inst.PID()) {
			t.Error("leader alive")
		}
	})
}

func TestMemoryPeak(t *testing.T) {
	needInterpreter(t, "python3", "python")
	code := t.TempDir()
	writeFiles(t, code, map[string]string{"m.py": `
import time
def h(event, context):
    b = bytearray(80 * 1024 * 1024)
    for i in range(0, len(b), 4096):
        b[i] = 1
    time.sleep(1.5)  # six sampling intervals, so a loaded machine still samples the peak
    return len(b)
`})
	inst := start(t, Config{Runtime: "python3.11", Handler: "m.h", CodeDir: code}, nil)
	resp := mustSucceed(t, inst, "mem-1", `{}`, nil)
	if resp.MaxMemoryMB < 80 || resp.MaxMemoryMB > 400 {
		t.Errorf("MaxMemoryMB = %d, want a little over 80", resp.MaxMemoryMB)
	}
	t.Logf("MaxMemoryMB = %d", resp.MaxMemoryMB)
}

func TestLongLinesAndFlood(t *testing.T) {
	needInterpreter(t, "python3", "python")
	code := t.TempDir()
	writeFiles(t, code, map[string]string{"flood.py": `
import sys
def h(event, context):
    sys.stdout.write("L" * (600 * 1024) + "\n")
    for i in range(20000):
        sys.stdout.write("line %d %s\n" % (i, "x" * 500))
    sys.stdout.write("tail without newline")
    return "ok"
`})
	sink := newSink()
	inst := start(t, Config{Runtime: "python3.11", Handler: "flood.h", CodeDir: code}, sink)
	mustSucceed(t, inst, "fl-1", `{}`, nil)
	inst.Terminate(0) // drains the pipes
	var long []int
	count, tail := 0, false
	for _, l := range sink.all() {
		switch {
		case strings.HasPrefix(l.Text, "L"):
			long = append(long, len(l.Text))
		case strings.HasPrefix(l.Text, "line "):
			count++
			if l.RequestID != "fl-1" {
				t.Fatalf("line attributed to %q", l.RequestID)
			}
		case l.Text == "tail without newline":
			tail = l.RequestID == "fl-1"
		}
	}
	if len(long) != 3 || long[0] != maxLineBytes || long[1] != maxLineBytes || long[2] != 600*1024-2*maxLineBytes {
		t.Errorf("long line split into %v", long)
	}
	if count != 20000 || !tail {
		t.Errorf("%d lines, tail attributed: %v", count, tail)
	}
}
