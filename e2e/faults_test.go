package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/artifact"
)

// deployNative deploys a one-file Node.js function through the native API.
func deployNative(t *testing.T, url, name, handler, code string, extra map[string]any) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	zip, _, err := artifact.Build(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{"name": name, "provider": "aws", "runtime": "nodejs18.x", "handler": "index." + handler, "memorySize": 256, "timeout": 60}
	for k, v := range extra {
		cfg[k] = v
	}
	body, _ := json.Marshal(map[string]any{"config": cfg, "zip": zip})
	req, _ := http.NewRequest(http.MethodPut, url+"/v1/functions/"+name, bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("deploy %s: %s %s", name, resp.Status, b)
	}
}

type nativeEvent struct {
	RequestID   string `json:"requestId"`
	Status      string `json:"status"`
	Attempts    int    `json:"attempts"`
	ErrorType   string `json:"errorType"`
	AttemptList []struct {
		N      int    `json:"n"`
		Status string `json:"status"`
	} `json:"attemptList"`
}

func getNativeEvent(url, fn, id string) (nativeEvent, int, error) {
	resp, err := http.Get(url + "/v1/functions/" + fn + "/events/" + id)
	if err != nil {
		return nativeEvent{}, 0, err
	}
	defer resp.Body.Close()
	var ev nativeEvent
	if resp.StatusCode == http.StatusOK {
		err = json.NewDecoder(resp.Body).Decode(&ev)
	}
	return ev, resp.StatusCode, err
}

func terminal(s string) bool {
	switch s {
	case "SUCCEEDED", "FAILED", "TIMED_OUT", "TERMINATED":
		return true
	}
	return false
}

