// Package runtime runs function instances: each instance is a child process in
// its own process group that fetches invocations from a per-instance HTTP
// listener speaking the Lambda Runtime API (and, for SCF CustomRuntime, the
// SCF Custom Runtime API). Node.js and Python handlers run through small
// bootstraps embedded in the binary that speak the same API.
package runtime

import (
	"time"
)

// Config describes one instance to start.
type Config struct {
	Function string // the emulator's function name (the deployed name)
	Version  int
	Runtime  string // as written in serverless.yml: "nodejs18.x", "Python3.9", "provided.al2", "CustomRuntime", "Go1", ...
	Handler  string // "index.main_handler", "src/handler.hello"; the executable for Go1
	CodeDir  string // extracted code; the process's working directory
	MemoryMB int
	Timeout  time.Duration
	Region   string
	ARN      string            // invoked function ARN to report
	Env      map[string]string // the function's declared variables
	WorkDir  string            // scratch directory for bootstraps and /tmp-like use
	// OnLog is called for every stdout/stderr line, in order per stream, on
	// the goroutine that reads that stream. It must return quickly (buffer,
	// don't write to disk or the network): while it runs the pipe is not read,
	// and a function whose pipe buffer fills blocks on its next write.
	OnLog func(Line)
	// MemoryLimitMB, when > 0, kills the process group once its resident
	// memory exceeds it during an invocation (ExitError.OutOfMemoryMB says so).
	MemoryLimitMB int
	// Procs is the process table memory is sampled from; instances of one
	// emulator share one. nil gives the instance a table of its own.
	Procs *ProcTable
}

// Line is one line of output attributed to the invocation running when it was written.
type Line struct {
	RequestID string // "" when written outside an invocation (init)
	Stream    string // "stdout" or "stderr"
	Text      string
	Time      time.Time
}

// Request is one invocation handed to an instance.
type Request struct {
	RequestID string
	Payload   []byte
	Deadline  time.Time
	TraceID   string
}

// Response is the outcome of Instance.Invoke when the function answered.
type Response struct {
	Payload     []byte         // the handler's result (on success)
	Error       *FunctionError // set when the handler reported an error
	Duration    time.Duration
	MaxMemoryMB int // peak RSS of the process tree during the invocation, in MB
}

// FunctionError is an error the function reported through the Runtime API.
type FunctionError struct {
	Type    string   `json:"errorType"`
	Message string   `json:"errorMessage"`
	Trace   []string `json:"stackTrace,omitempty"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }
