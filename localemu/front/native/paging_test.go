package native

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/emutest"
	"github.com/asyncfn/asyncfn/localemu/store"
	"github.com/asyncfn/asyncfn/nativeapi"
)

// seededEngine is an engine over a store filled directly by fill, before
// the engine opened it.
func seededEngine(t *testing.T, fill func(ctx context.Context, st *store.Store)) *localemu.Engine {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	fill(context.Background(), st)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return emutest.NewEngine(t, localemu.Options{StateDir: dir})
}

// logLines stores n lines of functions a, b and c in turn (every third
// line of a, …), a line every second.
func logLines(t *testing.T, ctx context.Context, st *store.Store, n int) []store.LogLine {
	t.Helper()
	t0 := time.Date(2025, 1, 2, 3, 0, 0, 0, time.UTC)
	var lines []store.LogLine
	for i := range n {
		fn := string(rune('a' + i%3))
		lines = append(lines, store.LogLine{Seq: int64(i + 1), Function: fn, RequestID: fmt.Sprintf("%s-%d", fn, i/30), Attempt: 1,
			Time: t0.Add(time.Duration(i) * time.Second), Stream: "stdout", Text: fmt.Sprintf("line %d of %s", i+1, fn)})
	}
	if err := st.AppendLogs(ctx, lines); err != nil {
		t.Fatal(err)
	}
	return lines
}

// Paging GET /v1/logs with each page's cursor walks every matching line
// once, in the order asked for: order=desc goes on to older lines (it used
// to return the newest again), and several functions are filtered in the
// store with the same pages as one.
func TestLogsPagesBothWays(t *testing.T) {
	const n = 500
	var all []store.LogLine
	e := seededEngine(t, func(ctx context.Context, st *store.Store) { all = logLines(t, ctx, st, n) })
	url := emutest.Serve(t, New(e, nil, e.Logger()))
	for _, tc := range []struct {
		query string
		fns   []string
	}{
		{"function=a", []string{"a"}},
		{"function=a,c", []string{"a", "c"}},
		{"function=c,a,c", []string{"a", "c"}},
		{"", nil},
		{"function=b&contains=1", []string{"b"}},
		{"function=a,b&since=2025-01-02T03:05:00Z", []string{"a", "b"}},
	} {
		for _, desc := range []bool{false, true} {
			var want []int64
			for _, l := range all {
				if (tc.fns == nil || slices.Contains(tc.fns, l.Function)) &&
					(!strings.Contains(tc.query, "contains=1") || strings.Contains(l.Text, "1")) &&
					(!strings.Contains(tc.query, "since=") || !l.Time.Before(time.Date(2025, 1, 2, 3, 5, 0, 0, time.UTC))) {
					want = append(want, l.Seq)
				}
			}
			order := ""
			if desc {
				order = "&order=desc"
				slices.Reverse(want)
			}
			var got []int64
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > n {
					t.Fatalf("%s%s: paging never ends", tc.query, order)
				}
				u := url + "/v1/logs?limit=7&" + tc.query + order
				if cursor != "" {
					u += "&after=" + cursor
				}
				var page nativeapi.LogPage
				if st := call(t, http.MethodGet, u, nil, &page); st != http.StatusOK {
					t.Fatalf("GET %s: %d", u, st)
				}
				if len(page.Lines) > 7 {
					t.Fatalf("GET %s: %d lines, limit 7", u, len(page.Lines))
				}
				if len(page.Lines) == 0 {
					if page.Cursor != cursor && cursor != "" {
						t.Errorf("GET %s: an empty page's cursor %q, want the request's", u, page.Cursor)
					}
					break
				}
				for _, l := range page.Lines {
					got = append(got, l.Seq)
				}
				if last := page.Lines[len(page.Lines)-1]; page.Cursor != strconv.FormatInt(last.Seq, 10) {
					t.Errorf("GET %s: cursor %q, want its last line's %d", u, page.Cursor, last.Seq)
				}
				cursor = page.Cursor
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s%s: paging gave %d lines %v…, want %d %v…", tc.query, order, len(got), got[:min(len(got), 10)], len(want), want[:min(len(want), 10)])
			}
		}
	}
}

// A live tail that starts behind what the engine keeps in memory catches up
// from the store, its functions filtered there.
func TestLogTailCatchesUpFromTheStore(t *testing.T) {
	const n = 3000
	var all []store.LogLine
	e := seededEngine(t, func(ctx context.Context, st *store.Store) { all = logLines(t, ctx, st, n) })
	var want []int64
	for _, l := range all {
		if l.Function != "b" && l.Seq > 100 {
			want = append(want, l.Seq)
		}
	}
	sub := e.SubscribeLogs(localemu.LogFilter{Functions: []string{"c", "a"}}, 100)
	defer sub.Close()
	var got []int64
	for len(got) < len(want) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		lines, err := sub.Next(ctx, 64)
		cancel()
		if err != nil {
			t.Fatalf("after %d lines: %v", len(got), err)
		}
		if len(lines) > 64 {
			t.Fatalf("%d lines, max 64", len(lines))
		}
		for _, l := range lines {
			got = append(got, l.Seq)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("the tail gave %d lines %v…, want %d %v…", len(got), got[:min(len(got), 10)], len(want), want[:min(len(want), 10)])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if lines, err := sub.Next(ctx, 64); err == nil {
		t.Errorf("the tail went on past the stored lines: %v", lines)
	}
}

// GET /v1/functions/{name}/events shows each event's result, not its
// payload, and does not read the payloads: over events of 1 MiB payloads a
// page allocates less than one.
func TestListEventsDoesNotLoadPayloads(t *testing.T) {
	const n, size = 30, 1 << 20
	payload := []byte(`{"pad":"` + strings.Repeat("x", size) + `"}`)
	e := seededEngine(t, func(ctx context.Context, st *store.Store) {
		for i := range n {
			at := time.Now().Add(-time.Hour + time.Duration(i)*time.Second).UTC()
			ev := store.Event{RequestID: fmt.Sprintf("big-%02d", i), Function: "big", Version: 1, InvokeType: event.InvokeEvent, Payload: payload,
				Result: []byte(fmt.Sprintf(`{"n":%d}`, i)), Status: event.Succeeded, Attempts: 1, CreatedAt: at, StartedAt: at, EndedAt: at.Add(time.Millisecond), DurationMs: 1}
			if err := st.InsertEvent(ctx, &ev); err != nil {
				t.Fatal(err)
			}
		}
	})
	f := New(e, nil, e.Logger())
	r := httptest.NewRequest(http.MethodGet, "/v1/functions/big/events?order=desc", nil)
	r.SetPathValue("name", "big")
	var a answer
	var err error
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	a, err = f.listEvents(context.Background(), r)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if bytes := after.TotalAlloc - before.TotalAlloc; bytes >= size {
		t.Errorf("a page of %d events allocated %d bytes, more than one payload (%d)", n, bytes, size)
	}
	b, _ := json.Marshal(a.body)
	var page nativeapi.EventPage
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	if page.Total != n || len(page.Events) != n {
		t.Fatalf("%d events of %d, want %d", len(page.Events), page.Total, n)
	}
	for i, ev := range page.Events {
		if want := fmt.Sprintf(`{"n":%d}`, n-1-i); string(ev.Result) != want || ev.Payload != nil {
			t.Errorf("event %s: result %s, payload %d bytes; want %s and no payload", ev.RequestID, ev.Result, len(ev.Payload), want)
		}
	}
}
