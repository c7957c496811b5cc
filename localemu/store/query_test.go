package store

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/event"
)

// matchLog is the reference semantics of LogQuery's filters.
func matchLog(l LogLine, q LogQuery) bool {
	if q.Function != "" && l.Function != q.Function {
		return false
	}
	if len(q.Functions) > 0 && !slices.Contains(q.Functions, l.Function) {
		return false
	}
	if q.RequestID != "" && l.RequestID != q.RequestID {
		return false
	}
	if len(q.Requests) > 0 && !slices.ContainsFunc(q.Requests, func(r LogRef) bool {
		return r.RequestID == l.RequestID && (r.Attempt == 0 || r.Attempt == l.Attempt)
	}) {
		return false
	}
	if q.Attempt != 0 && l.Attempt != q.Attempt || q.Stream != "" && l.Stream != q.Stream {
		return false
	}
	if q.AfterSeq > 0 && l.Seq <= q.AfterSeq || q.BeforeSeq > 0 && l.Seq >= q.BeforeSeq {
		return false
	}
	if !q.Since.IsZero() && (l.Time.IsZero() || l.Time.Before(q.Since)) {
		return false
	}
	if !q.Until.IsZero() && (l.Time.IsZero() || !l.Time.Before(q.Until)) {
		return false
	}
	return strings.Contains(l.Text, q.Contains)
}

