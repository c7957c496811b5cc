package e2e

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ciService copies the CI recipe's service (e2e/testdata/ci) into a fresh
// directory, so that its state directory (.asyncfn beside it) is the test's.
func ciService(t *testing.T) (dir, config string) {
	t.Helper()
	dir = t.TempDir()
	for _, name := range []string{"serverless.yml", "handler.js"} {
		b, err := os.ReadFile(filepath.Join("testdata", "ci", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, filepath.Join(dir, "serverless.yml")
}

// ciEnv is the environment of a CI step: this one, with the index of
// running emulators in the test's own directory.
func ciEnv(t *testing.T, dir string, extra ...string) []string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		// The recipe itself points clients at the emulator.
		if k, _, _ := strings.Cut(kv, "="); k == "ASYNCFN_LOCAL_URL" || k == "ASYNCFN_CREDENTIALS" || k == "ASYNCFN_ENDPOINT" {
			continue
		}
		env = append(env, kv)
	}
	return append(append(env, "XDG_CACHE_HOME="+filepath.Join(dir, "cache")), extra...)
}

func needNodeBinary(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: the CI recipe's service is Node.js")
	}
}

// pathWithoutAWS is a PATH that finds sh and node but not the aws CLI, or ""
// when they share a directory.
func pathWithoutAWS(t *testing.T) string {
	t.Helper()
	awsPath, _ := exec.LookPath("aws")
	var dirs []string
	for _, prog := range []string{"sh", "node", "grep", "cat", "sleep", "mkdir"} {
		p, err := exec.LookPath(prog)
		if err != nil {
			t.Fatalf("%s not found", prog)
		}
		d := filepath.Dir(p)
		if awsPath != "" && filepath.Dir(awsPath) == d {
			return ""
		}
		dirs = append(dirs, d)
	}
	return strings.Join(dirs, string(os.PathListSeparator))
}

// runRecipe runs ci/emulator.sh as a CI job would.
func runRecipe(t *testing.T, dir, config, function string, extra ...string) (result, string) {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	artifacts := filepath.Join(dir, "artifacts")
	env := ciEnv(t, dir, append([]string{"ASYNCFN=" + binary, "SERVICE=" + config, "FUNCTION=" + function,
		`PAYLOAD={"name":"ci"}`, "ADDR=" + freePort(t), "ARTIFACTS=" + artifacts}, extra...)...)
	cmd := exec.Command("sh", filepath.Join(root, "ci", "emulator.sh"))
	cmd.Dir = dir
	cmd.Env = env
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r, artifacts
}

func readArtifact(t *testing.T, artifacts, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(artifacts, rel))
	if err != nil {
		t.Fatalf("artifact %s: %v", rel, err)
	}
	return string(b)
}

// eventLogs are the per-event logs collect wrote for a function.
func eventLogs(t *testing.T, artifacts, fn string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(artifacts, fn, "*-*-*-*-*.log"))
	if err != nil {
		t.Fatal(err)
	}
	var logs []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		logs = append(logs, string(b))
	}
	return logs
}

