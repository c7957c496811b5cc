package localemu

import (
	"context"
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

// Kind is what sort of failure an engine error is. Each front maps every kind
// to its own wire error in one table, so a new engine error is one new case
// here and one row per front (their tests check every kind has a row).
type Kind int

const (
	KindInternal         Kind = iota // anything else: the emulator's fault
	KindFunctionNotFound             // ErrFunctionNotFound
	KindEventNotFound                // ErrEventNotFound
	KindEventFinished                // ErrEventFinished: the event already reached a terminal status
	KindInvalid                      // *InvalidParameterError
	KindTooLarge                     // *PayloadTooLargeError
	KindThrottled                    // *ThrottledError
	KindShuttingDown                 // ErrShuttingDown
	KindCanceled                     // the request ended (its context) before the operation did
	// KindNotFound: another resource than a function or event does not
	// exist: a layer version (ErrLayerNotFound), a bucket, object or upload
	// (ErrNoSuchBucket, ErrNoSuchKey, ErrNoSuchUpload).
	KindNotFound
	kindCount
)

// Kinds lists every Kind, for the fronts' tests.
func Kinds() []Kind {
	ks := make([]Kind, kindCount)
	for i := range ks {
		ks[i] = Kind(i)
	}
	return ks
}

func (k Kind) String() string {
	return [...]string{"Internal", "FunctionNotFound", "EventNotFound", "EventFinished", "Invalid", "TooLarge", "Throttled", "ShuttingDown", "Canceled", "NotFound"}[k]
}

// KindOf classifies an error the engine returned.
func KindOf(err error) Kind {
	var tooLarge *PayloadTooLargeError
	var invalid *InvalidParameterError
	var throttled *ThrottledError
	var codeTooLarge *CodeTooLargeError
	switch {
	case err == nil:
		return KindInternal
	case errors.As(err, &codeTooLarge):
		if codeTooLarge.Unzipped {
			return KindInvalid
		}
		return KindTooLarge
	case errors.Is(err, ErrLayerNotFound), errors.Is(err, ErrNoSuchBucket), errors.Is(err, ErrNoSuchKey), errors.Is(err, ErrNoSuchUpload):
		return KindNotFound
	case errors.Is(err, ErrBucketExists), errors.Is(err, ErrBucketNotEmpty), errors.Is(err, ErrInvalidBucketName),
		errors.Is(err, ErrInvalidKey), errors.Is(err, ErrInvalidPart), errors.Is(err, ErrInvalidPartOrder),
		errors.Is(err, ErrEntityTooSmall), errors.Is(err, ErrIncompleteBody):
		return KindInvalid
	case errors.Is(err, ErrEntityTooLarge):
		return KindTooLarge
	case errors.As(err, &throttled):
		return KindThrottled
	case errors.Is(err, ErrFunctionNotFound):
		return KindFunctionNotFound
	case errors.Is(err, ErrEventNotFound):
		return KindEventNotFound
	case errors.Is(err, ErrEventFinished):
		return KindEventFinished
	case errors.Is(err, ErrShuttingDown):
		return KindShuttingDown
	case errors.As(err, &tooLarge):
		return KindTooLarge
	case errors.As(err, &invalid):
		return KindInvalid
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return KindCanceled
	}
	return KindInternal
}