func refLogs(all []LogLine, q LogQuery) []int64 {
	out := []int64{}
	for _, l := range all { // all is in Seq order
		if matchLog(l, q) {
			out = append(out, l.Seq)
		}
	}
	if q.Desc {
		slices.Reverse(out)
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out
}

func seqsOf(ls []LogLine) []int64 {
	out := []int64{}
	for _, l := range ls {
		out = append(out, l.Seq)
	}
	return out
}

// logFixture stores n lines of functions a, b, c whose times are nearly
// increasing in Seq, as the engine's are (a line's time is when it was
// completed, its Seq when it was numbered): a line every 5 s (hours of
// them, so that windows cover whole hours and edge minutes) with jitter of
// up to 8 s across minute boundaries, now and then a line from hours
// earlier or later, some lines without a time.
func logFixture(t testing.TB, s *Store, n int, seed uint64) []LogLine {
	rng := rand.New(rand.NewPCG(seed, 1))
	t0 := time.Date(2025, 3, 1, 23, 50, 0, 0, time.UTC)
	var all []LogLine
	for i := 1; i <= n; i++ {
		tm := t0.Add(time.Duration(i) * 5 * time.Second).Add(time.Duration(rng.IntN(16000)-8000) * time.Millisecond)
		switch rng.IntN(50) {
		case 0:
			tm = tm.Add(time.Duration(rng.IntN(6*3600)-3*3600) * time.Second)
		case 1:
			tm = time.Time{}
		}
		req := rng.IntN(12)
		all = append(all, LogLine{Seq: int64(i), Function: []string{"a", "b", "c"}[req%3], RequestID: fmt.Sprintf("r%02d", req),
			Attempt: 1 + rng.IntN(3), Time: tm, Stream: []string{"stdout", "stderr", "platform"}[rng.IntN(3)],
			Text: fmt.Sprintf("line %d %s", i, []string{"ok", "warn", "boom"}[rng.IntN(3)])})
	}
	for i := 0; i < len(all); {
		j := min(len(all), i+1+rng.IntN(40))
		if err := s.AppendLogs(ctx, all[i:j]); err != nil {
			t.Fatal(err)
		}
		i = j
	}
	return all
}

func randomLogQuery(rng *rand.Rand, all []LogLine) LogQuery {
	var q LogQuery
	some := func() bool { return rng.IntN(3) == 0 }
	anyTime := func() time.Time {
		for {
			if l := all[rng.IntN(len(all))]; !l.Time.IsZero() {
				// On a minute boundary now and then.
				if rng.IntN(4) == 0 {
					return l.Time.Truncate(time.Minute)
				}
				return l.Time
			}
		}
	}
	if some() {
		q.Function = []string{"a", "b", "c", "zz"}[rng.IntN(4)]
	}
	if rng.IntN(5) == 0 {
		q.Functions = []string{"a", "b", "c"}[:1+rng.IntN(3)]
	}
	if rng.IntN(5) == 0 {
		q.RequestID = fmt.Sprintf("r%02d", rng.IntN(13))
	}
	if rng.IntN(5) == 0 {
		for range 1 + rng.IntN(4) {
			q.Requests = append(q.Requests, LogRef{fmt.Sprintf("r%02d", rng.IntN(13)), rng.IntN(3)})
		}
	}
	if rng.IntN(6) == 0 {
		q.Attempt = 1 + rng.IntN(3)
	}
	if rng.IntN(6) == 0 {
		q.Stream = []string{"stdout", "stderr", "platform"}[rng.IntN(3)]
	}
	if some() {
		q.AfterSeq = int64(rng.IntN(len(all)))
	}
	if some() {
		q.BeforeSeq = int64(1 + rng.IntN(len(all)+1))
	}
	if rng.IntN(2) == 0 {
		q.Since = anyTime()
	}
	if rng.IntN(2) == 0 {
		q.Until = anyTime()
		if !q.Since.IsZero() && q.Until.Before(q.Since) && rng.IntN(4) != 0 {
			q.Since, q.Until = q.Until, q.Since
		}
	}
	if rng.IntN(6) == 0 {
		q.Contains = []string{"boom", "line 1", "nothing"}[rng.IntN(3)]
	}
	q.Desc = rng.IntN(2) == 0
	if rng.IntN(3) != 0 {
		q.Limit = 1 + rng.IntN(30)
	}
	return q
}

// TestLogsQueries checks every LogQuery filter, alone and combined, against
// the reference semantics: time windows (whose lines are not in Seq order),
// Limit, both cursors, several functions, requests and attempts.
func TestLogsQueries(t *testing.T) {
	s := openT(t, t.TempDir())
	all := logFixture(t, s, 3000, 1)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 1000 {
		q := randomLogQuery(rng, all)
		got, err := s.Logs(ctx, q)
		if err != nil {
			t.Fatalf("Logs(%+v): %v", q, err)
		}
		if want := refLogs(all, q); !reflect.DeepEqual(seqsOf(got), want) {
			t.Fatalf("query %d: Logs(%+v)\n got %v\nwant %v", i, q, seqsOf(got), want)
		}
		for _, l := range got { // whole lines, not just their Seq
			if w := all[l.Seq-1]; !reflect.DeepEqual(l, w) {
				t.Fatalf("line %d: got %+v want %+v", l.Seq, l, w)
			}
		}
	}
}

// TestLogsPaging pages through windows forward (AfterSeq) and backward
// (BeforeSeq): the pages put together are the whole window, in order.
func TestLogsPaging(t *testing.T) {
	s := openT(t, t.TempDir())
	all := logFixture(t, s, 2000, 2)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 80 {
		q := randomLogQuery(rng, all)
		q.AfterSeq, q.BeforeSeq = 0, 0
		q.Limit = 1 + rng.IntN(60)
		whole := q
		whole.Limit = 0
		want := refLogs(all, whole)
		var got []int64
		for pages := 0; ; pages++ {
			if pages > len(all) {
				t.Fatalf("query %d: paging does not end", i)
			}
			page, err := s.Logs(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > q.Limit {
				t.Fatalf("query %d: page of %d lines, limit %d", i, len(page), q.Limit)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, seqsOf(page)...)
			if q.Desc {
				q.BeforeSeq = page[len(page)-1].Seq
			} else {
				q.AfterSeq = page[len(page)-1].Seq
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("query %d (%+v): pages\n got %v\nwant %v", i, whole, got, want)
		}
	}
}

// explain is SQLite's plan of query.
func explain(t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, query)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	return b.String()
}

// TestLogsPlans: a page of one function's window, either direction, walks
// the (function, seq) index inside the window's Seq range and is never
// sorted; several functions are one such walk each; a page of requests uses
// the request index.
func TestLogsPlans(t *testing.T) {
	s := openT(t, t.TempDir())
	logFixture(t, s, 500, 3)
	day := time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC)
	r := seqRange{lo: 10, hi: 400}
	for _, tc := range []struct {
		name string
		q    LogQuery
		fns  []string
		want []string
	}{
		{"backward page", LogQuery{Function: "a", Since: day, Until: day.Add(24 * time.Hour), BeforeSeq: 300, Desc: true, Limit: 100},
			[]string{"a"}, []string{"USING INDEX logs_function (function=? AND seq>? AND seq<?)"}},
		{"forward page", LogQuery{Function: "a", Since: day, AfterSeq: 20, Limit: 100},
			[]string{"a"}, []string{"USING INDEX logs_function (function=? AND seq>? AND seq<?)"}},
		{"functions", LogQuery{Functions: []string{"a", "b"}, Since: day, Desc: true, Limit: 100},
			[]string{"a", "b"}, []string{"USING INDEX logs_function (function=? AND seq>? AND seq<?)"}},
		{"requests", LogQuery{Function: "a", Requests: []LogRef{{"r01", 1}, {"r04", 0}}},
			[]string{"a"}, []string{"USING INDEX logs_request (request_id=? AND seq>? AND seq<?)"}},
		{"request", LogQuery{Function: "a", RequestID: "r01", Since: day, Desc: true, Limit: 10},
			[]string{"a"}, []string{"USING INDEX logs_request (request_id=? AND seq>? AND seq<?)"}},
	} {
		query, args := logsSQL(tc.q, tc.fns, r)
		plan := explain(t, s.rdb, query, args...)
		for _, w := range tc.want {
			if !strings.Contains(plan, w) {
				t.Errorf("%s: plan does not use %q:\n%s", tc.name, w, plan)
			}
		}
		// Only the merge of several functions' pages sorts (at most Limit
		// lines from each), and the lines of the requests.
		if tc.name != "requests" && tc.name != "functions" && strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s: plan sorts:\n%s", tc.name, plan)
		}
	}
	// The bounds: a range of the primary key per level.
	query, args := windowSQL(LogQuery{Since: day.Add(-time.Minute), Until: day.Add(48*time.Hour + time.Minute)}, []string{"a"})
	plan := explain(t, s.rdb, query, args...)
	if strings.Count(plan, "USING PRIMARY KEY (function=? AND level=? AND bucket>? AND bucket<?)") != 3 {
		t.Errorf("window bounds do not use the primary key:\n%s", plan)
	}
	query, args = windowSQL(LogQuery{Since: day}, nil)
	if plan := explain(t, s.rdb, query, args...); strings.Count(plan, "USING INDEX log_spans_bucket (level=? AND bucket>?)") != 1 {
		t.Errorf("window bounds of every function do not use log_spans_bucket:\n%s", plan)
	}
}

