package runtime

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

func sysProcAttr() *syscall.SysProcAttr {
	// Own process group: terminate and timeouts signal the whole tree.
	// Pdeathsig: the instance dies with the emulator even on SIGKILL. (It fires
	// when the thread that started the child exits; the Go runtime does not
	// retire threads that are not locked, so in practice that is the process.)
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// waitNoReap blocks until pid has exited, leaving it a zombie (waitid with
// WNOWAIT) so that its pid — the process group id — stays reserved until
// exec.Cmd.Wait reaps it. It reports whether it could wait that way.
func waitNoReap(pid int) bool {
	const pPID, wNOWAIT = 1, 0x01000000
	var info [128]byte // siginfo_t
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid),
			uintptr(unsafe.Pointer(&info[0])), syscall.WEXITED|wNOWAIT, 0, 0)
		if errno == syscall.EINTR {
			continue
		}
		return errno == 0
	}
}

// pipeBytes is the number of bytes waiting in a pipe.
func pipeBytes(fd uintptr) int {
	var n int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n))); errno != 0 {
		return 0
	}
	return int(n)
}

// procTracker sums the resident memory of the processes in an instance's
// process group. Finding the group's members means scanning /proc, which costs
// in proportion to every process on the machine, so members once found are
// re-read cheaply on each sample and a full scan runs with backoff (100 ms
// after an invocation begins, doubling up to 10 s). The scan only reads pids
// allocated after the leader (per /proc/sys/kernel/ns_last_pid), since the
// group's other members are its descendants.
type procTracker struct {
	mu       sync.Mutex
	leader   int
	known    map[int]struct{}
	nextScan time.Time
	every    time.Duration
	pageKB   int
}

const maxScanEvery = 10 * time.Second

func newProcTracker(pid int) *procTracker {
	return &procTracker{leader: pid, known: map[int]struct{}{pid: {}}, every: 100 * time.Millisecond, pageKB: os.Getpagesize() / 1024}
}

// begin restarts the scan backoff: handlers spawn children while they run.
func (t *procTracker) begin() {
	t.mu.Lock()
	t.every = 100 * time.Millisecond
	t.nextScan = time.Time{}
	t.mu.Unlock()
}

// rssKB is the group's current resident memory in KiB.
func (t *procTracker) rssKB() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if now := time.Now(); !now.Before(t.nextScan) {
		t.scan()
		t.nextScan = now.Add(t.every)
		t.every = min(t.every*2, maxScanEvery)
	}
	total := 0
	for pid := range t.known {
		pgrp, rss, ok := readStat(pid)
		if !ok || pgrp != t.leader {
			if pid != t.leader {
				delete(t.known, pid)
			}
			continue
		}
		total += rss
	}
	return total * t.pageKB
}

func (t *procTracker) scan() {
	last := 0
	if b, err := os.ReadFile("/proc/sys/kernel/ns_last_pid"); err == nil {
		last, _ = strconv.Atoi(string(bytes.TrimSpace(b)))
	}
	d, err := os.Open("/proc")
	if err != nil {
		return
	}
	defer d.Close()
	for {
		names, err := d.Readdirnames(512)
		for _, n := range names {
			pid, err := strconv.Atoi(n)
			if err != nil || pid == t.leader {
				continue
			}
			if _, ok := t.known[pid]; ok || !t.inWindow(pid, last) {
				continue
			}
			if pgrp, _, ok := readStat(pid); ok && pgrp == t.leader {
				t.known[pid] = struct{}{}
			}
		}
		if err != nil || len(names) == 0 {
			return
		}
	}
}

// inWindow reports whether pid was allocated after the leader, pids wrapping
// around at pid_max.
func (t *procTracker) inWindow(pid, last int) bool {
	switch {
	case last <= 0:
		return true
	case last >= t.leader:
		return pid > t.leader && pid <= last
	default:
		return pid > t.leader || pid <= last
	}
}

// readStat returns the process group and resident pages of pid from
// /proc/<pid>/stat.
func readStat(pid int) (pgrp, rssPages int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// The command name may contain spaces and parentheses: fields start after the last ')'.
	k := bytes.LastIndexByte(b, ')')
	if k < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(b[k+1:])
	// f[0] is field 3 (state); pgrp is field 5, rss field 24.
	if len(f) < 22 {
		return 0, 0, false
	}
	pgrp, err1 := strconv.Atoi(string(f[2]))
	rssPages, err2 := strconv.Atoi(string(f[21]))
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return pgrp, rssPages, true
}
