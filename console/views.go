package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/nativeapi"
)

// pageData is what every page's template gets.
type pageData struct {
	Title   string
	Service string
	Prefix  string
	View    string // functions, events, stats, event, error: the script's cue
	Token   string
	PollMs  int64
	API     string // the JSON the page polls, if any
	LogURL  string // the event's log stream, on the event page
	Message string // the error page's
	Notice  string // what an action did

	Fn        *Function
	FnURL     string
	StatsURL  string
	Functions []functionRow
	Events    *eventsView
	Stats     *statsView
	Event     *eventView
}

// timeLayout is how the console writes times: UTC, to the second.
const timeLayout = "2006-01-02 15:04:05"

var funcs = template.FuncMap{
	"statuses": func() []event.Status { return event.All },
	"lower":    func(s event.Status) string { return strings.ToLower(string(s)) },
}

// page adapts a page handler: it resolves the source, starts the session,
// and renders the template the handler names.
func (c *Console) page(h func(r *http.Request, src Source, d *pageData) (string, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		src, err := c.opts.Source(r)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		d := &pageData{Service: c.opts.Title, Prefix: c.opts.Prefix, Token: c.token(c.session(w, r)), PollMs: c.opts.PollInterval.Milliseconds()}
		name, err := h(r, src, d)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		d.View = name
		c.render(w, http.StatusOK, name, d, "")
	}
}

// render executes a page into a buffer first, so that a template error is
// an error page and not half a page.
func (c *Console) render(w http.ResponseWriter, status int, name string, d *pageData, prefix string) {
	if d.Prefix == "" {
		d.Prefix, d.Service = prefix, c.opts.Title
	}
	if d.View == "" {
		d.View = name
	}
	var b bytes.Buffer
	if err := c.pages[name].Execute(&b, d); err != nil {
		c.opts.Logger.Error("console template", "page", name, "error", err)
		http.Error(w, "the console could not render this page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// api adapts a JSON handler for the page scripts.
func (c *Console) api(h func(r *http.Request, src Source) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		src, err := c.opts.Source(r)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		v, err := h(r, src)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// maxActionBody bounds the body of an action: an invoke's form-encoded
// payload of at most Lambda's 1 MB async limit (SCF's is 128 KB), which
// percent-encoding may triple.
const maxActionBody = 3*nativeapi.MaxLambdaAsyncPayload + 64<<10

// action adapts a state-changing handler: no body is read before the
// request shows a session cookie, none past maxActionBody, and nothing is
// done without the session's token.
func (c *Console) action(h func(w http.ResponseWriter, r *http.Request, src Source) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ck, err := r.Cookie(sessionCookie); err != nil || !validSessionID(ck.Value) {
			c.fail(w, r, errForbidden)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxActionBody)
		if err := r.ParseForm(); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				c.fail(w, r, &httpError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("the request is larger than %d bytes", maxActionBody)})
				return
			}
			c.fail(w, r, &httpError{status: http.StatusBadRequest, msg: "the form does not parse: " + err.Error()})
			return
		}
		if !c.checkToken(r) {
			c.fail(w, r, errForbidden)
			return
		}
		src, err := c.opts.Source(r)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		if err := h(w, r, src); err != nil {
			c.fail(w, r, err)
		}
	}
}

// URLs of the console's pages.
func (c *Console) fnURL(fn string) string    { return c.opts.Prefix + "f/" + url.PathEscape(fn) }
func (c *Console) statsURL(fn string) string { return c.fnURL(fn) + "/stats" }
func (c *Console) eventURL(fn, id string) string {
	return c.fnURL(fn) + "/e/" + url.PathEscape(id)
}
func (c *Console) apiURL(path string) string {
	return c.opts.Prefix + "api/" + strings.TrimPrefix(path, c.opts.Prefix)
}

