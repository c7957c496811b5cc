package runtime

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func needCgroups(t *testing.T) {
	t.Helper()
	if !useReaper() {
		t.Skip("no reaper: " + IsolationMode())
	}
	if mode, why := cgroupMode(); mode == "" {
		t.Skip("no cgroups: " + why)
	}
}

// inCgroup reports whether pid is listed in dir's cgroup.procs.
func inCgroup(dir string, pid int) bool {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return false
	}
	for _, f := range strings.Fields(string(b)) {
		if f == strconv.Itoa(pid) {
			return true
		}
	}
	return false
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// The runtime and everything it starts are born in the instance's cgroup,
// with its limits; the reaper is not in it; Terminate leaves no cgroup behind.
func TestCgroupHoldsTheInstance(t *testing.T) {
	needCgroups(t)
	sink := newSink()
	inst := startEscape(t, Config{MemoryLimitMB: 256}, sink)
	var e escaped
	mustSucceed(t, inst, "cg-1", `{}`, &e)
	if inst.cg == nil {
		t.Fatal("the instance has no cgroup")
	}
	dirs := inst.cg.dirs()
	for _, dir := range dirs {
		for _, pid := range []int{inst.PID(), e.Setsid, e.DoubleFork} {
			if !inCgroup(dir, pid) {
				t.Errorf("process %d is not in %s", pid, dir)
			}
		}
		if inCgroup(dir, inst.pid) {
			t.Errorf("the reaper is in %s", dir)
		}
		want := strconv.FormatInt(cgroupMemoryLimit(256), 10)
		for file, value := range map[string]string{"memory.limit_in_bytes": want, "memory.max": want, "pids.max": "1024"} {
			if b, err := os.ReadFile(filepath.Join(dir, file)); err == nil && strings.TrimSpace(string(b)) != value {
				t.Errorf("%s/%s = %s, want %s", dir, file, b, value)
			}
		}
	}
	inst.Terminate(0)
	gone(t, "after Terminate(0)", inst.PID(), e.Setsid, e.DoubleFork)
	for _, dir := range dirs {
		if exists(dir) {
			t.Errorf("%s left behind", dir)
		}
	}
}

// startInCgroup starts sh -c script in cg: the script starts once it is in.
func startInCgroup(t *testing.T, cg instanceCgroup, script string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command("sh", "-c", "read go; "+script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
	if err := cg.add(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	io.WriteString(in, "go\n")
	in.Close()
	return cmd, bufio.NewReader(out)
}

// The cgroup's kill takes every process in it, also those that left the
// process group or were orphaned.
func TestCgroupKill(t *testing.T) {
	needCgroups(t)
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("setsid not installed")
	}
	cg, err := newInstanceCgroup(0, 0)
	if err != nil || cg == nil {
		t.Fatalf("newInstanceCgroup: %v", err)
	}
	defer releaseCgroup(cg)
	cmd, out := startInCgroup(t, cg, `setsid sleep 100 </dev/null >/dev/null 2>&1 & echo $!; (sleep 101 </dev/null >/dev/null 2>&1 & echo $!) ; sleep 102`)
	var pids []int
	for range 2 {
		line, err := out.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(strings.TrimSpace(line))
		pids = append(pids, n)
	}
	pids = append(pids, cmd.Process.Pid)
	for _, p := range pids {
		if !alive(p) || !inCgroup(cg.dirs()[0], p) {
			t.Fatalf("process %d: alive %v, in the cgroup %v", p, alive(p), inCgroup(cg.dirs()[0], p))
		}
	}
	if err := cg.kill(); err != nil {
		t.Fatalf("kill: %v", err)
	}
	cmd.Wait()
	gone(t, "after the cgroup's kill", pids...)
	releaseCgroup(cg)
	for _, d := range cg.dirs() {
		if exists(d) {
			t.Errorf("%s left behind", d)
		}
	}
}

// The kernel enforces the hard limit between two samples, and the kill is
// counted.
func TestCgroupHardMemoryLimit(t *testing.T) {
	needCgroups(t)
	py := pythonExecutable(t)
	cg, err := newInstanceCgroup(64, 0) // hard limit 96 MiB
	if err != nil || cg == nil {
		t.Fatalf("newInstanceCgroup: %v", err)
	}
	defer releaseCgroup(cg)
	cmd, _ := startInCgroup(t, cg, `exec `+py+` -c "x = b'\x01' * (300 << 20)"`)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the allocation ended with %v, want SIGKILL", err)
	}
	if n := cg.oomKills(); n < 1 {
		t.Errorf("oomKills %d", n)
	}
	if kb := cg.peakKB(); kb > 0 && kb < 64<<10 {
		t.Errorf("peak %d KiB", kb)
	}
}

