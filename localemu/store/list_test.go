package store

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/event"
)

// matches is the reference semantics of EventQuery's filters.
func matches(e Event, q EventQuery) bool {
	in := func(t, after, before time.Time) bool {
		if !after.IsZero() && (t.IsZero() || t.Before(after)) {
			return false
		}
		if !before.IsZero() && (t.IsZero() || !t.Before(before)) {
			return false
		}
		return true
	}
	return (q.Function == "" || e.Function == q.Function) &&
		(len(q.Statuses) == 0 || slices.Contains(q.Statuses, e.Status)) &&
		(q.InvokeType == "" || e.InvokeType == q.InvokeType) &&
		(q.Qualifier == "" || e.Qualifier == q.Qualifier) &&
		(q.RequestID == "" || e.RequestID == q.RequestID) &&
		in(e.CreatedAt, q.CreatedAfter, q.CreatedBefore) &&
		in(e.EndedAt, q.EndedAfter, q.EndedBefore)
}

func TestListEvents(t *testing.T) {
	s := openT(t, t.TempDir())
	t0 := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	var all []Event // in insertion order
	for i := range 300 {
		e := Event{
			RequestID:  fmt.Sprintf("r%03d", i),
			Function:   []string{"a", "b", "c"}[rng.IntN(3)],
			Status:     event.All[rng.IntN(len(event.All))],
			InvokeType: []string{event.InvokeEvent, event.InvokeRequestResponse}[rng.IntN(2)],
			Qualifier:  []string{"", "$LATEST", "prod"}[rng.IntN(3)],
			// Few distinct times so that ties are common and must follow
			// insertion order; not monotonic in insertion order either.
			CreatedAt: t0.Add(time.Duration(rng.IntN(40)) * time.Second),
		}
		if e.Status.Terminal() {
			e.EndedAt = e.CreatedAt.Add(time.Duration(rng.IntN(100)) * time.Second)
		}
		if err := s.InsertEvent(ctx, &e); err != nil {
			t.Fatal(err)
		}
		all = append(all, e)
	}
	ref := func(q EventQuery) ([]string, int) {
		var m []Event
		for _, e := range all {
			if matches(e, q) {
				m = append(m, e)
			}
		}
		slices.SortStableFunc(m, func(a, b Event) int { return a.CreatedAt.Compare(b.CreatedAt) })
		if q.Desc {
			slices.Reverse(m) // ties: reverse insertion order
		}
		total := len(m)
		m = m[min(q.Offset, len(m)):]
		if q.Limit > 0 {
			m = m[:min(q.Limit, len(m))]
		}
		ids := []string{}
		for _, e := range m {
			ids = append(ids, e.RequestID)
		}
		return ids, total
	}
	S := func(st ...event.Status) []event.Status { return st }
	tm := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	tests := []struct {
		name string
		q    EventQuery
	}{
		{"all", EventQuery{}},
		{"all desc", EventQuery{Desc: true}},
		{"limit", EventQuery{Limit: 7}},
		{"offset limit", EventQuery{Offset: 5, Limit: 10}},
		{"offset past end", EventQuery{Offset: 1000, Limit: 10}},
		{"offset only", EventQuery{Offset: 290}},
		{"function", EventQuery{Function: "a"}},
		{"function desc page", EventQuery{Function: "b", Desc: true, Offset: 3, Limit: 5}},
		{"one status", EventQuery{Statuses: S(event.Queued)}},
		{"function status", EventQuery{Function: "c", Statuses: S(event.Failed), Limit: 100}},
		{"function statuses limit", EventQuery{Function: "a", Statuses: S(event.Failed, event.TimedOut, event.Succeeded), Limit: 10}},
		{"function statuses desc offset", EventQuery{Function: "a", Statuses: S(event.Failed, event.Succeeded), Desc: true, Offset: 4, Limit: 6}},
		{"statuses no function", EventQuery{Statuses: S(event.Running, event.Queued), Limit: 25, Offset: 2}},
		{"statuses no limit", EventQuery{Statuses: S(event.Running, event.Queued)}},
		{"duplicate statuses", EventQuery{Statuses: S(event.Running, event.Running, event.Queued), Limit: 30}},
		{"window", EventQuery{CreatedAfter: tm(10), CreatedBefore: tm(20)}},
		{"function statuses window limit", EventQuery{Function: "b", Statuses: S(event.Succeeded, event.Terminated), CreatedAfter: tm(5), CreatedBefore: tm(30), Limit: 100}},
		{"window desc", EventQuery{Function: "c", CreatedAfter: tm(39), Desc: true}},
		{"ended window", EventQuery{EndedAfter: tm(50), EndedBefore: tm(90)}},
		{"ended after", EventQuery{Function: "a", EndedAfter: tm(0)}},
		{"invoke type", EventQuery{InvokeType: event.InvokeRequestResponse, Limit: 50}},
		{"qualifier", EventQuery{Qualifier: "prod", Function: "a"}},
		{"request id", EventQuery{RequestID: "r042"}},
		{"request id other function", EventQuery{RequestID: "r042", Function: "zzz"}},
		{"nothing", EventQuery{Function: "nope", Statuses: S(event.Failed, event.Queued), Limit: 10}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, wantTotal := ref(tc.q)
			got, total, err := s.ListEvents(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			ids := []string{}
			for _, e := range got {
				ids = append(ids, e.RequestID)
			}
			if total != wantTotal || !reflect.DeepEqual(ids, want) {
				t.Errorf("ListEvents(%+v)\n got %d %v\nwant %d %v", tc.q, total, ids, wantTotal, want)
			}
		})
	}
	if _, _, err := s.ListEvents(ctx, EventQuery{Limit: -1}); err == nil {
		t.Error("negative limit accepted")
	}
}
