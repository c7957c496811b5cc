package runtime

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
)

// ErrBusy is returned by Invoke when the instance is already running an
// invocation: an instance serves one invocation at a time, like Lambda's.
var ErrBusy = errors.New("runtime: instance is busy with another invocation")

// ExitError reports that the function's process ended before it answered the
// invocation, or that its initialisation failed.
type ExitError struct {
	Code      int            // exit status; -1 when the process was killed by a signal
	Signal    string         // "SIGSEGV", "SIGKILL", ...; "" when the process exited by itself
	Stderr    string         // the last lines the process wrote to stderr, for diagnosis
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
	}
	return b.String()
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
