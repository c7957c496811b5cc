package aws

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/event"
)

func logGroup(fn string) string { return "/aws/lambda/" + fn }

// quote makes a filter-pattern term that matches text literally.
func quote(text string) string {
	return `"` + strings.ReplaceAll(text, `"`, ``) + `"`
}

// filterAll returns every line of fn's log group since since that matches
// pattern, following nextToken to the end.
func (p *Provider) filterAll(ctx context.Context, fn, pattern string, since time.Time) ([]adapters.LogLine, error) {
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(logGroup(fn))}
	if pattern != "" {
		in.FilterPattern = aws.String(pattern)
	}
	if !since.IsZero() {
		in.StartTime = aws.Int64(since.UnixMilli())
	}
	var out []adapters.LogLine
	for {
		page, err := p.logs.FilterLogEvents(ctx, in)
		if err != nil {
			if isNotFoundCW(err) {
				return nil, nil // no log group yet: the function has not logged anything
			}
			return nil, apiError("FilterLogEvents "+logGroup(fn), err)
		}
		for _, e := range page.Events {
			out = append(out, lineOf(fn, e))
		}
		if page.NextToken == nil || aws.ToString(page.NextToken) == aws.ToString(in.NextToken) {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

func isNotFoundCW(err error) bool {
	var nf *cwtypes.ResourceNotFoundException
	return errors.As(err, &nf)
}

// lineOf turns a CloudWatch event into a log line: the request id is taken
// from the line (a platform line's "RequestId: <id>" or the second field of
// a runtime line), and a runtime line's time/id/level prefix is dropped.
func lineOf(fn string, e cwtypes.FilteredLogEvent) adapters.LogLine {
	msg := strings.TrimRight(aws.ToString(e.Message), "\n")
	l := adapters.LogLine{Time: time.UnixMilli(aws.ToInt64(e.Timestamp)).UTC(), Function: fn, Stream: aws.ToString(e.LogStreamName),
		Text: msg, Cursor: aws.ToString(e.EventId)}
	if f := strings.SplitN(msg, "\t", 4); len(f) == 4 && looksLikeID(f[1]) {
		if _, err := time.Parse(time.RFC3339Nano, f[0]); err == nil {
			l.RequestID = f[1]
			if f[2] == "INFO" {
				l.Text = f[3] // the console.log text itself
			}
			return l
		}
	}
	if i := strings.Index(msg, "RequestId: "); i >= 0 && len(msg) >= i+11+36 && looksLikeID(msg[i+11:i+11+36]) {
		l.RequestID = msg[i+11 : i+11+36]
	}
	return l
}

func looksLikeID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if r != '-' {
				return false
			}
		} else if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return true
}

// tracker derives events from log lines in order.
type tracker struct {
	fn     string
	events map[string]*tracked
	order  []string
}

type tracked struct {
	adapters.Event
	reported bool // a REPORT line gave the last attempt's duration
}

func newTracker(fn string) *tracker { return &tracker{fn: fn, events: map[string]*tracked{}} }

// add folds one line in: START -> RUNNING, END -> SUCCEEDED unless the
// attempt reported an error or a timeout, REPORT -> duration and memory.
func (t *tracker) add(l adapters.LogLine) {
	if l.RequestID == "" {
		return
	}
	e := t.events[l.RequestID]
	if e == nil {
		e = &tracked{Event: adapters.Event{RequestID: l.RequestID, Function: t.fn, InvokeType: event.InvokeEvent, Status: event.Queued, CreatedAt: l.Time}}
		t.events[l.RequestID] = e
		t.order = append(t.order, l.RequestID)
	}
	text := l.Text
	switch {
	case strings.HasPrefix(text, "START RequestId: "):
		e.Attempts++
		if e.StartedAt == nil {
			at := l.Time
			e.StartedAt = &at
		}
		e.Status, e.EndedAt, e.reported, e.ErrorType, e.ErrorMessage = event.Running, nil, false, "", ""
	case strings.HasPrefix(text, "END RequestId: "):
		if e.Status == event.Running {
			e.Status = event.Succeeded
		}
		at := l.Time
		e.EndedAt = &at
	case strings.HasPrefix(text, "REPORT RequestId: "):
		for _, f := range strings.Split(text, "\t") {
			f = strings.TrimSpace(f)
			if v, ok := strings.CutPrefix(f, "Duration: "); ok {
				if d, err := strconv.ParseFloat(strings.TrimSuffix(v, " ms"), 64); err == nil {
					e.DurationMs, e.reported = int64(d), true
				}
			} else if v, ok := strings.CutPrefix(f, "Max Memory Used: "); ok {
				e.MaxMemoryMB, _ = strconv.Atoi(strings.TrimSuffix(v, " MB"))
			} else if f == "Status: timeout" {
				e.Status = event.TimedOut
			}
		}
	case strings.HasPrefix(text, "TERMINATED RequestId: "):
		e.Status = event.Terminated
	case strings.Contains(text, "Task timed out after"):
		e.Status, e.ErrorType = event.TimedOut, "Sandbox.Timedout"
		e.ErrorMessage = text[strings.Index(text, "Task timed out after"):]
	case strings.Contains(text, "\tERROR\t"):
		// A runtime's error line: "<time>\t<id>\tERROR\tInvoke Error \t{json}"
		// (Lambda's Node runtime) or "...\tERROR\t<Type>: <message>".
		rest := text[strings.Index(text, "\tERROR\t")+7:]
		var body struct {
			ErrorType    string `json:"errorType"`
			ErrorMessage string `json:"errorMessage"`
		}
		if i := strings.IndexByte(rest, '{'); i >= 0 && json.Unmarshal([]byte(rest[i:]), &body) == nil && body.ErrorType != "" {
			e.ErrorType, e.ErrorMessage = body.ErrorType, body.ErrorMessage
		} else if typ, msg, ok := strings.Cut(rest, ": "); ok {
			e.ErrorType, e.ErrorMessage = typ, msg
		}
		e.Status = event.Failed
	}
}

