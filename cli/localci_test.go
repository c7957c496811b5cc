package cli

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/asyncfntest"
	"github.com/asyncfn/asyncfn/nativeapi"
)

// ciHandlers is the code the CI commands' tests deploy: one handler that
// succeeds, one that always throws.
const ciHandlers = `exports.ok = async (e) => { console.log("ok got", JSON.stringify(e)); return {done: true}; };
exports.bad = async (e) => { console.log("bad got", JSON.stringify(e)); throw new Error("boom " + e.n); };
`

func needNode(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: the functions these tests deploy are Node.js")
	}
}

// TestLocalCollectWritesEventsAndLogs: after one event that succeeds and one
// that fails every attempt, collect writes both functions' events with their
// attempts and errors, a log per event, and a summary naming the failure.
func TestLocalCollectWritesEventsAndLogs(t *testing.T) {
	needNode(t)
	emu := asyncfntest.Start(t)
	code := t.TempDir()
	writeFile(t, code, "index.js", ciHandlers)
	emu.Deploy(t, code, asyncfntest.Function{Name: "ok", Handler: "index.ok"})
	emu.Deploy(t, code, asyncfntest.Function{Name: "bad", Handler: "index.bad", RetryAttempts: asyncfntest.Retries(1)})
	okID := emu.InvokeAsync(t, "ok", `{"n": 1}`)
	badID := emu.InvokeAsync(t, "bad", `{"n": 2}`)
	if ev := emu.Wait(t, okID); ev.Status != "SUCCEEDED" {
		t.Fatalf("ok event %s", ev.Status)
	}
	if ev := emu.Wait(t, badID); ev.Status != "FAILED" {
		t.Fatalf("bad event %s", ev.Status)
	}

	out := filepath.Join(t.TempDir(), "artifacts")
	env := map[string]string{"ASYNCFN_LOCAL_URL": emu.URL, "XDG_CACHE_HOME": t.TempDir()}
	if c, stdout, stderr := run(t, env, "local", "collect", out); c != 0 {
		t.Fatalf("collect: exit %d\n%s%s", c, stdout, stderr)
	}
	read := func(rel string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(out, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	summary := read("summary.txt")
	for _, want := range []string{"bad: 1 event(s) (FAILED 1)", "ok: 1 event(s) (SUCCEEDED 1)", "not succeeded: bad/" + badID + ".log"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary.txt lacks %q:\n%s", want, summary)
		}
	}
	var events []nativeapi.EventInfo
	if err := json.Unmarshal([]byte(read("bad/events.json")), &events); err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].RequestID != badID || events[0].Attempts != 2 || len(events[0].AttemptList) != 2 ||
		!strings.Contains(events[0].ErrorMessage, "boom 2") {
		t.Errorf("bad/events.json = %+v, want one FAILED event with 2 attempts and its error", events)
	}
	if txt := read("bad/events.txt"); !strings.Contains(txt, "attempt 2 FAILED") || !strings.Contains(txt, "boom 2") {
		t.Errorf("bad/events.txt lacks the attempts and the error:\n%s", txt)
	}
	if log := read("bad/" + badID + ".log"); strings.Count(log, `bad got {"n":2}`) != 2 || !strings.Contains(log, "START RequestId: "+badID) {
		t.Errorf("bad's log lacks both attempts' output:\n%s", log)
	}
	if log := read("ok/" + okID + ".log"); !strings.Contains(log, `ok got {"n":1}`) || strings.Contains(log, "bad got") {
		t.Errorf("ok's log is not its own:\n%s", log)
	}
}

