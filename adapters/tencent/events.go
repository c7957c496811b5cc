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
		iv := &scf.TimeInterval{}
		if !q.Since.IsZero() {
			iv.Start = ptr(formatTime(q.Since.Truncate(time.Second)))
		}
		if !q.Until.IsZero() {
			until := q.Until.Truncate(time.Second)
			if !until.Equal(q.Until) {
				until = until.Add(time.Second)
			}
			iv.End = ptr(formatTime(until))
		}
		req.StartTimeInterval = iv
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
		if ev.StartedAt != nil {
			ev.DurationMs = end.Sub(*ev.StartedAt).Milliseconds()
		}
	}
	return ev
}

// Events lists events with ListAsyncEvents, paging by 100 up to q.Limit
// (all of them when q.Limit is 0).
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
	for _, e := range entries {
		if n := int(e.retryNum) + 1; n > ev.Attempts {
			ev.Attempts = n
		}
	}
	if len(entries) > 0 {
		last := entries[len(entries)-1]
		if last.finished {
			ev.DurationMs = int64(last.duration)
			ev.MaxMemoryMB = int(last.memUsage >> 20)
		}
		if ev.Status.Terminal() && last.finished {
			if ev.Status == event.Succeeded {
				ev.Result = rawResult(last.retMsg)
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

// Stats counts events per status over ListAsyncEvents pages. Durations are
// EndTime - StartTime of finished events (time in queue included: SCF's
// event list has no execution start).
func (p *Provider) Stats(ctx context.Context, fn string, q adapters.EventQuery) (adapters.Stats, error) {
	q.Offset, q.Limit = 0, 0
	page, err := p.Events(ctx, fn, q)
	if err != nil {
		return adapters.Stats{}, err
	}
	st := adapters.Stats{Function: fn, ByStatus: map[event.Status]int{}}
	var durations []int64
	for _, ev := range page.Events {
		st.Total++
		st.ByStatus[ev.Status]++
		if ev.Status.Terminal() && ev.EndedAt != nil && ev.StartedAt != nil {
			durations = append(durations, ev.DurationMs)
		}
	}
	st.P50Ms, st.P95Ms, st.MaxMs = event.Summarize(durations)
	return st, nil
}
