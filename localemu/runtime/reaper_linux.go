package runtime

// The reaper keeps every process an instance starts inside the instance.
//
// A process group is not enough: a handler's child that calls setsid (or
// setpgid), or a daemon that double-forks, leaves the group, so a signal to the
// group misses it and the group's memory does not include it. So on Linux each
// instance runs under a small reaper: the emulator's own executable
// (/proc/self/exe, which works even if the file was replaced since) started
// with argv[1] == reaperArg. It marks itself a child subreaper
// (PR_SET_CHILD_SUBREAPER), so every orphan among its descendants — setsid'd or
// double-forked — is reparented to it instead of to init, and starts the
// runtime command as its child, in a process group of its own. From then on
// every process of the instance is a descendant of the reaper, by parent
// links: the emulator samples memory over that tree (ProcTable.TreeRSSKB), and
// the reaper
//
//   - forwards SIGTERM (and SIGINT, SIGHUP, SIGQUIT) once to every process of
//     the instance: to the runtime's process group, and to each descendant that
//     left it;
//   - on SIGUSR1 — the emulator's kill, and the reaper's parent-death signal,
//     so the instance dies with the emulator even on SIGKILL — SIGKILLs every
//     descendant, again until none is left;
//   - reaps every orphan as it exits;
//   - when the runtime (the leader) exits, SIGKILLs what it left behind, reaps
//     it all, reports the leader's wait status and exits.
//
// The reaper talks to the emulator over a pipe on its fd 3: "pid N" once the
// runtime has started (or "err ERRNO" if it could not be started), and
// "exit STATUS" (the leader's raw wait status) just before it exits, so the
// leader's exit code or signal is reported exactly as without a reaper. Its
// own resident memory is not counted as the instance's.
//
// The mode is dispatched from this package's init, not from main, so that
// every binary that can start an instance can also be its reaper: the asyncfn
// command and every test binary that links this package (go test runs a test
// binary, and /proc/self/exe is that binary). Package initialisation runs
// before main and before the testing package parses its flags.

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const prSetChildSubreaper = 36 // PR_SET_CHILD_SUBREAPER, <linux/prctl.h>

func init() {
	if len(os.Args) > 1 && os.Args[1] == reaperArg {
		os.Exit(reaperMain(os.Args[2:]))
	}
}

// reaperAvailable reports whether instances can run under the reaper.
func reaperAvailable() bool {
	_, err := os.Stat("/proc/self/exe")
	return err == nil
}

// reaperMain is the reaper: args are [options...] "--" path argv...; it
// returns the exit code. See the comment at the top of this file.
func reaperMain(args []string) int {
	status := os.NewFile(3, "asyncfn-reaper-status")
	syscall.CloseOnExec(3) // the runtime must not hold it: EOF tells the emulator the reaper is gone
	report := func(format string, a ...any) { fmt.Fprintf(status, format+"\n", a...) }
	fail := func(errno syscall.Errno) int {
		report("err %d", int(errno))
		return 127
	}
	sep := -1
	for k, a := range args {
		if a == "--" {
			sep = k
			break
		}
	}
	if sep < 0 || len(args) < sep+3 {
		return fail(syscall.EINVAL)
	}
	path, argv := args[sep+1], args[sep+2:]

	if _, _, e := syscall.RawSyscall6(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0, 0, 0, 0); e != 0 {
		return fail(e)
	}
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs, syscall.SIGCHLD, reaperKill, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT)

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
		if !errors.As(err, &errno) {
			errno = syscall.ENOEXEC
		}
		return fail(errno)
	}
	report("pid %d", leader)

	self := os.Getpid()
	procs := NewProcTable(0)
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
		procs.descendants(self, func(pid, pgrp int) {
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
				report("exit %d", uint32(leaderWS))
				status.Close()
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
			case reaperKill:
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
