package native

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/store"
	"github.com/asyncfn/asyncfn/nativeapi"
)

// The native API (/v1/) is asyncfn's own JSON API over the engine. It covers
// what neither cloud API does well, such as live logs as Server-Sent Events
// with a resume cursor, and it is what adapters/local speaks.

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func eventInfo(ev store.Event, withPayload bool) nativeapi.EventInfo {
	info := nativeapi.EventInfo{
		RequestID: ev.RequestID, Function: ev.Function, Version: ev.Version, Qualifier: ev.Qualifier, InvokeType: ev.InvokeType,
		Status: ev.Status, Attempts: ev.Attempts, CreatedAt: ev.CreatedAt, StartedAt: timePtr(ev.StartedAt), EndedAt: timePtr(ev.EndedAt),
		DurationMs: ev.DurationMs, MaxMemoryMB: ev.MaxMemoryMB, ErrorType: ev.ErrorType, ErrorMessage: ev.ErrorMessage,
	}
	if ev.Status == event.Queued {
		info.NextAttempt = timePtr(ev.NextAttempt)
	}
	if len(ev.Result) > 0 {
		if json.Valid(ev.Result) {
			info.Result = json.RawMessage(ev.Result)
		} else {
			info.ResultText = string(ev.Result)
		}
	}
	if withPayload && json.Valid(ev.Payload) {
		info.Payload = json.RawMessage(ev.Payload)
	}
	return info
}

func functionInfo(f store.Function) nativeapi.FunctionInfo {
	info := nativeapi.FunctionInfo{Name: f.Name, Version: f.Version, State: "Active", CodeSHA256: f.CodeSHA256, CodeSize: f.CodeSize, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt}
	if cfg, err := localemu.DecodeConfig(f.Config); err == nil {
		info.Config = *cfg
	}
	return info
}

func logLineInfo(l store.LogLine) nativeapi.LogLineInfo {
	return nativeapi.LogLineInfo{Seq: l.Seq, Cursor: strconv.FormatInt(l.Seq, 10), Time: l.Time, Function: l.Function, RequestID: l.RequestID,
		Attempt: l.Attempt, Stream: l.Stream, Text: l.Text}
}

// wireError is the native API's status and code for each kind of engine error.
func wireError(k localemu.Kind) (int, string) {
	switch k {
	case localemu.KindThrottled:
		return http.StatusTooManyRequests, "Throttled"
	case localemu.KindFunctionNotFound:
		return http.StatusNotFound, "FunctionNotFound"
	case localemu.KindEventNotFound:
		return http.StatusNotFound, "EventNotFound"
	case localemu.KindNotFound:
		return http.StatusNotFound, "NotFound"
	case localemu.KindEventFinished:
		return http.StatusConflict, "EventFinished"
	case localemu.KindShuttingDown:
		return http.StatusServiceUnavailable, "ShuttingDown"
	case localemu.KindTooLarge:
		return http.StatusRequestEntityTooLarge, "PayloadTooLarge"
	case localemu.KindInvalid:
		return http.StatusBadRequest, "InvalidParameter"
	case localemu.KindCanceled:
		return http.StatusGatewayTimeout, "Timeout"
	}
	return http.StatusInternalServerError, "InternalError"
}

// health answers GET /v1/health, the one route that needs no credentials.
func health(ctx context.Context, r *http.Request) (answer, error) {
	return ok(map[string]string{"status": "ok"}), nil
}

// noRoute answers what matches no other /v1/ route.
func noRoute(ctx context.Context, r *http.Request) (answer, error) {
	return answer{}, &requestError{status: http.StatusNotFound, code: "NotFound", msg: fmt.Sprintf("no native API route for %s %s", r.Method, r.URL.Path)}
}

func (s *Front) listFunctions(ctx context.Context, r *http.Request) (answer, error) {
	fns, err := s.engine.Functions(ctx)
	if err != nil {
		return answer{}, err
	}
	out := make([]nativeapi.FunctionInfo, 0, len(fns))
	for _, f := range fns {
		out = append(out, functionInfo(f))
	}
	return ok(map[string]any{"functions": out}), nil
}