// function finds the function a request names among the source's.
func (c *Console) function(ctx context.Context, src Source, name string) (*Function, error) {
	fns, err := src.Functions(ctx)
	if err != nil {
		return nil, err
	}
	for i := range fns {
		if fns[i].Name == name {
			return &fns[i], nil
		}
	}
	return nil, &httpError{status: http.StatusNotFound, msg: fmt.Sprintf("function %q is not one the console shows", name)}
}

// withFunction fills the page's function fields.
func (c *Console) withFunction(r *http.Request, src Source, d *pageData) (*Function, error) {
	fn, err := c.function(r.Context(), src, r.PathValue("fn"))
	if err != nil {
		return nil, err
	}
	d.Fn, d.FnURL, d.StatsURL = fn, c.fnURL(fn.Name), c.statsURL(fn.Name)
	return fn, nil
}

// Functions view.

// overviewWindow is the period whose counts the functions view shows.
const overviewWindow = 24 * time.Hour

type functionRow struct {
	Function
	URL      string
	Settings []setting
	Counts   []statusCount
	Total    int
	Err      string
}

type setting struct{ Name, Value string }

type statusCount struct {
	Status event.Status `json:"status"`
	N      int          `json:"n"`
}

// settings are a function's async settings as the console lists them.
func settings(cfg nativeapi.FunctionConfig) []setting {
	var out []setting
	if cfg.Runtime != "" {
		out = append(out, setting{"Runtime", cfg.Runtime})
	}
	if cfg.MemorySize > 0 {
		out = append(out, setting{"Memory", fmt.Sprintf("%d MB", cfg.MemorySize)})
	}
	if cfg.Timeout > 0 {
		out = append(out, setting{"Timeout", (time.Duration(cfg.Timeout) * time.Second).String()})
	}
	if cfg.Provider == "tencent" {
		out = append(out, setting{"Async mode", onOff(cfg.Async.Enabled)}, setting{"Event tracking", onOff(cfg.Async.Trace)})
	}
	out = append(out, setting{"Retries", strconv.Itoa(cfg.RetryAttempts())}, setting{"Max event age", cfg.MaxEventAge().String()})
	if cfg.ReservedConcurrency != nil {
		out = append(out, setting{"Reserved concurrency", strconv.Itoa(*cfg.ReservedConcurrency)})
	}
	if cfg.Async.OnSuccess != "" {
		out = append(out, setting{"On success", cfg.Async.OnSuccess})
	}
	if cfg.Async.OnFailure != "" {
		out = append(out, setting{"On failure", cfg.Async.OnFailure})
	}
	if du := cfg.Async.Durable; du != nil {
		out = append(out, setting{"Durable execution", fmt.Sprintf("timeout %s, kept %d days", time.Duration(du.ExecutionTimeout)*time.Second, du.RetentionPeriodInDays)})
	}
	return out
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// counts lists the count of every status, in lifecycle order.
func counts(by map[event.Status]int) []statusCount {
	out := make([]statusCount, len(event.All))
	for i, s := range event.All {
		out[i] = statusCount{s, by[s]}
	}
	return out
}

// functionRows are the functions with their counts over overviewWindow.
func (c *Console) functionRows(ctx context.Context, src Source) ([]functionRow, error) {
	fns, err := src.Functions(ctx)
	if err != nil {
		return nil, err
	}
	since := c.opts.Now().Add(-overviewWindow)
	rows := []functionRow{}
	for _, fn := range fns {
		row := functionRow{Function: fn, URL: c.fnURL(fn.Name), Settings: settings(fn.Config)}
		st, err := src.Provider().Stats(ctx, fn.Name, adapters.EventQuery{Since: since})
		if err != nil {
			row.Err = err.Error()
		} else {
			row.Counts, row.Total = counts(st.ByStatus), st.Total
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func (c *Console) functions(r *http.Request, src Source, d *pageData) (string, error) {
	rows, err := c.functionRows(r.Context(), src)
	if err != nil {
		return "", err
	}
	d.Title, d.Functions = "Functions", rows
	d.API = c.opts.Prefix + "api/functions"
	return "functions", nil
}

// apiFunctions is the functions view's counts, for its script.
func (c *Console) apiFunctions(r *http.Request, src Source) (any, error) {
	rows, err := c.functionRows(r.Context(), src)
	if err != nil {
		return nil, err
	}
	type fnCounts struct {
		Name   string        `json:"name"`
		Total  int           `json:"total"`
		Counts []statusCount `json:"counts"`
		Error  string        `json:"error,omitempty"`
	}
	out := struct {
		Functions []fnCounts `json:"functions"`
	}{Functions: []fnCounts{}}
	for _, row := range rows {
		out.Functions = append(out.Functions, fnCounts{row.Name, row.Total, row.Counts, row.Err})
	}
	return out, nil
}

// Events view.

const pageSize = 25

// eventRow is one event as the lists show it (and the script redraws it).
type eventRow struct {
	RequestID string       `json:"requestId"`
	URL       string       `json:"url"`
	Status    event.Status `json:"status"`
	Attempts  int          `json:"attempts"`
	Created   string       `json:"created"`
	Duration  string       `json:"duration"`
	Error     string       `json:"error"`
}

func (c *Console) rowOf(fn string, ev adapters.Event) eventRow {
	msg := ev.ErrorMessage
	if ev.ErrorType != "" {
		msg = ev.ErrorType + ": " + msg
	}
	return eventRow{RequestID: ev.RequestID, URL: c.eventURL(fn, ev.RequestID), Status: ev.Status, Attempts: ev.Attempts,
		Created: ev.CreatedAt.UTC().Format(timeLayout), Duration: c.duration(ev), Error: oneLine(msg, 120)}
}

// duration is an event's duration as the CLI's events list shows it: the
// time so far with a "+" while it runs, "-" before it started.
func (c *Console) duration(ev adapters.Event) string {
	switch {
	case ev.Status == event.Running && ev.StartedAt != nil:
		return c.opts.Now().Sub(*ev.StartedAt).Round(time.Second).String() + "+"
	case ev.StartedAt == nil && ev.DurationMs == 0:
		return "-"
	}
	return (time.Duration(ev.DurationMs) * time.Millisecond).String()
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// eventsView is the events page: its filter, a page of rows, paging links.
type eventsView struct {
	Filter   filter         `json:"-"`
	Rows     []eventRow     `json:"rows"`
	Total    int            `json:"total"`
	First    int            `json:"first"` // 1-based rank of the first row shown
	Last     int            `json:"last"`
	PrevURL  string         `json:"-"`
	NextURL  string         `json:"-"`
	Statuses []statusChoice `json:"-"`
}

type statusChoice struct {
	Status  event.Status
	Checked bool
}

// filter is the events view's query: statuses, a creation window, a page.
type filter struct {
	Statuses []event.Status
	Last     string // a preset window: 15m, 1h, 24h, 7d, or "" for all time
	From, To string // datetime-local inputs, UTC
	Page     int    // 1-based
	since    time.Time
	until    time.Time
}

// windows are the preset periods the filters offer.
var windows = []struct{ Value, Label string }{
	{"", "all time"}, {"15m", "last 15 minutes"}, {"1h", "last hour"}, {"24h", "last 24 hours"}, {"7d", "last 7 days"},
}

const inputTimeLayout = "2006-01-02T15:04"

// parseFilter reads the events and stats views' query, naming the field of
// any bad value.
func parseFilter(q url.Values, now time.Time) (filter, error) {
	var f filter
	for _, s := range q["status"] {
		st, ok := event.Parse(s)
		if !ok {
			return f, &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf("status %q: use one of %v", s, event.All)}
		}
		f.Statuses = append(f.Statuses, st)
	}
	f.Last = q.Get("last")
	switch f.Last {
	case "":
	case "7d":
		f.since = now.Add(-7 * 24 * time.Hour)
	default:
		d, err := time.ParseDuration(f.Last)
		if err != nil || d <= 0 {
			return f, &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf("last %q: use one of 15m, 1h, 24h, 7d", f.Last)}
		}
		f.since = now.Add(-d)
	}
	for _, in := range []struct {
		name string
		dst  *string
		t    *time.Time
	}{{"from", &f.From, &f.since}, {"to", &f.To, &f.until}} {
		v := q.Get(in.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(inputTimeLayout, v)
		if err != nil {
			return f, &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf("%s %q: use a UTC time such as 2026-01-31T14:05", in.name, v)}
		}
		*in.dst = v
		if in.name == "to" {
			t = t.Add(time.Minute) // to the end of that minute
		}
		if in.name == "to" || in.t.IsZero() || t.After(*in.t) {
			*in.t = t
		}
	}
	f.Page = 1
	if p := q.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return f, &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf("page %q: use a page number from 1", p)}
		}
		f.Page = n
	}
	return f, nil
}