// TestLogSpans: the per-minute and per-hour summary AppendLogs keeps is what
// the lines give, also when a batch fails, and a migration computes the same.
func TestLogSpans(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	all := logFixture(t, s, 1000, 4)
	// Times before 1970 too: buckets are floored, not truncated.
	neg := []LogLine{{Seq: 2001, Function: "a", Time: time.Unix(-90, 0)}, {Seq: 2002, Function: "a", Time: time.Unix(-1, 0)},
		{Seq: 2003, Function: "a", Time: time.Unix(0, 0)}, {Seq: 2004, Function: "a", Time: time.Unix(-3601, 0)}}
	if err := s.AppendLogs(ctx, neg); err != nil {
		t.Fatal(err)
	}
	all = append(all, neg...)
	// A batch with a duplicate Seq leaves no trace in log_spans either.
	dup := []LogLine{{Seq: 5000, Function: "a", Time: all[0].Time.Add(-time.Hour)}, {Seq: 3, Function: "a", Time: all[0].Time}}
	if err := s.AppendLogs(ctx, dup); err == nil {
		t.Fatal("duplicate accepted")
	}
	want := logSpans(all)
	if want[spanKey{"a", levelMinute, -2}].lines != 1 || want[spanKey{"a", levelMinute, -1}].lines != 1 ||
		want[spanKey{"a", levelHour, -1}].lines != 2 || want[spanKey{"a", levelHour, -2}].lines != 1 {
		t.Fatalf("floored buckets: %v", want)
	}
	read := func() map[spanKey]span {
		rows, err := s.rdb.Query(`SELECT function, level, bucket, min_seq, max_seq, lines FROM log_spans`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		got := map[spanKey]span{}
		for rows.Next() {
			var k spanKey
			var sp span
			if err := rows.Scan(&k.function, &k.level, &k.bucket, &sp.min, &sp.max, &sp.lines); err != nil {
				t.Fatal(err)
			}
			got[k] = sp
		}
		return got
	}
	if got := read(); !reflect.DeepEqual(got, want) {
		t.Fatalf("log_spans\n got %v\nwant %v", got, want)
	}
	// The migration's SQL computes the same buckets from the lines.
	if _, err := s.wc.ExecContext(ctx, `DELETE FROM log_spans`); err != nil {
		t.Fatal(err)
	}
	i := strings.Index(schemaV2, "INSERT INTO log_spans")
	if _, err := s.wc.ExecContext(ctx, schemaV2[i:]); err != nil {
		t.Fatal(err)
	}
	if got := read(); !reflect.DeepEqual(got, want) {
		t.Fatalf("log_spans from the migration\n got %v\nwant %v", got, want)
	}
}

// TestWindowBuckets: the hours and edge minutes of a window cover exactly
// its minutes.
func TestWindowBuckets(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 7))
	p := func(v int64) *int64 { return &v }
	covers := func(rs []bucketRange, m int64) int {
		n := 0
		for _, r := range rs {
			b := m
			if r.level == levelHour {
				b = hourOf(m)
			}
			if (r.lo == nil || b >= *r.lo) && (r.hi == nil || b <= *r.hi) {
				n++
			}
		}
		return n
	}
	for range 2000 {
		var m1, m2 *int64
		if rng.IntN(5) != 0 {
			m1 = p(int64(rng.IntN(2000) - 1000))
		}
		if rng.IntN(5) != 0 {
			m2 = p(int64(rng.IntN(2000) - 1000))
		}
		if m1 == nil && m2 == nil || m1 != nil && m2 != nil && *m2 < *m1 {
			continue
		}
		rs := windowBuckets(m1, m2)
		if len(rs) > 3 {
			t.Fatalf("%v %v: %d ranges", m1, m2, len(rs))
		}
		for m := int64(-1300); m <= 1300; m++ {
			in := (m1 == nil || m >= *m1) && (m2 == nil || m <= *m2)
			n := covers(rs, m)
			if in && n != 1 || !in && n != 0 {
				t.Fatalf("window [%v, %v]: minute %d covered %d times (%+v)", m1, m2, m, n, rs)
			}
		}
		// Edge minutes never span more than an hour each.
		for _, r := range rs {
			if r.level == levelMinute && r.lo != nil && r.hi != nil && *r.hi-*r.lo >= 180 {
				t.Fatalf("window [%v, %v]: %d minutes", m1, m2, *r.hi-*r.lo+1)
			}
		}
	}
}

