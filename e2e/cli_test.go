package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// binary is the asyncfn binary built once for the package's tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "asyncfn-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "asyncfn")
	build := exec.Command("go", "build", "-o", binary, "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building asyncfn:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// emulatorProc is `asyncfn local start` running as a child process.
type emulatorProc struct {
	cmd    *exec.Cmd
	url    string
	addr   string
	state  string
	stderr *bytes.Buffer
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startLocal starts the emulator binary on addr with state in dir and waits
// until it answers.
func startLocal(t *testing.T, addr, dir string, extra ...string) *emulatorProc {
	t.Helper()
	p := &emulatorProc{addr: addr, url: "http://" + addr, state: dir, stderr: &bytes.Buffer{}}
	p.cmd = exec.Command(binary, append([]string{"local", "start", "--addr", addr, "--state-dir", dir}, extra...)...)
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Signal(syscall.SIGTERM)
			p.cmd.Wait()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(p.url + "/v1/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("emulator did not answer on %s; stderr:\n%s", addr, p.stderr)
	return nil
}

// result of one CLI run.
type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// cli runs the binary against the emulator with the example service.
func cli(t *testing.T, url string, args ...string) result {
	t.Helper()
	return cliEnv(t, url, nil, args...)
}

func cliEnv(t *testing.T, url string, env []string, args ...string) result {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	all := append([]string{"-c", filepath.Join(root, "serverless.yml.example"), "--local"}, args...)
	return runBinary(t, append(append(os.Environ(), "ASYNCFN_LOCAL_URL="+url), env...), all...)
}

// runBinary runs the built binary with env and args and returns what it
// printed and its exit status (a failure to start it fails the test).
func runBinary(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return r
}

// mustRun is runBinary that fails the test unless the command exits 0.
func mustRun(t *testing.T, env []string, args ...string) result {
	t.Helper()
	r := runBinary(t, env, args...)
	if r.code != 0 {
		t.Fatalf("asyncfn %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func mustCLI(t *testing.T, url string, args ...string) result {
	t.Helper()
	r := cli(t, url, args...)
	if r.code != 0 {
		t.Fatalf("asyncfn %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

type cliEvent struct {
	RequestID    string `json:"requestId"`
	Status       string `json:"status"`
	Attempts     int    `json:"attempts"`
	ErrorType    string `json:"errorType"`
	ErrorMessage string `json:"errorMessage"`
	Result       json.RawMessage
}

func getEvent(t *testing.T, url, fn, id string) cliEvent {
	t.Helper()
	r := mustCLI(t, url, "events", "get", id, "-f", fn, "--output", "json")
	var ev cliEvent
	if err := json.Unmarshal([]byte(r.stdout), &ev); err != nil {
		t.Fatalf("events get output %q: %v", r.stdout, err)
	}
	return ev
}

// waitEvent polls `events get` until the status is terminal, recording every status seen.
func waitEvent(t *testing.T, url, fn, id string, seen map[string]bool) cliEvent {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		ev := getEvent(t, url, fn, id)
		if seen != nil {
			seen[ev.Status] = true
		}
		switch ev.Status {
		case "SUCCEEDED", "FAILED", "TIMED_OUT", "TERMINATED":
			return ev
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("event %s of %s never finished", id, fn)
	return cliEvent{}
}

func invokeAsync(t *testing.T, url, fn, data string) string {
	t.Helper()
	r := mustCLI(t, url, "invoke", "-f", fn, "--async", "-d", data)
	id := strings.TrimSpace(r.stdout)
	if len(id) != 36 || strings.Count(id, "-") != 4 {
		t.Fatalf("invoke --async printed %q, want only a RequestId", r.stdout)
	}
	t.Logf("invoke --async of %s returned %s in %s", fn, id, r.took)
	return id
}

func TestCLIAgainstEmulator(t *testing.T) {
	needNode(t)
	em := startLocal(t, freePort(t), t.TempDir())
	url := em.url
	mustCLI(t, url, "deploy")

	t.Run("async invoke, live tail, statuses", func(t *testing.T) {
		id := invokeAsync(t, url, "transcode", `{"frames": 8, "delayMs": 300}`)
		// Follow the log while the event runs.
		tail := exec.Command(binary, "-c", "../serverless.yml.example", "--local", "logs", "-f", "transcode", "--request-id", id, "--tail")
		tail.Env = append(os.Environ(), "ASYNCFN_LOCAL_URL="+url)
		tp := startTail(t, tail)
		tp.waitFor(t, "frame 1/8")
		if ev := getEvent(t, url, "transcode", id); ev.Status != "RUNNING" {
			t.Errorf("status when the first frame line arrived = %s, want RUNNING", ev.Status)
		}
		seen := map[string]bool{"RUNNING": true}
		ev := waitEvent(t, url, "transcode", id, seen)
		if ev.Status != "SUCCEEDED" || !strings.Contains(string(ev.Result), "1080p.mp4") {
			t.Fatalf("final event %+v", ev)
		}
		// The tail of one event ends by itself once the event finished.
		select {
		case err := <-tp.done:
			if err != nil {
				t.Errorf("logs --tail exited with %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("logs --tail --request-id did not end after the event finished")
		}
		joined := tp.text()
		for _, want := range []string{"frame 8/8 (100%)", "END RequestId: " + id, "REPORT RequestId: " + id} {
			if !strings.Contains(joined, want) {
				t.Errorf("tail lacks %q:\n%s", want, joined)
			}
		}
	})

	t.Run("an accepted event starts QUEUED", func(t *testing.T) {
		r := mustCLI(t, url, "invoke", "-f", "report", "--async", "-d", `{}`, "--output", "json")
		var inv struct {
			RequestID string `json:"requestId"`
			Status    string `json:"status"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &inv); err != nil || inv.Status != "QUEUED" || inv.RequestID == "" {
			t.Fatalf("invoke --async --output json = %s (%v), want status QUEUED", r.stdout, err)
		}
		if ev := waitEvent(t, url, "report", inv.RequestID, nil); ev.Status != "SUCCEEDED" {
			t.Fatalf("report ended %s", ev.Status)
		}
	})

	t.Run("a failing function ends FAILED after its retry", func(t *testing.T) {
		id := invokeAsync(t, url, "fail", `{"source": "missing.mov"}`)
		ev := waitEvent(t, url, "fail", id, nil)
		if ev.Status != "FAILED" || ev.Attempts != 2 || !strings.Contains(ev.ErrorMessage, "source file not found") {
			t.Fatalf("event %+v, want FAILED after 2 attempts (retryNum: 1)", ev)
		}
	})

	t.Run("terminate with grace runs the SIGTERM handler", func(t *testing.T) {
		id := invokeAsync(t, url, "transcode", `{"frames": 1000, "delayMs": 100}`)
		waitLogLine(t, url, id, "frame 2/1000")
		mustCLI(t, url, "events", "terminate", id, "-f", "transcode", "--grace", "5s")
		ev := getEvent(t, url, "transcode", id)
		if ev.Status != "TERMINATED" {
			t.Fatalf("status after terminate = %s", ev.Status)
		}
		waitLogLine(t, url, id, "SIGTERM received, saving checkpoint")
	})

	t.Run("terminate without grace kills at once", func(t *testing.T) {
		id := invokeAsync(t, url, "transcode", `{"frames": 1000, "delayMs": 100}`)
		waitLogLine(t, url, id, "frame 2/1000")
		mustCLI(t, url, "events", "terminate", id, "-f", "transcode")
		if ev := getEvent(t, url, "transcode", id); ev.Status != "TERMINATED" {
			t.Fatalf("status = %s", ev.Status)
		}
		r := mustCLI(t, url, "logs", "-f", "transcode", "--request-id", id)
		if strings.Contains(r.stdout, "SIGTERM received") {
			t.Error("a terminate without grace sent SIGTERM")
		}
	})

	t.Run("list, stats and JSON output", func(t *testing.T) {
		r := mustCLI(t, url, "events", "list", "-f", "transcode", "--status", "SUCCEEDED,TERMINATED", "--output", "json")
		var page struct {
			Events []cliEvent `json:"events"`
			Total  int        `json:"total"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &page); err != nil || page.Total != 3 {
			t.Fatalf("events list: %v total %d\n%s", err, page.Total, r.stdout)
		}
		r = mustCLI(t, url, "events", "stats", "-f", "transcode", "--output", "json")
		var st struct {
			ByStatus map[string]int `json:"byStatus"`
			Total    int            `json:"total"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.ByStatus["SUCCEEDED"] != 1 || st.ByStatus["TERMINATED"] != 2 {
			t.Fatalf("stats: %v %s", err, r.stdout)
		}
		// Global flags after the command work as before it.
		r = mustCLI(t, url, "events", "get", page.Events[0].RequestID, "-f", "transcode", "--output", "json")
		if !strings.Contains(r.stdout, `"requestId"`) {
			t.Errorf("events get --output json after the command: %s", r.stdout)
		}
	})

	t.Run("sync invoke prints the result", func(t *testing.T) {
		r := mustCLI(t, url, "invoke", "-f", "report", "-d", `{"jobs": [1, 2]}`)
		if !json.Valid([]byte(strings.TrimSpace(r.stdout))) {
			t.Errorf("sync invoke stdout is not the JSON result: %q", r.stdout)
		}
		r = cli(t, url, "invoke", "-f", "fail", "-d", `{}`)
		if r.code != 1 || !strings.Contains(r.stderr, "FAILED") {
			t.Errorf("sync invoke of a failing function: exit %d, stderr %q", r.code, r.stderr)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		big := filepath.Join(t.TempDir(), "big.json")
		if err := os.WriteFile(big, []byte(`"`+strings.Repeat("x", 130<<10)+`"`), 0o644); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			args []string
			code int
			want string
		}{
			{[]string{"invoke", "-f", "nope", "--async"}, 2, `function "nope" is not in`},
			{[]string{"invoke", "-f", "transcode", "--async", "-d", "{bad"}, 2, "not valid JSON"},
			{[]string{"invoke", "-f", "transcode", "--async", "-p", big}, 1, "exceeds"},
			{[]string{"events", "get", "00000000-0000-4000-8000-000000000000", "-f", "transcode"}, 1, "not found"},
			{[]string{"events", "list", "-f", "transcode", "--status", "DONE"}, 2, "--status"},
			{[]string{"events", "list", "-f", "transcode", "--limit", "1000"}, 2, "--limit"},
		}
		for _, c := range cases {
			r := cli(t, url, c.args...)
			if r.code != c.code || !strings.Contains(r.stderr, c.want) {
				t.Errorf("asyncfn %s: exit %d stderr %q; want exit %d and %q", strings.Join(c.args, " "), r.code, r.stderr, c.code, c.want)
			}
		}
	})
}

func waitLogLine(t *testing.T, url, id, text string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r := mustCLI(t, url, "logs", "-f", "transcode", "--request-id", id)
		if strings.Contains(r.stdout, text) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("log of %s never showed %q", id, text)
}

// TestEmulatorSurvivesSIGKILL kills the emulator mid-run and restarts it on
// the same state: every RequestId handed out must still exist and finish.
func TestEmulatorSurvivesSIGKILL(t *testing.T) {
	needNode(t)
	dir := t.TempDir()
	addr := freePort(t)
	em := startLocal(t, addr, dir)
	mustCLI(t, em.url, "deploy")
	var ids []string
	for i := 0; i < 4; i++ {
		ids = append(ids, invokeAsync(t, em.url, "transcode", `{"frames": 6, "delayMs": 500}`))
	}
	ids = append(ids, invokeAsync(t, em.url, "report", `{}`))
	waitLogLine(t, em.url, ids[0], "frame 1/6")
	if err := em.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	em.cmd.Wait()

	em2 := startLocal(t, addr, dir)
	statuses := map[string]int{}
	for _, id := range ids {
		fn := "transcode"
		if id == ids[len(ids)-1] {
			fn = "report"
		}
		ev := waitEvent(t, em2.url, fn, id, nil)
		statuses[ev.Status]++
		if ev.Status == "FAILED" && ev.ErrorType != "Emulator.Restarted" {
			t.Errorf("event %s failed with %s: %s", id, ev.ErrorType, ev.ErrorMessage)
		}
	}
	t.Logf("after SIGKILL and restart: %v", statuses)
	if statuses["FAILED"]+statuses["SUCCEEDED"] != len(ids) {
		t.Errorf("statuses after restart: %v", statuses)
	}
	// Interrupted transcodes (retryNum: 0) end FAILED with the restart named.
	r := mustCLI(t, em2.url, "logs", "-f", "transcode", "--request-id", ids[0])
	if !strings.Contains(r.stdout, "interrupted by an emulator restart") {
		t.Errorf("the log of an interrupted event does not say so:\n%s", r.stdout)
	}
}

// With --credentials the native API takes the same pair as HTTP Basic auth.
func TestEmulatorCredentialsGuardTheNativeAPI(t *testing.T) {
	em := startLocal(t, freePort(t), t.TempDir(), "--credentials", "AKIDlocal:s3cret")
	r := cli(t, em.url, "deploy")
	if r.code != 1 || !strings.Contains(r.stderr, "requires credentials") {
		t.Fatalf("deploy without credentials: exit %d, stderr %q", r.code, r.stderr)
	}
	r = cliEnv(t, em.url, []string{"ASYNCFN_CREDENTIALS=AKIDlocal:wrong"}, "deploy")
	if r.code != 1 || strings.Contains(r.stderr, "wrong") {
		t.Fatalf("deploy with a wrong key: exit %d, stderr %q (the key must not be echoed)", r.code, r.stderr)
	}
	r = cliEnv(t, em.url, []string{"ASYNCFN_CREDENTIALS=AKIDlocal:s3cret"}, "deploy")
	if r.code != 0 {
		t.Fatalf("deploy with credentials: exit %d, stderr %q", r.code, r.stderr)
	}
}

// Credentials can come from a file (owner-only), so the key is not in argv
// for every user's ps; a file others can read is refused, without its key.
func TestEmulatorCredentialsFromAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "creds")
	if err := os.WriteFile(file, []byte("AKIDfile:f1le-secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runBinary(t, os.Environ(), "local", "start", "--addr", freePort(t), "--state-dir", t.TempDir(), "--credentials-file", file)
	if r.code != 2 || !strings.Contains(r.stderr, "chmod 600") || strings.Contains(r.stderr, "f1le-secret") {
		t.Fatalf("a world-readable credentials file: exit %d, stderr %q", r.code, r.stderr)
	}
	if err := os.Chmod(file, 0o600); err != nil {
		t.Fatal(err)
	}
	em := startLocal(t, freePort(t), t.TempDir(), "--credentials-file", file)
	if r := cli(t, em.url, "deploy"); r.code != 1 || !strings.Contains(r.stderr, "requires credentials") {
		t.Fatalf("deploy without credentials: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := cliEnv(t, em.url, []string{"ASYNCFN_CREDENTIALS=AKIDfile:f1le-secret"}, "deploy"); r.code != 0 {
		t.Fatalf("deploy with the file's credentials: exit %d, stderr %q", r.code, r.stderr)
	}
}

// SIGTERM stops accepting, lets running events finish within --drain, and
// records what could not finish as a failed attempt.
func TestEmulatorDrainsOnSIGTERM(t *testing.T) {
	needNode(t)
	dir := t.TempDir()
	addr := freePort(t)

	em := startLocal(t, addr, dir, "--drain", "20s")
	mustCLI(t, em.url, "deploy")
	short := invokeAsync(t, em.url, "transcode", `{"frames": 6, "delayMs": 300}`)
	waitLogLine(t, em.url, short, "frame 1/6")
	start := time.Now()
	em.cmd.Process.Signal(syscall.SIGTERM)
	if err := em.cmd.Wait(); err != nil {
		t.Fatalf("emulator exit after SIGTERM: %v\n%s", err, em.stderr)
	}
	t.Logf("drained and stopped in %s", time.Since(start))
	if !strings.Contains(em.stderr.String(), "instances: ") {
		t.Errorf("local start does not say how instances are isolated:\n%s", em.stderr)
	}

	em = startLocal(t, addr, dir, "--drain", "300ms")
	if ev := getEvent(t, em.url, "transcode", short); ev.Status != "SUCCEEDED" || ev.Attempts != 1 {
		t.Fatalf("the event that was running at SIGTERM: %+v, want SUCCEEDED after 1 attempt", ev)
	}
	long := invokeAsync(t, em.url, "transcode", `{"frames": 1000, "delayMs": 100}`)
	waitLogLine(t, em.url, long, "frame 1/1000")
	em.cmd.Process.Signal(syscall.SIGTERM)
	if err := em.cmd.Wait(); err != nil {
		t.Fatalf("emulator exit after SIGTERM: %v\n%s", err, em.stderr)
	}

	em = startLocal(t, addr, dir)
	ev := getEvent(t, em.url, "transcode", long)
	if ev.Status != "FAILED" || ev.ErrorType != "Emulator.Stopped" {
		t.Fatalf("the event cut short by the drain deadline: %+v, want FAILED (Emulator.Stopped; transcode has retryNum 0)", ev)
	}
}

// The README's first command: dev deploys the example, invokes it and follows
// the event to its end.
func TestDevRunsTheExample(t *testing.T) {
	needNode(t)
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	run := func(fn, data string) (int, string, string) {
		cmd := exec.Command(binary, "-c", "../serverless.yml.example", "dev", "--addr", freePort(t), "--state-dir", t.TempDir(),
			"--invoke", fn, "-d", data, "--exit")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out.String(), errb.String()
	}
	code, stdout, stderr := run("transcode", `{"frames": 3, "delayMs": 50}`)
	id := strings.TrimSpace(stdout)
	if code != 0 || len(id) != 36 {
		t.Fatalf("dev --invoke transcode --exit: exit %d, stdout %q\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"created asyncfn-example-dev-transcode", "frame 3/3 (100%)", "REPORT RequestId: " + id, "SUCCEEDED after 1 attempt(s)", `"frames":3`} {
		if !strings.Contains(stderr, want) {
			t.Errorf("dev output lacks %q:\n%s", want, stderr)
		}
	}
	code, _, stderr = run("fail", `{}`)
	if code != 1 || !strings.Contains(stderr, "FAILED after 2 attempt(s)") {
		t.Fatalf("dev --invoke fail --exit: exit %d\n%s", code, stderr)
	}
}
