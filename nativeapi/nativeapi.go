// Package nativeapi is the wire format of the emulator's native API (/v1/):
// the types its front serves and that adapters/local and the load program
// send and read. It is a leaf: it imports no part of the emulator, so a
// client never depends on the engine.
package nativeapi

import (
	"encoding/json"
	"time"

	"github.com/asyncfn/asyncfn/cloud"
	"github.com/asyncfn/asyncfn/event"
)

// FunctionConfig is a function's configuration as the emulator keeps it: the
// deploy request body of the native API and the opaque Config of the store.
type FunctionConfig struct {
	Name                string            `json:"name"`     // deployed name
	Provider            cloud.Provider    `json:"provider"` // picks limits and defaults
	Runtime             string            `json:"runtime"`
	Handler             string            `json:"handler"`
	MemorySize          int               `json:"memorySize"` // MB
	Timeout             int               `json:"timeout"`    // seconds
	Environment         map[string]string `json:"environment,omitempty"`
	Description         string            `json:"description,omitempty"`
	Region              string            `json:"region,omitempty"`
	ReservedConcurrency *int              `json:"reservedConcurrency,omitempty"`
	Async               AsyncConfig       `json:"async"`
	// Layers are the layer versions the function runs with, in order: a
	// later layer's files replace an earlier one's (Lambda and SCF alike; at
	// most MaxLayers).
	Layers []LayerRef `json:"layers,omitempty"`
}

// LayerRef names one published layer version.
type LayerRef struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
}

// ObjectRef names an object in the emulator's object store (an S3 or COS
// bucket and key): code by reference instead of inline.
type ObjectRef struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
}

// AsyncConfig is the asynchronous-invocation policy of a function.
type AsyncConfig struct {
	Enabled       bool           `json:"enabled,omitempty"` // Tencent asyncRunEnable
	Trace         bool           `json:"trace,omitempty"`
	RetryAttempts *int           `json:"retryAttempts,omitempty"` // nil = provider default
	MaxEventAge   int            `json:"maxEventAge,omitempty"`   // seconds; 0 = provider default
	OnSuccess     string         `json:"onSuccess,omitempty"`
	OnFailure     string         `json:"onFailure,omitempty"`
	Durable       *DurableConfig `json:"durable,omitempty"`
}

// DurableConfig is Lambda's DurableConfig: the function's events are durable
// executions with this timeout (seconds) and retention.
type DurableConfig struct {
	ExecutionTimeout      int `json:"executionTimeout,omitempty"`
	RetentionPeriodInDays int `json:"retentionPeriodInDays,omitempty"`
}

// Limits and defaults of the clouds the emulator reproduces.
const (
	MaxSyncPayload        = 6 << 20   // Lambda and SCF synchronous invoke
	MaxLambdaAsyncPayload = 1 << 20   // Lambda asynchronous invoke (since 2025: 1 MB)
	MaxSCFAsyncPayload    = 128 << 10 // SCF asynchronous invoke
	DefaultRetryAttempts  = 2         // Lambda MaximumRetryAttempts default; SCF default retry is 2 as well
	DefaultMaxEventAge    = 6 * time.Hour
	MaxAsyncTimeout       = 86400 // seconds: SCF async mode
	MaxSyncTimeout        = 900   // seconds
	// MaxLayers: Lambda (Lambda quotas: "Function layers: five layers") and
	// SCF (SCF docs, Layer management: a function binds at most 5 layer versions).
	MaxLayers = 5
)

// RetryAttempts is how often a failed async event is retried.
func (c *FunctionConfig) RetryAttempts() int {
	if c.Async.RetryAttempts != nil {
		return *c.Async.RetryAttempts
	}
	return DefaultRetryAttempts
}

// MaxEventAge is how long an async event may wait to run.
func (c *FunctionConfig) MaxEventAge() time.Duration {
	if c.Async.MaxEventAge > 0 {
		return time.Duration(c.Async.MaxEventAge) * time.Second
	}
	return DefaultMaxEventAge
}

// AsyncPayloadLimit is the cloud's limit on an async invoke's payload.
func (c *FunctionConfig) AsyncPayloadLimit() int {
	if c.Provider == cloud.Tencent {
		return MaxSCFAsyncPayload
	}
	return MaxLambdaAsyncPayload
}

// DeployRequest is the body of PUT /v1/functions/{name}.
type DeployRequest struct {
	Config FunctionConfig `json:"config"`
	Zip    []byte         `json:"zip,omitempty"` // base64 in JSON; omitted = keep the current code
	// CodeObject, instead of Zip: the package is this object of the
	// emulator's object store.
	CodeObject *ObjectRef `json:"codeObject,omitempty"`
}

