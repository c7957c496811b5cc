package event

import "slices"

// Duration of an event: one definition for events list, events get and
// events stats, on every provider. It is the handler's duration of the
// event's last attempt, as the platform's REPORT reports it (Lambda's REPORT
// "Duration", SCF's FunctionLog.Duration, the emulator's Event.DurationMs),
// truncated to whole milliseconds: time in the queue, earlier attempts and
// the backoff between attempts are not part of it. Stats summarise the
// durations of the events that Timed reports.

// Timed reports whether an event with status s and attempts started
// attempts has a duration that stats count: it reached a terminal status
// after running at least once (an event terminated while still queued never
// ran, and has none).
func Timed(s Status, attempts int) bool { return s.Terminal() && attempts > 0 }

// Percentiles: every provider reports the p50 and p95 of event durations
// (events stats) with this one definition, nearest rank. The p-th percentile
// of n values sorted ascending is the value at 1-based rank ceil(p/100 × n),
// rank 1 when that is 0. It is always one of the values, never an
// interpolation between two: the p50 of [100, 200] is 100, of
// [100, 200, 300] it is 200, and the p95 of 20 values is the 19th.

// Percentile returns the nearest-rank p-th percentile (0 ≤ p ≤ 100) of
// sorted, which must be in ascending order; 0 when sorted is empty. Integer
// arithmetic: no floating-point rounding moves a rank.
func Percentile(sorted []int64, p int) int64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	return sorted[NearestRank(p, n)-1]
}

// NearestRank is the 1-based rank of the p-th percentile (0 ≤ p ≤ 100) of n
// sorted values: ceil(p × n / 100), clamped to [1, n]. It is 0 when n is 0.
func NearestRank(p, n int) int {
	if n <= 0 {
		return 0
	}
	r := (p*n + 99) / 100 // ceil(p*n/100) for p, n >= 0
	return min(max(r, 1), n)
}

// Summarize returns the nearest-rank p50 and p95 and the maximum of
// durations (any order; the slice is not modified), all 0 when there are
// none. It is what events stats reports, on every provider.
func Summarize(durations []int64) (p50, p95, max int64) {
	if len(durations) == 0 {
		return 0, 0, 0
	}
	s := durations
	if !slices.IsSorted(s) {
		s = slices.Clone(durations)
		slices.Sort(s)
	}
	return Percentile(s, 50), Percentile(s, 95), s[len(s)-1]
}
