package adapters

import (
	"reflect"
	"testing"

	"github.com/asyncfn/asyncfn/event"
)

func TestStatsOfUsesTheListedDurations(t *testing.T) {
	evs := []Event{
		{RequestID: "a", Status: event.Succeeded, Attempts: 1, DurationMs: 200},
		{RequestID: "b", Status: event.Succeeded, Attempts: 1, DurationMs: 100},
		{RequestID: "c", Status: event.Failed, Attempts: 3, DurationMs: 150},  // the last attempt's duration
		{RequestID: "d", Status: event.Terminated, Attempts: 0},               // stopped while queued: never ran
		{RequestID: "e", Status: event.Running, Attempts: 2, DurationMs: 900}, // not finished: no duration yet
	}
	got := StatsOf("f", 5, evs)
	want := Stats{Function: "f", Total: 5, ByStatus: map[event.Status]int{event.Succeeded: 2, event.Failed: 1, event.Terminated: 1, event.Running: 1},
		P50Ms: 150, P95Ms: 200, MaxMs: 200}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("StatsOf\n got %+v\nwant %+v", got, want)
	}
	// Nearest rank on every provider: the p50 of [100, 200] is 100.
	if st := StatsOf("f", 2, evs[:2]); st.P50Ms != 100 || st.P95Ms != 200 || st.MaxMs != 200 {
		t.Errorf("p50/p95/max of [200, 100] = %d/%d/%d, want 100/200/200", st.P50Ms, st.P95Ms, st.MaxMs)
	}
	if st := StatsOf("f", 0, nil); st.Total != 0 || st.MaxMs != 0 || st.ByStatus == nil {
		t.Errorf("no events: %+v", st)
	}
}
