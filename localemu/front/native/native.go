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
	"time"

	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/front"
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

func writeNativeError(w http.ResponseWriter, status int, code, msg string) {
	front.WriteJSON(w, status, nativeapi.ErrorBody{Error: nativeapi.APIError{Code: code, Message: msg}})
}

// fail maps an engine error onto an HTTP status and code.
// fail answers an engine error as the native API does.
func fail(w http.ResponseWriter, err error) {
	status, code := wireError(localemu.KindOf(err))
	writeNativeError(w, status, code, err.Error())
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

func (s *Front) listFunctions(w http.ResponseWriter, r *http.Request) {
	fns, err := s.engine.Functions(r.Context())
	if err != nil {
		fail(w, err)
		return
	}
	out := make([]nativeapi.FunctionInfo, 0, len(fns))
	for _, f := range fns {
		out = append(out, functionInfo(f))
	}
	front.WriteJSON(w, http.StatusOK, map[string]any{"functions": out})
}

func (s *Front) deploy(w http.ResponseWriter, r *http.Request) {
	var req nativeapi.DeployRequest
	body := http.MaxBytesReader(w, r.Body, localemu.MaxDeployBody)
	if err := json.NewDecoder(body).Decode(&req); err != nil {
		writeNativeError(w, http.StatusBadRequest, "InvalidRequest", "decode deploy request: "+err.Error())
		return
	}
	name := r.PathValue("name")
	if req.Config.Name == "" {
		req.Config.Name = name
	}
	if req.Config.Name != name {
		writeNativeError(w, http.StatusBadRequest, "InvalidParameter", fmt.Sprintf("config.name %q does not match the URL's %q", req.Config.Name, name))
		return
	}
	_, _, err := s.engine.Function(r.Context(), name)
	created := errors.Is(err, localemu.ErrFunctionNotFound)
	f, err := s.engine.Deploy(r.Context(), req.Config, req.Zip)
	if err != nil {
		fail(w, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	front.WriteJSON(w, status, functionInfo(f))
}

func (s *Front) getFunction(w http.ResponseWriter, r *http.Request) {
	f, _, err := s.engine.Function(r.Context(), r.PathValue("name"))
	if err != nil {
		fail(w, err)
		return
	}
	front.WriteJSON(w, http.StatusOK, functionInfo(f))
}

func (s *Front) deleteFunction(w http.ResponseWriter, r *http.Request) {
	if err := s.engine.RemoveFunction(r.Context(), r.PathValue("name")); err != nil {
		fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Front) invoke(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	typ := q.Get("type")
	switch strings.ToLower(typ) {
	case "", "requestresponse", "sync":
		typ = event.InvokeRequestResponse
	case "event", "async":
		typ = event.InvokeEvent
	default:
		writeNativeError(w, http.StatusBadRequest, "InvalidParameter", fmt.Sprintf("type %q is not Event or RequestResponse", typ))
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, nativeapi.MaxSyncPayload+1))
	if err != nil {
		writeNativeError(w, http.StatusBadRequest, "InvalidRequest", "read payload: "+err.Error())
		return
	}
	ev, err := s.engine.Invoke(r.Context(), localemu.InvokeRequest{Function: r.PathValue("name"), Payload: payload, Type: typ,
		Qualifier: q.Get("qualifier"), DurableName: q.Get("durableName")})
	if err != nil {
		fail(w, err)
		return
	}
	status := http.StatusOK
	if typ == event.InvokeEvent {
		status = http.StatusAccepted
	}
	front.WriteJSON(w, status, eventInfo(ev, false))
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

func (s *Front) listEvents(w http.ResponseWriter, r *http.Request) {
	fn := r.PathValue("name")
	q, err := parseEventQuery(r, fn)
	if err != nil {
		fail(w, err)
		return
	}
	if q.Limit == 0 {
		q.Limit = 100
	}
	evs, total, err := s.engine.Events(r.Context(), q)
	if err != nil {
		fail(w, err)
		return
	}
	out := make([]nativeapi.EventInfo, 0, len(evs))
	for _, ev := range evs {
		out = append(out, eventInfo(ev, false))
	}
	front.WriteJSON(w, http.StatusOK, nativeapi.EventPage{Events: out, Total: total})
}

func (s *Front) getEvent(w http.ResponseWriter, r *http.Request) {
	ev, err := s.engine.Event(r.Context(), r.PathValue("name"), r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	info := eventInfo(ev, true)
	attempts, err := s.engine.Attempts(r.Context(), ev.RequestID)
	if err != nil {
		fail(w, err)
		return
	}
	for _, a := range attempts {
		info.AttemptList = append(info.AttemptList, nativeapi.AttemptInfo{N: a.N, Status: a.Status, StartedAt: a.StartedAt, EndedAt: timePtr(a.EndedAt),
			DurationMs: a.DurationMs, MaxMemoryMB: a.MaxMemoryMB, ErrorType: a.ErrorType, ErrorMessage: a.ErrorMessage})
	}
	front.WriteJSON(w, http.StatusOK, info)
}

func (s *Front) terminate(w http.ResponseWriter, r *http.Request) {
	var grace time.Duration
	if g := r.URL.Query().Get("grace"); g != "" {
		d, err := time.ParseDuration(g)
		if err != nil || d < 0 {
			writeNativeError(w, http.StatusBadRequest, "InvalidParameter", fmt.Sprintf("grace %q is not a duration such as 10s", g))
			return
		}
		grace = d
	}
	ev, err := s.engine.Terminate(r.Context(), r.PathValue("name"), r.PathValue("id"), grace)
	if err != nil {
		fail(w, err)
		return
	}
	front.WriteJSON(w, http.StatusOK, eventInfo(ev, false))
}

func (s *Front) stats(w http.ResponseWriter, r *http.Request) {
	fn := r.PathValue("name")
	q, err := parseEventQuery(r, fn)
	if err != nil {
		fail(w, err)
		return
	}
	st, err := s.engine.Stats(r.Context(), q)
	if err != nil {
		fail(w, err)
		return
	}
	front.WriteJSON(w, http.StatusOK, nativeapi.StatsInfo{Function: fn, Total: st.Total, ByStatus: st.ByStatus, P50Ms: st.P50Ms, P95Ms: st.P95Ms, MaxMs: st.MaxMs})
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

func (s *Front) logs(w http.ResponseWriter, r *http.Request) {
	f, after, limit, err := parseLogFilter(r)
	if err != nil {
		fail(w, err)
		return
	}
	q := f.Query(after, limit)
	q.Desc = r.URL.Query().Get("order") == "desc"
	var lines []store.LogLine
	if len(f.Functions) > 1 {
		// The store filters by one function; filter the rest here.
		q.Limit = 0
		all, err := s.engine.Logs(r.Context(), q)
		if err != nil {
			fail(w, err)
			return
		}
		for i := range all {
			if f.Match(&all[i]) {
				lines = append(lines, all[i])
				if len(lines) == limit {
					break
				}
			}
		}
	} else if lines, err = s.engine.Logs(r.Context(), q); err != nil {
		fail(w, err)
		return
	}
	out := make([]nativeapi.LogLineInfo, 0, len(lines))
	cursor := strconv.FormatInt(after, 10)
	for _, l := range lines {
		out = append(out, logLineInfo(l))
		cursor = strconv.FormatInt(l.Seq, 10)
	}
	front.WriteJSON(w, http.StatusOK, nativeapi.LogPage{Lines: out, Cursor: cursor})
}

// logStream serves a live tail as Server-Sent Events: each line is an
// event whose id is its cursor, so a client reconnecting with Last-Event-ID
// continues without gaps or duplicates.
func (s *Front) logStream(w http.ResponseWriter, r *http.Request) {
	f, after, _, err := parseLogFilter(r)
	if err != nil {
		fail(w, err)
		return
	}
	if r.URL.Query().Get("after") == "" && r.Header.Get("Last-Event-ID") == "" && r.URL.Query().Get("from") == "now" {
		after = -1
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeNativeError(w, http.StatusInternalServerError, "InternalError", "streaming is not supported by this connection")
		return
	}
	sub := s.engine.SubscribeLogs(f, after)
	defer sub.Close()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, ": asyncfn log stream after %d\n\n", sub.Cursor())
	flusher.Flush()
	ctx := r.Context()
	for {
		wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		lines, err := sub.Next(wctx, 512)
		cancel()
		switch {
		case err == nil:
		case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
				return
			}
			flusher.Flush()
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
		flusher.Flush()
	}
}
