package runtime

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// escapeCode starts processes that leave the runtime's process group: one
// that calls setsid, and one double-forked daemon-style (its parents exit, so
// it is an orphan). Both are what issue 12 finding 7 saw escape.
const escapeCode = `
const { execSync } = require('child_process');
const sh = (cmd) => execSync(cmd, { shell: '/bin/sh' }).toString().trim();
let terms = 0;
exports.escape = async (event) => {
  const setsid = +sh('setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo $!');
  const doubleFork = +sh('( (sleep 1001 </dev/null >/dev/null 2>&1 & echo $!) & )');
  if (event.catchTerm) process.on('SIGTERM', () => { terms++; console.log('got SIGTERM ' + terms); });
  console.log('escaped ' + setsid + ' ' + doubleFork);
  if (event.exit) process.exit(event.exit);
  if (event.wait) await new Promise(() => setInterval(() => {}, 1000));
  return { setsid, doubleFork };
};
exports.hog = async (event) => {
  const ready = require('os').tmpdir() + '/hog-ready-' + process.pid + '-' + Date.now();
  const pid = +sh('setsid ' + event.python + ' -c "x = b\'\\x01\' * (200 << 20); open(\'' + ready + '\', \'w\').close(); import time; time.sleep(60)" </dev/null >/dev/null 2>&1 & echo $!');
  console.log('hog ' + pid);
  // Until the child holds its 200 MB (Python's start alone can take seconds
  // on a loaded machine), then long enough for the sampler to see it.
  const fs = require('fs');
  for (let i = 0; i < 1500 && !fs.existsSync(ready); i++) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, event.ms));
  return { pid };
};
`

type escaped struct{ Setsid, DoubleFork int }

func startEscape(t *testing.T, cfg Config, sink *logSink) *Instance {
	t.Helper()
	needInterpreter(t, "node", "nodejs")
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("setsid not installed")
	}
	if !useReaper() {
		t.Skip("no reaper: " + IsolationMode())
	}
	code := t.TempDir()
	writeFiles(t, code, map[string]string{"index.js": escapeCode})
	cfg.Runtime, cfg.CodeDir = "nodejs20.x", code
	if cfg.Handler == "" {
		cfg.Handler = "index.escape"
	}
	return start(t, cfg, sink)
}

// escapedPids reads the "escaped A B" line.
func escapedPids(t *testing.T, sink *logSink) escaped {
	t.Helper()
	l := sink.waitFor(t, "escaped ", 10*time.Second)
	var e escaped
	if _, err := fmt.Sscanf(l.Text, "escaped %d %d", &e.Setsid, &e.DoubleFork); err != nil {
		t.Fatalf("%q: %v", l.Text, err)
	}
	return e
}

// gone waits up to 3 s for every pid to be gone.
func gone(t *testing.T, what string, pids ...int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for _, pid := range pids {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(pid) {
			t.Errorf("%s: process %d still alive", what, pid)
		}
	}
}

func ppidOf(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	ppid, _, _, _ := parseStatFields(b)
	return ppid
}

// sessionOf is field 6 of /proc/<pid>/stat.
func sessionOf(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 4 {
		return 0
	}
	sid, _ := strconv.Atoi(f[3])
	return sid
}

