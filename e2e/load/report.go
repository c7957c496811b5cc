package main

// The report: named values in the order a mode sets them, printed as the
// human summary or as one JSON object (main). BENCHMARKS.md quotes these
// names and formats.

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/asyncfn/asyncfn/event"
)

type result struct {
	keys []string
	vals map[string]any
}

func (r *result) set(k string, v any) {
	if _, ok := r.vals[k]; !ok {
		r.keys = append(r.keys, k)
	}
	r.vals[k] = v
}

func (r *result) print(w io.Writer) {
	for _, k := range r.keys {
		v := r.vals[k]
		switch x := v.(type) {
		case float64:
			fmt.Fprintf(w, "%-28s %.3f\n", k+":", x)
		case map[string]any, []any, []map[string]any, map[string]int:
			b, _ := json.Marshal(x)
			fmt.Fprintf(w, "%-28s %s\n", k+":", b)
		default:
			fmt.Fprintf(w, "%-28s %v\n", k+":", x)
		}
	}
}

// ms rounds a duration to milliseconds with µs precision, for reports.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// mb converts kB to MB with one decimal, for reports.
func mb(kb int64) float64 { return math.Round(float64(kb)/1024*10) / 10 }

// latencySummary reports the count, the nearest-rank p50, p95, p99 and
// p99.9 (event.Percentile's one definition) and the maximum of ds, in ms.
func latencySummary(ds []time.Duration) map[string]any {
	if len(ds) == 0 {
		return map[string]any{"n": 0}
	}
	sorted := make([]int64, len(ds))
	for i, d := range ds {
		sorted[i] = int64(d)
	}
	slices.Sort(sorted)
	at := func(p int) float64 { return ms(time.Duration(event.Percentile(sorted, p))) }
	return map[string]any{"n": len(sorted), "p50Ms": at(50), "p95Ms": at(95), "p99Ms": at(99),
		"p999Ms": ms(time.Duration(p999(sorted))), "maxMs": ms(time.Duration(sorted[len(sorted)-1]))}
}

// p999 is the nearest-rank 99.9th percentile of sorted (ascending; 0 when
// empty), the value at rank ⌈0.999·n⌉ = n − ⌊n/1000⌋. event.Percentile takes
// whole percents, so this is its p99 of the highest t = ⌊n/10⌋ values (the
// highest one when n < 10): rank ⌈0.99·t⌉ = t − ⌊t/100⌋ among them, that is
// n − ⌊n/1000⌋ among all n, since ⌊⌊n/10⌋/100⌋ = ⌊n/1000⌋.
func p999(sorted []int64) int64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	return event.Percentile(sorted[n-max(n/10, 1):], 99)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