func TestListEventsOmit(t *testing.T) {
	s := openT(t, t.TempDir())
	for i := range 5 {
		e := Event{RequestID: fmt.Sprintf("r%d", i), Function: "f", Payload: []byte(`{"n":1}`), Result: []byte(`"ok"`), Status: event.Succeeded}
		if err := s.InsertEvent(ctx, &e); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		omit            Blobs
		payload, result bool
		statuses        []event.Status // also the multi-status page path
		orderBy         EventOrder
		limit           int
	}{
		{0, true, true, nil, ByCreated, 0},
		{OmitBlobs, false, false, nil, ByCreated, 0},
		{PayloadBlob, false, true, nil, ByCreated, 2},
		{ResultBlob, true, false, nil, ByCreated, 2},
		{OmitBlobs, false, false, []event.Status{event.Succeeded, event.Failed}, ByCreated, 3},
		{OmitBlobs, false, false, nil, ByEnded, 3},
		{PayloadBlob, false, true, nil, ByEnded, 0},
	} {
		evs, total, err := s.ListEvents(ctx, EventQuery{Function: "f", Omit: tc.omit, Statuses: tc.statuses, OrderBy: tc.orderBy, Limit: tc.limit})
		if err != nil || total != 5 || len(evs) == 0 {
			t.Fatalf("%+v: %d of %d, %v", tc, len(evs), total, err)
		}
		for _, e := range evs {
			if (e.Payload != nil) != tc.payload || (e.Result != nil) != tc.result {
				t.Errorf("%+v: payload %q result %q", tc, e.Payload, e.Result)
			}
			if e.RequestID == "" || e.Function != "f" || e.Status != event.Succeeded {
				t.Errorf("%+v: the other columns are not read: %+v", tc, e)
			}
		}
	}
	// RequestIDs filters lists and stats.
	evs, total, err := s.ListEvents(ctx, EventQuery{RequestIDs: []string{"r3", "r1", "nope"}, Omit: OmitBlobs})
	if err != nil || total != 2 || len(evs) != 2 || evs[0].RequestID != "r1" || evs[1].RequestID != "r3" {
		t.Fatalf("RequestIDs: %+v %d %v", evs, total, err)
	}
	if st, err := s.Stats(ctx, EventQuery{RequestIDs: []string{"r3", "r1"}, RequestID: "r1"}); err != nil || st.Total != 1 {
		t.Fatalf("Stats of RequestIDs and RequestID: %+v %v", st, err)
	}
	got, err := s.GetEvents(ctx, []string{"r1", "r3", "nope", "r1"}, PayloadBlob)
	if err != nil || len(got) != 2 || got["r1"].Payload != nil || string(got["r3"].Result) != `"ok"` || got["r3"].Function != "f" {
		t.Fatalf("GetEvents = %+v, %v", got, err)
	}
	if got, err := s.GetEvents(ctx, nil, 0); err != nil || len(got) != 0 {
		t.Fatalf("GetEvents(nil) = %v, %v", got, err)
	}
}

