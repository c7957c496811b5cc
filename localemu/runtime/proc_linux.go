package runtime

import (
	"bytes"
	"cmp"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func sysProcAttr() *syscall.SysProcAttr {
	// Own process group: terminate and timeouts signal the whole tree.
	// Pdeathsig: the instance dies with the emulator even on SIGKILL. (It fires
	// when the thread that started the child exits; the Go runtime does not
	// retire threads that are not locked, so in practice that is the process.)
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// reaperAvailable reports whether instances can run under the reaper.
func reaperAvailable() bool {
	_, err := os.Stat("/proc/self/exe")
	return err == nil
}

// reaperProcAttr is sysProcAttr for a reaper: its parent-death signal is the
// request to kill the instance, so the whole instance — not just the reaper —
// dies with the emulator, even on SIGKILL.
func reaperProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: reaperKill}
}

// waitNoReap waits until pid has exited, leaving it a zombie (waitid with
// WNOWAIT) so that its pid — the process group id — stays reserved until
// exec.Cmd.Wait reaps it. It reports whether it could wait that way.
//
// It waits through a pidfd, which becomes readable when the process exits:
// the runtime's poller watches it, so a thousand live instances park no OS
// thread each (a blocking waitid holds one per instance). Without pidfds
// (Linux before 5.3) it falls back to the blocking wait.
func waitNoReap(pid int) bool {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return waitNoReapBlocking(pid)
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return waitNoReapBlocking(pid)
	}
	ok := false
	err = rc.Read(func(fd uintptr) bool {
		for {
			// WNOHANG: with the process still running the kernel leaves
			// the siginfo zeroed; the poller then waits for the pidfd.
			var info unix.Siginfo
			err := unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOWAIT|unix.WNOHANG, nil)
			switch {
			case err == unix.EINTR:
				continue
			case err != nil:
				return true // not a child of ours, or already reaped
			case info.Signo == 0:
				return false
			}
			ok = true
			return true
		}
	})
	return err == nil && ok
}

// waitNoReapBlocking is waitNoReap with a blocking waitid, which holds an
// OS thread until the process exits.
func waitNoReapBlocking(pid int) bool {
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

// ProcTable is a snapshot of the machine's resident memory by process group,
// shared by every instance of an emulator: sampling memory then costs one scan
// of /proc per interval, however many instances run (per-instance scans grew
// with the square of the instance count). Reads reuse one buffer and allocate
// nothing per process. It is safe for concurrent use.
type ProcTable struct {
	interval time.Duration
	pageKB   int

	mu      sync.Mutex
	at      time.Time     // when byGroup was taken
	every   time.Duration // current refresh age: interval, or more when scans are slow
	byGroup map[int]int   // process group id -> resident KiB
	procs   []procEntry   // every process of the scan, sorted by parent once indexed
	indexed bool          // procs is sorted by parent
	byTree  map[int]int   // root pid -> resident KiB of its descendants (memo of this scan)
	stack   []int         // TreeRSSKB's walk
	buf     []byte
	names   []byte
}

// procEntry is one process of a scan.
type procEntry struct {
	pid, ppid, pgrp int32
	rssKB           int
}

// NewProcTable returns a table that rescans /proc when a reading is older
// than interval.
func NewProcTable(interval time.Duration) *ProcTable {
	return &ProcTable{interval: interval, pageKB: os.Getpagesize() / 1024, byGroup: map[int]int{},
		byTree: map[int]int{}, buf: make([]byte, 1024), names: make([]byte, 32<<10)}
}

// GroupRSSKB is the resident memory of process group pgid in KiB, as of at
// most the table's interval ago.
func (t *ProcTable) GroupRSSKB(pgid int) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.refresh()
	return t.byGroup[pgid]
}

// TreeRSSKB is the resident memory in KiB of every descendant of root — by
// parent links, so a child that left its process group (setsid, setpgid)
// counts — not counting root itself, as of at most the table's interval ago.
// Under a child subreaper (the instance's reaper, see internal/reaper) the
// descendants are everything the instance started: orphans are reparented to
// it rather than to init.
func (t *ProcTable) TreeRSSKB(root int) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.refresh()
	if kb, ok := t.byTree[root]; ok {
		return kb
	}
	kb := 0
	t.walk(root, func(e procEntry) { kb += e.rssKB })
	t.byTree[root] = kb
	return kb
}

