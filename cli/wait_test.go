package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/event"
)

func TestReadWaitIDs(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
		err      string
	}{
		{name: "one per line", in: "a\nb\n\nc\n", want: []string{"a", "b", "c"}},
		{name: "invoke --each --output json", in: `{"index":0,"line":1,"requestId":"a"}` + "\n" + `{"index":1,"line":2,"error":"bad"}` + "\n" + `{"index":2,"line":3,"requestId":"c"}`, want: []string{"a", "c"}},
		{name: "events wait's failures fed back", in: "a\tFAILED\tError: x\n# note\nb\tTIMED_OUT\t\n", want: []string{"a", "b"}},
		{name: "bad JSON line", in: "a\n{\"requestId\":\n", err: "line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readWaitIDs(strings.NewReader(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if got := dedupe([]string{"a", "b", "a", "c", "b"}); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("dedupe = %v", got)
	}
}

// fakeEvents is a provider whose events advance one step (QUEUED, RUNNING,
// terminal) every time they are listed; it counts the requests.
type fakeEvents struct {
	adapters.Provider // only Events and Event are called
	mu                sync.Mutex
	evs               []adapters.Event // by creation, oldest first
	fail              map[string]bool
	lists, gets       int
	listed            int // events in all pages
}

func newFakeEvents(others, ours int, fail func(i int) bool) (*fakeEvents, []string) {
	f := &fakeEvents{fail: map[string]bool{}}
	t0 := time.Now().Add(-time.Hour)
	var ids []string
	for i := range others + ours {
		// Older events 100 ms apart, ours 10 ms apart (a batch).
		at := t0.Add(time.Duration(min(i, others))*100*time.Millisecond + time.Duration(max(i-others, 0))*10*time.Millisecond)
		ev := adapters.Event{RequestID: fmt.Sprintf("ev-%05d", i), Status: event.Queued, CreatedAt: at}
		if i < others {
			ev.Status = event.Succeeded
		} else {
			ids = append(ids, ev.RequestID)
			f.fail[ev.RequestID] = fail(i - others)
		}
		f.evs = append(f.evs, ev)
	}
	return f, ids
}

func (f *fakeEvents) step(ev *adapters.Event) {
	switch ev.Status {
	case event.Queued:
		ev.Status = event.Running
	case event.Running:
		ev.Status, ev.Attempts, ev.DurationMs = event.Succeeded, 1, 10
		if f.fail[ev.RequestID] {
			ev.Status, ev.ErrorType, ev.ErrorMessage = event.Failed, "Error", "asked to fail"
		}
	}
}

// Events advances the first 20 unfinished events one step (the provider
// runs them in order while the client waits), then lists.
func (f *fakeEvents) Events(ctx context.Context, fn string, q adapters.EventQuery) (adapters.EventPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	for i, stepped := 0, 0; i < len(f.evs) && stepped < 20; i++ {
		if !f.evs[i].Status.Terminal() {
			f.step(&f.evs[i])
			stepped++
		}
	}
	var match []*adapters.Event
	for i := range f.evs {
		if (q.Since.IsZero() || !f.evs[i].CreatedAt.Before(q.Since)) && (len(q.Statuses) == 0 || slices.Contains(q.Statuses, f.evs[i].Status)) {
			match = append(match, &f.evs[i])
		}
	}
	if q.Desc {
		slices.Reverse(match)
	}
	page := adapters.EventPage{Total: len(match)}
	// Pages of at most 100, whatever was asked: as a cloud caps them.
	for _, ev := range match[min(q.Offset, len(match)):min(q.Offset+min(q.Limit, 100), len(match))] {
		page.Events = append(page.Events, *ev)
		f.listed++
	}
	return page, nil
}

func (f *fakeEvents) Event(ctx context.Context, fn, id string) (adapters.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets++
	for i := range f.evs {
		if f.evs[i].RequestID == id {
			return f.evs[i], nil
		}
	}
	return adapters.Event{}, fmt.Errorf("event %s: %w", id, adapters.ErrNotFound)
}

