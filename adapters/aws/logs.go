package aws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/event"
)

func logGroup(fn string) string { return "/aws/lambda/" + fn }

// quote makes a filter-pattern term that matches text literally.
func quote(text string) string {
	return `"` + strings.ReplaceAll(text, `"`, ``) + `"`
}

// filterPattern is the FilterLogEvents pattern for a request id and a text
// filter: each a quoted term, and a line must contain both.
func filterPattern(requestID, filter string) string {
	var terms []string
	for _, t := range []string{requestID, filter} {
		if q := quote(t); q != `""` {
			terms = append(terms, q)
		}
	}
	return strings.Join(terms, " ")
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
	// Lambda's timeout line: "<time> <request id> Task timed out after 3.00 seconds".
	if f := strings.SplitN(msg, " ", 3); len(f) == 3 && looksLikeID(f[1]) {
		if _, err := time.Parse(time.RFC3339Nano, f[0]); err == nil {
			l.RequestID = f[1]
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
		// A new attempt: what the previous one ended with no longer holds.
		e.Status, e.EndedAt, e.reported, e.ErrorType, e.ErrorMessage = event.Running, nil, false, "", ""
		e.DurationMs, e.MaxMemoryMB = 0, 0
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
			} else if v, ok := strings.CutPrefix(f, "Status: "); ok {
				// Newer REPORT lines: "Status: timeout" or "Status: error\tError Type: Runtime.ExitError".
				switch v {
				case "timeout":
					e.Status = event.TimedOut
					if e.ErrorType == "" {
						e.ErrorType = "Sandbox.Timedout"
					}
				case "error":
					if e.Status != event.TimedOut {
						e.Status = event.Failed
					}
				}
			} else if v, ok := strings.CutPrefix(f, "Error Type: "); ok && e.Status == event.Failed {
				e.ErrorType = v
			}
		}
	case strings.HasPrefix(text, "TERMINATED RequestId: "):
		e.Status = event.Terminated
		if e.EndedAt == nil {
			at := l.Time
			e.EndedAt = &at
		}
	case strings.Contains(text, "Task timed out after"):
		e.Status, e.ErrorType = event.TimedOut, "Sandbox.Timedout"
		e.ErrorMessage = text[strings.Index(text, "Task timed out after"):]
	case strings.Contains(text, "\tERROR\t"):
		// Only the runtime's report of a failed invoke fails the event; other
		// ERROR lines are the function's own console.error output.
		if typ, msg, ok := invokeError(text[strings.Index(text, "\tERROR\t")+7:]); ok {
			e.Status, e.ErrorType, e.ErrorMessage = event.Failed, typ, msg
		}
	case strings.HasPrefix(text, "RequestId: ") && strings.Contains(text, " Error: "):
		// Lambda's line for a runtime that crashed or exited mid-invoke:
		// "RequestId: <id> Error: Runtime exited with error: exit status 1".
		e.Status, e.ErrorType = event.Failed, "Runtime.ExitError"
		e.ErrorMessage = text[strings.Index(text, " Error: ")+8:]
	}
}

// awaitRetries marks the events whose last attempt failed or timed out with
// retries left as QUEUED: Lambda retries such an attempt of an async invoke
// (up to MaximumRetryAttempts, while the event is younger than
// MaximumEventAgeInSeconds), and the log holds no line saying that it will
// or that it gave up. The error of the last attempt stays on the event.
// An event older than its maximum age has no retry left to wait for.
func (t *tracker) awaitRetries(info fnInfo, now time.Time) {
	for _, e := range t.events {
		if (e.Status == event.Failed || e.Status == event.TimedOut) && e.Attempts <= info.retries && now.Sub(e.CreatedAt) < info.maxAge {
			e.Status, e.EndedAt = event.Queued, nil
		}
	}
}

// invokeError reads the runtime's report of a failed invoke from the text
// after "\tERROR\t": Lambda's Node runtime writes "Invoke Error \t{json}",
// other runtimes (and the emulator) "<ErrorType>: <message>" or the JSON
// alone. Anything else, such as console.error("warning: ..."), is not one.
func invokeError(rest string) (typ, msg string, ok bool) {
	var body struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	trimmed := strings.TrimSpace(rest)
	if after, isInvoke := strings.CutPrefix(trimmed, "Invoke Error"); isInvoke {
		if i := strings.IndexByte(after, '{'); i >= 0 && json.Unmarshal([]byte(after[i:]), &body) == nil && body.ErrorType != "" {
			return body.ErrorType, body.ErrorMessage, true
		}
		return "Runtime.Unknown", strings.TrimSpace(after), true
	}
	if strings.HasPrefix(trimmed, "{") && json.Unmarshal([]byte(trimmed), &body) == nil && body.ErrorType != "" {
		return body.ErrorType, body.ErrorMessage, true
	}
	if t, m, found := strings.Cut(trimmed, ": "); found && isErrorType(t) {
		return t, m, true
	}
	return "", "", false
}

