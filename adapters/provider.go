// Package adapters defines the Provider interface that every cloud backend
// implements (Tencent SCF, AWS Lambda, the local emulator's native API) and
// the provider-neutral types the CLI works with.
//
// Each backend lives in its own package and reaches its endpoint only over
// HTTP; none imports the emulator. adapters/all constructs them in one place.
package adapters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/spec"
)

// Provider is one cloud (or the emulator) as the CLI sees it. Function names
// are deployed names (spec.Function.DeployedName).
type Provider interface {
	// Deploy creates or updates fn with code and waits until it can be invoked.
	Deploy(ctx context.Context, fn spec.Function, code Artifact) (Deployment, error)
	// Invoke runs fn. With opts.Async it returns as soon as the event is
	// accepted, with its RequestId; otherwise it waits for the result.
	Invoke(ctx context.Context, fn string, payload []byte, opts InvokeOptions) (Invocation, error)
	Events(ctx context.Context, fn string, q EventQuery) (EventPage, error)
	Event(ctx context.Context, fn, requestID string) (Event, error)
	// Terminate stops an event; grace > 0 sends SIGTERM first and SIGKILL after grace.
	Terminate(ctx context.Context, fn, requestID string, grace time.Duration) error
	Stats(ctx context.Context, fn string, q EventQuery) (Stats, error)
	// Logs returns the matching lines; with q.Tail the stream stays open and
	// yields lines as they are written until ctx ends.
	Logs(ctx context.Context, q LogQuery) (LogStream, error)
	Remove(ctx context.Context, fn string) error
}

// Artifact is a function's packaged code (a zip).
type Artifact struct {
	Zip    []byte
	SHA256 string
}

// Deployment is the state of a function after Deploy.
type Deployment struct {
	Function   string `json:"function"`
	Version    string `json:"version"`
	State      string `json:"state"`
	CodeSHA256 string `json:"codeSha256"`
	Created    bool   `json:"created"` // false when an existing function was updated
	// CodeObject is where the package was deployed from when it was too
	// big to send inline (s3://bucket/key, cos://bucket/key); "" inline.
	CodeObject string `json:"codeObject,omitempty"`
}

// InvokeOptions tune one invocation.
type InvokeOptions struct {
	Async       bool
	Qualifier   string
	DurableName string // Lambda durable execution name: an idempotent start
	LogTail     bool   // ask for the tail of the log with a sync result
}

// Invocation is what an invoke returned.
type Invocation struct {
	RequestID    string          `json:"requestId"`
	Status       event.Status    `json:"status,omitempty"`
	Result       json.RawMessage `json:"result,omitempty"`
	ResultText   string          `json:"resultText,omitempty"` // a result that is not JSON, as the runtime sent it
	Error        *FunctionError  `json:"error,omitempty"`
	Log          string          `json:"log,omitempty"`
	ExecutionARN string          `json:"executionArn,omitempty"`
	DurationMs   int64           `json:"durationMs,omitempty"`
}

// FunctionError is an error the function itself reported or caused.
type FunctionError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// Event is one invocation and its retries as a provider reports it.
type Event struct {
	RequestID    string          `json:"requestId"`
	Function     string          `json:"function"`
	Qualifier    string          `json:"qualifier,omitempty"`
	InvokeType   string          `json:"invokeType"`
	Status       event.Status    `json:"status"`
	Attempts     int             `json:"attempts"`
	CreatedAt    time.Time       `json:"createdAt"`
	StartedAt    *time.Time      `json:"startedAt,omitempty"`
	EndedAt      *time.Time      `json:"endedAt,omitempty"`
	DurationMs   int64           `json:"durationMs"`
	MaxMemoryMB  int             `json:"maxMemoryMB,omitempty"`
	Result       json.RawMessage `json:"result,omitempty"`
	ResultText   string          `json:"resultText,omitempty"` // a result that is not JSON, as the runtime sent it
	ErrorType    string          `json:"errorType,omitempty"`
	ErrorMessage string          `json:"errorMessage,omitempty"`
}