// A process the kernel kills for the hard limit — here at once, before a
// sample could see it — fails the invocation as out of memory, and the whole
// instance goes, as on Lambda.
func TestCgroupOutOfMemoryFailsTheInstance(t *testing.T) {
	needCgroups(t)
	py := pythonExecutable(t)
	sink := newSink()
	inst := startEscape(t, Config{Handler: "index.hog", MemoryMB: 128, MemoryLimitMB: 128}, sink)
	// 200 MB in a setsid child against a hard limit of 160 MiB.
	_, err := invoke(t, inst, "cg-oom", `{"python": "`+py+`", "ms": 3000}`)
	var ee *ExitError
	if !errors.As(err, &ee) || ee.OutOfMemoryMB <= 128 {
		t.Fatalf("Invoke: %v, want out of memory", err)
	}
	waitDone(t, inst, 5*time.Second)
	if alive(inst.PID()) {
		t.Error("the runtime is alive")
	}
}

// An emulator that dies leaves no cgroup: the reaper removes it; a cgroup
// left anyway (its reaper killed too) is swept at the next probe.
func TestCgroupSweep(t *testing.T) {
	needCgroups(t)
	// A dead emulator's instance: pid 1 << 22 + 1 is above pid_max's default.
	id := strconv.Itoa(1<<22+1) + "-7"
	var cg instanceCgroup
	var err error
	switch cgroupSupport.version {
	case 1:
		cg, err = newCgroupV1(id, 0, 0)
	case 2:
		cg, err = newCgroupV2(id, 0, 0)
	}
	if err != nil {
		t.Fatal(err)
	}
	var parents []string
	for _, d := range cg.dirs() {
		parents = append(parents, filepath.Dir(d))
	}
	remake := func(id string) (instanceCgroup, error) {
		if cgroupSupport.version == 1 {
			return newCgroupV1(id, 0, 0)
		}
		return newCgroupV2(id, 0, 0)
	}
	sweepCgroups(parents, remake)
	for _, d := range cg.dirs() {
		if exists(d) {
			t.Errorf("%s not swept", d)
		}
	}
}

// With SetCPUByMemory, an instance's CPU is capped in proportion to its
// memory size, as on Lambda: 885 MB is half a vCPU.
func TestCgroupCPUByMemory(t *testing.T) {
	needCgroups(t)
	if !cgroupSupport.cpu {
		t.Skip("no cpu controller: " + cgroupSupport.cpuWhy)
	}
	SetCPUByMemory(true)
	defer SetCPUByMemory(false)
	if m := IsolationMode(); !strings.Contains(m, "with CPU by memory") {
		t.Errorf("IsolationMode %q", m)
	}
	cg, err := newInstanceCgroup(0, 885)
	if err != nil || cg == nil {
		t.Fatalf("newInstanceCgroup: %v", err)
	}
	defer releaseCgroup(cg)
	want := strconv.FormatInt(cgroupCPUQuota(885), 10) // 50028
	found := false
	for _, d := range cg.dirs() {
		if b, err := os.ReadFile(filepath.Join(d, "cpu.cfs_quota_us")); err == nil {
			found = true
			if q := strings.TrimSpace(string(b)); q != want {
				t.Errorf("cpu.cfs_quota_us = %s, want %s", q, want)
			}
		}
		if b, err := os.ReadFile(filepath.Join(d, "cpu.max")); err == nil {
			found = true
			if q := strings.TrimSpace(string(b)); q != want+" 100000" {
				t.Errorf("cpu.max = %s, want %s 100000", q, want)
			}
		}
	}
	if !found {
		t.Fatalf("no CPU quota in %v", cg.dirs())
	}
	// A busy loop gets about half a CPU.
	cmd, _ := startInCgroup(t, cg, `while :; do :; done`)
	begun := time.Now()
	time.Sleep(time.Second)
	b, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	used := time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ is 100
	if wall := time.Since(begun); used > wall*7/10 {
		t.Errorf("a busy loop used %v of CPU in %v", used, wall)
	}
}