// walk calls f for every descendant of root in the current scan; t.mu is held.
func (t *ProcTable) walk(root int, f func(procEntry)) {
	if !t.indexed {
		slices.SortFunc(t.procs, func(a, b procEntry) int { return cmp.Compare(a.ppid, b.ppid) })
		t.indexed = true
	}
	t.stack = append(t.stack[:0], root)
	// Each process is visited once; the bound guards against a cycle that a
	// pid reused during the scan could fake.
	for visits := 0; len(t.stack) > 0 && visits <= len(t.procs); visits++ {
		parent := int32(t.stack[len(t.stack)-1])
		t.stack = t.stack[:len(t.stack)-1]
		i, _ := slices.BinarySearchFunc(t.procs, parent, func(e procEntry, p int32) int { return cmp.Compare(e.ppid, p) })
		for ; i < len(t.procs) && t.procs[i].ppid == parent; i++ {
			f(t.procs[i])
			t.stack = append(t.stack, int(t.procs[i].pid))
		}
	}
}

// refresh rescans /proc when the snapshot is too old; t.mu is held.
func (t *ProcTable) refresh() {
	if time.Since(t.at) >= max(t.interval, t.every) {
		start := time.Now()
		t.scan()
		// Reading /proc/<pid>/stat costs microseconds each: with thousands of
		// processes, space the scans so they take at most ~5% of a core.
		t.every = 20 * time.Since(start)
	}
}

// LeaderRSSKB reads the resident memory of one process now, bypassing the
// snapshot (for the first and last reading of an invocation).
func (t *ProcTable) LeaderRSSKB(pid int) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, _, rss, ok := t.readStat(pid)
	if !ok {
		return 0
	}
	return rss * t.pageKB
}

func (t *ProcTable) scan() {
	clear(t.byGroup)
	clear(t.byTree)
	t.procs, t.indexed = t.procs[:0], false
	t.at = time.Now()
	fd, err := syscall.Open("/proc", syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer syscall.Close(fd)
	for {
		n, err := syscall.ReadDirent(fd, t.names)
		if err != nil || n <= 0 {
			return
		}
		forEachPid(t.names[:n], func(pid int) {
			if ppid, pgrp, rss, ok := t.readStat(pid); ok {
				t.byGroup[pgrp] += rss * t.pageKB
				t.procs = append(t.procs, procEntry{pid: int32(pid), ppid: int32(ppid), pgrp: int32(pgrp), rssKB: rss * t.pageKB})
			}
		})
	}
}

// forEachPid calls f for every numeric entry of a getdents64 buffer.
func forEachPid(buf []byte, f func(int)) {
	for len(buf) >= 19 {
		reclen := int(buf[16]) | int(buf[17])<<8
		if reclen == 0 || reclen > len(buf) {
			return
		}
		name := buf[19:reclen]
		pid := 0
		for _, c := range name {
			if c == 0 {
				break
			}
			if c < '0' || c > '9' {
				pid = -1
				break
			}
			pid = pid*10 + int(c-'0')
		}
		if pid > 0 {
			f(pid)
		}
		buf = buf[reclen:]
	}
}

// readStat returns the parent, process group and resident pages of pid from
// /proc/<pid>/stat, into the table's buffer.
func (t *ProcTable) readStat(pid int) (ppid, pgrp, rssPages int, ok bool) {
	var path [32]byte
	p := append(path[:0], "/proc/"...)
	p = strconv.AppendInt(p, int64(pid), 10)
	p = append(p, "/stat"...)
	fd, err := syscall.Open(string(p), syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return 0, 0, 0, false
	}
	n, err := syscall.Read(fd, t.buf)
	syscall.Close(fd)
	if err != nil || n <= 0 {
		return 0, 0, 0, false
	}
	return parseStatFields(t.buf[:n])
}

// parseStat reads fields 5 (pgrp) and 24 (rss) of a /proc/<pid>/stat line.
func parseStat(b []byte) (pgrp, rssPages int, ok bool) {
	_, pgrp, rssPages, ok = parseStatFields(b)
	return pgrp, rssPages, ok
}

// parseStatFields reads fields 4 (ppid), 5 (pgrp) and 24 (rss) of a
// /proc/<pid>/stat line. The command name may contain spaces and parentheses:
// fields start after the last ')'.
func parseStatFields(b []byte) (ppid, pgrp, rssPages int, ok bool) {
	k := bytes.LastIndexByte(b, ')')
	if k < 0 {
		return 0, 0, 0, false
	}
	field := 2 // the ')' ends field 2
	i := k + 1
	for field < 24 && i < len(b) {
		for i < len(b) && b[i] == ' ' {
			i++
		}
		field++
		start := i
		for i < len(b) && b[i] != ' ' && b[i] != '\n' {
			i++
		}
		switch field {
		case 4:
			if ppid, ok = atoi(b[start:i]); !ok {
				return 0, 0, 0, false
			}
		case 5:
			if pgrp, ok = atoi(b[start:i]); !ok {
				return 0, 0, 0, false
			}
		case 24:
			rssPages, ok = atoi(b[start:i])
			if !ok {
				return 0, 0, 0, false
			}
			return ppid, pgrp, rssPages, true
		}
	}
	return 0, 0, 0, false
}

func atoi(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, len(b) > 0
}

// Fingerprint identifies the process pid across a restart of the emulator:
// the boot id and the process's start time, so that a recorded pid is never
// mistaken for an unrelated process that reused it later.
func Fingerprint(pid int) (string, error) {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", err
	}
	start, err := startTime(pid)
	if err != nil {
		return "", err
	}
	return string(bytes.TrimSpace(boot)) + " " + strconv.FormatUint(start, 10), nil
}