// deploy creates (201) or updates (200) a function. Its body, the largest the
// native API takes, is bounded by serve.
func (s *Front) deploy(ctx context.Context, r *http.Request) (answer, error) {
	var req nativeapi.DeployRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return answer{}, badRequest("InvalidRequest", "decode deploy request: %v", err)
	}
	name := r.PathValue("name")
	if req.Config.Name == "" {
		req.Config.Name = name
	}
	if req.Config.Name != name {
		return answer{}, badRequest("InvalidParameter", "config.name %q does not match the URL's %q", req.Config.Name, name)
	}
	_, _, err := s.engine.Function(ctx, name)
	created := errors.Is(err, localemu.ErrFunctionNotFound)
	code := localemu.Code{Zip: req.Zip}
	if req.CodeObject != nil {
		if req.Zip != nil {
			return answer{}, badRequest("InvalidParameter", "give zip or codeObject, not both")
		}
		code = localemu.Code{Object: req.CodeObject}
	}
	f, err := s.engine.DeployCode(ctx, req.Config, code)
	if err != nil {
		return answer{}, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return answer{status: status, body: functionInfo(f)}, nil
}

func (s *Front) getFunction(ctx context.Context, r *http.Request) (answer, error) {
	f, _, err := s.engine.Function(ctx, r.PathValue("name"))
	if err != nil {
		return answer{}, err
	}
	return ok(functionInfo(f)), nil
}

func (s *Front) deleteFunction(ctx context.Context, r *http.Request) (answer, error) {
	if err := s.engine.RemoveFunction(ctx, r.PathValue("name")); err != nil {
		return answer{}, err
	}
	return answer{status: http.StatusNoContent}, nil
}

// invoke answers a synchronous invocation with its event (200) and an
// asynchronous one with the event accepted (202).
func (s *Front) invoke(ctx context.Context, r *http.Request) (answer, error) {
	q := r.URL.Query()
	typ := q.Get("type")
	switch strings.ToLower(typ) {
	case "", "requestresponse", "sync":
		typ = event.InvokeRequestResponse
	case "event", "async":
		typ = event.InvokeEvent
	default:
		return answer{}, badRequest("InvalidParameter", "type %q is not Event or RequestResponse", typ)
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, nativeapi.MaxSyncPayload+1))
	if err != nil {
		return answer{}, badRequest("InvalidRequest", "read payload: %v", err)
	}
	ev, err := s.engine.Invoke(ctx, localemu.InvokeRequest{Function: r.PathValue("name"), Payload: payload, Type: typ,
		Qualifier: q.Get("qualifier"), DurableName: q.Get("durableName")})
	if err != nil {
		return answer{}, err
	}
	status := http.StatusOK
	if typ == event.InvokeEvent {
		status = http.StatusAccepted
	}
	return answer{status: status, body: eventInfo(ev, false)}, nil
}

// parseEventQuery reads the filters shared by events and stats.
func parseEventQuery(r *http.Request, fn string) (store.EventQuery, error) {
	v := r.URL.Query()
	q := store.EventQuery{Function: fn, InvokeType: v.Get("invokeType"), Qualifier: v.Get("qualifier"), RequestID: v.Get("requestId")}
	if st := v.Get("status"); st != "" {
		for _, part := range strings.Split(st, ",") {
			s, ok := event.Parse(part)
			if !ok {
				return q, &localemu.InvalidParameterError{Msg: fmt.Sprintf("status %q is not one of %v", part, event.All)}
			}
			q.Statuses = append(q.Statuses, s)
		}
	}
	var err error
	parseTime := func(key string, dst *time.Time) {
		if err != nil || v.Get(key) == "" {
			return
		}
		t, perr := time.Parse(time.RFC3339Nano, v.Get(key))
		if perr != nil {
			err = &localemu.InvalidParameterError{Msg: fmt.Sprintf("%s %q is not an RFC 3339 time", key, v.Get(key))}
		}
		*dst = t
	}
	parseTime("since", &q.CreatedAfter)
	parseTime("until", &q.CreatedBefore)
	parseTime("endedAfter", &q.EndedAfter)
	parseTime("endedBefore", &q.EndedBefore)
	parseInt := func(key string, dst *int) {
		if err != nil || v.Get(key) == "" {
			return
		}
		n, perr := strconv.Atoi(v.Get(key))
		if perr != nil || n < 0 {
			err = &localemu.InvalidParameterError{Msg: fmt.Sprintf("%s %q is not a non-negative integer", key, v.Get(key))}
		}
		*dst = n
	}
	parseInt("offset", &q.Offset)
	parseInt("limit", &q.Limit)
	switch strings.ToLower(v.Get("order")) {
	case "", "asc":
	case "desc":
		q.Desc = true
	default:
		err = &localemu.InvalidParameterError{Msg: fmt.Sprintf("order %q is not asc or desc", v.Get("order"))}
	}
	return q, err
}

