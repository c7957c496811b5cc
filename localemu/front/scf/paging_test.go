package scf

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/emutest"
	"github.com/asyncfn/asyncfn/localemu/store"
)

// seededFront is the SCF front over an engine whose store was filled
// directly by fill (the engine closed meanwhile), with functions pg and
// other deployed: histories of thousands of attempts without running them.
func seededFront(t *testing.T, fill func(ctx context.Context, st *store.Store)) (*Front, *localemu.Engine) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	e := emutest.NewEngine(t, localemu.Options{StateDir: dir})
	zip := emutest.CodeZip(t)
	for _, name := range []string{"pg", "other", "big"} {
		if _, err := e.Deploy(ctx, localemu.FunctionConfig{Name: name, Provider: "tencent", Runtime: "Nodejs16.13", Handler: "index.ok",
			MemorySize: 128, Timeout: 60, Async: localemu.AsyncConfig{Enabled: true, Trace: true}}, zip); err != nil {
			t.Fatal(err)
		}
	}
	emutest.CloseEngine(t, e)
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	fill(ctx, st)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	e = emutest.NewEngine(t, localemu.Options{StateDir: dir})
	return New(e, nil, e.Logger()), e
}

// attemptCase is a way an attempt can end (or not): every outcome the
// engine records, with the error types each front tells apart.
type attemptCase struct {
	status  event.Status
	errType string
}

var attemptCases = []attemptCase{
	{event.Succeeded, ""},
	{event.Failed, "Error"},
	{event.Failed, ""},
	{event.Failed, "TypeError"},
	{event.Failed, localemu.ErrTypeOutOfMemory},
	{event.Failed, "Runtime.ExitError"},
	{event.Failed, "Runtime.StartError"},
	{event.Failed, localemu.ErrTypeEventAge},
	{event.Failed, localemu.ErrTypeFunctionRemoved},
	{event.Failed, localemu.ErrTypeRestarted},
	{event.Failed, localemu.ErrTypeStopped},
	{event.Failed, localemu.ErrTypeTerminated},
	{event.TimedOut, "Sandbox.Timedout"},
	{event.Terminated, localemu.ErrTypeTerminated},
	{event.Running, ""}, // still running: not finished
}

var fixtureT0 = time.Date(2024, 5, 1, 4, 0, 0, 0, time.UTC)