func TestReaperKeepsEscapedProcessesInTheInstance(t *testing.T) {
	t.Run("retire", func(t *testing.T) {
		sink := newSink()
		inst := startEscape(t, Config{}, sink)
		var e escaped
		mustSucceed(t, inst, "esc-1", `{}`, &e)
		if e.Setsid <= 0 || e.DoubleFork <= 0 {
			t.Fatalf("pids %+v", e)
		}
		// A warm instance keeps what its invocations started, as Lambda does.
		if !alive(e.Setsid) || !alive(e.DoubleFork) {
			t.Fatalf("children not running: %+v", e)
		}
		// (The shell reported the pid before the child had called setsid.)
		for deadline := time.Now().Add(2 * time.Second); sessionOf(e.Setsid) != e.Setsid && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		if sessionOf(e.Setsid) != e.Setsid {
			t.Errorf("the setsid child is not in a session of its own")
		}
		if p := ppidOf(e.DoubleFork); p != inst.pid {
			t.Errorf("the orphan's parent is %d, want the reaper %d", p, inst.pid)
		}
		inst.Terminate(0)
		gone(t, "after Terminate(0)", inst.PID(), e.Setsid, e.DoubleFork)
	})
	t.Run("the runtime exits", func(t *testing.T) {
		sink := newSink()
		inst := startEscape(t, Config{}, sink)
		_, err := invoke(t, inst, "esc-2", `{"exit": 3}`)
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Code != 3 || ee.Signal != "" {
			t.Fatalf("Invoke: %v, want exit code 3", err)
		}
		e := escapedPids(t, sink)
		gone(t, "after the runtime exited", e.Setsid, e.DoubleFork)
	})
	t.Run("timeout", func(t *testing.T) {
		sink := newSink()
		inst := startEscape(t, Config{}, sink)
		_, err := inst.Invoke(context.Background(), Request{RequestID: "esc-3", Payload: []byte(`{"wait": true}`), Timeout: 1500 * time.Millisecond})
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("Invoke: %v, want ErrTimeout", err)
		}
		e := escapedPids(t, sink)
		inst.Terminate(0) // what the engine does on a timeout
		gone(t, "after the timeout", inst.PID(), e.Setsid, e.DoubleFork)
	})
	t.Run("terminate with grace", func(t *testing.T) {
		sink := newSink()
		inst := startEscape(t, Config{}, sink)
		go func() { _, _ = invoke(t, inst, "esc-4", `{"wait": true, "catchTerm": true}`) }()
		e := escapedPids(t, sink)
		done := make(chan struct{})
		go func() {
			inst.Terminate(2 * time.Second)
			close(done)
		}()
		// SIGTERM reaches the escaped processes too, once each: the sleeps die
		// of it while the runtime, which catches it, runs on until the grace ends.
		sink.waitFor(t, "got SIGTERM 1", 5*time.Second)
		gone(t, "SIGTERM", e.Setsid, e.DoubleFork)
		if !alive(inst.PID()) {
			t.Error("the runtime died before the grace ended")
		}
		<-done
		if _, ok := sink.find("got SIGTERM 2"); ok {
			t.Error("the runtime got SIGTERM twice")
		}
		gone(t, "after the grace", inst.PID())
	})
}

func TestReaperCountsEscapedMemory(t *testing.T) {
	py := pythonExecutable(t)
	payload, _ := json.Marshal(map[string]any{"python": py, "ms": 2000})
	t.Run("Max Memory Used", func(t *testing.T) {
		sink := newSink()
		inst := startEscape(t, Config{Handler: "index.hog", MemoryMB: 512}, sink)
		var out struct{ PID int }
		resp := mustSucceed(t, inst, "hog-1", string(payload), &out)
		if resp.MaxMemoryMB < 200 {
			t.Errorf("MaxMemoryMB %d: the setsid child's 200 MB was not counted", resp.MaxMemoryMB)
		}
		inst.Terminate(0)
		gone(t, "after Terminate(0)", out.PID)
	})
	t.Run("memory limit", func(t *testing.T) {
		sink := newSink()
		inst := startEscape(t, Config{Handler: "index.hog", MemoryMB: 160, MemoryLimitMB: 160}, sink)
		_, err := invoke(t, inst, "hog-2", string(payload))
		var ee *ExitError
		if !errors.As(err, &ee) || ee.OutOfMemoryMB <= 160 {
			t.Fatalf("Invoke: %v, want the memory limit to kill the instance", err)
		}
		l := sink.waitFor(t, "hog ", time.Second)
		pid, _ := strconv.Atoi(strings.TrimPrefix(l.Text, "hog "))
		gone(t, "after the memory limit", pid)
	})
}