// isErrorType tells whether s names an error type: an identifier (dots
// allowed) such as Error, TypeError, ValueError, QuotaException or
// Runtime.ExitError.
func isErrorType(s string) bool {
	if s == "" || !(s[0] >= 'A' && s[0] <= 'Z' || s[0] >= 'a' && s[0] <= 'z') {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '$') {
			return false
		}
	}
	return strings.HasSuffix(s, "Error") || strings.HasSuffix(s, "Exception") || strings.Contains(s, ".")
}

// logLookback is how far back the log-derived view of a plain function
// looks when the query gives no start.
const logLookback = 24 * time.Hour

// logEvent derives one event of a function that is not durable from its log
// lines. A request id with no line yet is QUEUED: Lambda accepted the invoke
// (or never did, which Lambda offers no way to tell), and CloudWatch Logs
// shows lines seconds after they are written.
func (p *Provider) logEvent(ctx context.Context, fn string, info fnInfo, requestID string) (adapters.Event, error) {
	if !looksLikeID(requestID) {
		return adapters.Event{}, &adapters.APIError{Provider: "aws", Code: "ResourceNotFoundException", Err: adapters.ErrNotFound,
			Message: fmt.Sprintf("%q is not a Lambda request id (a UUID such as 6f1d1f5e-0c2a-4d3b-9e8f-0123456789ab)", requestID)}
	}
	lines, err := p.filterAll(ctx, fn, quote(requestID), time.Now().Add(-logLookback))
	if err != nil {
		return adapters.Event{}, err
	}
	t := newTracker(fn)
	for _, l := range lines {
		t.add(l)
	}
	t.awaitRetries(info, time.Now())
	if e := t.events[requestID]; e != nil {
		return e.Event, nil
	}
	return adapters.Event{RequestID: requestID, Function: fn, InvokeType: event.InvokeEvent, Status: event.Queued}, nil
}