func (s *Front) listEvents(ctx context.Context, r *http.Request) (answer, error) {
	q, err := parseEventQuery(r, r.PathValue("name"))
	if err != nil {
		return answer{}, err
	}
	if q.Limit == 0 {
		q.Limit = 100
	}
	q.Omit = store.PayloadBlob // the list shows each event's result, not its payload
	evs, total, err := s.engine.Events(ctx, q)
	if err != nil {
		return answer{}, err
	}
	out := make([]nativeapi.EventInfo, 0, len(evs))
	for _, ev := range evs {
		out = append(out, eventInfo(ev, false))
	}
	return ok(nativeapi.EventPage{Events: out, Total: total}), nil
}

func (s *Front) getEvent(ctx context.Context, r *http.Request) (answer, error) {
	ev, err := s.engine.Event(ctx, r.PathValue("name"), r.PathValue("id"))
	if err != nil {
		return answer{}, err
	}
	info := eventInfo(ev, true)
	attempts, err := s.engine.Attempts(ctx, ev.RequestID)
	if err != nil {
		return answer{}, err
	}
	for _, a := range attempts {
		info.AttemptList = append(info.AttemptList, nativeapi.AttemptInfo{N: a.N, Status: a.Status, StartedAt: a.StartedAt, EndedAt: timePtr(a.EndedAt),
			DurationMs: a.DurationMs, MaxMemoryMB: a.MaxMemoryMB, ErrorType: a.ErrorType, ErrorMessage: a.ErrorMessage})
	}
	return ok(info), nil
}

func (s *Front) terminate(ctx context.Context, r *http.Request) (answer, error) {
	var grace time.Duration
	if g := r.URL.Query().Get("grace"); g != "" {
		d, err := time.ParseDuration(g)
		if err != nil || d < 0 {
			return answer{}, badRequest("InvalidParameter", "grace %q is not a duration such as 10s", g)
		}
		grace = d
	}
	ev, err := s.engine.Terminate(ctx, r.PathValue("name"), r.PathValue("id"), grace)
	if err != nil {
		return answer{}, err
	}
	return ok(eventInfo(ev, false)), nil
}

func (s *Front) stats(ctx context.Context, r *http.Request) (answer, error) {
	fn := r.PathValue("name")
	q, err := parseEventQuery(r, fn)
	if err != nil {
		return answer{}, err
	}
	st, err := s.engine.Stats(ctx, q)
	if err != nil {
		return answer{}, err
	}
	return ok(nativeapi.StatsInfo{Function: fn, Total: st.Total, ByStatus: st.ByStatus, P50Ms: st.P50Ms, P95Ms: st.P95Ms, MaxMs: st.MaxMs}), nil
}

func parseLogFilter(r *http.Request) (localemu.LogFilter, int64, int, error) {
	v := r.URL.Query()
	var f localemu.LogFilter
	if fns := v.Get("function"); fns != "" {
		f.Functions = strings.Split(fns, ",")
	}
	f.RequestID = v.Get("requestId")
	f.Contains = v.Get("contains")
	if since := v.Get("since"); since != "" {
		t, err := time.Parse(time.RFC3339Nano, since)
		if err != nil {
			return f, 0, 0, &localemu.InvalidParameterError{Msg: fmt.Sprintf("since %q is not an RFC 3339 time", since)}
		}
		f.Since = t
	}
	after := int64(0)
	cursor := v.Get("after")
	if c := r.Header.Get("Last-Event-ID"); c != "" {
		cursor = c
	}
	if cursor != "" {
		n, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil {
			return f, 0, 0, &localemu.InvalidParameterError{Msg: fmt.Sprintf("cursor %q is not a number", cursor)}
		}
		after = n
	}
	limit := 1000
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 {
			return f, 0, 0, &localemu.InvalidParameterError{Msg: fmt.Sprintf("limit %q is not a positive integer", l)}
		}
		limit = n
	}
	return f, after, limit, nil
}

