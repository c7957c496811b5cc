package runtime

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const nodeCode = `
exports.sync = (event) => ({ kind: 'sync', echo: event });
exports.cb = (event, context, callback) => setTimeout(() => callback(null, { kind: 'cb', id: context.awsRequestId }), 10);
exports.asyncH = async (event, context) => ({
  kind: 'async', fn: context.functionName, mem: context.memoryLimitInMB, arn: context.invokedFunctionArn,
  reqId: context.requestId, ver: context.functionVersion, scfRid: context.request_id,
});
exports.throws = async () => {
  class MyError extends Error { constructor(m) { super(m); this.name = 'MyError'; } }
  throw new MyError('boom');
};
exports.cbErr = (event, context, callback) => callback(new TypeError('bad input'));
exports.remaining = (event, context) => ({ ms: context.getRemainingTimeInMillis() });
exports.slowlog = async (event, context) => {
  console.log('working on ' + context.awsRequestId);
  console.error('to stderr');
  await new Promise((r) => setTimeout(r, 1000));
  console.log('last words');
  return 'done';
};
exports.exit3 = () => { process.exit(3); };
exports.neverCalls = (event, context, callback) => { setTimeout(() => console.log('timer ran for ' + context.awsRequestId), 50); };
exports.neverCallsNothingPending = (event, context, callback) => {};
exports.neverSettles = async () => { await new Promise(() => {}); };
exports.sigterm = async () => {
  process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(0); });
  console.log('waiting for a signal');
  await new Promise(() => setInterval(() => {}, 1000));
};
`

