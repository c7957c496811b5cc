// Package reaper is the process reaper each function instance runs under on
// Linux.
//
// The reaper keeps every process an instance starts inside the instance.
//
// A process group is not enough: a handler's child that calls setsid (or
// setpgid), or a daemon that double-forks, leaves the group, so a signal to the
// group misses it and the group's memory does not include it. So on Linux each
// instance runs under a small reaper: the emulator's own executable
// (/proc/self/exe, which works even if the file was replaced since) started
// with argv[1] == Arg. It marks itself a child subreaper
// (PR_SET_CHILD_SUBREAPER), so every orphan among its descendants — setsid'd or
// double-forked — is reparented to it instead of to init, and starts the
// runtime command as its child, in a process group of its own. From then on
// every process of the instance is a descendant of the reaper, by parent
// links: the emulator samples memory over that tree (runtime.ProcTable.TreeRSSKB), and
// the reaper
//
//   - forwards SIGTERM (and SIGINT, SIGHUP, SIGQUIT) once to every process of
//     the instance: to the runtime's process group, and to each descendant that
//     left it;
//   - on Kill (SIGUSR1) — the emulator's kill, and the reaper's parent-death signal,
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
// own resident memory is not counted as the instance's. With -hold it first
// waits for "go" on fd 4, while the emulator puts it in the instance's cgroup
// (runtime/cgroup_linux.go); with -rmdir DIR it removes the instance's
// cgroup directory DIR when the emulator died before it could.
//
// The mode is dispatched from this package's init, not from main, so that
// every binary that can start an instance can also be its reaper: the asyncfn
// command and every test binary that links the runtime package, which imports
// this one (go test runs a test binary, and /proc/self/exe is that binary).
// Package initialisation runs before main and before the testing package
// parses its flags. This package is small and depends on little of the
// standard library so that it is initialised early, before the SDKs and the
// rest of the binary: a reaper starts in a few milliseconds and holds little
// memory.

package reaper

import "syscall"

const (
	// Arg in argv[1] starts the executable as a reaper.
	Arg = "__asyncfn-reaper"
	// Kill asks the reaper to SIGKILL the whole instance.
	Kill = syscall.SIGUSR1
)