// logEvents derives fn's events from its log lines: the source for a
// function that is not durable. It is eventually consistent, and an event
// that has written no line yet is not listed.
func (p *Provider) logEvents(ctx context.Context, fn string, info fnInfo, q adapters.EventQuery) ([]adapters.Event, error) {
	since := q.Since
	if since.IsZero() {
		since = time.Now().Add(-logLookback)
	}
	lines, err := p.filterAll(ctx, fn, "", since)
	if err != nil {
		return nil, err
	}
	t := newTracker(fn)
	for _, l := range lines {
		t.add(l)
	}
	t.awaitRetries(info, time.Now())
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

// Logs reads fn's log group with FilterLogEvents. With q.Tail it then
// follows the group: through a StartLiveTail session where the endpoint
// serves one, by polling FilterLogEvents every PollInterval where it does not
// (see tailStream).
func (p *Provider) Logs(ctx context.Context, q adapters.LogQuery) (adapters.LogStream, error) {
	if q.Function == "" {
		return nil, &adapters.APIError{Provider: "aws", Code: "InvalidParameterException", Message: "logs need a function"}
	}
	start := q.Since
	if start.IsZero() && q.Tail && q.RequestID == "" {
		start = time.Now().Add(-time.Minute) // a function-wide tail starts at about now
	}
	var startMs int64
	if !start.IsZero() {
		startMs = start.UnixMilli()
	}
	pattern := filterPattern(q.RequestID, q.Filter)
	if q.Tail {
		sctx, cancel := context.WithCancel(ctx)
		return &tailStream{p: p, fn: q.Function, pattern: pattern, start: startMs, limit: q.Limit, ctx: sctx, cancel: cancel,
			shown: map[lineKey]int{}, again: map[lineKey]int{}}, nil
	}
	s := p.filterStream(q.Function, pattern, startMs, false)
	s.limit = q.Limit
	return s, nil
}

func (p *Provider) filterStream(fn, pattern string, start int64, tail bool) *logStream {
	return &logStream{p: p, fn: fn, pattern: pattern, tail: tail, start: start, seen: map[string]int64{}}
}

// liveStartTimeout bounds the wait for a live tail's sessionStart: an
// endpoint (or a proxy) that holds the answer back is taken not to serve it.
const liveStartTimeout = 10 * time.Second

// tailStream follows a log group. It opens a StartLiveTail session first,
// then reads what was written before the session with FilterLogEvents (the
// history), then the session's lines. When StartLiveTail fails (an endpoint
// without it, such as an older emulator or a proxy: UnknownOperationException;
// a principal without logs:StartLiveTail: AccessDeniedException; no
// sessionStart in time; any other error), it polls FilterLogEvents instead;
// when a session ends (after CloudWatch's three hours, or a broken
// connection), polling resumes at the newest timestamp shown. Live lines
// carry no event id, so a line one source returns again after another
// returned it (same time, stream, request id and text) is dropped.
type tailStream struct {
	p       *Provider
	fn      string
	pattern string
	start   int64 // ms: where the history starts (0: all of it)
	limit   int
	count   int

	ctx    context.Context // the live session's; Close cancels it
	cancel context.CancelFunc

	started bool
	history *logStream // FilterLogEvents up to the session start, then nil
	live    *cloudwatchlogs.StartLiveTailEventStream
	poll    *logStream // FilterLogEvents every PollInterval
	buf     []adapters.LogLine
	seq     int   // live lines so far, for their cursors
	newest  int64 // ms: the newest timestamp returned

	shown map[lineKey]int // how often each line was returned
	again map[lineKey]int // how often the current source produced it
}

type lineKey struct {
	ms                      int64
	stream, requestID, text string
}

func keyOf(l adapters.LogLine) lineKey {
	return lineKey{l.Time.UnixMilli(), l.Stream, l.RequestID, l.Text}
}

func (s *tailStream) Next(ctx context.Context) (adapters.LogLine, error) {
	for {
		if s.limit > 0 && s.count >= s.limit {
			return adapters.LogLine{}, io.EOF
		}
		if !s.started {
			if err := s.begin(ctx); err != nil {
				return adapters.LogLine{}, err
			}
		}
		var l adapters.LogLine
		switch {
		case s.history != nil:
			var err error
			l, err = s.history.Next(ctx)
			if errors.Is(err, io.EOF) || errors.Is(err, adapters.ErrNotFound) {
				s.history = nil // the history is done (or there is no group yet): the session's lines follow
				s.nextSource()
				continue
			}
			if err != nil {
				return adapters.LogLine{}, err
			}
		case len(s.buf) > 0:
			l, s.buf = s.buf[0], s.buf[1:]
		case s.live != nil:
			if err := s.receive(ctx); err != nil {
				return adapters.LogLine{}, err
			}
			continue
		default:
			var err error
			if l, err = s.poll.Next(ctx); err != nil {
				return adapters.LogLine{}, err
			}
		}
		k := keyOf(l)
		if s.again[k]++; s.again[k] <= s.shown[k] {
			continue // an earlier source returned it
		}
		s.shown[k]++
		if ms := l.Time.UnixMilli(); ms > s.newest {
			s.newest = ms
		}
		s.prune()
		s.count++
		return l, nil
	}
}

// nextSource starts comparing a new source's lines with those returned.
func (s *tailStream) nextSource() { clear(s.again) }

// prune forgets lines that no later source can return again: a minute older
// than the newest (CloudWatch's ingestion lag is seconds).
func (s *tailStream) prune() {
	if len(s.shown) < 4096 {
		return
	}
	old := s.newest - time.Minute.Milliseconds()
	for k := range s.shown {
		if k.ms < old {
			delete(s.shown, k)
			delete(s.again, k)
		}
	}
}

// begin opens the live session, or settles for polling.
func (s *tailStream) begin(ctx context.Context) error {
	err := s.startLive(ctx)
	if err != nil && ctx.Err() != nil {
		return ctx.Err() // the caller gave up: try again on the next call
	}
	s.started = true
	if err == nil {
		fmt.Fprintf(s.p.progress, "aws: following %s with StartLiveTail\n", logGroup(s.fn))
		s.history = s.p.filterStream(s.fn, s.pattern, s.start, false)
		return nil
	}
	fmt.Fprintf(s.p.progress, "aws: following %s by polling FilterLogEvents every %s (StartLiveTail: %v)\n", logGroup(s.fn), s.p.poll, err)
	s.poll = s.p.filterStream(s.fn, s.pattern, s.start, true)
	return nil
}

// startLive opens a session and waits for its sessionStart.
func (s *tailStream) startLive(ctx context.Context) error {
	group, err := s.p.logGroupARN(ctx, s.fn)
	if err != nil {
		return err
	}
	in := &cloudwatchlogs.StartLiveTailInput{LogGroupIdentifiers: []string{group}}
	if s.pattern != "" {
		in.LogEventFilterPattern = aws.String(s.pattern)
	}
	sctx, cancel := context.WithCancel(s.ctx)
	var late atomic.Bool
	timer := time.AfterFunc(liveStartTimeout, func() { late.Store(true); cancel() })
	defer timer.Stop()
	defer context.AfterFunc(ctx, cancel)() // the caller's ctx bounds the start, not the session
	fail := func(err error) error {
		cancel()
		if late.Load() {
			return fmt.Errorf("no sessionStart within %s", liveStartTimeout)
		}
		return err
	}
	out, err := s.p.logs.StartLiveTail(sctx, in, s.p.liveTailOptions)
	if err != nil {
		return fail(apiError("StartLiveTail "+group, err))
	}
	stream := out.GetStream()
	ev, ok := <-stream.Events()
	if !ok || !timer.Stop() {
		err := stream.Err()
		stream.Close()
		if err == nil {
			err = errors.New("the stream ended before its sessionStart")
		}
		return fail(apiError("StartLiveTail "+group, err))
	}
	s.live = stream
	s.take(ev)
	return nil
}

// logGroupARN is the ARN of fn's log group, in the partition, region and
// account of the function (StartLiveTail takes ARNs only).
func (p *Provider) logGroupARN(ctx context.Context, fn string) (string, error) {
	info, err := p.function(ctx, fn)
	if err != nil {
		return "", err
	}
	parts := strings.SplitN(info.arn, ":", 7) // arn:partition:lambda:region:account:function:name
	if len(parts) < 7 {
		return "", fmt.Errorf("aws: function ARN %q has no region and account", info.arn)
	}
	return "arn:" + parts[1] + ":logs:" + parts[3] + ":" + parts[4] + ":log-group:" + logGroup(fn), nil
}

// receive waits for the session's next event; when the session has ended,
// polling takes over from the newest line shown.
func (s *tailStream) receive(ctx context.Context) error {
	select {
	case ev, ok := <-s.live.Events():
		if ok {
			s.take(ev)
			return nil
		}
	case <-ctx.Done():
		return ctx.Err()
	}
	why := s.live.Err()
	s.live.Close()
	s.live = nil
	if why == nil {
		why = errors.New("the stream ended")
	}
	start := s.newest
	if start == 0 {
		start = s.start
	}
	fmt.Fprintf(s.p.progress, "aws: the live tail of %s ended (%v); polling FilterLogEvents every %s from the last line shown\n", logGroup(s.fn), why, s.p.poll)
	s.poll = s.p.filterStream(s.fn, s.pattern, start, true)
	s.nextSource()
	return nil
}

// take queues the lines of a session event.
func (s *tailStream) take(ev cwtypes.StartLiveTailResponseStream) {
	upd, ok := ev.(*cwtypes.StartLiveTailResponseStreamMemberSessionUpdate)
	if !ok {
		return // sessionStart, or an event this SDK does not know
	}
	for _, e := range upd.Value.SessionResults {
		s.seq++
		ts := aws.ToInt64(e.Timestamp)
		s.buf = append(s.buf, lineOf(s.fn, cwtypes.FilteredLogEvent{Message: e.Message, Timestamp: e.Timestamp, LogStreamName: e.LogStreamName,
			IngestionTime: e.IngestionTime, EventId: aws.String("live-" + strconv.FormatInt(ts, 10) + "-" + strconv.Itoa(s.seq))}))
	}
}

func (s *tailStream) Close() error {
	s.cancel()
	if s.live != nil {
		s.live.Close()
	}
	return nil
}

// liveTailOptions adjust the client for StartLiveTail calls.
func (p *Provider) liveTailOptions(o *cloudwatchlogs.Options) {
	if o.BaseEndpoint != nil {
		// The SDK sends StartLiveTail to "stream-" + the endpoint's host; an
		// endpoint override (the emulator, a proxy) is the host itself.
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("asyncfnNoHostPrefix",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
				}), middleware.Before)
		})
	}
	if o.HTTPClient != nil {
		o.HTTPClient = plainBodyClient{o.HTTPClient}
	}
}

// plainBodyClient hides the io.WriterTo of a request body. The SDK closes
// the body once the response headers are in, and net/http may still be
// reading it then (a check for bytes past Content-Length, through WriterTo,
// which a closed SDK body answers with an error); the request write fails and
// net/http closes the connection, and with it the event stream. Through Read
// a closed body is a plain EOF.
type plainBodyClient struct{ c cloudwatchlogs.HTTPClient }

func (c plainBodyClient) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = struct{ io.ReadCloser }{r.Body}
	}
	return c.c.Do(r)
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