// TestSIGKILLDuringABurst kills the emulator while 16 clients send async
// invokes: after a restart every RequestId a client received exists, reaches
// a terminal status, and no event succeeded twice.
func TestSIGKILLDuringABurst(t *testing.T) {
	needNode(t)
	dir := t.TempDir()
	addr := freePort(t)
	em := startLocal(t, addr, dir, "--max-concurrency", "32")
	deployNative(t, em.url, "burst", "work", `exports.work = async (e) => { await new Promise((r) => setTimeout(r, 20)); return e.n; };`,
		map[string]any{"async": map[string]any{"retryAttempts": 2}})

	const total, clients = 2000, 16
	var (
		mu       sync.Mutex
		accepted []string
		wg       sync.WaitGroup
		killed   = make(chan struct{})
		once     sync.Once
	)
	client := &http.Client{Timeout: 10 * time.Second}
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := c; i < total; i += clients {
				select {
				case <-killed:
					return
				default:
				}
				resp, err := client.Post(em.url+"/v1/functions/burst/invocations?type=Event", "application/json", strings.NewReader(fmt.Sprintf(`{"n":%d}`, i)))
				if err != nil {
					continue // the emulator died under this request: no id was handed out
				}
				var ev nativeEvent
				ok := resp.StatusCode == http.StatusAccepted && json.NewDecoder(resp.Body).Decode(&ev) == nil && ev.RequestID != ""
				resp.Body.Close()
				if !ok {
					continue
				}
				mu.Lock()
				accepted = append(accepted, ev.RequestID)
				n := len(accepted)
				mu.Unlock()
				if n == total/2 {
					once.Do(func() {
						em.cmd.Process.Signal(syscall.SIGKILL)
						close(killed)
					})
				}
			}
		}(c)
	}
	wg.Wait()
	em.cmd.Wait()
	t.Logf("%d RequestIds handed out before the SIGKILL", len(accepted))
	if len(accepted) < total/2 {
		t.Fatalf("only %d accepted", len(accepted))
	}

	em2 := startLocal(t, addr, dir, "--max-concurrency", "32")
	deadline := time.Now().Add(3 * time.Minute)
	statuses := map[string]int{}
	for _, id := range accepted {
		for {
			ev, code, err := getNativeEvent(em2.url, "burst", id)
			if err != nil || code != http.StatusOK {
				t.Fatalf("RequestId %s handed out before the kill: HTTP %d, %v", id, code, err)
			}
			if terminal(ev.Status) {
				statuses[ev.Status]++
				succeeded := 0
				for _, a := range ev.AttemptList {
					if a.Status == "SUCCEEDED" {
						succeeded++
					}
				}
				if succeeded > 1 {
					t.Errorf("event %s succeeded %d times", id, succeeded)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("event %s still %s after restart", id, ev.Status)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Logf("after restart: %v", statuses)
	if statuses["SUCCEEDED"] < len(accepted)*9/10 {
		t.Errorf("only %d of %d events succeeded after the restart (retries cover the interrupted ones): %v", statuses["SUCCEEDED"], len(accepted), statuses)
	}
}

// A subscriber that stops reading, or vanishes, never holds up a function or
// the other subscribers.
func TestSlowAndVanishedLogSubscribers(t *testing.T) {
	needNode(t)
	em := startLocal(t, freePort(t), t.TempDir())
	deployNative(t, em.url, "chatty", "talk", `exports.talk = async () => {
  const line = "y".repeat(500);
  for (let i = 0; i < 20000; i++) { console.log(i + " " + line); if (i % 500 === 0) await new Promise((r) => setImmediate(r)); }
  return "said enough";
};`, nil)

	// A stalled subscriber: connects, asks for the stream, never reads.
	stalled, err := net.Dial("tcp", em.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	fmt.Fprintf(stalled, "GET /v1/logs/stream?function=chatty HTTP/1.1\r\nHost: %s\r\n\r\n", em.addr)
	// A vanished one: connects and goes away.
	gone, err := net.Dial("tcp", em.addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(gone, "GET /v1/logs/stream?function=chatty HTTP/1.1\r\nHost: %s\r\n\r\n", em.addr)
	gone.Close()

	// A healthy tail through the CLI's own client.
	resp, err := http.Get(em.url + "/v1/logs/stream?function=chatty&from=now")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 64<<10)
		var all strings.Builder
		for {
			n, err := resp.Body.Read(buf)
			all.Write(buf[:n])
			if strings.Contains(all.String(), "REPORT RequestId") {
				got <- "report"
				return
			}
			if err != nil {
				got <- err.Error()
				return
			}
		}
	}()

	r, err := http.Post(em.url+"/v1/functions/chatty/invocations", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	var ev nativeEvent
	json.NewDecoder(r.Body).Decode(&ev)
	r.Body.Close()
	if ev.Status != "SUCCEEDED" {
		t.Fatalf("the function ended %s with a stalled subscriber attached", ev.Status)
	}
	select {
	case s := <-got:
		if s != "report" {
			t.Fatalf("healthy subscriber: %s", s)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the healthy subscriber never saw the REPORT line")
	}
}

// A state directory that is not a directory, or a disk that fills up, gives a
// clear error — at start, or as an error answer — never a hang.
func TestStateDirectoryProblems(t *testing.T) {
	t.Run("not a directory", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "state")
		if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(binary, "local", "start", "--addr", freePort(t), "--state-dir", file)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(stderr.String(), file) {
				t.Fatalf("exit %v, stderr %q: want a failure naming %s", err, stderr.String(), file)
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatal("the emulator hung on a bad state directory")
		}
	})
	t.Run("read-only file system", func(t *testing.T) {
		dir := t.TempDir()
		if err := exec.Command("mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", dir).Run(); err != nil {
			t.Skipf("cannot mount a read-only tmpfs here (%v); needs root", err)
		}
		defer exec.Command("umount", "-l", dir).Run()
		state := filepath.Join(dir, "state")
		cmd := exec.Command(binary, "local", "start", "--addr", freePort(t), "--state-dir", state)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(stderr.String(), state) || !strings.Contains(stderr.String(), "read-only") {
				t.Fatalf("exit %v, stderr %q: want a failure naming %s and the read-only file system", err, stderr.String(), state)
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatal("the emulator hung on a read-only state directory")
		}
	})
	t.Run("disk full", func(t *testing.T) {
		needNode(t)
		dir := t.TempDir()
		if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir).Run(); err != nil {
			t.Skipf("cannot mount a small tmpfs here (%v); needs root", err)
		}
		defer exec.Command("umount", "-l", dir).Run()
		em := startLocal(t, freePort(t), dir)
		deployNative(t, em.url, "small", "ok", `exports.ok = async () => "ok";`, nil)
		// Fill the file system.
		filler := filepath.Join(dir, "filler")
		f, err := os.Create(filler)
		if err != nil {
			t.Fatal(err)
		}
		chunk := make([]byte, 64<<10)
		for {
			if _, err := f.Write(chunk); err != nil {
				break
			}
		}
		f.Close()
		client := &http.Client{Timeout: 20 * time.Second}
		var lastErr string
		failed := false
		for i := 0; i < 50 && !failed; i++ {
			resp, err := client.Post(em.url+"/v1/functions/small/invocations?type=Event", "application/json", strings.NewReader(`{"pad":"`+strings.Repeat("p", 4000)+`"}`))
			if err != nil {
				t.Fatalf("invoke on a full disk: %v (want an error answer, not a hang)", err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				failed, lastErr = true, string(b)
			}
		}
		if !failed || !strings.Contains(lastErr, "full") {
			t.Fatalf("no error naming the full disk; last answer %q", lastErr)
		}
		// Space again: the emulator accepts again.
		os.Remove(filler)
		deadline := time.Now().Add(20 * time.Second)
		for {
			resp, err := client.Post(em.url+"/v1/functions/small/invocations?type=Event", "application/json", strings.NewReader(`{}`))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusAccepted {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatal("the emulator did not recover once space was freed")
			}
			time.Sleep(200 * time.Millisecond)
		}
		em.cmd.Process.Signal(syscall.SIGTERM)
		em.cmd.Wait()
	})
}

// Processes a handler started survive a SIGKILL of the emulator (only the
// handler's own process dies with it); the next start of the emulator ends them.
func TestLeftoversOfAKilledEmulatorAreCleanedUp(t *testing.T) {
	needNode(t)
	dir := t.TempDir()
	addr := freePort(t)
	em := startLocal(t, addr, dir)
	deployNative(t, em.url, "spawner", "run", `const { spawn } = require("child_process");
exports.run = async () => {
  const child = spawn("sleep", ["1000"], { stdio: "ignore" });
  console.log("child " + child.pid);
  await new Promise((r) => setTimeout(r, 60000));
};`, nil)
	resp, err := http.Post(em.url+"/v1/functions/spawner/invocations?type=Event", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	var ev nativeEvent
	json.NewDecoder(resp.Body).Decode(&ev)
	resp.Body.Close()

	var child int
	deadline := time.Now().Add(30 * time.Second)
	for child == 0 && time.Now().Before(deadline) {
		r, err := http.Get(em.url + "/v1/logs?requestId=" + ev.RequestID)
		if err == nil {
			var page struct {
				Lines []struct{ Text string } `json:"lines"`
			}
			json.NewDecoder(r.Body).Decode(&page)
			r.Body.Close()
			for _, l := range page.Lines {
				fmt.Sscanf(l.Text, "child %d", &child)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if child == 0 {
		t.Fatal("the handler never reported its child")
	}
	em.cmd.Process.Signal(syscall.SIGKILL)
	em.cmd.Wait()
	time.Sleep(200 * time.Millisecond)
	if !alive(child) {
		t.Skip("the child died with the emulator here; nothing to clean up")
	}
	defer syscall.Kill(child, syscall.SIGKILL)

	startLocal(t, addr, dir)
	deadline = time.Now().Add(10 * time.Second)
	for alive(child) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d, started by a handler of the killed emulator, still runs after the restart", child)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// alive reports whether pid runs (a zombie waiting for its reaper counts as gone).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z'
}
