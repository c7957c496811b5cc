package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tencentEcho is Tencent's own CustomRuntime bash example, as its docs give
// it: it answers with plain text, not JSON.
const tencentEcho = `#!/bin/bash
set -eo pipefail
curl -d " " -X POST -s "http://$SCF_RUNTIME_API:$SCF_RUNTIME_API_PORT/runtime/init/ready"
while true; do
  HEADERS="$(mktemp)"
  EVENT_DATA=$(curl -sS -LD "$HEADERS" -X GET "http://$SCF_RUNTIME_API:$SCF_RUNTIME_API_PORT/runtime/invocation/next")
  echo "event_data: $EVENT_DATA"
  RESPONSE="Echoing request: '$EVENT_DATA'"
  curl -X POST -s "http://$SCF_RUNTIME_API:$SCF_RUNTIME_API_PORT/runtime/invocation/response" -d "$RESPONSE"
done
`

// A result that is not JSON is kept and shown as the runtime sent it: by a
// sync invoke, by events get, and in JSON output as resultText.
func TestPlainTextResultsAreKept(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	svc := t.TempDir()
	files := map[string]string{
		"serverless.yml": "component: scf\nname: echo\ninputs:\n  name: echo\n  src: ./\n  runtime: CustomRuntime\n  handler: index.main\n  region: ap-guangzhou\n  asyncRunEnable: true\n  retryNum: 0\n",
		"scf_bootstrap":  tencentEcho,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(svc, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	url := startEmulator(t)
	// Through the emulator's native API (--local), and through the tencent
	// adapter speaking SCF's API to the emulator's SCF front.
	for _, via := range []string{"--local", "tencent"} {
		t.Run(via, func(t *testing.T) { checkPlainText(t, svc, url, via) })
	}
}

func checkPlainText(t *testing.T, svc, url, via string) {
	run := func(args ...string) result {
		t.Helper()
		base := []string{"-c", filepath.Join(svc, "serverless.yml"), "--endpoint", url}
		if via == "--local" {
			base = append(base, "--local")
		}
		return mustRun(t, append(awsEnv(), "ASYNCFN_LOCAL_URL="+url, "TENCENTCLOUD_SECRET_ID=x", "TENCENTCLOUD_SECRET_KEY=x"), append(base, args...)...)
	}
	run("deploy")
	want := `Echoing request: '{"k":"v"}'`
	if r := run("invoke", "-f", "echo", "-d", `{"k":"v"}`); strings.TrimSpace(r.stdout) != want {
		t.Fatalf("invoke printed %q, want %q", r.stdout, want)
	}
	var inv struct {
		RequestID  string          `json:"requestId"`
		Result     json.RawMessage `json:"result"`
		ResultText string          `json:"resultText"`
	}
	r := run("invoke", "-f", "echo", "-d", `{"k":"v"}`, "-o", "json")
	if err := json.Unmarshal([]byte(r.stdout), &inv); err != nil || inv.ResultText != want || len(inv.Result) != 0 {
		t.Fatalf("invoke -o json = %s (%v), want resultText %q", r.stdout, err, want)
	}
	if r := run("events", "get", inv.RequestID, "-f", "echo"); !strings.Contains(r.stdout, want) {
		t.Fatalf("events get does not show the result:\n%s", r.stdout)
	}
	var ev struct {
		ResultText string `json:"resultText"`
	}
	if r := run("events", "get", inv.RequestID, "-f", "echo", "-o", "json"); json.Unmarshal([]byte(r.stdout), &ev) != nil || ev.ResultText != want {
		t.Fatalf("events get -o json = %s", r.stdout)
	}
}

// While the emulator drains on SIGTERM, the events it waits for can still be
// queried; new invokes are refused.
func TestEventsCanBeQueriedWhileDraining(t *testing.T) {
	needNode(t)
	dir := t.TempDir()
	addr := freePort(t)
	em := startLocal(t, addr, dir, "--drain", "20s")
	mustCLI(t, em.url, "deploy")
	id := invokeAsync(t, em.url, "transcode", `{"frames": 12, "delayMs": 250}`)
	waitLogLine(t, em.url, id, "frame 1/12")
	em.cmd.Process.Signal(syscall.SIGTERM)
	// Draining has begun once invokes are refused (a quick one may still get in before).
	for deadline := time.Now().Add(10 * time.Second); ; {
		r := cli(t, em.url, "invoke", "-f", "transcode", "--async", "-d", `{"frames": 1, "delayMs": 1}`)
		if r.code != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("invokes were still accepted 10 s after SIGTERM")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if ev := getEvent(t, em.url, "transcode", id); ev.Status != "RUNNING" {
		t.Fatalf("while draining: %+v, want RUNNING", ev)
	}
	if r := cli(t, em.url, "logs", "-f", "transcode", "--request-id", id); r.code != 0 || !strings.Contains(r.stdout, "frame 1/12") {
		t.Fatalf("logs while draining: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if err := em.cmd.Wait(); err != nil {
		t.Fatalf("emulator exit after SIGTERM: %v\n%s", err, em.stderr)
	}
}
