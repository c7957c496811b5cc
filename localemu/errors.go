package localemu

import (
	"errors"
	"fmt"
)

// Errors the engine returns; each API front maps them onto its cloud's codes.
var (
	ErrFunctionNotFound = errors.New("function not found")
	ErrEventNotFound    = errors.New("event not found")
	// ErrEventFinished: the event already reached a terminal status.
	ErrEventFinished = errors.New("event already finished")
	// ErrShuttingDown: the emulator no longer accepts invocations.
	ErrShuttingDown = errors.New("emulator is shutting down")
)

// PayloadTooLargeError reports a payload over the cloud's invoke limit.
type PayloadTooLargeError struct {
	Size, Limit int
	Async       bool
}

func (e *PayloadTooLargeError) Error() string {
	kind := "synchronous"
	if e.Async {
		kind = "asynchronous"
	}
	return fmt.Sprintf("request payload of %d bytes exceeds the %s invoke limit of %d bytes", e.Size, kind, e.Limit)
}

// InvalidParameterError reports a request the clouds would reject as invalid.
type InvalidParameterError struct{ Msg string }

func (e *InvalidParameterError) Error() string { return "invalid parameter: " + e.Msg }

// ThrottledError reports a synchronous invoke refused because the function
// is at its reserved concurrency (Lambda: 429 TooManyRequestsException).
type ThrottledError struct {
	Function string
	Reserved int
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("function %s is at its reserved concurrency of %d: the synchronous invocation was throttled", e.Function, e.Reserved)
}
