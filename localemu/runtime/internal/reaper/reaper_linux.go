package reaper

import (
	"bytes"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const prSetChildSubreaper = 36 // PR_SET_CHILD_SUBREAPER, <linux/prctl.h>

func init() {
	if len(os.Args) > 1 && os.Args[1] == Arg {
		os.Exit(main(os.Args[2:]))
	}
}

// main is the reaper: args are [options...] "--" path argv...; it
// returns the exit code. See the comment at the top of this file.
func main(args []string) int {
	status := os.NewFile(3, "asyncfn-reaper-status")
	syscall.CloseOnExec(3) // the runtime must not hold it: EOF tells the emulator the reaper is gone
	report := func(what string, n int64) {
		_, _ = status.Write(strconv.AppendInt([]byte(what+" "), n, 10))
		_, _ = status.Write([]byte("\n"))
	}
	fail := func(errno syscall.Errno) int {
		report("err", int64(errno))
		return 127
	}
	sep, hold := -1, false
	var rmdirs []string
	for k := 0; k < len(args); k++ {
		if args[k] == "--" {
			sep = k
			break
		}
		switch args[k] {
		case "-hold":
			hold = true
		case "-rmdir":
			if k+1 < len(args) {
				k++
				rmdirs = append(rmdirs, args[k])
			}
		}
	}
	if sep < 0 || len(args) < sep+3 {
		return fail(syscall.EINVAL)
	}
	path, argv := args[sep+1], args[sep+2:]
	if hold {
		// Wait for the emulator to have put this process in the instance's
		// cgroup: the runtime is then born inside it.
		syscall.CloseOnExec(4)
		h := os.NewFile(4, "asyncfn-reaper-hold")
		var b [3]byte
		n, _ := io.ReadFull(h, b[:])
		h.Close()
		if string(b[:n]) != "go\n" {
			return fail(syscall.ECANCELED)
		}
	}

	if _, _, e := syscall.RawSyscall6(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0, 0, 0, 0); e != 0 {
		return fail(e)
	}
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs, syscall.SIGCHLD, Kill, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT)

	// The main goroutine is locked to the main thread during package
	// initialisation, so the thread that forks here lives as long as the
	// reaper: the runtime's parent-death signal fires only when the reaper dies.
	leader, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
		Sys:   &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
	})
	if err != nil {
		var errno syscall.Errno
		if errno, _ = err.(syscall.Errno); errno == 0 {
			errno = syscall.ENOEXEC
		}
		return fail(errno)
	}
	report("pid", int64(leader))
	emulator := os.Getppid()

	self := os.Getpid()
	var (
		leaderWS   syscall.WaitStatus
		leaderGone bool // reaped: its pid may be reused, never signal its group again
		killing    bool
	)
	// signalAll sends sig once to every process of the instance.
	signalAll := func(sig syscall.Signal) {
		if !leaderGone {
			_ = syscall.Kill(-leader, sig)
		}
		descendants(self, func(pid, pgrp int) {
			if leaderGone || pgrp != leader {
				_ = syscall.Kill(pid, sig)
			}
		})
	}
	for {
		// Reap whatever has exited.
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if err == syscall.EINTR {
				continue
			}
			if err == syscall.ECHILD && leaderGone {
				// No child is left, so no descendant either: an orphan is
				// reparented to this process, which has none.
				report("exit", int64(uint32(leaderWS)))
				status.Close()
				if os.Getppid() != emulator {
					// The emulator is gone and cannot remove the instance's
					// cgroup, which is empty now.
					for _, d := range rmdirs {
						_ = os.Remove(d)
						if k := strings.LastIndexByte(d, '/'); k > 0 {
							_ = os.Remove(d[:k])
						}
					}
				}
				switch {
				case leaderWS.Exited():
					return leaderWS.ExitStatus()
				case leaderWS.Signaled():
					return 128 + int(leaderWS.Signal())
				}
				return 1
			}
			if err != nil || pid <= 0 {
				break
			}
			if pid == leader {
				// The instance is over: what it left behind goes with it.
				leaderWS, leaderGone, killing = ws, true, true
				signalAll(syscall.SIGKILL)
			}
		}
		var again <-chan time.Time
		if killing {
			// A process that forked while it was being killed may have left a
			// child the last pass did not see.
			again = time.After(20 * time.Millisecond)
		}
		select {
		case s := <-sigs:
			switch s {
			case syscall.SIGCHLD:
			case Kill:
				killing = true
				signalAll(syscall.SIGKILL)
			default:
				signalAll(s.(syscall.Signal))
			}
		case <-again:
			signalAll(syscall.SIGKILL)
		}
	}
}

// descendants reads /proc now and calls f with the pid and process group of
// every descendant of root (not root itself), by parent links.
func descendants(root int, f func(pid, pgrp int)) {
	d, err := os.Open("/proc")
	if err != nil {
		return
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	type proc struct{ pid, pgrp int }
	children := map[int][]proc{}
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		if ppid, pgrp, ok := readStat(pid); ok {
			children[ppid] = append(children[ppid], proc{pid, pgrp})
		}
	}
	stack := []int{root}
	for visits := 0; len(stack) > 0 && visits <= len(names); visits++ {
		parent := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range children[parent] {
			f(c.pid, c.pgrp)
			stack = append(stack, c.pid)
		}
	}
}

// readStat reads fields 4 (ppid) and 5 (pgrp) of /proc/<pid>/stat; the
// command name may hold spaces and parentheses, so fields start after the
// last ')'.
func readStat(pid int) (ppid, pgrp int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	k := bytes.LastIndexByte(b, ')')
	if k < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(b[k+1:])
	if len(f) < 3 {
		return 0, 0, false
	}
	ppid, err1 := strconv.Atoi(string(f[1]))
	pgrp, err2 := strconv.Atoi(string(f[2]))
	return ppid, pgrp, err1 == nil && err2 == nil
}
