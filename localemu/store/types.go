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
	// LayersSHA256 names the function's layers merged in order (its /opt),
	// "" without layers: the digest of the layers' code digests.
	LayersSHA256 string
	UpdatedAt    time.Time // this version
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
	RequestIDs    []string  // only these events (nil or empty: no filter); with RequestID, both apply
	DurableName   string    // only the event started with this durable execution name
	CreatedAfter  time.Time // inclusive
	CreatedBefore time.Time // exclusive
	EndedAfter    time.Time
	EndedBefore   time.Time
	OrderBy       EventOrder // ListEvents only: ByCreated (default) or ByEnded
	Desc          bool       // descending order (default ascending)
	Offset        int
	Limit         int // 0 = no limit
	// Omit names the large columns ListEvents leaves out: they are nil in
	// the events it returns. The zero value loads everything (as before
	// Omit existed); a list that shows neither payload nor result sets
	// OmitBlobs. GetEvent always loads everything.
	Omit Blobs
}

// EventOrder is the order of ListEvents.
type EventOrder int

const (
	// ByCreated orders by CreatedAt, ties in insertion order.
	ByCreated EventOrder = iota
	// ByEnded orders by EndedAt, events that have not ended after those
	// that have (before them with Desc), ties by CreatedAt and insertion
	// order; Desc reverses the whole order.
	ByEnded
)

// Blobs is a set of an Event's large columns.
type Blobs uint8

const (
	PayloadBlob Blobs = 1 << iota // Event.Payload
	ResultBlob                    // Event.Result
	OmitBlobs   = PayloadBlob | ResultBlob
)

// AttemptQuery filters ListAttempts. Zero values mean "no filter". Give
// Function: attempts are indexed by (function, start), so a window of one
// function costs what it holds, not the whole table.
type AttemptQuery struct {
	Function      string
	RequestID     string
	StartedAfter  time.Time // inclusive; an attempt never started never matches a Started bound
	StartedBefore time.Time // exclusive
	Statuses      []event.Status
	Ended         bool     // only attempts that have ended (EndedAt set)
	ErrorTypes    []string // only attempts with one of these error types
	// NotErrorTypePrefixes drops the attempts whose error type starts with
	// one of these (e.g. "Runtime." keeps the handler's own errors).
	NotErrorTypePrefixes []string
	OrderBy              AttemptOrder
	Desc                 bool // reverses the whole order, tie-breaks included
	Offset               int
	Limit                int // 0 = no limit
}

// AttemptOrder is the order of ListAttempts; ties are broken by RequestID
// then N, so that pages are deterministic.
type AttemptOrder int

const (
	ByStart     AttemptOrder = iota // StartedAt
	ByDuration                      // DurationMs
	ByMaxMemory                     // MaxMemoryMB
)

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

// LogQuery filters Logs. Zero values mean "no filter"; the filters combine
// with AND.
type LogQuery struct {
	Function  string
	Functions []string // lines of any of these functions; with Function, both apply
	RequestID string
	// Requests keeps the lines of any of these events, or attempts of
	// events (one query for the logs of a page of events).
	Requests  []LogRef
	Attempt   int       // only lines of this attempt (1-based)
	Stream    string    // only lines of this stream ("stdout", "stderr", "platform")
	AfterSeq  int64     // only lines with Seq > AfterSeq (a forward cursor)
	BeforeSeq int64     // only lines with Seq < BeforeSeq (a backward cursor); 0 = no bound
	Since     time.Time // inclusive
	Until     time.Time // exclusive
	Contains  string    // substring match on Text
	Desc      bool      // newest (highest Seq) first
	Limit     int       // 0 = all
}

// LogRef names the lines of one event, or of one of its attempts.
type LogRef struct {
	RequestID string
	Attempt   int // 1-based; 0 = every attempt
}