// logEvents derives fn's events from its log lines: the source for a
// function that is not durable. It is eventually consistent, and an event
// that has written no line yet is not listed.
func (p *Provider) logEvents(ctx context.Context, fn string, q adapters.EventQuery) ([]adapters.Event, error) {
	since := q.Since
	if since.IsZero() {
		since = time.Now().Add(-24 * time.Hour)
	}
	lines, err := p.filterAll(ctx, fn, "", since)
	if err != nil {
		return nil, err
	}
	t := newTracker(fn)
	for _, l := range lines {
		t.add(l)
	}
	want := map[event.Status]bool{}
	for _, s := range q.Statuses {
		want[s] = true
	}
	var out []adapters.Event
	for _, id := range t.order {
		e := t.events[id].Event
		if len(want) > 0 && !want[e.Status] || !q.Until.IsZero() && !e.CreatedAt.Before(q.Until) {
			continue
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if q.Desc {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].CreatedAt.Before(out[j].CreatedAt)
	})
	return out, nil
}

// Logs reads fn's log group with FilterLogEvents; with q.Tail it keeps
// polling every PollInterval. (CloudWatch's StartLiveTail streams instead,
// but the emulator does not serve it, and polling works on both.)
func (p *Provider) Logs(ctx context.Context, q adapters.LogQuery) (adapters.LogStream, error) {
	if q.Function == "" {
		return nil, &adapters.APIError{Provider: "aws", Code: "InvalidParameterException", Message: "logs need a function"}
	}
	var terms []string
	if q.RequestID != "" {
		terms = append(terms, quote(q.RequestID))
	}
	if q.Filter != "" {
		terms = append(terms, quote(q.Filter))
	}
	start := q.Since
	if start.IsZero() && q.Tail && q.RequestID == "" {
		start = time.Now().Add(-time.Minute) // a function-wide tail starts at about now
	}
	s := &logStream{p: p, fn: q.Function, pattern: strings.Join(terms, " "), tail: q.Tail, limit: q.Limit, seen: map[string]int64{}}
	if !start.IsZero() {
		s.start = start.UnixMilli()
	}
	return s, nil
}

// logStream pages through FilterLogEvents. Between polls it restarts at the
// newest timestamp it has seen and drops events it already returned (by
// event id), so lines are neither repeated nor skipped.
type logStream struct {
	p       *Provider
	fn      string
	pattern string
	tail    bool
	limit   int
	start   int64 // ms: where the next query (not page) starts
	newest  int64 // ms: the newest timestamp returned so far
	token   *string
	seen    map[string]int64 // event id -> timestamp, for ids at or after start
	buf     []adapters.LogLine
	count   int
	done    bool
}

func (s *logStream) Next(ctx context.Context) (adapters.LogLine, error) {
	for {
		if s.limit > 0 && s.count >= s.limit {
			return adapters.LogLine{}, io.EOF
		}
		if len(s.buf) > 0 {
			l := s.buf[0]
			s.buf = s.buf[1:]
			s.count++
			return l, nil
		}
		if s.done {
			return adapters.LogLine{}, io.EOF
		}
		more, err := s.fetch(ctx)
		if err != nil {
			return adapters.LogLine{}, err
		}
		if len(s.buf) > 0 || more {
			continue
		}
		if !s.tail {
			s.done = true
			continue
		}
		select {
		case <-ctx.Done():
			return adapters.LogLine{}, ctx.Err()
		case <-time.After(s.p.poll):
		}
	}
}

// fetch reads one page; more reports that a next page is already known.
func (s *logStream) fetch(ctx context.Context) (more bool, err error) {
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(logGroup(s.fn)), NextToken: s.token}
	if s.pattern != "" {
		in.FilterPattern = aws.String(s.pattern)
	}
	if s.start > 0 {
		in.StartTime = aws.Int64(s.start)
	}
	out, err := s.p.logs.FilterLogEvents(ctx, in)
	if err != nil {
		if isNotFoundCW(err) && s.tail {
			return false, nil // the log group appears with the first line
		}
		return false, apiError("FilterLogEvents "+logGroup(s.fn), err)
	}
	for _, e := range out.Events {
		id := aws.ToString(e.EventId)
		if _, dup := s.seen[id]; dup {
			continue
		}
		ts := aws.ToInt64(e.Timestamp)
		s.seen[id] = ts
		s.buf = append(s.buf, lineOf(s.fn, e))
		if ts > s.newest {
			s.newest = ts
		}
	}
	if out.NextToken != nil && aws.ToString(out.NextToken) != aws.ToString(s.token) {
		s.token = out.NextToken
		return true, nil
	}
	// Caught up: the next poll starts again at the newest timestamp (lines of
	// the same millisecond may still arrive); forget ids older than that.
	s.token = nil
	if s.newest > s.start {
		s.start = s.newest
	}
	for id, ts := range s.seen {
		if ts < s.start {
			delete(s.seen, id)
		}
	}
	return false, nil
}

func (s *logStream) Close() error { return nil }