// LayerRequest is the body of POST /v1/layers/{name}/versions: a new
// version of a layer from a zip (inline or an object of the emulator's
// object store). Provider picks the cloud's limits (default aws).
type LayerRequest struct {
	Provider           cloud.Provider `json:"provider,omitempty"`
	Description        string         `json:"description,omitempty"`
	CompatibleRuntimes []string       `json:"compatibleRuntimes,omitempty"`
	Zip                []byte         `json:"zip,omitempty"`
	CodeObject         *ObjectRef     `json:"codeObject,omitempty"`
}

// LayerInfo describes a published layer version.
type LayerInfo struct {
	Name               string    `json:"name"`
	Version            int       `json:"version"`
	Description        string    `json:"description,omitempty"`
	CompatibleRuntimes []string  `json:"compatibleRuntimes,omitempty"`
	CodeSHA256         string    `json:"codeSha256"` // hex
	CodeSize           int64     `json:"codeSize"`
	UnzippedSize       int64     `json:"unzippedSize"`
	CreatedAt          time.Time `json:"createdAt"`
}

// FunctionInfo describes a deployed function.
type FunctionInfo struct {
	Name       string         `json:"name"`
	Version    int            `json:"version"`
	State      string         `json:"state"`
	CodeSHA256 string         `json:"codeSha256"`
	CodeSize   int64          `json:"codeSize"`
	CreatedAt  time.Time      `json:"createdAt"`
	UpdatedAt  time.Time      `json:"updatedAt"`
	Config     FunctionConfig `json:"config"`
}

// EventInfo is an event as the native API shows it.
type EventInfo struct {
	RequestID    string          `json:"requestId"`
	Function     string          `json:"function"`
	Version      int             `json:"version"`
	Qualifier    string          `json:"qualifier,omitempty"`
	InvokeType   string          `json:"invokeType"`
	Status       event.Status    `json:"status"`
	Attempts     int             `json:"attempts"`
	CreatedAt    time.Time       `json:"createdAt"`
	StartedAt    *time.Time      `json:"startedAt,omitempty"`
	EndedAt      *time.Time      `json:"endedAt,omitempty"`
	NextAttempt  *time.Time      `json:"nextAttemptAt,omitempty"`
	DurationMs   int64           `json:"durationMs"`
	MaxMemoryMB  int             `json:"maxMemoryMB,omitempty"`
	Result       json.RawMessage `json:"result,omitempty"`
	ResultText   string          `json:"resultText,omitempty"` // a result that is not JSON, as the runtime sent it
	ErrorType    string          `json:"errorType,omitempty"`
	ErrorMessage string          `json:"errorMessage,omitempty"`
	Payload      json.RawMessage `json:"payload,omitempty"`
	AttemptList  []AttemptInfo   `json:"attemptList,omitempty"`
}

// EventPage is the answer of GET /v1/functions/{name}/events: one page of
// the events that match and how many match in all.
type EventPage struct {
	Events []EventInfo `json:"events"`
	Total  int         `json:"total"`
}

// AttemptInfo is one attempt of an event.
type AttemptInfo struct {
	N            int          `json:"n"`
	Status       event.Status `json:"status"`
	StartedAt    time.Time    `json:"startedAt"`
	EndedAt      *time.Time   `json:"endedAt,omitempty"`
	DurationMs   int64        `json:"durationMs"`
	MaxMemoryMB  int          `json:"maxMemoryMB,omitempty"`
	ErrorType    string       `json:"errorType,omitempty"`
	ErrorMessage string       `json:"errorMessage,omitempty"`
}

// StatsInfo is the answer of the stats endpoint.
type StatsInfo struct {
	Function string               `json:"function"`
	Total    int                  `json:"total"`
	ByStatus map[event.Status]int `json:"byStatus"`
	P50Ms    int64                `json:"p50Ms"`
	P95Ms    int64                `json:"p95Ms"`
	MaxMs    int64                `json:"maxMs"`
}

// LogLineInfo is one log line; Cursor resumes after it.
type LogLineInfo struct {
	Seq       int64     `json:"seq"`
	Cursor    string    `json:"cursor"`
	Time      time.Time `json:"time"`
	Function  string    `json:"function"`
	RequestID string    `json:"requestId,omitempty"`
	Attempt   int       `json:"attempt,omitempty"`
	Stream    string    `json:"stream"`
	Text      string    `json:"text"`
}

// LogPage is the answer of GET /v1/logs; Cursor resumes after its last line
// (with no lines, it is the cursor the request started from).
type LogPage struct {
	Lines  []LogLineInfo `json:"lines"`
	Cursor string        `json:"cursor"`
}

// ErrorBody is the body of every error answer: {"error":{"code","message"}}.
type ErrorBody struct {
	Error APIError `json:"error"`
}

// APIError is what went wrong: a stable code and a message for people.
type APIError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}