// An emulator that is SIGKILLed takes every process of its instances with it:
// the reaper's parent-death signal asks it to kill the instance.
func TestReaperDiesWithTheEmulator(t *testing.T) {
	if os.Getenv("ASYNCFN_TEST_REAPER_EMULATOR") == "1" {
		return // the child's part is TestReaperEmulatorHelper
	}
	needInterpreter(t, "node", "nodejs")
	cmd := exec.Command(os.Args[0], "-test.run=^TestReaperEmulatorHelper$", "-test.v")
	cmd.Env = append(os.Environ(), "ASYNCFN_TEST_REAPER_EMULATOR=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	var pids []int
	var dirs []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "DIRS"); ok {
			dirs = strings.Fields(rest)
			break
		}
		if rest, ok := strings.CutPrefix(sc.Text(), "PIDS "); ok {
			for _, f := range strings.Fields(rest) {
				n, _ := strconv.Atoi(f)
				pids = append(pids, n)
			}
			continue
		}
		if strings.HasPrefix(sc.Text(), "--- SKIP") {
			t.Skip("helper skipped")
		}
	}
	if len(pids) != 4 {
		t.Fatalf("helper said %v", pids)
	}
	for _, p := range pids {
		if !alive(p) {
			t.Fatalf("process %d not running before the kill", p)
		}
	}
	_ = cmd.Process.Kill()
	go func() { _, _ = bufio.NewReader(out).WriteTo(new(strings.Builder)) }()
	gone(t, "after the emulator was SIGKILLed", pids...)
	// The reaper removed the instance's cgroup, if it had one.
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		left := 0
		for _, d := range dirs {
			if _, err := os.Stat(d); err == nil {
				left++
			}
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("cgroups left behind: %v", dirs)
			break
		}
	}
}

// TestReaperEmulatorHelper is the emulator TestReaperDiesWithTheEmulator kills.
func TestReaperEmulatorHelper(t *testing.T) {
	if os.Getenv("ASYNCFN_TEST_REAPER_EMULATOR") != "1" {
		t.Skip("run by TestReaperDiesWithTheEmulator")
	}
	sink := newSink()
	inst := startEscape(t, Config{}, sink)
	go func() { _, _ = invoke(t, inst, "esc-5", `{"wait": true}`) }()
	e := escapedPids(t, sink)
	fmt.Printf("PIDS %d %d %d %d\n", inst.pid, inst.PID(), e.Setsid, e.DoubleFork)
	var dirs []string
	if inst.cg != nil {
		dirs = inst.cg.dirs()
	}
	fmt.Printf("DIRS %s\n", strings.Join(dirs, " "))
	time.Sleep(time.Minute)
}

// The tree sums descendants by parent links: a child that called setsid counts
// although it left the process group; the root itself does not.
func TestProcTableSumsTheTree(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("setsid not installed")
	}
	cmd := exec.Command("sh", "-c", "setsid sleep 30 & echo $!; sleep 30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() }()
	var child int
	if _, err := fmt.Fscan(out, &child); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(child, syscall.SIGKILL)
	tbl := NewProcTable(10 * time.Millisecond)
	sh := cmd.Process.Pid
	var tree, group, escapedKB, root int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		// sh's tree is both sleeps, not sh; its group is sh and the plain sleep.
		tree, group = tbl.TreeRSSKB(sh), tbl.GroupRSSKB(sh)
		escapedKB, root = tbl.LeaderRSSKB(child), tbl.LeaderRSSKB(sh)
		if sessionOf(child) == child && escapedKB > 0 && group > root && tree >= escapedKB+(group-root) {
			return
		}
	}
	t.Fatalf("tree %d KiB, group %d KiB, setsid child %d KiB (session %d), sh %d KiB", tree, group, escapedKB, sessionOf(child), root)
}