// query is the filter's values, with page set to page (0: none).
func (f filter) query(page int) url.Values {
	v := url.Values{}
	for _, s := range f.Statuses {
		v.Add("status", string(s))
	}
	for k, s := range map[string]string{"last": f.Last, "from": f.From, "to": f.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return v
}

func withQuery(u string, v url.Values) string {
	if len(v) == 0 {
		return u
	}
	return u + "?" + v.Encode()
}

// listEvents reads the page of events a filter asks for.
func (c *Console) listEvents(ctx context.Context, p adapters.Provider, fn string, f filter) (*eventsView, error) {
	page, err := p.Events(ctx, fn, adapters.EventQuery{Statuses: f.Statuses, Since: f.since, Until: f.until, Desc: true,
		Offset: (f.Page - 1) * pageSize, Limit: pageSize})
	if err != nil {
		return nil, err
	}
	v := &eventsView{Filter: f, Total: page.Total, Rows: []eventRow{}}
	for _, ev := range page.Events {
		v.Rows = append(v.Rows, c.rowOf(fn, ev))
	}
	if len(v.Rows) > 0 {
		v.First = (f.Page-1)*pageSize + 1
		v.Last = v.First + len(v.Rows) - 1
	}
	if f.Page > 1 {
		v.PrevURL = withQuery(c.fnURL(fn), f.query(f.Page-1))
	}
	if f.Page*pageSize < page.Total {
		v.NextURL = withQuery(c.fnURL(fn), f.query(f.Page+1))
	}
	for _, s := range event.All {
		checked := false
		for _, t := range f.Statuses {
			checked = checked || s == t
		}
		v.Statuses = append(v.Statuses, statusChoice{s, checked})
	}
	return v, nil
}

func (c *Console) events(r *http.Request, src Source, d *pageData) (string, error) {
	fn, err := c.withFunction(r, src, d)
	if err != nil {
		return "", err
	}
	f, err := parseFilter(r.URL.Query(), c.opts.Now())
	if err != nil {
		return "", err
	}
	if d.Events, err = c.listEvents(r.Context(), src.Provider(), fn.Name, f); err != nil {
		return "", err
	}
	d.Title = fn.Name + ": events"
	d.API = withQuery(c.apiURL(c.fnURL(fn.Name))+"/events", f.query(f.Page))
	return "events", nil
}

func (c *Console) apiEvents(r *http.Request, src Source) (any, error) {
	fn, err := c.function(r.Context(), src, r.PathValue("fn"))
	if err != nil {
		return nil, err
	}
	f, err := parseFilter(r.URL.Query(), c.opts.Now())
	if err != nil {
		return nil, err
	}
	return c.listEvents(r.Context(), src.Provider(), fn.Name, f)
}

// Event view.

// eventView is one event: what every provider reports, and what only some
// do (the emulator: the payload and each attempt).
type eventView struct {
	eventRow
	Function    string         `json:"function"`
	Qualifier   string         `json:"qualifier"`
	InvokeType  string         `json:"invokeType"`
	Terminal    bool           `json:"terminal"`
	Timeline    []timelineItem `json:"timeline"`
	AttemptList []attemptRow   `json:"attemptList"`
	HasDetail   bool           `json:"hasDetail"` // the provider reports payload and attempts
	Payload     string         `json:"payload"`
	Result      string         `json:"result"`
	ErrorType   string         `json:"errorType"`
	ErrorMsg    string         `json:"errorMessage"`
	MaxMemory   string         `json:"maxMemory"`
}

type timelineItem struct {
	Time string `json:"time"`
	What string `json:"what"`
}

type attemptRow struct {
	N        int          `json:"n"`
	Status   event.Status `json:"status"`
	Started  string       `json:"started"`
	Duration string       `json:"duration"`
	Error    string       `json:"error"`
}

// detailer is a provider that reports an event's payload and attempts (the
// emulator's adapter).
type detailer interface {
	EventInfo(ctx context.Context, fn, requestID string) (nativeapi.EventInfo, error)
}

func (c *Console) loadEvent(ctx context.Context, p adapters.Provider, fn, id string) (*eventView, error) {
	ev, err := p.Event(ctx, fn, id)
	if err != nil {
		return nil, err
	}
	v := &eventView{eventRow: c.rowOf(fn, ev), Function: ev.Function, Qualifier: ev.Qualifier, InvokeType: ev.InvokeType,
		Terminal: ev.Status.Terminal(), Result: adapters.ResultString(ev.Result, ev.ResultText), ErrorType: ev.ErrorType, ErrorMsg: ev.ErrorMessage,
		Timeline: []timelineItem{}, AttemptList: []attemptRow{}}
	if ev.MaxMemoryMB > 0 {
		v.MaxMemory = fmt.Sprintf("%d MB", ev.MaxMemoryMB)
	}
	if len(v.Result) > 0 && json.Valid([]byte(v.Result)) {
		v.Result = indent([]byte(v.Result))
	}
	at := func(t time.Time) string { return t.UTC().Format(timeLayout + ".000") }
	v.Timeline = append(v.Timeline, timelineItem{at(ev.CreatedAt), "accepted: " + string(event.Queued)})
	var attempts []nativeapi.AttemptInfo
	if d, ok := p.(detailer); ok {
		info, err := d.EventInfo(ctx, fn, id)
		if err != nil {
			return nil, err
		}
		v.HasDetail, attempts = true, info.AttemptList
		if len(info.Payload) > 0 {
			v.Payload = indent(info.Payload)
		}
	}
	for _, a := range attempts {
		row := attemptRow{N: a.N, Status: a.Status, Started: at(a.StartedAt), Duration: "-"}
		v.Timeline = append(v.Timeline, timelineItem{at(a.StartedAt), fmt.Sprintf("attempt %d started: %s", a.N, event.Running)})
		if a.EndedAt != nil {
			row.Duration = (time.Duration(a.DurationMs) * time.Millisecond).String()
			v.Timeline = append(v.Timeline, timelineItem{at(*a.EndedAt), fmt.Sprintf("attempt %d ended: %s", a.N, a.Status)})
		}
		if a.ErrorType != "" || a.ErrorMessage != "" {
			row.Error = strings.TrimPrefix(a.ErrorType+": "+a.ErrorMessage, ": ")
		}
		v.AttemptList = append(v.AttemptList, row)
	}
	if len(attempts) == 0 && ev.StartedAt != nil {
		v.Timeline = append(v.Timeline, timelineItem{at(*ev.StartedAt), "started: " + string(event.Running)})
	}
	if ev.EndedAt != nil && ev.Status.Terminal() {
		v.Timeline = append(v.Timeline, timelineItem{at(*ev.EndedAt), "ended: " + string(ev.Status)})
	}
	return v, nil
}

// indent pretty-prints JSON, or returns it as it is.
func indent(b []byte) string {
	var out bytes.Buffer
	if json.Indent(&out, b, "", "  ") != nil {
		return string(b)
	}
	return out.String()
}

func (c *Console) event(r *http.Request, src Source, d *pageData) (string, error) {
	fn, err := c.withFunction(r, src, d)
	if err != nil {
		return "", err
	}
	id := r.PathValue("id")
	d.Title = fn.Name + ": event " + id
	switch {
	case r.URL.Query().Has("invoked"):
		d.Notice = "Invoked asynchronously. RequestId: " + id
	case r.URL.Query().Has("terminated"):
		d.Notice = "Terminate was requested."
	}
	if d.Event, err = c.loadEvent(r.Context(), src.Provider(), fn.Name, id); err != nil {
		if !errors.Is(err, adapters.ErrNotFound) || !r.URL.Query().Has("invoked") {
			return "", err
		}
		// Just accepted, and not listed yet (a cloud lists its events a
		// moment later): the page shows it as accepted and updates.
		d.Event = &eventView{eventRow: eventRow{RequestID: id, Status: event.Queued, Duration: "-"}, Function: fn.Name,
			InvokeType: event.InvokeEvent, Timeline: []timelineItem{{"", "accepted: " + string(event.Queued)}}}
	}
	d.API = c.apiURL(c.eventURL(fn.Name, id))
	d.LogURL = d.API + "/log"
	return "event", nil
}

func (c *Console) apiEvent(r *http.Request, src Source) (any, error) {
	fn, err := c.function(r.Context(), src, r.PathValue("fn"))
	if err != nil {
		return nil, err
	}
	return c.loadEvent(r.Context(), src.Provider(), fn.Name, r.PathValue("id"))
}

// Actions.

// maxGrace bounds terminate's grace period: SCF's async mode runs an event
// for at most 24 hours (nativeapi.MaxAsyncTimeout).
const maxGrace = nativeapi.MaxAsyncTimeout * time.Second

func (c *Console) invoke(w http.ResponseWriter, r *http.Request, src Source) error {
	fn, err := c.function(r.Context(), src, r.PathValue("fn"))
	if err != nil {
		return err
	}
	payload := strings.TrimSpace(r.PostFormValue("payload"))
	if payload == "" {
		payload = "{}"
	}
	if !json.Valid([]byte(payload)) {
		var v any
		err := json.Unmarshal([]byte(payload), &v)
		return &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf("payload: not JSON: %v", err)}
	}
	inv, err := src.Provider().Invoke(r.Context(), fn.Name, []byte(payload), adapters.InvokeOptions{Async: true})
	if err != nil {
		return fmt.Errorf("invoke %s: %w", fn.Name, err)
	}
	http.Redirect(w, r, c.eventURL(fn.Name, inv.RequestID)+"?invoked=1", http.StatusSeeOther)
	return nil
}

func (c *Console) terminate(w http.ResponseWriter, r *http.Request, src Source) error {
	fn, err := c.function(r.Context(), src, r.PathValue("fn"))
	if err != nil {
		return err
	}
	var grace time.Duration
	if g := strings.TrimSpace(r.PostFormValue("grace")); g != "" {
		n, err := strconv.Atoi(g)
		if err != nil || n < 0 || time.Duration(n)*time.Second > maxGrace {
			return &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf("grace %q: use whole seconds from 0 to %d", g, int(maxGrace.Seconds()))}
		}
		grace = time.Duration(n) * time.Second
	}
	id := r.PathValue("id")
	if err := src.Provider().Terminate(r.Context(), fn.Name, id, grace); err != nil {
		return fmt.Errorf("terminate %s of %s: %w", id, fn.Name, err)
	}
	http.Redirect(w, r, c.eventURL(fn.Name, id)+"?terminated=1", http.StatusSeeOther)
	return nil
}
