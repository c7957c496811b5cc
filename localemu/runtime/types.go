// Package runtime runs function instances: each instance is a child process in
// its own process group that fetches invocations from a per-instance HTTP
// listener speaking the Lambda Runtime API (and, for SCF CustomRuntime, the
// SCF Custom Runtime API). Node.js and Python handlers run through small
// bootstraps embedded in the binary that speak the same API.
//
// On Linux the process runs under a reaper — the emulator's own executable in
// a hidden mode, dispatched from the init of the package it imports,
// internal/reaper — that
// keeps every process the instance starts, also one that calls setsid or
// double-forks, inside the instance. IsolationMode says what is in force.
package runtime

import (
	"time"

	"github.com/asyncfn/asyncfn/cloud"
)

// Config describes one instance to start.
type Config struct {
	Function string // the emulator's function name (the deployed name)
	Version  int
	Runtime  string // as written in serverless.yml: "nodejs18.x", "Python3.9", "provided.al2", "CustomRuntime", "Go1", ...
	Handler  string // "index.main_handler", "src/handler.hello"; the executable for Go1
	CodeDir  string // extracted code; the process's working directory
	// OptDir is the function's layers merged, what the clouds mount at
	// /opt; "" without layers. The instance's search paths point into it
	// as the clouds' point into /opt (see layerEnv), and ASYNCFN_OPT_DIR
	// names it for handlers that build paths to /opt themselves.
	OptDir string
	// Cloud picks the conventions that differ between the clouds (the
	// layer search paths); "" is AWS.
	Cloud    cloud.Provider
	MemoryMB int
	Timeout  time.Duration // the function's timeout, when a Request gives none
	// InitTimeout bounds initialisation: from the process's start to its first
	// request for an invocation (/next). 0 means Lambda's 10 s. See Invoke for
	// what happens when it passes.
	InitTimeout time.Duration
	Region      string
	ARN         string            // invoked function ARN to report
	Env         map[string]string // the function's declared variables
	WorkDir     string            // scratch directory for bootstraps and /tmp-like use
	// OnLog is called for every stdout/stderr line, in order per stream (calls
	// for different streams may run concurrently). It must return quickly
	// (buffer, don't write to disk or the network): while it runs the pipe is
	// not read, and a function whose pipe buffer fills blocks on its next write.
	//
	// Output written before the first Invoke is held (up to 1 MiB) and
	// delivered when the first Invoke names its request — or with no
	// RequestID when the instance is terminated without one.
	OnLog func(Line)
	// MemoryLimitMB, when > 0, kills the instance once its resident memory
	// (every process of the instance) exceeds it during an invocation
	// (ExitError.OutOfMemoryMB says so).
	MemoryLimitMB int
	// Procs is the process table memory is sampled from; instances of one
	// emulator share one. nil gives the instance a table of its own.
	Procs *ProcTable
}

// Line is one line of output, attributed to the invocation running when the
// line was completed (its newline arrived). Output written during the
// instance's initialisation, before its first invocation was handed over,
// belongs to the invocation that started it; output written between two
// invocations of a warm instance belongs to none. What a runtime wrote without
// a final newline when it answered an invocation is cut there, as a line of
// that invocation.
type Line struct {
	RequestID string // "" when written outside an invocation
	// Stream is "stdout" or "stderr", or "platform" for the runtime's own
	// report lines (INIT_REPORT when the init phase timed out).
	Stream string
	Text   string
	Time   time.Time // when the line was completed
}

// Request is one invocation handed to an instance.
type Request struct {
	RequestID string
	Payload   []byte
	// Timeout is the function's timeout. The deadline starts when the
	// invocation is handed to the runtime (its /next is answered), so the
	// instance's initialisation does not count against it; 0 means
	// Config.Timeout (and 24 h when that is 0 too).
	Timeout time.Duration
	// Deadline, when set and Timeout is 0, is a fixed deadline (it then
	// includes any initialisation). Prefer Timeout.
	Deadline time.Time
	TraceID  string
	// OnHandoff, when set, is called once the invocation is handed to the
	// runtime (its /next answered; a cold start's init is over), with that
	// time. The scheduler uses it to tell starting instances from busy ones.
	OnHandoff func(at time.Time)
}

// Response is the outcome of Instance.Invoke when the function answered; with
// a timeout or an *ExitError it still describes what ran.
type Response struct {
	Payload []byte         // the handler's result (on success)
	Error   *FunctionError // set when the handler reported an error
	// Duration is from the handoff to the answer (to the end, without one).
	// After an init timeout it includes the rest of the initialisation, as
	// Lambda's Duration includes the init it retries inside the invocation.
	Duration time.Duration
	// InitDuration is the instance's initialisation, from the process's start
	// to its first /next, on the invocation that started it (a cold start);
	// 0 on a warm instance, and after an init timeout.
	InitDuration time.Duration
	// Deadline is the deadline the runtime was given (Lambda-Runtime-Deadline-Ms);
	// zero when the invocation was never handed over.
	Deadline    time.Time
	MaxMemoryMB int // peak RSS of the process tree during the invocation, in MB
}

// FunctionError is an error the function reported through the Runtime API.
type FunctionError struct {
	Type    string   `json:"errorType"`
	Message string   `json:"errorMessage"`
	Trace   []string `json:"stackTrace,omitempty"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }
