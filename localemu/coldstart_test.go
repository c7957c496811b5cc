package localemu

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/asyncfn/asyncfn/artifact"
	"github.com/asyncfn/asyncfn/event"
)

// TestColdStartIsNotTimed is issue 10 item 2 through the engine: a module that
// takes 2 s to load, timeout 3 s, a handler that sleeps 1.5 s. Every invoke
// succeeds, and the cold start's REPORT line has Lambda's Init Duration.
func TestColdStartIsNotTimed(t *testing.T) {
	needNode(t)
	e := newEngine(t, t.TempDir(), Options{})
	defer closeEngine(t, e)
	dir := t.TempDir()
	code := `
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000); // a slow require
exports.h = async () => { await new Promise((r) => setTimeout(r, 1500)); return 'slept'; };
`
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	zip, _, err := artifact.Build(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	zero := 0
	cfg := FunctionConfig{Name: "slowinit", Provider: "aws", Runtime: "nodejs20.x", Handler: "index.h", MemorySize: 128, Timeout: 3,
		Async: AsyncConfig{Enabled: true, RetryAttempts: &zero}}
	if _, err := e.Deploy(context.Background(), cfg, zip); err != nil {
		t.Fatal(err)
	}
	for n := range 2 {
		ev := wait(t, e, invokeAsync(t, e, "slowinit", `{}`).RequestID)
		text := logText(t, e, ev.RequestID)
		if ev.Status != event.Succeeded {
			t.Fatalf("invoke %d ended %s (%s: %s)\n%s", n, ev.Status, ev.ErrorType, ev.ErrorMessage, text)
		}
		var report string
		for _, l := range strings.Split(text, "\n") {
			if strings.Contains(l, "REPORT RequestId: "+ev.RequestID) {
				report = l
			}
		}
		if cold := strings.Contains(report, "\tInit Duration: "); cold != (n == 0) {
			t.Errorf("invoke %d: REPORT line %q (want Init Duration on the cold start only)", n, report)
		}
	}
}