// SplitResult files what a function returned under Result when it is JSON
// and under ResultText when it is not (a CustomRuntime or provided.al2 bash
// handler answers plain text), so that no result is lost on the way.
func SplitResult(b []byte) (json.RawMessage, string) {
	if len(b) == 0 {
		return nil, ""
	}
	if json.Valid(b) {
		return json.RawMessage(b), ""
	}
	return nil, string(b)
}

// ResultString is a result as a person reads it: the JSON, or the text.
func ResultString(result json.RawMessage, text string) string {
	if len(result) > 0 {
		return string(result)
	}
	return text
}

// EventQuery filters Events and Stats. Zero values mean "no filter".
type EventQuery struct {
	Statuses []event.Status
	Since    time.Time // created at or after
	Until    time.Time // created before
	Desc     bool
	Offset   int
	Limit    int
}

// EventPage is one page of events and the number of all matches.
type EventPage struct {
	Events []Event `json:"events"`
	Total  int     `json:"total"`
}

// Stats are the status statistics of a function's events.
type Stats struct {
	Function string               `json:"function"`
	Total    int                  `json:"total"`
	ByStatus map[event.Status]int `json:"byStatus"`
	P50Ms    int64                `json:"p50Ms"`
	P95Ms    int64                `json:"p95Ms"`
	MaxMs    int64                `json:"maxMs"`
}

// LogQuery selects log lines.
type LogQuery struct {
	Function  string
	RequestID string
	Since     time.Time
	Filter    string // substring (a quoted term on AWS)
	Tail      bool
	Cursor    string // resume after this cursor (from LogLine.Cursor)
	Limit     int
}

// LogLine is one line of a function's log.
type LogLine struct {
	Time      time.Time `json:"time"`
	Function  string    `json:"function,omitempty"`
	RequestID string    `json:"requestId,omitempty"`
	Stream    string    `json:"stream,omitempty"`
	Text      string    `json:"text"`
	Cursor    string    `json:"cursor,omitempty"`
}

// LogStream yields log lines; Next returns io.EOF at the end of a non-tail query.
type LogStream interface {
	Next(ctx context.Context) (LogLine, error)
	Close() error
}

// ErrNotFound reports an unknown function or event; provider errors wrap it.
var ErrNotFound = errors.New("not found")

// UnsupportedError reports an operation a provider cannot perform, and what
// to do instead.
type UnsupportedError struct {
	Provider    string
	Op          string
	Reason      string
	Alternative string
}

func (e *UnsupportedError) Error() string {
	msg := fmt.Sprintf("%s: %s is not supported: %s", e.Provider, e.Op, e.Reason)
	if e.Alternative != "" {
		msg += "; " + e.Alternative
	}
	return msg
}

// APIError is an error answer of a provider's API, with its code and the
// request id the service gave it (quote it to the cloud's support).
type APIError struct {
	Provider   string
	Code       string
	Message    string
	RequestID  string
	HTTPStatus int
	// Err is a sentinel such as ErrNotFound when the code means one.
	Err error
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s: %s: %s", e.Provider, e.Code, e.Message)
	if e.RequestID != "" {
		msg += " (RequestId " + e.RequestID + ")"
	}
	return msg
}

func (e *APIError) Unwrap() error { return e.Err }

// IsThrottled reports whether err is a provider refusing a request for now
// because of a rate or concurrency limit: Lambda's TooManyRequestsException
// (HTTP 429), SCF's RequestLimitExceeded.* and its 432 ResourceLimitReached,
// the emulator's native Throttled. Such a request was not accepted, so
// sending it again later cannot start an invocation twice; callers fanning
// out many invokes retry exactly these.
func IsThrottled(err error) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch {
	case apiErr.HTTPStatus == 429,
		apiErr.Code == "TooManyRequestsException", apiErr.Code == "ThrottlingException", apiErr.Code == "Throttled",
		strings.HasPrefix(apiErr.Code, "RequestLimitExceeded"):
		return true
	case apiErr.Code == "FailedOperation.InvokeFunction":
		// SCF reports many invoke failures under this code; only the
		// concurrency limit (function status 432) is a throttle.
		return strings.Contains(apiErr.Message, "ResourceLimitReached") || strings.Contains(apiErr.Message, "432")
	}
	return false
}