func TestWaiterFollowsEventsWithPagedListings(t *testing.T) {
	f, ids := newFakeEvents(5000, 1000, func(i int) bool { return i%100 == 7 })
	w := newWaiter(f, "fn", ids)
	var failures []string
	w.onFailure = func(ev adapters.Event) { failures = append(failures, ev.RequestID) }
	if err := w.run(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	s := w.summary("fn", time.Second)
	if s.ByStatus[event.Succeeded] != 990 || s.ByStatus[event.Failed] != 10 || len(s.Failed) != 10 || len(s.Pending) != 0 {
		t.Fatalf("summary %+v", s)
	}
	if s.Failed[0].RequestID != ids[7] || s.Failed[0].ErrorMessage != "asked to fail" || len(failures) != 10 {
		t.Errorf("failed %+v, reported as they happened %v", s.Failed, failures)
	}
	if s.P50Ms != 10 || s.MaxMs != 10 {
		t.Errorf("durations p50 %d max %d, want 10", s.P50Ms, s.MaxMs)
	}
	// The 5,000 older events are never paged through, each round reads
	// what finished since the oldest pending event (and a second before
	// it), not every pending event each time (which read 9,400 events
	// here), and nothing is asked one event at a time.
	t.Logf("%d listings, %d events listed, %d single lookups", f.lists, f.listed, f.gets)
	if f.listed > 7500 || f.gets != 0 {
		t.Errorf("%d listings of %d events in all and %d single lookups, for 1,000 events", f.lists, f.listed, f.gets)
	}
}

func TestWaiterUnknownAndTimeout(t *testing.T) {
	f, ids := newFakeEvents(0, 3, func(int) bool { return false })
	w := newWaiter(f, "fn", append(ids, "nope"))
	clock := time.Now()
	w.now = func() time.Time { clock = clock.Add(time.Minute); return clock }
	if err := w.run(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	s := w.summary("fn", time.Second)
	if len(s.Failed) != 1 || s.Failed[0].RequestID != "nope" || s.Failed[0].Status != statusNotFound {
		t.Fatalf("summary %+v", s)
	}

	// Many unknown ids: not asked one by one, NOT_FOUND after the grace all the same.
	f, ids = newFakeEvents(0, 3, func(int) bool { return false })
	var unknown []string
	for i := range 2 * waitOneByOne {
		unknown = append(unknown, fmt.Sprintf("nope-%d", i))
	}
	w = newWaiter(f, "fn", append(ids, unknown...))
	w.now = func() time.Time { clock = clock.Add(time.Minute); return clock }
	if err := w.run(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if s := w.summary("fn", time.Second); len(s.Failed) != len(unknown) || s.Failed[0].Status != statusNotFound || f.gets != 0 {
		t.Fatalf("%d failed (%+v), %d single lookups", len(s.Failed), s.Failed[0], f.gets)
	}

	// Ended by its context: what is not terminal is pending, and failed.
	f, ids = newFakeEvents(0, 3, func(int) bool { return false })
	f.evs[2].Status = event.Running
	f.fail = nil
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	stuck := &stuckEvents{fakeEvents: f, id: ids[2]}
	w = newWaiter(stuck, "fn", ids)
	if err := w.run(ctx, 5*time.Millisecond); err == nil {
		t.Fatal("run returned nil with an event that never ends")
	}
	s = w.summary("fn", time.Second)
	if !slices.Equal(s.Pending, []string{ids[2]}) || len(s.Failed) != 1 || s.Failed[0].Status != event.Running {
		t.Fatalf("summary %+v", s)
	}
}

// stuckEvents keeps one event RUNNING.
type stuckEvents struct {
	*fakeEvents
	id string
}

func (s *stuckEvents) Events(ctx context.Context, fn string, q adapters.EventQuery) (adapters.EventPage, error) {
	page, err := s.fakeEvents.Events(ctx, fn, q)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.evs {
		if s.evs[i].RequestID == s.id {
			s.evs[i].Status = event.Running
		}
	}
	evs := page.Events[:0]
	for _, ev := range page.Events {
		if ev.RequestID == s.id {
			ev.Status = event.Running
			if slices.Contains(q.Statuses, event.Succeeded) {
				continue
			}
		}
		evs = append(evs, ev)
	}
	page.Events = evs
	return page, err
}
