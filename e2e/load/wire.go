package main

// The native API's wire types, as far as this program uses them: the bodies
// it sends and decodes (the emulator's own are in localemu/front/native). They
// are all in this file. Elsewhere the program uses only the field names the
// native API's own types share (EventInfo's RequestID, Status, CreatedAt,
// EndedAt, DurationMs and Result; LogLineInfo's Text) and reads a deployed
// function's settings through functionInfo.settings, so that replacing these
// with a shared package's types (aliases here) changes this file alone.

import (
	"encoding/json"
	"time"

	"github.com/asyncfn/asyncfn/event"
)

// deployRequest is the body of PUT /v1/functions/{name}.
type deployRequest struct {
	Config map[string]any `json:"config"`
	Zip    []byte         `json:"zip"` // base64 in JSON
}

// functionInfo is the answer of GET /v1/functions/{name}.
type functionInfo struct {
	CodeSHA256 string         `json:"codeSha256"`
	Config     map[string]any `json:"config"`
}

// settings are the deployed settings deploy compares with what it would
// deploy.
func (f *functionInfo) settings() (reserved, timeout int, runtime, provider string) {
	rc, _ := f.Config["reservedConcurrency"].(float64)
	to, _ := f.Config["timeout"].(float64)
	runtime, _ = f.Config["runtime"].(string)
	provider, _ = f.Config["provider"].(string)
	return int(rc), int(to), runtime, provider
}

// eventInfo is an event: the answer of an invoke, of GET
// /v1/functions/{name}/events/{id}, and an element of eventList.
type eventInfo struct {
	RequestID  string          `json:"requestId"`
	Status     event.Status    `json:"status"`
	CreatedAt  time.Time       `json:"createdAt"`
	StartedAt  *time.Time      `json:"startedAt"`
	EndedAt    *time.Time      `json:"endedAt"`
	DurationMs int64           `json:"durationMs"`
	Result     json.RawMessage `json:"result"`
}

// eventList is the answer of GET /v1/functions/{name}/events.
type eventList struct {
	Events []eventInfo `json:"events"`
	Total  int         `json:"total"`
}

// logLines is the answer of GET /v1/logs.
type logLines struct {
	Lines []struct {
		Text string `json:"text"`
	} `json:"lines"`
}

// The live log stream (GET /v1/logs/stream, Server-Sent Events): the comment
// the emulator sends once the subscription is in place, and the prefix of a
// line's event.
const (
	streamHello = ": asyncfn log stream"
	streamData  = "data: "
)
