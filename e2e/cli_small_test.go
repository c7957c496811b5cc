package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Smaller CLI findings (issue 10), against a live emulator.

// `logs --poll-interval DUR --tail`, the form the README documents, parses
// (issue 9: the interval's value was taken for an argument).
func TestCLILogsPollIntervalBeforeTail(t *testing.T) {
	needNode(t)
	url := startEmulator(t)
	mustCLI(t, url, "deploy")
	id := invokeAsync(t, url, "transcode", `{"frames": 2, "delayMs": 50}`)
	r := mustCLI(t, url, "logs", "-f", "transcode", "--request-id", id, "--poll-interval", "2s", "--tail")
	if !strings.Contains(r.stdout, "frame 2/2") {
		t.Errorf("logs --poll-interval 2s --tail printed:\n%s", r.stdout)
	}
}

// `invoke -o json` has durationMs after a success as after a failure, from
// the emulator's native API and from the aws adapter (Lambda's answer has
// no duration: it comes from the REPORT line of the log tail).
func TestCLIInvokeJSONHasTheDuration(t *testing.T) {
	needNode(t)
	url := startEmulator(t)
	mustCLI(t, url, "deploy")
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	awsFile := filepath.Join(root, "example", "aws", "serverless.yml")
	runAWS := func(args ...string) result {
		t.Helper()
		return runBinary(t, awsEnv(), append([]string{"-c", awsFile, "--endpoint", url}, args...)...)
	}
	if r := runAWS("deploy"); r.code != 0 {
		t.Fatalf("aws deploy: exit %d\n%s", r.code, r.stderr)
	}
	cases := []struct {
		name string
		run  func() result
		code int
		min  float64 // the least duration the handler takes
	}{
		{"local success", func() result { return cli(t, url, "invoke", "-f", "report", "-o", "json") }, 0, 0},
		{"local failure", func() result { return cli(t, url, "invoke", "-f", "fail", "-o", "json") }, 1, 0},
		{"aws success", func() result {
			return runAWS("invoke", "-f", "transcode", "-d", `{"frames": 2, "delayMs": 100}`, "-o", "json")
		}, 0, 150},
		{"aws failure", func() result { return runAWS("invoke", "-f", "transcode", "-d", `{"fail": "x"}`, "-o", "json") }, 1, 0},
	}
	for _, c := range cases {
		r := c.run()
		var doc map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != c.code {
			t.Errorf("%s: exit %d (want %d), stdout %q (%v), stderr %q", c.name, r.code, c.code, r.stdout, err, r.stderr)
			continue
		}
		d, ok := doc["durationMs"].(float64)
		if !ok || d < c.min {
			t.Errorf("%s: durationMs = %v, want a number of at least %v:\n%s", c.name, doc["durationMs"], c.min, r.stdout)
		}
		if _, ok := doc["log"]; ok {
			t.Errorf("%s: the log is in the output without --log:\n%s", c.name, r.stdout)
		}
	}
}

// `events terminate --grace` of an event that already finished says so, and
// announces no SIGTERM.
func TestCLITerminateOfAFinishedEvent(t *testing.T) {
	needNode(t)
	url := startEmulator(t)
	mustCLI(t, url, "deploy")
	id := invokeAsync(t, url, "transcode", `{"frames": 1, "delayMs": 10}`)
	if ev := waitEvent(t, url, "transcode", id, nil); ev.Status != "SUCCEEDED" {
		t.Fatalf("event %s: %+v", id, ev)
	}
	r := cli(t, url, "events", "terminate", id, "-f", "transcode", "--grace", "5s")
	if r.code != 1 || strings.Contains(r.stderr, "SIGTERM") || !strings.Contains(r.stderr, "already finished: SUCCEEDED") {
		t.Errorf("terminate of a finished event: exit %d, stderr %q", r.code, r.stderr)
	}
	id = invokeAsync(t, url, "transcode", `{"frames": 100, "delayMs": 100}`)
	waitLogLine(t, url, id, "frame 1/100")
	r = mustCLI(t, url, "events", "terminate", id, "-f", "transcode", "--grace", "5s")
	if !strings.Contains(r.stderr, "SIGTERM") || !strings.Contains(r.stderr, id+" TERMINATED") {
		t.Errorf("terminate of a running event: stderr %q", r.stderr)
	}
}

// A sync invoke whose event is terminated while it waits names the event and
// its status, not the emulator.
func TestCLISyncInvokeTerminatedWhileWaiting(t *testing.T) {
	needNode(t)
	url := startEmulator(t)
	mustCLI(t, url, "deploy")
	done := make(chan result, 1)
	go func() { done <- cli(t, url, "invoke", "-f", "transcode", "-d", `{"frames": 100, "delayMs": 100}`) }()
	var id string
	deadline := time.Now().Add(30 * time.Second)
	for id == "" && time.Now().Before(deadline) {
		r := mustCLI(t, url, "events", "list", "-f", "transcode", "--status", "RUNNING", "-o", "json")
		var page struct {
			Events []cliEvent `json:"events"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Events) == 1 {
			id = page.Events[0].RequestID
		}
		time.Sleep(100 * time.Millisecond)
	}
	if id == "" {
		t.Fatal("the sync invoke never ran")
	}
	mustCLI(t, url, "events", "terminate", id, "-f", "transcode")
	r := <-done
	if r.code != 1 || !strings.Contains(r.stderr, id) || !strings.Contains(r.stderr, "TERMINATED") || strings.Contains(r.stderr, "local start") {
		t.Errorf("sync invoke of a terminated event: exit %d, stderr %q", r.code, r.stderr)
	}
}