// fillHistory stores n events of pg (every 7th of other) with 0 to 3
// attempts each, their log lines, and ties: pairs of events created at the
// same instant whose attempts start at the same instant, durations and
// memory from a few values.
func fillHistory(t *testing.T, ctx context.Context, st *store.Store, n int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, 5))
	var seq int64
	var lines []store.LogLine
	for i := range n {
		fn := "pg"
		if i%7 == 0 {
			fn = "other"
		}
		created := fixtureT0.Add(time.Duration(i/2) * 20 * time.Second)
		exact := rng.IntN(3) == 0 // attempts start on whole seconds, tied with the pair's
		if !exact {
			created = created.Add(time.Duration(rng.IntN(1e9)))
		}
		ev := store.Event{RequestID: fmt.Sprintf("req-%04d", i), Function: fn, Version: 1, InvokeType: event.InvokeEvent,
			Payload: []byte(fmt.Sprintf(`{"i":%d}`, i)), CreatedAt: created, Status: event.Terminated, EndedAt: created}
		if rng.IntN(4) == 0 {
			ev.InvokeType = event.InvokeRequestResponse
		}
		k := rng.IntN(4) // attempts; 0: never ran
		var atts []store.Attempt
		for j := 1; j <= k; j++ {
			c := attemptCases[rng.IntN(len(attemptCases))]
			for j < k && (c.status == event.Succeeded || c.status == event.Running) {
				c = attemptCases[rng.IntN(len(attemptCases))] // only the last attempt succeeds or runs
			}
			a := store.Attempt{RequestID: ev.RequestID, N: j, StartedAt: created.Add(time.Duration(j) * 7 * time.Second), Status: c.status, ErrorType: c.errType}
			if !exact {
				a.StartedAt = a.StartedAt.Add(time.Duration(rng.IntN(1e6)))
			}
			if c.status != event.Running {
				a.DurationMs = []int64{0, 5, 5, 120, 3000}[rng.IntN(5)]
				a.MaxMemoryMB = []int{0, 32, 64, 64, 128}[rng.IntN(5)]
				a.EndedAt = a.StartedAt.Add(time.Duration(a.DurationMs) * time.Millisecond)
				if c.errType != "" {
					a.ErrorMessage = "attempt " + fmt.Sprint(j) + " of " + ev.RequestID
				}
			}
			if j == k && c.status == event.Failed && c.errType == localemu.ErrTypeRestarted && rng.IntN(2) == 0 {
				a.StartedAt = time.Time{} // recovered after a restart before it was recorded as started
			}
			atts = append(atts, a)
			if !a.StartedAt.IsZero() {
				for l := range 1 + rng.IntN(3) {
					seq++
					lines = append(lines, store.LogLine{Seq: seq, Function: fn, RequestID: ev.RequestID, Attempt: j, Time: a.StartedAt,
						Stream: "stdout", Text: fmt.Sprintf("%s attempt %d line %d", ev.RequestID, j, l)})
				}
			}
		}
		if k > 0 {
			last := atts[k-1]
			ev.Attempts, ev.StartedAt = k, atts[0].StartedAt
			ev.Status, ev.ErrorType, ev.ErrorMessage = last.Status, last.ErrorType, last.ErrorMessage
			ev.DurationMs, ev.MaxMemoryMB, ev.EndedAt = last.DurationMs, last.MaxMemoryMB, last.EndedAt
			switch last.Status {
			case event.Succeeded:
				ev.Result = []byte(fmt.Sprintf(`{"n":%d}`, i))
			case event.Running:
				ev.Status = event.Failed // not RUNNING: the engine would recover it on opening
			}
			if last.EndedAt.IsZero() {
				ev.EndedAt = time.Time{}
			}
		}
		if err := st.InsertEvent(ctx, &ev); err != nil {
			t.Fatal(err)
		}
		for _, a := range atts {
			if err := st.PutAttempt(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := st.AppendLogs(ctx, lines); err != nil {
		t.Fatal(err)
	}
}

// refFunctionLog is GetFunctionLogs' entry as the handler computed it when
// it loaded every event of the window, its attempts and its logs.
type refFunctionLog struct {
	functionLog
	start    time.Time
	attempt  int
	status   event.Status
	finished bool
}

// refData is everything stored about pg, read the slow way.
type refData struct {
	evs      []store.Event
	attempts map[string][]store.Attempt
	logs     map[logKey]string // the text of each attempt's lines
}

type logKey struct {
	id string
	n  int
}

func loadRef(t *testing.T, e *localemu.Engine, fn string) *refData {
	t.Helper()
	ctx := context.Background()
	evs, _, err := e.Events(ctx, store.EventQuery{Function: fn})
	if err != nil {
		t.Fatal(err)
	}
	d := &refData{evs: evs, attempts: map[string][]store.Attempt{}}
	for _, ev := range evs {
		if d.attempts[ev.RequestID], err = e.Attempts(ctx, ev.RequestID); err != nil {
			t.Fatal(err)
		}
	}
	lines, err := e.Logs(ctx, store.LogQuery{Function: fn})
	if err != nil {
		t.Fatal(err)
	}
	d.logs = map[logKey]string{}
	for _, l := range lines {
		d.logs[logKey{l.RequestID, l.Attempt}] += l.Text + "\n"
	}
	return d
}

func refRetCodeMatch(filter string, e *refFunctionLog) bool {
	switch filter {
	case "":
		return true
	case "is0":
		return e.finished && e.RetCode == 0
	case "not0":
		return e.finished && e.RetCode != 0
	case "TimeLimitExceeded":
		return e.finished && e.status == event.TimedOut
	case "ResourceLimitExceeded":
		return e.finished && e.RetCode == codeMemory
	case "UserCodeException":
		return e.finished && e.RetCode == codeUserError
	}
	return false
}

// functionLogs is the answer of GetFunctionLogs computed in memory, as the
// handler once did: every attempt of the window, filtered, sorted, paged.
func (d *refData) functionLogs(fn, requestID string, from, to time.Time, retCode, orderBy string, desc bool, offset, limit int) map[string]any {
	var entries []*refFunctionLog
	for _, ev := range d.evs {
		if requestID != "" && ev.RequestID != requestID || !ev.CreatedAt.Before(to.Add(time.Second)) {
			continue
		}
		if ev.StartedAt.IsZero() || ev.Attempts == 0 {
			continue
		}
		for _, a := range d.attempts[ev.RequestID] {
			if a.StartedAt.Before(from.Truncate(time.Second)) || !a.StartedAt.Before(to.Truncate(time.Second).Add(time.Second)) {
				continue
			}
			e := &refFunctionLog{functionLog: functionLog{FunctionName: fn, RequestId: ev.RequestID, StartTime: formatTime(a.StartedAt), RetryNum: uint64(a.N - 1)},
				start: a.StartedAt, attempt: a.N, status: a.Status, finished: !a.EndedAt.IsZero() && a.Status.Terminal()}
			e.RetCode = 2 // running (SCF API, FunctionLog.RetCode)
			if e.finished {
				e.InvokeFinished = 1
				e.Duration, e.BillDuration, e.MemUsage = float64(a.DurationMs), max(a.DurationMs, 1), int64(a.MaxMemoryMB)<<20
				e.RetCode = retCodeOf(a.Status, a.ErrorType)
				if a.Status == event.Terminated {
					e.RetCode = 3 // interrupted
				}
				if a.Status == event.Succeeded {
					e.RetMsg = string(ev.Result)
				} else {
					e.RetMsg = errorText(a.ErrorType, a.ErrorMessage)
				}
			}
			if refRetCodeMatch(retCode, e) {
				entries = append(entries, e)
			}
		}
	}
	sort.SliceStable(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		var less, equal bool
		switch orderBy {
		case "duration":
			less, equal = a.Duration < b.Duration, a.Duration == b.Duration
		case "mem_usage":
			less, equal = a.MemUsage < b.MemUsage, a.MemUsage == b.MemUsage
		default:
			less, equal = a.start.Before(b.start), a.start.Equal(b.start)
		}
		if equal {
			less = a.RequestId < b.RequestId || a.RequestId == b.RequestId && a.attempt < b.attempt
		}
		if desc {
			return !less
		}
		return less
	})
	total := len(entries)
	entries = pageSlice(entries, offset, limit)
	data := make([]functionLog, 0, len(entries))
	for _, e := range entries {
		e.Log = d.logs[logKey{e.RequestId, e.attempt}]
		data = append(data, e.functionLog)
	}
	return map[string]any{"Data": data, "TotalCount": total, "SearchContext": map[string]any{"Offset": "", "Limit": 0, "Keyword": "", "Type": ""}}
}

func scfTime(t time.Time) string { return t.In(apiZone()).Format(timeLayout) }

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// GetFunctionLogs reads one page of attempts, in the order asked for, from
// the store: each page and TotalCount are what filtering, sorting and
// paging every attempt of the window gives, for every filter, order, window
// and page.
func TestGetFunctionLogsPagesInTheStore(t *testing.T) {
	const n = 600
	f, e := seededFront(t, func(ctx context.Context, st *store.Store) { fillHistory(t, ctx, st, n) })
	ref := loadRef(t, e, "pg")
	ctx := context.Background()

	span := time.Duration(n/2) * 20 * time.Second
	var multi string // an event of pg with three attempts
	for _, ev := range ref.evs {
		if ev.Attempts == 3 {
			multi = ev.RequestID
			break
		}
	}
	if multi == "" {
		t.Fatal("the fixture has no event with three attempts")
	}
	type window struct {
		name       string
		from, to   string
		requestID  string
		wantsSome  bool
		checkTotal bool
	}
	windows := []window{
		{name: "everything", from: scfTime(fixtureT0.Add(-time.Hour)), to: scfTime(fixtureT0.Add(span + time.Hour)), wantsSome: true, checkTotal: true},
		// Edges on whole seconds where attempts start exactly.
		{name: "middle third", from: scfTime(fixtureT0.Add(span/3 + 7*time.Second)), to: scfTime(fixtureT0.Add(2*span/3 + 14*time.Second)), wantsSome: true},
		{name: "fractional edges", from: scfTime(fixtureT0.Add(span/2+7*time.Second)) + ".75", to: scfTime(fixtureT0.Add(span/2+5*time.Minute)) + ".25", wantsSome: true},
		{name: "one event", from: scfTime(fixtureT0.Add(-time.Hour)), to: scfTime(fixtureT0.Add(span + time.Hour)), requestID: multi, wantsSome: true},
		{name: "before everything", from: scfTime(fixtureT0.Add(-48 * time.Hour)), to: scfTime(fixtureT0.Add(-24 * time.Hour))},
	}
	type page struct{ offset, limit *int }
	pages := []page{{nil, nil}, {ptr(0), ptr(10)}, {ptr(10), ptr(10)}, {ptr(33), ptr(17)}, {ptr(280), ptr(40)}, {ptr(9990), ptr(10)}}
	calls := 0
	for _, w := range windows {
		from, err := parseSCFTime(w.from)
		if err != nil {
			t.Fatal(err)
		}
		to, err := parseSCFTime(w.to)
		if err != nil {
			t.Fatal(err)
		}
		for _, retCode := range []string{"", "is0", "not0", "TimeLimitExceeded", "ResourceLimitExceeded", "UserCodeException"} {
			for _, orderBy := range []string{"", "function_name", "duration", "mem_usage"} {
				for _, order := range []string{"", "asc", "DESC"} {
					for _, p := range pages {
						req := map[string]any{"FunctionName": "pg", "StartTime": w.from, "EndTime": w.to, "OrderBy": orderBy, "Order": order}
						if retCode != "" {
							req["Filter"] = map[string]any{"RetCode": retCode}
						}
						if w.requestID != "" {
							req["FunctionRequestId"] = w.requestID
						}
						offset, limit := 0, 10000
						if p.offset != nil {
							req["Offset"], req["Limit"] = *p.offset, *p.limit
							offset, limit = *p.offset, *p.limit
						}
						body := mustJSON(t, req)
						got, err := f.getFunctionLogs(ctx, []byte(body))
						if err != nil {
							t.Fatalf("%s: %v", body, err)
						}
						calls++
						want := ref.functionLogs("pg", w.requestID, from, to, retCode, strings.ToLower(orderBy), !strings.EqualFold(order, "asc"), offset, limit)
						if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
							t.Fatalf("%s:\n got %s\nwant %s", body, g, w)
						}
						if total := want["TotalCount"].(int); p.offset == nil && total == 0 && (w.wantsSome && (retCode == "" || w.checkTotal)) {
							t.Errorf("%s (%s): the fixture has no attempt here; the test would prove nothing", body, w.name)
						}
					}
				}
			}
		}
	}
	t.Logf("%d pages compared", calls)

	// A small page costs what it shows, not what the window holds: loading
	// the window's events and their attempts costs megabytes here.
	for _, orderBy := range []string{"start_time", "duration", "mem_usage"} {
		body := `{"FunctionName":"pg","StartTime":"` + windows[0].from + `","EndTime":"` + windows[0].to + `","Limit":5,"OrderBy":"` + orderBy + `"}`
		var err error
		bytes := allocated(func() { _, err = f.getFunctionLogs(ctx, []byte(body)) })
		if err != nil {
			t.Fatal(err)
		}
		if bytes > 512<<10 {
			t.Errorf("%s: a page of 5 allocated %d bytes: it loads more than the page", body, bytes)
		}
	}
}

