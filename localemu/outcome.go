package localemu

import (
	"strings"

	"github.com/asyncfn/asyncfn/event"
)

// Outcome is how an attempt (or the event it ended) came out, finer than its
// status: what decides whether its instance is reused, whether it is
// retried, which destination condition it meets, and each front's result
// code. The engine gives every attempt one when it ends; for what is already
// stored (status and error type), OutcomeOf recovers it.
type Outcome int

const (
	OutcomeSucceeded    Outcome = iota
	OutcomeHandledError         // the handler reported an error; its runtime is still sound
	OutcomeCrashed              // the runtime failed: it exited, could not start, or broke the protocol
	OutcomeTimedOut             // it ran past the function's timeout
	OutcomeOutOfMemory          // its process tree outgrew memorySize and was killed
	OutcomeTerminated           // stopped on request
	OutcomeEventAge             // it reached its maximum event age before it could run (again)
	OutcomeInterrupted          // the emulator stopped or restarted while it ran
	OutcomeRemoved              // its function was removed before it could run (again)
)

// RuntimeErrorPrefix marks the error types a runtime itself reports (Lambda's
// "Runtime.ExitError", "Runtime.ImportModuleError", …), as opposed to the
// handler's own errors; see the Lambda runtime API, /init/error and errors.
// A store query that keeps only handled errors excludes it.
const RuntimeErrorPrefix = "Runtime."

// OutcomeOf classifies a stored event or attempt by its status and error type.
func OutcomeOf(st event.Status, errType string) Outcome {
	switch st {
	case event.Succeeded:
		return OutcomeSucceeded
	case event.TimedOut:
		return OutcomeTimedOut
	case event.Terminated:
		return OutcomeTerminated
	}
	switch {
	case errType == ErrTypeOutOfMemory:
		return OutcomeOutOfMemory
	case errType == ErrTypeEventAge:
		return OutcomeEventAge
	case errType == ErrTypeFunctionRemoved:
		return OutcomeRemoved
	case errType == ErrTypeRestarted, errType == ErrTypeStopped:
		return OutcomeInterrupted
	case strings.HasPrefix(errType, RuntimeErrorPrefix):
		return OutcomeCrashed
	}
	return OutcomeHandledError
}

// ReusesInstance reports whether the instance that produced the outcome can
// serve the next event: a handled error leaves the runtime ready, as on
// Lambda; a crash, timeout, kill or termination does not.
func (o Outcome) ReusesInstance() bool {
	return o == OutcomeSucceeded || o == OutcomeHandledError
}

// Retryable reports whether an async event with this outcome may be retried
// under its function's policy.
func (o Outcome) Retryable() bool {
	switch o {
	case OutcomeHandledError, OutcomeCrashed, OutcomeTimedOut, OutcomeOutOfMemory, OutcomeInterrupted:
		return true
	}
	return false
}