// TestListEventsByEnded: the order SCF's ListAsyncEvents Orderby=EndTime
// gives (events that have not ended last, first with Desc), paged in SQL.
func TestListEventsByEnded(t *testing.T) {
	s := openT(t, t.TempDir())
	t0 := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(8, 9))
	var all []Event
	for i := range 200 {
		e := Event{RequestID: fmt.Sprintf("r%03d", i), Function: []string{"a", "b"}[rng.IntN(2)],
			Status: event.All[rng.IntN(len(event.All))], CreatedAt: t0.Add(time.Duration(rng.IntN(30)) * time.Second)}
		if e.Status.Terminal() {
			e.EndedAt = e.CreatedAt.Add(time.Duration(rng.IntN(20)) * time.Second)
		}
		if err := s.InsertEvent(ctx, &e); err != nil {
			t.Fatal(err)
		}
		all = append(all, e)
	}
	for _, desc := range []bool{false, true} {
		for _, statuses := range [][]event.Status{nil, {event.Failed, event.Queued}} {
			q := EventQuery{Function: "a", Statuses: statuses, Desc: desc, OrderBy: ByEnded}
			// The reference: the store's creation order, then a stable
			// sort on EndedAt with the zero time last (first with Desc).
			var ref []Event
			for _, e := range all {
				if matches(e, q) {
					ref = append(ref, e)
				}
			}
			slices.SortStableFunc(ref, func(a, b Event) int {
				if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
					return c
				}
				return strings.Compare(a.RequestID, b.RequestID) // insertion order
			})
			if desc {
				slices.Reverse(ref)
			}
			slices.SortStableFunc(ref, func(a, b Event) int {
				if a.EndedAt.IsZero() != b.EndedAt.IsZero() {
					if a.EndedAt.IsZero() != desc {
						return 1
					}
					return -1
				}
				c := a.EndedAt.Compare(b.EndedAt)
				if desc {
					c = -c
				}
				return c
			})
			var want []string
			for _, e := range ref {
				want = append(want, e.RequestID)
			}
			for _, page := range [][2]int{{0, 0}, {0, 7}, {7, 7}, {len(want) - 3, 10}} {
				q.Offset, q.Limit = page[0], page[1]
				evs, total, err := s.ListEvents(ctx, q)
				if err != nil || total != len(want) {
					t.Fatalf("%+v: total %d, %v; want %d", q, total, err, len(want))
				}
				var got []string
				for _, e := range evs {
					got = append(got, e.RequestID)
				}
				end := len(want)
				if q.Limit > 0 {
					end = min(end, q.Offset+q.Limit)
				}
				if !slices.Equal(got, want[q.Offset:end]) {
					t.Fatalf("%+v:\n got %v\nwant %v", q, got, want[q.Offset:end])
				}
			}
		}
	}
}

