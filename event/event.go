// Package event defines the asynchronous event model shared by the emulator
// and every provider adapter: the statuses an invocation moves through and how
// they map onto each cloud's own vocabulary.
//
// It is a leaf package on purpose: localemu and adapters both import it, and
// adapters must never import localemu (they reach it only over HTTP).
package event

import "strings"

// Status is the lifecycle state of one event (one invocation and its retries).
type Status string

const (
	Queued     Status = "QUEUED"     // accepted, waiting for capacity or a retry
	Running    Status = "RUNNING"    // an instance is executing it
	Succeeded  Status = "SUCCEEDED"  // handler returned
	Failed     Status = "FAILED"     // handler errored or crashed, retries exhausted
	TimedOut   Status = "TIMED_OUT"  // ran past its timeout, retries exhausted
	Terminated Status = "TERMINATED" // stopped on request
)

// All lists every status in lifecycle order.
var All = []Status{Queued, Running, Succeeded, Failed, TimedOut, Terminated}

// Terminal reports whether s never changes again.
func (s Status) Terminal() bool {
	switch s {
	case Succeeded, Failed, TimedOut, Terminated:
		return true
	}
	return false
}

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool {
	for _, v := range All {
		if v == s {
			return true
		}
	}
	return false
}

// Parse turns user input (any case) into a Status.
func Parse(s string) (Status, bool) {
	st := Status(strings.ToUpper(strings.TrimSpace(s)))
	return st, st.Valid()
}

// SCF returns the status as Tencent SCF's AsyncEvent.Status reports it.
func (s Status) SCF() string {
	switch s {
	case Queued, Running:
		return "RUNNING"
	case Succeeded:
		return "FINISHED"
	case Failed, TimedOut:
		return "FAILED"
	case Terminated:
		return "ABORTED"
	}
	return string(s)
}

// Durable returns the status as Lambda's durable-execution API reports it.
func (s Status) Durable() string {
	switch s {
	case Queued, Running:
		return "RUNNING"
	case Succeeded:
		return "SUCCEEDED"
	case Failed:
		return "FAILED"
	case TimedOut:
		return "TIMED_OUT"
	case Terminated:
		return "STOPPED"
	}
	return string(s)
}

// Invoke types, as Lambda and SCF name them.
const (
	InvokeEvent           = "Event"
	InvokeRequestResponse = "RequestResponse"
)