func TestNodeHandlers(t *testing.T) {
	needInterpreter(t, "node", "nodejs")
	code := t.TempDir()
	writeFiles(t, code, map[string]string{
		"index.js":        nodeCode,
		"lib/esm.mjs":     "export const handler = async (event) => ({ esm: true, got: event });\n",
		"bad.js":          "exports.x = (;\n",
		"nested/deep.js":  "exports.main_handler = (event, context) => 'deep ' + context.functionName;\n",
		"throwsAtLoad.js": "throw new RangeError('no config');\n",
	})
	startNode := func(t *testing.T, handler string, sink *logSink) *Instance {
		return start(t, Config{Function: "nodefn", Version: 3, Runtime: "Nodejs16.13", Handler: handler, CodeDir: code}, sink)
	}

	t.Run("sync and warm reuse", func(t *testing.T) {
		inst := startNode(t, "index.sync", nil)
		var out struct {
			Kind string
			Echo map[string]any
		}
		mustSucceed(t, inst, "a1", `{"n":1}`, &out)
		if out.Kind != "sync" || out.Echo["n"] != float64(1) {
			t.Errorf("%+v", out)
		}
		pid := inst.PID()
		mustSucceed(t, inst, "a2", `{"n":2}`, &out)
		if out.Echo["n"] != float64(2) || inst.PID() != pid {
			t.Errorf("second: %+v", out)
		}
	})
	t.Run("callback", func(t *testing.T) {
		var out struct{ Kind, ID string }
		mustSucceed(t, startNode(t, "index.cb", nil), "cb-1", `{}`, &out)
		if out.Kind != "cb" || out.ID != "cb-1" {
			t.Errorf("%+v", out)
		}
	})
	t.Run("async and context", func(t *testing.T) {
		var out struct{ Kind, Fn, Mem, Arn, ReqID, Ver, ScfRid string }
		mustSucceed(t, startNode(t, "index.asyncH", nil), "as-1", `{}`, &out)
		if out.Kind != "async" || out.Fn != "nodefn" || out.Mem != "256" || out.ReqID != "as-1" || out.ScfRid != "as-1" || out.Ver != "3" ||
			!strings.HasSuffix(out.Arn, ":function:nodefn") {
			t.Errorf("%+v", out)
		}
	})
	t.Run("ESM and nested paths", func(t *testing.T) {
		var out struct{ Esm bool }
		mustSucceed(t, startNode(t, "lib/esm.handler", nil), "e-1", `{}`, &out)
		if !out.Esm {
			t.Errorf("%+v", out)
		}
		var s string
		mustSucceed(t, startNode(t, "nested/deep.main_handler", nil), "d-1", `{}`, &s)
		if s != "deep nodefn" {
			t.Errorf("%q", s)
		}
	})
	t.Run("errors", func(t *testing.T) {
		for handler, want := range map[string]FunctionError{
			"index.throws": {Type: "MyError", Message: "boom"},
			"index.cbErr":  {Type: "TypeError", Message: "bad input"},
		} {
			resp, err := invoke(t, startNode(t, handler, nil), "err-1", `{}`)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Error == nil || resp.Error.Type != want.Type || resp.Error.Message != want.Message || len(resp.Error.Trace) == 0 {
				t.Errorf("%s: %+v", handler, resp.Error)
			}
		}
	})
	t.Run("init errors", func(t *testing.T) {
		for handler, wantType := range map[string]string{
			"bad.x":          "Runtime.UserCodeSyntaxError",
			"missing.x":      "Runtime.ImportModuleError",
			"index.nope":     "Runtime.HandlerNotFound",
			"throwsAtLoad.h": "RangeError",
		} {
			inst := startNode(t, handler, nil)
			_, err := invoke(t, inst, "i-1", `{}`)
			var ee *ExitError
			if !errors.As(err, &ee) || ee.InitError == nil || ee.InitError.Type != wantType || ee.Code == 0 {
				t.Errorf("%s: %v (%+v)", handler, err, ee)
			}
		}
	})
	t.Run("remaining time", func(t *testing.T) {
		var out struct{ Ms int64 }
		mustSucceed(t, startNode(t, "index.remaining", nil), "r-1", `{}`, &out)
		if out.Ms < 18000 || out.Ms > 20000 {
			t.Errorf("getRemainingTimeInMillis = %d, want about 20000", out.Ms)
		}
	})
	t.Run("logs arrive while the handler runs", func(t *testing.T) {
		sink := newSink()
		inst := startNode(t, "index.slowlog", sink)
		type result struct {
			resp Response
			err  error
		}
		res := make(chan result, 1)
		go func() {
			r, err := invoke(t, inst, "log-1", `{}`)
			res <- result{r, err}
		}()
		l := sink.waitFor(t, "working on log-1", 5*time.Second)
		select {
		case <-res:
			t.Fatal("Invoke returned before the log line was observed")
		default:
		}
		if l.RequestID != "log-1" || l.Stream != "stdout" {
			t.Errorf("line %+v", l)
		}
		if l := sink.waitFor(t, "to stderr", 5*time.Second); l.Stream != "stderr" || l.RequestID != "log-1" {
			t.Errorf("stderr line %+v", l)
		}
		r := <-res
		if r.err != nil || string(r.resp.Payload) != `"done"` {
			t.Fatalf("%v %s", r.err, r.resp.Payload)
		}
		if r.resp.Duration < time.Second {
			t.Errorf("duration %v", r.resp.Duration)
		}
		// Printed just before returning: still attributed to the invocation.
		if l, ok := sink.find("last words"); !ok || l.RequestID != "log-1" {
			t.Errorf("last line %+v (found %v)", l, ok)
		}
	})
	// Issue 10 item 8: like Lambda's Node.js runtime (callbackWaitsForEmptyEventLoop
	// is true by default), a callback handler that never calls back answers
	// null once the event loop is empty, and the instance stays usable.
	t.Run("callback never called", func(t *testing.T) {
		for _, handler := range []string{"index.neverCalls", "index.neverCallsNothingPending"} {
			sink := newSink()
			inst := startNode(t, handler, sink)
			for _, id := range []string{"nc-1", "nc-2"} {
				resp := mustSucceed(t, inst, id, `{}`, nil)
				if string(resp.Payload) != "null" {
					t.Errorf("%s: payload %q, want null", handler, resp.Payload)
				}
				if handler == "index.neverCalls" {
					if l, ok := sink.find("timer ran for " + id); !ok || l.RequestID != id {
						t.Errorf("%s: timer line %+v (found %v)", handler, l, ok)
					}
				}
			}
		}
		// An async handler whose promise never settles fails, as on Lambda.
		inst := startNode(t, "index.neverSettles", nil)
		resp, err := invoke(t, inst, "ns-1", `{}`)
		if err != nil || resp.Error == nil || resp.Error.Type != "Runtime.NodeJsExit" {
			t.Fatalf("never settling: %v %+v", err, resp.Error)
		}
		mustSucceed(t, startNode(t, "index.sync", nil), "ns-2", `{}`, nil)
	})
	t.Run("exit code", func(t *testing.T) {
		_, err := invoke(t, startNode(t, "index.exit3", nil), "x-1", `{}`)
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Code != 3 || ee.Signal != "" || ee.InitError != nil {
			t.Fatalf("%v", err)
		}
	})
	t.Run("terminate with grace", func(t *testing.T) {
		sink := newSink()
		inst := startNode(t, "index.sigterm", sink)
		errc := make(chan error, 1)
		go func() {
			_, err := invoke(t, inst, "term-1", `{}`)
			errc <- err
		}()
		sink.waitFor(t, "waiting for a signal", 5*time.Second)
		begun := time.Now()
		inst.Terminate(5 * time.Second)
		if d := time.Since(begun); d > 3*time.Second {
			t.Errorf("Terminate took %v although the process exited on SIGTERM", d)
		}
		// Terminate returns after the output was drained.
		l, ok := sink.find("got SIGTERM")
		if !ok || l.RequestID != "term-1" {
			t.Errorf("SIGTERM line %+v (found %v)", l, ok)
		}
		waitDone(t, inst, time.Second)
		if alive(inst.PID()) {
			t.Error("process alive after Terminate")
		}
		var ee *ExitError
		if err := <-errc; !errors.As(err, &ee) {
			t.Errorf("Invoke: %v, want ExitError", err)
		}
	})
}