func TestListEventsDurableName(t *testing.T) {
	s := openT(t, t.TempDir())
	for i, name := range []string{"x", "", "y", ""} {
		if err := s.InsertEvent(ctx, &Event{RequestID: fmt.Sprintf("r%d", i), Function: "f", DurableName: name}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.InsertEvent(ctx, &Event{RequestID: "other", Function: "g", DurableName: "y"}); err != nil {
		t.Fatal(err)
	}
	evs, total, err := s.ListEvents(ctx, EventQuery{Function: "f", DurableName: "y", Omit: OmitBlobs})
	if err != nil || total != 1 || len(evs) != 1 || evs[0].RequestID != "r2" {
		t.Fatalf("DurableName y: %+v %d %v", evs, total, err)
	}
	if plan := explain(t, s.rdb, `SELECT seq FROM events WHERE function = ? AND durable_name = ?`, "f", "y"); !strings.Contains(plan, "events_durable") {
		t.Errorf("durable name lookup does not use its index:\n%s", plan)
	}
}

// attemptsFixture: events of functions a and b with 1–3 attempts each, some
// running, of every status and a few error types.
func attemptsFixture(t testing.TB, s *Store) ([]Event, []Attempt) {
	rng := rand.New(rand.NewPCG(10, 11))
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	var evs []Event
	var as []Attempt
	for i := range 150 {
		e := Event{RequestID: fmt.Sprintf("r%03d", rng.IntN(1000)*1000+i), Function: []string{"a", "b"}[rng.IntN(2)],
			CreatedAt: t0.Add(time.Duration(i) * time.Second)}
		if err := s.InsertEvent(ctx, &e); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
		n := 1 + rng.IntN(3)
		for k := 1; k <= n; k++ {
			a := Attempt{RequestID: e.RequestID, N: k, StartedAt: e.CreatedAt.Add(time.Duration(k*rng.IntN(5)) * time.Second),
				Status:     []event.Status{event.Succeeded, event.Failed, event.TimedOut, event.Terminated}[rng.IntN(4)],
				DurationMs: int64(rng.IntN(5)) * 100, MaxMemoryMB: 64 * rng.IntN(3)}
			switch {
			case k == n && rng.IntN(5) == 0:
				a.Status, a.DurationMs, a.MaxMemoryMB = event.Running, 0, 0
			case a.Status == event.Failed:
				a.ErrorType = []string{"Unhandled", "Runtime.OutOfMemory", "Runtime.ExitError", "Handled"}[rng.IntN(4)]
				fallthrough
			default:
				a.EndedAt = a.StartedAt.Add(time.Duration(a.DurationMs) * time.Millisecond)
			}
			if rng.IntN(30) == 0 {
				a.StartedAt = time.Time{} // an attempt recorded without a start
			}
			if err := s.PutAttempt(ctx, a); err != nil {
				t.Fatal(err)
			}
			as = append(as, a)
		}
	}
	return evs, as
}

func TestAttemptsFor(t *testing.T) {
	s := openT(t, t.TempDir())
	evs, as := attemptsFixture(t, s)
	if err := s.InsertEvent(ctx, &Event{RequestID: "none", Function: "a"}); err != nil {
		t.Fatal(err)
	}
	ids := []string{"none", "unknown"}
	for _, e := range evs[:40] {
		ids = append(ids, e.RequestID)
	}
	got, err := s.AttemptsFor(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]Attempt{}
	for _, a := range as {
		if slices.Contains(ids, a.RequestID) {
			want[a.RequestID] = append(want[a.RequestID], a) // fixture appends by N
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("AttemptsFor\n got %v\nwant %v", got, want)
	}
	// The same as Attempts per event.
	for _, id := range ids[2:] {
		one, err := s.Attempts(ctx, id)
		if err != nil || !reflect.DeepEqual(one, got[id]) {
			t.Fatalf("Attempts(%s) = %v, %v; AttemptsFor %v", id, one, err, got[id])
		}
	}
}

func TestListAttempts(t *testing.T) {
	s := openT(t, t.TempDir())
	evs, as := attemptsFixture(t, s)
	fnOf := map[string]string{}
	for _, e := range evs {
		fnOf[e.RequestID] = e.Function
	}
	t0 := evs[0].CreatedAt
	match := func(a Attempt, q AttemptQuery) bool {
		in := (q.Function == "" || fnOf[a.RequestID] == q.Function) &&
			(q.RequestID == "" || a.RequestID == q.RequestID) &&
			(q.StartedAfter.IsZero() || !a.StartedAt.IsZero() && !a.StartedAt.Before(q.StartedAfter)) &&
			(q.StartedBefore.IsZero() || !a.StartedAt.IsZero() && a.StartedAt.Before(q.StartedBefore)) &&
			(len(q.Statuses) == 0 || slices.Contains(q.Statuses, a.Status)) &&
			(!q.Ended || !a.EndedAt.IsZero()) &&
			(len(q.ErrorTypes) == 0 || slices.Contains(q.ErrorTypes, a.ErrorType))
		for _, p := range q.NotErrorTypePrefixes {
			in = in && !strings.HasPrefix(a.ErrorType, p)
		}
		return in
	}
	key := func(a Attempt, o AttemptOrder) int64 {
		switch o {
		case ByDuration:
			return a.DurationMs
		case ByMaxMemory:
			return int64(a.MaxMemoryMB)
		}
		if a.StartedAt.IsZero() {
			return -1 << 63 // NULL sorts first
		}
		return a.StartedAt.UnixNano()
	}
	rng := rand.New(rand.NewPCG(12, 13))
	for i := range 500 {
		q := AttemptQuery{OrderBy: AttemptOrder(rng.IntN(3)), Desc: rng.IntN(2) == 0}
		if rng.IntN(4) != 0 {
			q.Function = []string{"a", "b", "c"}[rng.IntN(3)]
		}
		if rng.IntN(8) == 0 {
			q.RequestID = evs[rng.IntN(len(evs))].RequestID
		}
		if rng.IntN(2) == 0 {
			q.StartedAfter = t0.Add(time.Duration(rng.IntN(160)) * time.Second)
		}
		if rng.IntN(2) == 0 {
			q.StartedBefore = t0.Add(time.Duration(rng.IntN(160)) * time.Second)
		}
		// The filters of SCF's Filter.RetCode, and others.
		switch rng.IntN(7) {
		case 0:
			q.Ended, q.Statuses = true, []event.Status{event.Succeeded}
		case 1:
			q.Ended, q.Statuses = true, []event.Status{event.Failed, event.TimedOut, event.Terminated}
		case 2:
			q.Ended, q.Statuses, q.ErrorTypes = true, []event.Status{event.Failed}, []string{"Runtime.OutOfMemory"}
		case 3:
			q.Ended, q.Statuses, q.NotErrorTypePrefixes = true, []event.Status{event.Failed}, []string{"Runtime."}
		case 4:
			q.Statuses = []event.Status{event.Running}
		case 5:
			q.NotErrorTypePrefixes = []string{""}
		}
		if rng.IntN(3) != 0 {
			q.Offset, q.Limit = rng.IntN(20), 1+rng.IntN(20)
		}
		var ref []Attempt
		for _, a := range as {
			if match(a, q) {
				ref = append(ref, a)
			}
		}
		slices.SortFunc(ref, func(a, b Attempt) int {
			c := cmpInt(key(a, q.OrderBy), key(b, q.OrderBy))
			if c == 0 {
				c = strings.Compare(a.RequestID, b.RequestID)
			}
			if c == 0 {
				c = a.N - b.N
			}
			if q.Desc {
				c = -c
			}
			return c
		})
		total := len(ref)
		ref = ref[min(q.Offset, len(ref)):]
		if q.Limit > 0 && len(ref) > q.Limit {
			ref = ref[:q.Limit]
		}
		got, n, err := s.ListAttempts(ctx, q)
		if err != nil {
			t.Fatalf("ListAttempts(%+v): %v", q, err)
		}
		if n != total || !reflect.DeepEqual(got, append([]Attempt{}, ref...)) {
			t.Fatalf("query %d: ListAttempts(%+v) = %d of %d\n got %v\nwant %v", i, q, len(got), n, got, ref)
		}
	}
	// A function's window in start order is an index range, not sorted.
	where, args := AttemptQuery{Function: "a", StartedAfter: t0, StartedBefore: t0.Add(time.Hour)}.where()
	plan := explain(t, s.rdb, `SELECT `+attemptCols+` FROM attempts`+where+` ORDER BY started_at DESC, request_id DESC, n DESC LIMIT 10`, args...)
	if !strings.Contains(plan, "attempts_fn_started") || strings.Contains(plan, "TEMP B-TREE") {
		t.Errorf("ListAttempts by start does not walk attempts_fn_started:\n%s", plan)
	}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestMigrateFromV1 opens a database written by schema version 1 (events,
// attempts and logs already stored) and checks that the new queries answer
// for the old rows.
func TestMigrateFromV1(t *testing.T) {
	dir := t.TempDir()
	if err := prepareDir(dir); err != nil {
		t.Fatal(err)
	}
	path := dir + "/" + DBFile
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 2, 1, 10, 0, 0, 0, time.UTC)
	stmts := []string{"BEGIN", schemaV1, "PRAGMA user_version = 1"}
	for i := range 3 {
		id := fmt.Sprintf("r%d", i)
		stmts = append(stmts,
			fmt.Sprintf(`INSERT INTO events (request_id, function, status, created_at, payload, result) VALUES ('%s', 'f', 'SUCCEEDED', %d, x'7b7d', x'31')`, id, t0.UnixNano()),
			fmt.Sprintf(`INSERT INTO attempts (request_id, n, started_at, ended_at, status) VALUES ('%s', 1, %d, %d, 'SUCCEEDED')`, id,
				t0.Add(time.Duration(i)*time.Minute).UnixNano(), t0.Add(time.Duration(i)*time.Minute+time.Second).UnixNano()))
	}
	for i := 1; i <= 300; i++ {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO logs (seq, function, request_id, attempt, time, stream, text) VALUES (%d, 'f', 'r%d', 1, %d, 'stdout', 'line %d')`,
			i, i%3, t0.Add(time.Duration(i)*time.Second).UnixNano(), i))
	}
	stmts = append(stmts, `INSERT INTO logs (seq, function, text) VALUES (301, 'f', 'no time')`, "COMMIT")
	for _, st := range stmts {
		if _, err := db.Exec(st); err != nil {
			t.Fatalf("%v: %s", err, st)
		}
	}
	db.Close()

	s := openT(t, dir)
	if v, err := s.SchemaVersion(ctx); err != nil || v != SchemaVersion {
		t.Fatalf("SchemaVersion after migration = %d, %v", v, err)
	}
	var old []LogLine
	for i := 1; i <= 300; i++ {
		old = append(old, LogLine{Seq: int64(i), Function: "f", RequestID: fmt.Sprintf("r%d", i%3), Attempt: 1,
			Time: t0.Add(time.Duration(i) * time.Second), Stream: "stdout", Text: fmt.Sprintf("line %d", i)})
	}
	old = append(old, LogLine{Seq: 301, Function: "f", Text: "no time"})
	for _, q := range []LogQuery{
		{Function: "f", Since: t0.Add(time.Minute), Until: t0.Add(2 * time.Minute), BeforeSeq: 100, Desc: true, Limit: 10},
		{Function: "f", Since: t0.Add(4 * time.Minute), Limit: 10},
		{Function: "f", Until: t0.Add(time.Minute), Desc: true},
	} {
		got, err := s.Logs(ctx, q)
		if err != nil || !slices.Equal(seqsOf(got), refLogs(old, q)) {
			t.Fatalf("Logs(%+v) after migration = %v, %v; want %v", q, seqsOf(got), err, refLogs(old, q))
		}
	}
	as, n, err := s.ListAttempts(ctx, AttemptQuery{Function: "f", StartedAfter: t0.Add(time.Minute), Desc: true})
	if err != nil || n != 2 || as[0].RequestID != "r2" || as[1].RequestID != "r1" {
		t.Fatalf("ListAttempts after migration = %+v, %d, %v", as, n, err)
	}
	// Lines and attempts written after the migration join the old ones.
	if err := s.AppendLogs(ctx, []LogLine{{Seq: 302, Function: "f", Time: t0.Add(30 * time.Second), Text: "late"}}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Logs(ctx, LogQuery{Function: "f", Since: t0, Until: t0.Add(time.Minute), Desc: true, Limit: 1}); err != nil || len(got) != 1 || got[0].Seq != 302 {
		t.Fatalf("new line in an old minute: %v, %v", seqsOf(got), err)
	}
	if err := s.PutAttempt(ctx, Attempt{RequestID: "r0", N: 2, StartedAt: t0.Add(time.Hour), Status: event.Running}); err != nil {
		t.Fatal(err)
	}
	if as, n, err := s.ListAttempts(ctx, AttemptQuery{Function: "f", StartedAfter: t0.Add(time.Hour)}); err != nil || n != 1 || as[0].N != 2 {
		t.Fatalf("new attempt: %+v %d %v", as, n, err)
	}
}
