package adapters

import "github.com/asyncfn/asyncfn/event"

// StatsOf computes Stats from a function's events as Events lists them (all
// of them: no Offset or Limit), for providers whose cloud has no stats API.
// total is the number of matching events the provider reported (the page's
// Total). Statuses are counted as listed; durations are each event's
// DurationMs, the same number events list and events get show, over the
// events event.Timed accepts (terminal, at least one attempt), summarised
// with event.Summarize (nearest rank).
func StatsOf(fn string, total int, evs []Event) Stats {
	st := Stats{Function: fn, Total: total, ByStatus: map[event.Status]int{}}
	var durations []int64
	for _, ev := range evs {
		st.ByStatus[ev.Status]++
		if event.Timed(ev.Status, ev.Attempts) {
			durations = append(durations, ev.DurationMs)
		}
	}
	st.P50Ms, st.P95Ms, st.MaxMs = event.Summarize(durations)
	return st
}