// TestLocalEnv: the export lines point clients at the emulator; a secret the
// user did not ask to see is read when the lines are evaluated, not printed.
func TestLocalEnv(t *testing.T) {
	open := asyncfntest.Start(t)
	guarded := asyncfntest.Start(t, asyncfntest.WithCredentials("AKIDCI", "s3cret-key"))
	credsFile := writeFile(t, t.TempDir(), "creds", "AKIDCI:s3cret-key\n")
	os.Chmod(credsFile, 0o600)
	tests := []struct {
		name       string
		url        string
		env        map[string]string
		args       []string
		wantCode   int
		wantKey    string // AWS_SECRET_ACCESS_KEY once evaluated
		wantID     string
		secretSeen bool // the key itself appears in the output
	}{
		{name: "no credentials: dummies", url: open.URL, wantKey: dummySecretKey, wantID: dummyAccessKeyID},
		{name: "ASYNCFN_CREDENTIALS: read when evaluated", url: guarded.URL, env: map[string]string{"ASYNCFN_CREDENTIALS": "AKIDCI:s3cret-key"}, wantKey: "s3cret-key", wantID: "AKIDCI"},
		{name: "credentials file: read when evaluated", url: guarded.URL, args: []string{"--credentials-file", credsFile}, wantKey: "s3cret-key", wantID: "AKIDCI"},
		{name: "--show-secrets prints the key", url: guarded.URL, env: map[string]string{"ASYNCFN_CREDENTIALS": "AKIDCI:s3cret-key"}, args: []string{"--show-secrets"}, wantKey: "s3cret-key", wantID: "AKIDCI", secretSeen: true},
		{name: "emulator needs credentials, none given", url: guarded.URL, wantCode: exitFailure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"ASYNCFN_LOCAL_URL": tc.url}
			for k, v := range tc.env {
				env[k] = v
			}
			c, stdout, stderr := run(t, env, append([]string{"local", "env"}, tc.args...)...)
			if c != tc.wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", c, tc.wantCode, stdout, stderr)
			}
			if c != 0 {
				return
			}
			if got := strings.Contains(stdout, "s3cret-key"); got != tc.secretSeen {
				t.Errorf("secret key printed: %v, want %v:\n%s", got, tc.secretSeen, stdout)
			}
			sh := exec.Command("sh", "-c", `eval "$(cat)"; printf '%s\n' "$AWS_ENDPOINT_URL" "$AWS_ENDPOINT_URL_LAMBDA" "$AWS_ENDPOINT_URL_CLOUDWATCH_LOGS" "$ASYNCFN_LOCAL_URL" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_REGION" "$TENCENTCLOUD_SECRET_KEY"`)
			sh.Stdin = strings.NewReader(stdout)
			sh.Env = []string{"PATH=" + os.Getenv("PATH")}
			if v, ok := tc.env["ASYNCFN_CREDENTIALS"]; ok {
				sh.Env = append(sh.Env, "ASYNCFN_CREDENTIALS="+v)
			}
			got, err := sh.Output()
			if err != nil {
				t.Fatalf("eval: %v\n%s", err, stdout)
			}
			want := strings.Join([]string{tc.url, tc.url, tc.url, tc.url, tc.wantID, tc.wantKey, "us-east-1", tc.wantKey}, "\n") + "\n"
			if string(got) != want {
				t.Errorf("evaluated:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestLocalWaitAndStopExitCodes: the statuses a CI step relies on.
func TestLocalWaitAndStopExitCodes(t *testing.T) {
	emu := asyncfntest.Start(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	cache := t.TempDir()
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
		wantOut  string
	}{
		{name: "wait: answering", env: map[string]string{"ASYNCFN_LOCAL_URL": emu.URL}, args: []string{"local", "wait"}, wantOut: emu.URL},
		{name: "wait: --addr wins", env: map[string]string{"ASYNCFN_LOCAL_URL": "http://" + closed}, args: []string{"local", "wait", "--addr", strings.TrimPrefix(emu.URL, "http://")}, wantOut: emu.URL},
		{name: "wait: nothing answers", args: []string{"local", "wait", "--addr", closed, "--timeout", "200ms"}, wantCode: exitNotReady},
		{name: "wait: bad address", args: []string{"local", "wait", "--addr", "nonsense"}, wantCode: exitUsage},
		{name: "stop: nothing running", args: []string{"local", "stop", "--addr", closed}},
		{name: "stop: answers, no pid recorded", env: map[string]string{"ASYNCFN_LOCAL_URL": emu.URL}, args: []string{"local", "stop"}, wantCode: exitFailure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"XDG_CACHE_HOME": cache}
			for k, v := range tc.env {
				env[k] = v
			}
			c, stdout, stderr := run(t, env, tc.args...)
			if c != tc.wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", c, tc.wantCode, stdout, stderr)
			}
			if strings.TrimSpace(stdout) != tc.wantOut {
				t.Errorf("stdout %q, want %q", stdout, tc.wantOut)
			}
		})
	}
}

