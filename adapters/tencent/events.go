package tencent

import (
	"context"
	"fmt"
	"strings"
	"time"

	scf "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/scf/v20180416"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/event"
)

// SCF writes times as "%Y-%m-%d %H:%M:%S[.%f]" in China Standard Time.
const (
	timeLayout = "2006-01-02 15:04:05"
)

func scfZone() *time.Location { return time.FixedZone("CST", 8*3600) }

func parseTime(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05.999999999", strings.TrimSpace(v), scfZone())
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

func formatTime(t time.Time) string { return t.In(scfZone()).Format(timeLayout) }

// statusOf maps SCF's AsyncEvent.Status. SCF has one RUNNING for queued and
// running events and one FAILED for failures and timeouts, so QUEUED and
// TIMED_OUT are never reported.
func statusOf(scfStatus string) event.Status {
	switch strings.ToUpper(scfStatus) {
	case "RUNNING":
		return event.Running
	case "FINISHED":
		return event.Succeeded
	case "FAILED":
		return event.Failed
	case "ABORTED":
		return event.Terminated
	}
	return event.Status(scfStatus)
}

// scfStatuses maps a status filter onto SCF's; QUEUED selects RUNNING and
// TIMED_OUT selects FAILED, the SCF statuses that include them.
func scfStatuses(sts []event.Status) []*string {
	seen := map[string]bool{}
	var out []*string
	for _, st := range sts {
		v := st.SCF()
		if !seen[v] {
			seen[v] = true
			out = append(out, ptr(v))
		}
	}
	return out
}

// listRequest builds ListAsyncEvents for q. Time bounds have second
// precision on SCF: Since is rounded down and Until up.
func listRequest(fn string, q adapters.EventQuery) *scf.ListAsyncEventsRequest {
	req := scf.NewListAsyncEventsRequest()
	req.FunctionName, req.Namespace = ptr(fn), ptr(namespace)
	req.Status = scfStatuses(q.Statuses)
	if !q.Since.IsZero() || !q.Until.IsZero() {
		// SCF takes a TimeInterval only with both bounds
		// (InvalidParameterValue.StartTimeOrEndTime): an open side is the
		// epoch, or a minute from now.
		since, until := q.Since, q.Until
		if since.IsZero() {
			since = time.Unix(0, 0)
		}
		if until.IsZero() {
			until = time.Now().Add(time.Minute)
		}
		end := until.Truncate(time.Second)
		if !end.Equal(until) {
			end = end.Add(time.Second)
		}
		req.StartTimeInterval = &scf.TimeInterval{Start: ptr(formatTime(since.Truncate(time.Second))), End: ptr(formatTime(end))}
	}
	req.Order, req.Orderby = ptr("ASC"), ptr("StartTime")
	if q.Desc {
		req.Order = ptr("DESC")
	}
	return req
}

func (p *Provider) listPage(ctx context.Context, req *scf.ListAsyncEventsRequest, offset, limit int) ([]*scf.AsyncEvent, int, error) {
	req.Offset, req.Limit = ptr(int64(offset)), ptr(int64(limit))
	var resp *scf.ListAsyncEventsResponse
	if err := p.call(ctx, "ListAsyncEvents", func(c *scf.Client) (err error) {
		resp, err = c.ListAsyncEvents(req)
		return err
	}); err != nil {
		return nil, 0, err
	}
	if resp.Response == nil {
		return nil, 0, fmt.Errorf("tencent: ListAsyncEvents: empty answer")
	}
	total := 0
	if resp.Response.TotalCount != nil {
		total = int(*resp.Response.TotalCount)
	}
	return resp.Response.EventList, total, nil
}

func toEvent(fn string, a *scf.AsyncEvent) adapters.Event {
	ev := adapters.Event{RequestID: s(a.InvokeRequestId), Function: fn, Qualifier: s(a.Qualifier), InvokeType: s(a.InvokeType), Status: statusOf(s(a.Status))}
	if start, ok := parseTime(s(a.StartTime)); ok {
		ev.CreatedAt = start
		ev.StartedAt = &start
	}
	if end, ok := parseTime(s(a.EndTime)); ok {
		ev.EndedAt = &end
	}
	// No duration here: EndTime − StartTime would count the time in queue,
	// every attempt and the backoff between them. The duration is the last
	// execution's, from GetFunctionLogs (applyExecutions).
	return ev
}

// applyExecutions completes ev with its executions (GetFunctionLogs keeps
// one entry per attempt): the number of attempts, and the duration and peak
// memory of the last one once it has finished — the event's duration, as
// package event defines it. It returns the last execution, nil if none.
func applyExecutions(ev *adapters.Event, entries []*logEntry) *logEntry {
	var last *logEntry
	for _, e := range entries {
		if n := int(e.retryNum) + 1; n > ev.Attempts {
			ev.Attempts = n
		}
		if last == nil || e.retryNum >= last.retryNum {
			last = e
		}
	}
	if last != nil && last.finished {
		ev.DurationMs = int64(last.duration)
		ev.MaxMemoryMB = int(last.memUsage >> 20)
	}
	return last
}

// withExecutions applies to each listed event what GetFunctionLogs tells of
// its executions, so that events list reports the attempts and duration
// events get does. The entries are read once for all events, over the time
// from the first event's creation to the last one's end (now while any is
// running), in the one-day windows the API allows; SCF returns at most
// logMaxEntries entries per window, and an event whose entries lie beyond
// that keeps no attempt count or duration.
func (p *Provider) withExecutions(ctx context.Context, fn string, evs []adapters.Event) error {
	if len(evs) == 0 {
		return nil
	}
	now := time.Now()
	from, to := evs[0].CreatedAt, evs[0].CreatedAt
	for _, ev := range evs {
		end := now
		if ev.EndedAt != nil {
			end = *ev.EndedAt
		}
		if ev.CreatedAt.Before(from) {
			from = ev.CreatedAt
		}
		if end.After(to) {
			to = end
		}
	}
	// SCF's times have second precision: widen the window to whole seconds.
	from, to = from.Truncate(time.Second), to.Truncate(time.Second).Add(time.Second)
	type key struct {
		id    string
		retry uint64
	}
	seen := map[key]bool{}
	byID := map[string][]*logEntry{}
	for start := from; start.Before(to); {
		end := start.Add(logWindow)
		if end.After(to) {
			end = to
		}
		entries, err := p.fetchLogs(ctx, fn, "", start, end)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if k := (key{e.requestID, e.retryNum}); !seen[k] { // windows share their boundary second
				seen[k] = true
				byID[e.requestID] = append(byID[e.requestID], e)
			}
		}
		start = end
	}
	for i := range evs {
		applyExecutions(&evs[i], byID[evs[i].RequestID])
	}
	return nil
}

