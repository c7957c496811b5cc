package store

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/asyncfn/asyncfn/event"
)

// ErrNotFound is returned (wrapped) when a function or event does not exist.
var ErrNotFound = errors.New("not found")

// Function is one deployed version of a function. Config is opaque to the
// store (the engine's JSON function configuration).
type Function struct {
	Name       string
	Version    int // 1, 2, ... increments on every PutFunction of the same name
	Config     json.RawMessage
	CodeSHA256 string
	CodeSize   int64
	CreatedAt  time.Time // first version
	UpdatedAt  time.Time // this version
}

// Event is one invocation and its retries.
type Event struct {
	RequestID    string
	Function     string
	Version      int // function version the event was accepted against
	Qualifier    string
	InvokeType   string // event.InvokeEvent or event.InvokeRequestResponse
	Payload      []byte
	Status       event.Status
	Result       []byte // handler result (JSON) when SUCCEEDED
	ErrorType    string
	ErrorMessage string
	Attempts     int       // attempts started so far
	CreatedAt    time.Time // accepted
	StartedAt    time.Time // first attempt started; zero if never
	EndedAt      time.Time // reached a terminal status; zero if not yet
	NextAttempt  time.Time // when a QUEUED retry becomes due; zero = now
	DurationMs   int64     // duration of the last attempt
	MaxMemoryMB  int       // peak memory of the last attempt
	DurableName  string    // Lambda durable execution name (idempotent start), optional
}

// Attempt is one execution of an event on an instance.
type Attempt struct {
	RequestID    string
	N            int // 1-based
	StartedAt    time.Time
	EndedAt      time.Time // zero while running
	Status       event.Status
	ErrorType    string
	ErrorMessage string
	DurationMs   int64
	MaxMemoryMB  int
}

// EventQuery filters ListEvents and Stats. Zero values mean "no filter".
type EventQuery struct {
	Function      string
	Statuses      []event.Status
	InvokeType    string
	Qualifier     string
	RequestID     string
	CreatedAfter  time.Time // inclusive
	CreatedBefore time.Time // exclusive
	EndedAfter    time.Time
	EndedBefore   time.Time
	Desc          bool // order by CreatedAt descending (default ascending)
	Offset        int
	Limit         int // 0 = no limit
}

// Stats are the status statistics over a set of events.
type Stats struct {
	Total    int
	ByStatus map[event.Status]int
	// Nearest-rank percentiles and maximum of Event.DurationMs over the
	// events event.Timed accepts (terminal, at least one attempt).
	P50Ms, P95Ms, MaxMs int64
}

// LogLine is one line of function output or of the platform (START/END/REPORT).
type LogLine struct {
	Seq       int64 // assigned by the caller (the engine), unique and increasing
	Function  string
	RequestID string
	Attempt   int
	Time      time.Time
	Stream    string // "stdout", "stderr" or "platform"
	Text      string
}

// LogQuery filters Logs. Zero values mean "no filter".
type LogQuery struct {
	Function  string
	RequestID string
	AfterSeq  int64 // only lines with Seq > AfterSeq
	Since     time.Time
	Until     time.Time
	Contains  string // substring match on Text
	Desc      bool
	Limit     int
}