// checkStopped: after the recipe the emulator has exited and left no pid.
func checkStopped(t *testing.T, dir string, r result) {
	t.Helper()
	if !strings.Contains(r.stderr, "stopped the emulator at") {
		t.Errorf("the recipe did not stop the emulator:\n%s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, ".asyncfn", "emulator.pid")); !os.IsNotExist(err) {
		t.Errorf("emulator.pid left behind (%v)", err)
	}
}

// TestCIRecipe runs the README's CI recipe (ci/emulator.sh) end to end
// against the built binary — start detached, wait, env, deploy, invoke with
// the aws CLI through AWS_ENDPOINT_URL (or asyncfn without it), collect,
// stop — and checks the artifacts a failed job would upload.
func TestCIRecipe(t *testing.T) {
	needNodeBinary(t)
	t.Run("aws CLI", func(t *testing.T) {
		if _, err := exec.LookPath("aws"); err != nil {
			t.Skip("the aws CLI is not installed (.ci/run installs awscli best-effort): the recipe's aws step is covered by the no-aws run only")
		}
		dir, config := ciService(t)
		r, artifacts := runRecipe(t, dir, config, "ci-demo-hello")
		if r.code != 0 {
			t.Fatalf("ci/emulator.sh: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stderr, "aws lambda invoke ci-demo-hello (sync) through AWS_ENDPOINT_URL=http://127.0.0.1:") {
			t.Errorf("the aws CLI step did not run:\n%s", r.stderr)
		}
		if got := readArtifact(t, artifacts, "response.json"); !strings.Contains(got, `"greeting":"hello ci"`) && !strings.Contains(got, `"greeting": "hello ci"`) {
			t.Errorf("response.json = %s, want the handler's answer", got)
		}
		checkHelloArtifacts(t, artifacts)
		checkStopped(t, dir, r)
	})
	t.Run("without the aws CLI", func(t *testing.T) {
		path := pathWithoutAWS(t)
		if path == "" {
			t.Skip("aws shares a directory with sh or node: cannot hide it")
		}
		dir, config := ciService(t)
		r, artifacts := runRecipe(t, dir, config, "ci-demo-hello", "PATH="+path)
		if r.code != 0 {
			t.Fatalf("ci/emulator.sh: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stderr, "the aws CLI is not on PATH: skipping the aws CLI step") {
			t.Errorf("no clear skip message:\n%s", r.stderr)
		}
		checkHelloArtifacts(t, artifacts)
		checkStopped(t, dir, r)
	})
	t.Run("failing function", func(t *testing.T) {
		dir, config := ciService(t)
		r, artifacts := runRecipe(t, dir, config, "ci-demo-broken")
		if r.code == 0 {
			t.Fatalf("ci/emulator.sh passed with a failing function:\n%s", r.stderr)
		}
		// The artifacts are there to say why.
		summary := readArtifact(t, artifacts, "summary.txt")
		if !strings.Contains(summary, "ci-demo-broken: 1 event(s) (FAILED 1)") || !strings.Contains(summary, "not succeeded: ci-demo-broken/") {
			t.Errorf("summary.txt does not name the failure:\n%s", summary)
		}
		if txt := readArtifact(t, artifacts, "ci-demo-broken/events.txt"); !strings.Contains(txt, "broken on purpose: ci") {
			t.Errorf("events.txt lacks the error:\n%s", txt)
		}
		logs := eventLogs(t, artifacts, "ci-demo-broken")
		if len(logs) != 1 || !strings.Contains(logs[0], `broken got {"name":"ci"}`) || !strings.Contains(logs[0], "broken on purpose") {
			t.Errorf("broken's event log = %q", logs)
		}
		checkStopped(t, dir, r)
	})
}

// checkHelloArtifacts: the sync and the async invoke of hello both succeeded
// and collect wrote their events, logs and the emulator's own log.
func checkHelloArtifacts(t *testing.T, artifacts string) {
	t.Helper()
	summary := readArtifact(t, artifacts, "summary.txt")
	for _, want := range []string{"ci-demo-hello: 2 event(s) (SUCCEEDED 2)", "ci-demo-broken: 0 event(s)"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary.txt lacks %q:\n%s", want, summary)
		}
	}
	var sum struct {
		URL       string `json:"url"`
		Functions []struct {
			Function string         `json:"function"`
			ByStatus map[string]int `json:"byStatus"`
		} `json:"functions"`
	}
	if err := json.Unmarshal([]byte(readArtifact(t, artifacts, "summary.json")), &sum); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sum.URL, "http://127.0.0.1:") || len(sum.Functions) != 3 {
		t.Errorf("summary.json = %+v", sum)
	}
	var events []struct {
		RequestID  string `json:"requestId"`
		InvokeType string `json:"invokeType"`
		Status     string `json:"status"`
	}
	if err := json.Unmarshal([]byte(readArtifact(t, artifacts, "ci-demo-hello/events.json")), &events); err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	for _, ev := range events {
		types[ev.InvokeType] = ev.Status == "SUCCEEDED"
	}
	if len(events) != 2 || !types["Event"] || !types["RequestResponse"] {
		t.Errorf("hello's events = %+v, want a succeeded sync and async invoke", events)
	}
	logs := eventLogs(t, artifacts, "ci-demo-hello")
	if len(logs) != 2 {
		t.Fatalf("%d event logs for hello, want 2", len(logs))
	}
	for _, l := range logs {
		if !strings.Contains(l, `hello got {"name":"ci"}`) || !strings.Contains(l, "REPORT RequestId:") {
			t.Errorf("event log lacks the handler's output and REPORT line:\n%s", l)
		}
	}
	if l := readArtifact(t, artifacts, "emulator.log"); !strings.Contains(l, "asyncfn emulator listening on") {
		t.Errorf("emulator.log = %q", l)
	}
}

// TestLocalDetachWaitStop drives the three commands directly: a detached
// emulator records its pid, refuses a second one on the same state, answers
// `local wait`, and `local stop` drains a running event before it exits.
func TestLocalDetachWaitStop(t *testing.T) {
	needNodeBinary(t)
	dir, config := ciService(t)
	env := ciEnv(t, dir)
	addr := freePort(t)
	start := mustRun(t, env, "-c", config, "local", "start", "--detach", "--addr", addr, "--drain", "20s")
	url := strings.TrimSpace(start.stdout)
	if url != "http://"+addr {
		t.Fatalf("start --detach printed %q, want http://%s", start.stdout, addr)
	}
	t.Cleanup(func() { runBinary(t, env, "local", "stop", "--addr", addr) })
	pidText, err := os.ReadFile(filepath.Join(dir, ".asyncfn", "emulator.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(pidText)))
	if err != nil || pid <= 0 {
		t.Fatalf("emulator.pid = %q", pidText)
	}

	// A second emulator on the same state fails at once, saying why.
	second := runBinary(t, env, "-c", config, "local", "start", "--detach", "--addr", freePort(t))
	if second.code != 1 || !strings.Contains(second.stderr, "in use by another asyncfn emulator") {
		t.Errorf("second start --detach: exit %d, want 1 with the log's reason:\n%s", second.code, second.stderr)
	}
	// So does one on an address that already answers.
	if again := runBinary(t, env, "-c", config, "local", "start", "--detach", "--addr", addr); again.code != 1 || !strings.Contains(again.stderr, "already answers") {
		t.Errorf("start --detach on a busy address: exit %d\n%s", again.code, again.stderr)
	}

	withURL := append(append([]string(nil), env...), "ASYNCFN_LOCAL_URL="+url)
	if w := mustRun(t, withURL, "local", "wait", "--timeout", "5s"); strings.TrimSpace(w.stdout) != url {
		t.Errorf("local wait printed %q", w.stdout)
	}
	mustRun(t, withURL, "-c", config, "--local", "deploy", "-f", "slow")
	id := strings.TrimSpace(mustRun(t, withURL, "-c", config, "--local", "invoke", "-f", "slow", "--async", "-d", `{"ms": 1500}`).stdout)
	// Stop once it runs: the stop drains it, then the emulator exits.
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(mustRun(t, withURL, "-c", config, "--local", "events", "get", id, "-f", "slow").stdout, "RUNNING") {
		if time.Now().After(deadline) {
			t.Fatal("the slow event never ran")
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop := mustRun(t, withURL, "local", "stop")
	if !strings.Contains(stop.stderr, "stopped the emulator at "+url) {
		t.Errorf("local stop said:\n%s", stop.stderr)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("the emulator still answers after local stop")
	}
	if err := exec.Command("kill", "-0", strconv.Itoa(pid)).Run(); err == nil && !zombie(pid) {
		t.Errorf("pid %d still runs after local stop", pid)
	}
	if again := mustRun(t, withURL, "local", "stop"); !strings.Contains(again.stderr, "no emulator is running") {
		t.Errorf("second stop said:\n%s", again.stderr)
	}
	if w := runBinary(t, withURL, "local", "wait", "--timeout", "300ms"); w.code != 3 {
		t.Errorf("local wait with nothing running: exit %d, want 3", w.code)
	}

	// The drained event finished before the emulator exited.
	restart := mustRun(t, env, "-c", config, "local", "start", "--detach", "--addr", addr)
	if got := strings.TrimSpace(restart.stdout); got != url {
		t.Fatalf("restart printed %q", got)
	}
	ev := mustRun(t, withURL, "-c", config, "--local", "events", "get", id, "-f", "slow", "--output", "json")
	var got struct {
		Status   string `json:"status"`
		Attempts int    `json:"attempts"`
	}
	if err := json.Unmarshal([]byte(ev.stdout), &got); err != nil {
		t.Fatal(err)
	}
	if got.Status != "SUCCEEDED" || got.Attempts != 1 {
		t.Errorf("the event running at stop ended %s after %d attempt(s), want SUCCEEDED after 1 (drained)", got.Status, got.Attempts)
	}
	mustRun(t, withURL, "local", "stop")
}

// zombie reports whether pid has exited but was not reaped.
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

// TestREADMERecipesFollowTheScript: the GitHub Actions and GitLab CI jobs in
// README.md take the steps ci/emulator.sh takes (and TestCIRecipe runs), in
// the same order, so a change to one shows in the other.
func TestREADMERecipesFollowTheScript(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(filepath.Join("..", "ci", "emulator.sh"))
	if err != nil {
		t.Fatal(err)
	}
	steps := []string{
		"local start --detach",
		"local wait --timeout 30s",
		`eval "$(`, // ... local env)"
		"local env)",
		"--local deploy",
		`aws lambda invoke --function-name "$FUNCTION"`,
		"fileb://",
		"local collect",
		"local stop",
	}
	inOrder := func(name, text string) {
		t.Helper()
		at := 0
		for _, s := range steps {
			i := strings.Index(text[at:], s)
			if i < 0 {
				t.Errorf("%s: step %q missing (or out of order)", name, s)
				continue
			}
			at += i + len(s)
		}
	}
	// The script defines its cleanup (collect, stop) before the steps it
	// guards: compare its steps with the trap's body moved to the end.
	body := string(script)
	if i, j := strings.Index(body, "finish() {"), strings.Index(body, "trap finish EXIT"); i >= 0 && j > i {
		body = body[:i] + body[j:] + body[i:j]
	}
	inOrder("ci/emulator.sh", strings.ReplaceAll(body, "af ", "asyncfn "))
	section := string(readme)
	start := strings.Index(section, "## Use it in CI")
	gh := strings.Index(section, "### GitHub Actions")
	gl := strings.Index(section, "### GitLab CI")
	goTests := strings.Index(section, "### In Go tests")
	if start < 0 || gh < start || gl < gh || goTests < gl {
		t.Fatal("README.md: the Use it in CI section or its GitHub Actions, GitLab CI and Go tests parts are missing")
	}
	inOrder("README GitHub Actions job", section[gh:gl])
	inOrder("README GitLab CI job", section[gl:goTests])
	if !strings.Contains(section[start:goTests], "ci/emulator.sh") {
		t.Error("README's CI section does not name ci/emulator.sh")
	}
}

// TestLocalStopForeground: `local stop` also ends an emulator started in the
// foreground some other way (`asyncfn local start &`), found by its address.
func TestLocalStopForeground(t *testing.T) {
	dir := t.TempDir()
	env := ciEnv(t, dir)
	addr := freePort(t)
	cmd := exec.Command(binary, "local", "start", "--addr", addr, "--state-dir", filepath.Join(dir, "state"))
	cmd.Env = env
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	mustRun(t, env, "local", "wait", "--addr", addr, "--timeout", "30s")
	if pid, err := os.ReadFile(filepath.Join(dir, "state", "emulator.pid")); err != nil || strings.TrimSpace(string(pid)) != strconv.Itoa(cmd.Process.Pid) {
		t.Errorf("emulator.pid = %q, %v; want %d", pid, err, cmd.Process.Pid)
	}
	stop := mustRun(t, env, "local", "stop", "--addr", addr)
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Errorf("the emulator exited with %v after local stop\n%s", err, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("local stop returned but the emulator still runs:\n%s", stop.stderr)
	}
	if !strings.Contains(errb.String(), "asyncfn emulator stopping: waiting up to") {
		t.Errorf("the emulator did not drain as on SIGTERM:\n%s", errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "state", "emulator.pid")); !os.IsNotExist(err) {
		t.Errorf("emulator.pid left behind (%v)", err)
	}
}