func (s *Front) logs(ctx context.Context, r *http.Request) (answer, error) {
	f, after, limit, err := parseLogFilter(r)
	if err != nil {
		return answer{}, err
	}
	q := f.Query(after, limit)
	if r.URL.Query().Get("order") == "desc" {
		// Newest first: the cursor resumes after the page's last (oldest)
		// line, so the next page holds the lines before it.
		q.Desc, q.AfterSeq, q.BeforeSeq = true, 0, after
	}
	lines, err := s.engine.Logs(ctx, q)
	if err != nil {
		return answer{}, err
	}
	out := make([]nativeapi.LogLineInfo, 0, len(lines))
	cursor := strconv.FormatInt(after, 10)
	for _, l := range lines {
		out = append(out, logLineInfo(l))
		cursor = strconv.FormatInt(l.Seq, 10)
	}
	return ok(nativeapi.LogPage{Lines: out, Cursor: cursor}), nil
}

// logStream serves a live tail as Server-Sent Events: each line is an
// event whose id is its cursor, so a client reconnecting with Last-Event-ID
// continues without gaps or duplicates. It is the one route that writes
// incrementally (serveStream): a malformed request is answered as any
// handler's error, before the stream starts.
func (s *Front) logStream(ctx context.Context, r *http.Request) (stream, error) {
	f, after, _, err := parseLogFilter(r)
	if err != nil {
		return nil, err
	}
	if r.URL.Query().Get("after") == "" && r.Header.Get("Last-Event-ID") == "" && r.URL.Query().Get("from") == "now" {
		after = -1
	}
	untilEnd := false
	switch u := r.URL.Query().Get("until"); u {
	case "":
	case "end":
		if f.RequestID == "" {
			return nil, badRequest("InvalidParameter", "until=end follows one event: it needs requestId")
		}
		untilEnd = true
	default:
		return nil, badRequest("InvalidParameter", "until=%q: the one value is end", u)
	}
	return func(ctx context.Context, w io.Writer, flush func()) {
		sub := s.engine.SubscribeLogs(f, after)
		defer sub.Close()
		fmt.Fprintf(w, ": asyncfn log stream after %d\n\n", sub.Cursor())
		flush()
		// With until=end the stream ends once the event has ended and every
		// line it wrote has been sent, however far behind the client is:
		// every line of an event is numbered before the event ends, so they
		// are the lines up to the last number when its end is seen.
		var ended atomic.Bool
		var endSeq atomic.Int64
		var endStatus event.Status
		endCtx, endNow := context.WithCancel(ctx)
		defer endNow()
		if untilEnd {
			go func() {
				ev, err := s.engine.Wait(endCtx, f.RequestID)
				if err != nil && ctx.Err() != nil {
					return
				}
				endStatus = ev.Status // read only after ended is set
				endSeq.Store(s.engine.LastLogSeq())
				ended.Store(true)
				endNow()
			}()
		}
		for {
			if ended.Load() && sub.Cursor() >= endSeq.Load() {
				b, _ := json.Marshal(map[string]any{"requestId": f.RequestID, "status": endStatus})
				fmt.Fprintf(w, "event: end\ndata: %s\n\n", b)
				flush()
				return
			}
			// Until the event ends, its end wakes the wait; after, only
			// lines of other events may be left to skip.
			base, wait := ctx, 15*time.Second
			if untilEnd {
				base = endCtx
				if ended.Load() {
					base, wait = ctx, 100*time.Millisecond
				}
			}
			wctx, cancel := context.WithTimeout(base, wait)
			lines, err := sub.Next(wctx, 512)
			cancel()
			switch {
			case err == nil:
			case ctx.Err() != nil:
				return
			case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
				if untilEnd && ended.Load() {
					continue
				}
				if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
					return
				}
				flush()
				continue
			default:
				return
			}
			for _, l := range lines {
				b, _ := json.Marshal(logLineInfo(l))
				if _, err := fmt.Fprintf(w, "id: %d\nevent: log\ndata: %s\n\n", l.Seq, b); err != nil {
					return
				}
			}
			flush()
		}
	}, nil
}
