package runtime

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	cases := []struct {
		line      string
		pgrp, rss int
		ok        bool
	}{
		{"1234 (node) S 1 1234 1234 0 -1 4194560 100 0 0 0 5 1 0 0 20 0 11 0 123 1000000 2560 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 0 0 0 0 0 0\n", 1234, 2560, true},
		{"77 (a) b) (c) R 1 70 70 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 100 42 0\n", 70, 42, true},
		{"77 (short) R 1 70", 0, 0, false},
		{"no parenthesis", 0, 0, false},
		{"5 (x) S 1 notanumber 1 0 -1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 7", 0, 0, false},
	}
	for _, c := range cases {
		pgrp, rss, ok := parseStat([]byte(c.line))
		if pgrp != c.pgrp || rss != c.rss || ok != c.ok {
			t.Errorf("parseStat(%q) = %d, %d, %v; want %d, %d, %v", c.line, pgrp, rss, ok, c.pgrp, c.rss, c.ok)
		}
	}
}

// The table sums a whole process group: a leader and the child it spawned.
func TestProcTableSumsTheGroup(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 30 & sleep 30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() }()
	tbl := NewProcTable(10 * time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		group, leader := tbl.GroupRSSKB(cmd.Process.Pid), tbl.LeaderRSSKB(cmd.Process.Pid)
		if leader > 0 && group > leader {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("group %d KiB, leader %d KiB: the children were not counted", tbl.GroupRSSKB(cmd.Process.Pid), tbl.LeaderRSSKB(cmd.Process.Pid))
}

func BenchmarkProcTableScan(b *testing.B) {
	tbl := NewProcTable(0)
	pid := os.Getpid()
	b.ReportAllocs()
	for b.Loop() {
		tbl.GroupRSSKB(pid)
	}
}

// At the next start, only processes that still run count as left behind: an
// exited one (a zombie nobody reaped yet) is not reported or signalled.
func TestKillLeftoverGroupCountsOnlyLiveProcesses(t *testing.T) {
	start := func(args ...string) *exec.Cmd {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	exited := start("true") // not waited for: it stays a zombie of this test
	defer exited.Wait()
	fp, err := Fingerprint(exited.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		if _, gone, err := procStart(exited.Process.Pid); err == nil && gone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the process never exited")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := KillLeftoverGroup(exited.Process.Pid, fp); n != 0 {
		t.Errorf("an exited process was reported as %d left behind", n)
	}

	live := start("sleep", "30")
	defer live.Wait()
	fp, err = Fingerprint(live.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if n := KillLeftoverGroup(live.Process.Pid, fp); n != 1 {
		t.Errorf("a running process: %d killed, want 1", n)
	}
}