// Events lists events with ListAsyncEvents, paging by 100 up to q.Limit
// (all of them when q.Limit is 0), completed with their executions
// (withExecutions): attempts, and the duration of the last one.
func (p *Provider) Events(ctx context.Context, fn string, q adapters.EventQuery) (adapters.EventPage, error) {
	req := listRequest(fn, q)
	page := adapters.EventPage{Events: []adapters.Event{}}
	offset := q.Offset
	for {
		limit := pageLimit
		if q.Limit > 0 {
			limit = min(pageLimit, q.Limit-len(page.Events))
		}
		list, total, err := p.listPage(ctx, req, offset, limit)
		if err != nil {
			return adapters.EventPage{}, err
		}
		page.Total = total
		for _, a := range list {
			page.Events = append(page.Events, toEvent(fn, a))
		}
		offset += len(list)
		if len(list) < limit || offset >= total || (q.Limit > 0 && len(page.Events) >= q.Limit) {
			if err := p.withExecutions(ctx, fn, page.Events); err != nil {
				return adapters.EventPage{}, err
			}
			return page, nil
		}
	}
}

// Event combines GetAsyncEventStatus (the status), ListAsyncEvents by
// InvokeRequestId (the times, and that the event is fn's) and
// GetFunctionLogs (attempts, duration, memory, result or error: SCF keeps
// one log entry per execution).
func (p *Provider) Event(ctx context.Context, fn, requestID string) (adapters.Event, error) {
	sreq := &getAsyncEventStatusRequest{BaseRequest: newRequest("GetAsyncEventStatus"), InvokeRequestId: ptr(requestID)}
	sresp := &getAsyncEventStatusResponse{}
	if err := p.send(ctx, sreq, sresp); err != nil {
		return adapters.Event{}, err
	}
	req := listRequest(fn, adapters.EventQuery{})
	req.InvokeRequestId = ptr(requestID)
	list, _, err := p.listPage(ctx, req, 0, 1)
	if err != nil {
		return adapters.Event{}, err
	}
	if len(list) == 0 {
		return adapters.Event{}, fmt.Errorf("tencent: event %s of function %s: %w", requestID, fn, adapters.ErrNotFound)
	}
	// The list was read after the status, so it is the fresher of the two.
	ev := toEvent(fn, list[0])
	if ev.RequestID == "" {
		ev.RequestID = requestID
	}
	entries, err := p.logEntries(ctx, fn, requestID, ev.CreatedAt)
	if err != nil {
		return adapters.Event{}, err
	}
	if last := applyExecutions(&ev, entries); last != nil {
		if ev.Status.Terminal() && last.finished {
			if ev.Status == event.Succeeded {
				ev.Result, ev.ResultText = adapters.SplitResult([]byte(last.retMsg))
			} else {
				fe := functionError(last.retMsg)
				ev.ErrorType, ev.ErrorMessage = fe.Type, fe.Message
			}
		}
	}
	if ev.Status == event.Terminated && ev.ErrorType == "" {
		ev.ErrorType, ev.ErrorMessage = "Terminated", "terminated on request"
	}
	return ev, nil
}

// Terminate calls TerminateAsyncEvent; grace > 0 sets GraceShutdown (SIGTERM
// first). SCF takes no grace length: how long it waits after SIGTERM is the
// platform's, whatever grace says.
func (p *Provider) Terminate(ctx context.Context, fn, requestID string, grace time.Duration) error {
	req := &terminateAsyncEventRequest{BaseRequest: newRequest("TerminateAsyncEvent"), FunctionName: ptr(fn), InvokeRequestId: ptr(requestID), Namespace: ptr(namespace)}
	if grace > 0 {
		req.GraceShutdown = ptr(true)
	}
	return p.send(ctx, req, &emptyResponse{})
}

// Stats counts events per status over ListAsyncEvents pages (SCF has no
// stats API) and summarises the durations those events list with
// (adapters.StatsOf): the last execution's, from GetFunctionLogs.
func (p *Provider) Stats(ctx context.Context, fn string, q adapters.EventQuery) (adapters.Stats, error) {
	q.Offset, q.Limit = 0, 0
	page, err := p.Events(ctx, fn, q)
	if err != nil {
		return adapters.Stats{}, err
	}
	return adapters.StatsOf(fn, len(page.Events), page.Events), nil
}
