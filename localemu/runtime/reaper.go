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

	"github.com/asyncfn/asyncfn/localemu/runtime/internal/reaper"
)

// The emulator's side of the reaper; the reaper itself, and why there is one,
// is the internal package reaper, which this package imports so that every
// binary that starts instances can be their reaper.

const (
	reaperArg  = reaper.Arg
	reaperKill = reaper.Kill
	// reaperKillWait is how long the reaper gets to kill and reap the instance
	// before the emulator SIGKILLs the reaper itself (then the runtime dies by
	// its parent-death signal, but an orphan could escape).
	reaperKillWait = 5 * time.Second
	// reaperStartWait bounds the wait for the reaper's "pid" line.
	reaperStartWait = 30 * time.Second
)

// reaperLink is the emulator's end of a reaper's pipes.
type reaperLink struct {
	started  chan struct{} // closed at the first line, or at EOF without one
	leader   int
	startErr error
	done     chan struct{} // closed at EOF: the reaper exited
	status   syscall.WaitStatus
	reported bool // status is the leader's, as the reaper reported it

	childEnds []*os.File // the reaper's ends, closed here once it has started
	hold      *os.File   // with hold: written "go" to let the reaper start the runtime
}

// wrapInReaper makes cmd run its program under the reaper. With hold, the
// reaper waits for release before it starts the program (so that it can be
// put in a cgroup first). cgroupDirs are the instance's cgroup directories,
// which the reaper removes if the emulator dies before it could.
func wrapInReaper(cmd *exec.Cmd, hold bool, cgroupDirs []string) (*reaperLink, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	link := &reaperLink{started: make(chan struct{}), done: make(chan struct{}), childEnds: []*os.File{w}}
	args := []string{"asyncfn-reaper", reaperArg}
	if hold {
		hr, hw, err := os.Pipe()
		if err != nil {
			r.Close()
			w.Close()
			return nil, err
		}
		link.childEnds, link.hold = append(link.childEnds, hr), hw
		args = append(args, "-hold")
	}
	for _, d := range cgroupDirs {
		args = append(args, "-rmdir", d)
	}
	args = append(args, "--", cmd.Path)
	cmd.Args = append(args, cmd.Args...)
	cmd.Path = "/proc/self/exe"
	cmd.ExtraFiles = link.childEnds // fd 3: status; fd 4: hold
	go link.read(r, args[len(args)-1])
	return link, nil
}

// closeChildEnds closes the reaper's ends of the pipes, once it has started
// (or failed to).
func (l *reaperLink) closeChildEnds() {
	for _, f := range l.childEnds {
		f.Close()
	}
	l.childEnds = nil
}

// release lets a held reaper start the runtime (go) or exit without (!go).
func (l *reaperLink) release(goAhead bool) {
	if l.hold == nil {
		return
	}
	if goAhead {
		_, _ = l.hold.Write([]byte("go\n"))
	}
	l.hold.Close()
	l.hold = nil
}

func (l *reaperLink) read(r *os.File, program string) {
	defer close(l.done)
	defer r.Close()
	first := true
	sc := bufio.NewScanner(r)
	// Its lines are a word and a number: a small buffer, as a thousand
	// instances each hold one for their whole life.
	sc.Buffer(make([]byte, 0, 128), 4096)
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
