package runtime

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"unicode/utf8"
)

// ErrBusy is returned by Invoke when the instance is already running an
// invocation: an instance serves one invocation at a time, like Lambda's.
var ErrBusy = errors.New("runtime: instance is busy with another invocation")

// ErrTimeout is returned by Invoke when the invocation's deadline passes. It
// is context.DeadlineExceeded for errors.Is.
var ErrTimeout = fmt.Errorf("runtime: the invocation timed out: %w", context.DeadlineExceeded)

// Bounds on the stderr quoted in ExitError's message.
const (
	errStderrLines = 5
	errStderrBytes = 1024
)

// ExitError reports that the function's process ended before it answered the
// invocation, or that its initialisation failed.
type ExitError struct {
	Code   int    // exit status; -1 when the process was killed by a signal
	Signal string // "SIGSEGV", "SIGKILL", ...; "" when the process exited by itself
	// Stderr is the last lines (at most 8, 4 KiB) the process wrote to stderr
	// since it last answered an invocation, for diagnosis; Error quotes the
	// last few.
	Stderr    string
	InitError *FunctionError // set when the runtime reported /init/error
	// OutOfMemoryMB is the resident memory that exceeded Config.MemoryLimitMB
	// when the emulator killed the process for it; 0 otherwise.
	OutOfMemoryMB int
}

func (e *ExitError) Error() string {
	var b strings.Builder
	if e.InitError != nil {
		fmt.Fprintf(&b, "init failed: %s: %s (", e.InitError.Type, e.InitError.Message)
	}
	switch {
	case e.OutOfMemoryMB > 0:
		fmt.Fprintf(&b, "runtime killed: memory used %d MB exceeds the limit", e.OutOfMemoryMB)
	case e.Signal != "":
		fmt.Fprintf(&b, "runtime killed by signal %s", e.Signal)
	case e.Code == -2:
		b.WriteString("runtime still running after init error; killed")
	default:
		fmt.Fprintf(&b, "runtime exited with code %d", e.Code)
	}
	if e.InitError != nil {
		b.WriteString(")")
	} else if tail := e.stderrTail(); tail != "" && e.OutOfMemoryMB == 0 {
		// Why it died is usually the last thing it said: a shell's
		// "Illegal option -o pipefail", a missing library, a panic.
		b.WriteString("; stderr: ")
		b.WriteString(tail)
	}
	return b.String()
}

// stderrTail is the end of Stderr, bounded for an error message.
func (e *ExitError) stderrTail() string {
	lines := strings.Split(strings.TrimRight(e.Stderr, "\n"), "\n")
	if len(lines) > errStderrLines {
		lines = lines[len(lines)-errStderrLines:]
	}
	t := strings.TrimSpace(strings.Join(lines, "\n"))
	if len(t) > errStderrBytes {
		cut := len(t) - errStderrBytes
		for cut < len(t) && !utf8.RuneStart(t[cut]) {
			cut++
		}
		t = "…" + t[cut:]
	}
	return t
}

// Unwrap exposes the init error, so errors.As(err, **FunctionError) finds it.
func (e *ExitError) Unwrap() error {
	if e.InitError != nil {
		return e.InitError
	}
	return nil
}

// signalName maps the signals a function process commonly dies of to their
// conventional names; syscall.Signal.String gives prose ("segmentation fault").
func signalName(s syscall.Signal) string {
	names := map[syscall.Signal]string{
		syscall.SIGABRT: "SIGABRT", syscall.SIGBUS: "SIGBUS", syscall.SIGFPE: "SIGFPE",
		syscall.SIGHUP: "SIGHUP", syscall.SIGILL: "SIGILL", syscall.SIGINT: "SIGINT",
		syscall.SIGKILL: "SIGKILL", syscall.SIGPIPE: "SIGPIPE", syscall.SIGQUIT: "SIGQUIT",
		syscall.SIGSEGV: "SIGSEGV", syscall.SIGTERM: "SIGTERM", syscall.SIGTRAP: "SIGTRAP",
		syscall.SIGUSR1: "SIGUSR1", syscall.SIGUSR2: "SIGUSR2", syscall.SIGALRM: "SIGALRM",
		syscall.SIGXCPU: "SIGXCPU", syscall.SIGXFSZ: "SIGXFSZ", syscall.SIGSYS: "SIGSYS",
	}
	if n, ok := names[s]; ok {
		return n
	}
	return fmt.Sprintf("signal %d", int(s))
}