// ListAsyncEvents ordered by EndTime pages in the store: each page and
// TotalCount are what sorting every matching event by its end gives.
func TestListAsyncEventsPagesByEndTime(t *testing.T) {
	const n = 400
	f, e := seededFront(t, func(ctx context.Context, st *store.Store) { fillHistory(t, ctx, st, n) })
	ctx := context.Background()
	unended := 0
	all, _, err := e.Events(ctx, store.EventQuery{Function: "pg"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range all {
		if ev.EndedAt.IsZero() {
			unended++
		}
	}
	if unended == 0 || unended == len(all) {
		t.Fatalf("%d of %d events have not ended; the test needs both kinds", unended, len(all))
	}
	type page struct{ offset, limit int }
	for _, status := range [][]string{nil, {"FAILED"}, {"FINISHED", "ABORTED"}} {
		for _, orderby := range []string{"EndTime", "StartTime", ""} {
			for _, order := range []string{"", "ASC", "DESC"} {
				for _, p := range []page{{0, 20}, {0, 100}, {20, 20}, {95, 30}, {300, 100}, {1000, 10}} {
					req := map[string]any{"FunctionName": "pg", "Orderby": orderby, "Order": order, "Offset": p.offset, "Limit": p.limit}
					// The old way: every matching event, sorted here.
					q := store.EventQuery{Function: "pg", Desc: order != "ASC"}
					if status != nil {
						req["Status"] = status
						for _, s := range status {
							sts, _ := statusesOf(s)
							q.Statuses = append(q.Statuses, sts...)
						}
					}
					evs, total, err := e.Events(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					if orderby == "EndTime" {
						sort.SliceStable(evs, func(i, j int) bool {
							a, b := evs[i].EndedAt, evs[j].EndedAt
							if a.IsZero() != b.IsZero() {
								return b.IsZero() != q.Desc
							}
							if q.Desc {
								return a.After(b)
							}
							return a.Before(b)
						})
					}
					list := []asyncEvent{}
					for _, ev := range pageSlice(evs, p.offset, p.limit) {
						qual := ev.Qualifier
						if qual == "" {
							qual = latest
						}
						list = append(list, asyncEvent{InvokeRequestId: ev.RequestID, InvokeType: ev.InvokeType, Qualifier: qual, Status: ev.Status.SCF(),
							StartTime: formatTime(ev.CreatedAt), EndTime: formatTime(ev.EndedAt)})
					}
					want := map[string]any{"EventList": list, "TotalCount": total}
					body := mustJSON(t, req)
					got, err := f.listAsyncEvents(ctx, []byte(body))
					if err != nil {
						t.Fatalf("%s: %v", body, err)
					}
					if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
						t.Fatalf("%s:\n got %s\nwant %s", body, g, w)
					}
				}
			}
		}
	}
}

// allocated is how many bytes the heap allocated while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A page of GetFunctionLogs or ListAsyncEvents reads neither the payloads
// of the function's events nor anything but the page: over events of 1 MiB
// payloads, a page allocates less than one payload.
func TestListsDoNotLoadPayloads(t *testing.T) {
	const n, size = 40, 1 << 20
	payload := []byte(`{"pad":"` + strings.Repeat("x", size) + `"}`)
	f, _ := seededFront(t, func(ctx context.Context, st *store.Store) {
		for i := range n {
			at := time.Now().Add(-time.Hour + time.Duration(i)*time.Second).UTC()
			ev := store.Event{RequestID: fmt.Sprintf("big-%02d", i), Function: "big", Version: 1, InvokeType: event.InvokeEvent, Payload: payload,
				Result: []byte(`"ok"`), Status: event.Succeeded, Attempts: 1, CreatedAt: at, StartedAt: at, EndedAt: at.Add(time.Millisecond), DurationMs: 1}
			if err := st.InsertEvent(ctx, &ev); err != nil {
				t.Fatal(err)
			}
			if err := st.PutAttempt(ctx, store.Attempt{RequestID: ev.RequestID, N: 1, StartedAt: at, EndedAt: ev.EndedAt, Status: event.Succeeded, DurationMs: 1}); err != nil {
				t.Fatal(err)
			}
		}
	})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		call func() (any, error)
		want int
	}{
		{"GetFunctionLogs", func() (any, error) {
			return f.getFunctionLogs(ctx, []byte(`{"FunctionName":"big","Limit":5,"OrderBy":"duration"}`))
		}, 5},
		{"ListAsyncEvents", func() (any, error) { return f.listAsyncEvents(ctx, []byte(`{"FunctionName":"big","Limit":5}`)) }, 5},
		{"ListAsyncEvents by EndTime", func() (any, error) {
			return f.listAsyncEvents(ctx, []byte(`{"FunctionName":"big","Limit":5,"Orderby":"EndTime"}`))
		}, 5},
	} {
		var out any
		var err error
		bytes := allocated(func() { out, err = tc.call() })
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var page struct {
			Data      []json.RawMessage
			EventList []json.RawMessage
			Total     int `json:"TotalCount"`
		}
		if err := json.Unmarshal([]byte(mustJSON(t, out)), &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Data)+len(page.EventList) != tc.want || page.Total != n {
			t.Errorf("%s: %d entries of %d, want %d of %d", tc.name, len(page.Data)+len(page.EventList), page.Total, tc.want, n)
		}
		t.Logf("%s: a page allocated %d bytes", tc.name, bytes)
		if bytes >= size {
			t.Errorf("%s: a page of %d allocated %d bytes, more than one payload (%d): it loads what it does not show", tc.name, tc.want, bytes, size)
		}
	}
}

// Invoke's LogType Tail is the last 4 KB of the event's log, read from its
// newest lines: the same text as the whole log cut to its last 4 KB.
func TestInvokeTailIsTheLast4KB(t *testing.T) {
	cases := map[string][]string{
		"few":   {"START", "hello", "END"},
		"short": nil, // 10000 lines of a few bytes
		"long":  {strings.Repeat("a", 3000), strings.Repeat("b", 3000), strings.Repeat("c", 100)},
		"one":   {strings.Repeat("z", 9000)},
		"none":  {},
	}
	for i := range 10000 {
		cases["short"] = append(cases["short"], fmt.Sprint(i))
	}
	f, e := seededFront(t, func(ctx context.Context, st *store.Store) {
		var lines []store.LogLine
		var seq int64
		at := time.Now().Add(-time.Minute).UTC()
		for name := range cases {
			ev := store.Event{RequestID: name, Function: "pg", InvokeType: event.InvokeRequestResponse, Status: event.Succeeded, CreatedAt: at, EndedAt: at}
			if err := st.InsertEvent(ctx, &ev); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 10000 { // the events' lines interleaved, with other functions'
			for name, texts := range cases {
				if i < len(texts) {
					seq++
					lines = append(lines, store.LogLine{Seq: seq, Function: "pg", RequestID: name, Attempt: 1, Time: at, Stream: "stdout", Text: texts[i]})
				}
			}
			if i%10 == 0 {
				seq++
				lines = append(lines, store.LogLine{Seq: seq, Function: "other", RequestID: "elsewhere", Attempt: 1, Time: at, Stream: "stdout", Text: "elsewhere"})
			}
		}
		if err := st.AppendLogs(ctx, lines); err != nil {
			t.Fatal(err)
		}
	})
	ctx := context.Background()
	for name := range cases {
		got, err := f.tailLog(ctx, "pg", name)
		if err != nil {
			t.Fatal(err)
		}
		all, err := e.Logs(ctx, store.LogQuery{Function: "pg", RequestID: name})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, l := range all {
			b.WriteString(l.Text + "\n")
		}
		want := b.String()
		if len(want) > 4096 {
			want = want[len(want)-4096:]
		}
		if got != want {
			t.Errorf("%s: tail of %d bytes %q…, want %d bytes %q…", name, len(got), got[:min(len(got), 40)], len(want), want[:min(len(want), 40)])
		}
	}
}