// KillLeftoverGroup kills what is left of process group pgid after an
// emulator that died without cleaning up (SIGKILL): Pdeathsig takes the
// leader with it, but processes the handler started live on. Only processes
// of that group that started no earlier than the fingerprinted leader, in the
// same boot, are killed. It returns how many were signalled.
func KillLeftoverGroup(pgid int, fingerprint string) int {
	boot, start, ok := strings.Cut(fingerprint, " ")
	if !ok {
		return 0
	}
	leaderStart, err := strconv.ParseUint(start, 10, 64)
	if err != nil {
		return 0
	}
	if b, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err != nil || string(bytes.TrimSpace(b)) != boot {
		return 0 // another boot: the pids mean nothing now
	}
	t := NewProcTable(0)
	killed := 0
	fd, err := syscall.Open("/proc", syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	defer syscall.Close(fd)
	for {
		n, err := syscall.ReadDirent(fd, t.names)
		if err != nil || n <= 0 {
			return killed
		}
		forEachPid(t.names[:n], func(pid int) {
			if _, pgrp, _, ok := t.readStat(pid); !ok || pgrp != pgid {
				return
			}
			st, exited, err := procStart(pid)
			if err != nil || st < leaderStart || exited {
				// An exited process (a zombie waiting for its reaper) is not
				// left behind: it is already gone, and signalling it succeeds
				// without doing anything.
				return
			}
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				killed++
			}
		})
	}
}

// startTime is field 22 of /proc/<pid>/stat: clock ticks since boot.
func startTime(pid int) (uint64, error) {
	st, _, err := procStart(pid)
	return st, err
}

// procStart reads a process's start time (field 22 of /proc/<pid>/stat) and
// whether it has exited (state, field 3: Z zombie or X dead).
func procStart(pid int) (start uint64, exited bool, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false, err
	}
	return parseStart(b)
}

func parseStart(b []byte) (start uint64, exited bool, err error) {
	k := bytes.LastIndexByte(b, ')')
	if k < 0 {
		return 0, false, errors.New("malformed stat")
	}
	f := bytes.Fields(b[k+1:])
	if len(f) < 20 {
		return 0, false, errors.New("malformed stat")
	}
	exited = len(f[0]) == 1 && (f[0][0] == 'Z' || f[0][0] == 'X')
	start, err = strconv.ParseUint(string(f[19]), 10, 64) // field 22 is the 20th after the name
	return start, exited, err
}