// TestDetachArgs: the background child runs the same command line without
// --detach and its wait timeout.
func TestDetachArgs(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"local", "start", "--detach"}, []string{"local", "start"}},
		{[]string{"-c", "s.yml", "local", "start", "--detach", "--addr", "127.0.0.1:0", "--wait-timeout", "5s"}, []string{"-c", "s.yml", "local", "start", "--addr", "127.0.0.1:0"}},
		{[]string{"local", "start", "--detach=true", "--wait-timeout=5s", "--drain", "1s"}, []string{"local", "start", "--drain", "1s"}},
	}
	for _, tc := range tests {
		if got := detachArgs(tc.in); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("detachArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestIndexFile: one index entry per address, whatever name it is given by.
func TestIndexFile(t *testing.T) {
	env := map[string]string{"XDG_CACHE_HOME": "/cache"}
	cio := IO{Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	tests := []struct{ url, want string }{
		{"http://127.0.0.1:9770", "/cache/asyncfn/emulators/127.0.0.1_9770.json"},
		{"http://localhost:9770/", "/cache/asyncfn/emulators/127.0.0.1_9770.json"},
		{"http://id:key@127.0.0.1:9771", "/cache/asyncfn/emulators/127.0.0.1_9771.json"},
		{"http://[::1]:9770", "/cache/asyncfn/emulators/__1_9770.json"},
	}
	for _, tc := range tests {
		got, err := indexFile(cio, tc.url)
		if err != nil || got != tc.want {
			t.Errorf("indexFile(%q) = %q, %v; want %q", tc.url, got, err, tc.want)
		}
	}
	if _, err := indexFile(cio, "not a url"); err == nil {
		t.Error("indexFile accepted a URL without a host")
	}
}

// TestCollectSince: --since, else when the emulator started, else everything.
func TestCollectSince(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	started := now.Add(-time.Hour)
	rec := &emulatorRecord{StartedAt: started}
	tests := []struct {
		since   string
		rec     *emulatorRecord
		want    time.Time
		wantErr bool
	}{
		{"", rec, started, false},
		{"", nil, time.Time{}, false},
		{"all", rec, time.Time{}, false},
		{"10m", rec, now.Add(-10 * time.Minute), false},
		{"2026-01-01T00:00:00Z", rec, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"yesterday", rec, time.Time{}, true},
	}
	for _, tc := range tests {
		got, err := collectSince(&collectOptions{Since: tc.since}, tc.rec, now)
		if (err != nil) != tc.wantErr || !got.Equal(tc.want) {
			t.Errorf("collectSince(%q) = %v, %v; want %v (error %v)", tc.since, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestLocalCollectCredentials: collect reads an emulator with credentials
// with ASYNCFN_CREDENTIALS, --addr or not, and says so without them.
func TestLocalCollectCredentials(t *testing.T) {
	emu := asyncfntest.Start(t, asyncfntest.WithCredentials("AKIDCI", "s3cret-key"))
	addr := strings.TrimPrefix(emu.URL, "http://")
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
	}{
		{"ASYNCFN_LOCAL_URL and credentials", map[string]string{"ASYNCFN_LOCAL_URL": emu.URL, "ASYNCFN_CREDENTIALS": "AKIDCI:s3cret-key"}, nil, 0},
		{"--addr and credentials", map[string]string{"ASYNCFN_CREDENTIALS": "AKIDCI:s3cret-key"}, []string{"--addr", addr}, 0},
		{"no credentials", nil, []string{"--addr", addr}, exitFailure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"XDG_CACHE_HOME": t.TempDir()}
			for k, v := range tc.env {
				env[k] = v
			}
			out := filepath.Join(t.TempDir(), "out")
			c, stdout, stderr := run(t, env, append([]string{"local", "collect", out}, tc.args...)...)
			if c != tc.wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", c, tc.wantCode, stdout, stderr)
			}
			if strings.Contains(stderr, "s3cret-key") {
				t.Errorf("the key shows in a message: %s", stderr)
			}
			if c == 0 {
				if b, err := os.ReadFile(filepath.Join(out, "summary.txt")); err != nil || !strings.Contains(string(b), "no functions deployed") {
					t.Errorf("summary.txt = %q, %v", b, err)
				}
			}
		})
	}
}
