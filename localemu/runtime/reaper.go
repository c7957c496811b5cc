package runtime

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The emulator's side of the reaper (reaper_linux.go has the reaper).

const (
	// reaperArg in argv[1] starts the executable as a reaper.
	reaperArg = "__asyncfn-reaper"
	// reaperKill asks the reaper to SIGKILL the whole instance.
	reaperKill = syscall.SIGUSR1
	// reaperKillWait is how long the reaper gets to kill and reap the instance
	// before the emulator SIGKILLs the reaper itself (then the runtime dies by
	// its parent-death signal, but an orphan could escape).
	reaperKillWait = 5 * time.Second
	// reaperStartWait bounds the wait for the reaper's "pid" line.
	reaperStartWait = 30 * time.Second
)

// reaperLink is the emulator's end of a reaper's status pipe.
type reaperLink struct {
	started  chan struct{} // closed at the first line, or at EOF without one
	leader   int
	startErr error
	done     chan struct{} // closed at EOF: the reaper exited
	status   syscall.WaitStatus
	reported bool // status is the leader's, as the reaper reported it
}

// wrapInReaper makes cmd run its program under the reaper. The caller closes
// the returned write end once cmd has started.
func wrapInReaper(cmd *exec.Cmd, extra ...string) (link *reaperLink, w *os.File, err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	args := append([]string{"asyncfn-reaper", reaperArg}, extra...)
	args = append(args, "--", cmd.Path)
	cmd.Args = append(args, cmd.Args...)
	cmd.Path = "/proc/self/exe"
	cmd.ExtraFiles = []*os.File{w}
	link = &reaperLink{started: make(chan struct{}), done: make(chan struct{})}
	go link.read(r, args[len(args)-1])
	return link, w, nil
}

func (l *reaperLink) read(r *os.File, program string) {
	defer close(l.done)
	defer r.Close()
	first := true
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "pid":
			l.leader = int(n)
		case "err":
			// As exec.Cmd.Start reports a failed exec.
			l.startErr = &os.PathError{Op: "fork/exec", Path: program, Err: syscall.Errno(n)}
		case "exit":
			l.status, l.reported = syscall.WaitStatus(n), true
		}
		if first {
			first = false
			close(l.started)
		}
	}
	if first {
		l.startErr = errors.New("the process reaper exited before starting it")
		close(l.started)
	}
}
