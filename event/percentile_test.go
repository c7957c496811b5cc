package event

import (
	"slices"
	"testing"
)

func seq(from, to int64) []int64 {
	var out []int64
	for v := from; v <= to; v++ {
		out = append(out, v)
	}
	return out
}

func TestPercentileIsNearestRank(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []int64
		p      int
		want   int64
	}{
		{"empty", nil, 50, 0},
		{"one value p50", []int64{7}, 50, 7},
		{"one value p95", []int64{7}, 95, 7},
		{"p50 of two is the lower", []int64{100, 200}, 50, 100},
		{"p95 of two is the upper", []int64{100, 200}, 95, 200},
		{"p50 of three is the middle", []int64{100, 200, 300}, 50, 200},
		{"p50 of four", []int64{1, 2, 3, 4}, 50, 2},
		{"p50 of 10", seq(1, 10), 50, 5},
		{"p95 of 10", seq(1, 10), 95, 10},
		{"p95 of 20 is the 19th", seq(1, 20), 95, 19},
		{"p50 of 100", seq(1, 100), 50, 50},
		{"p95 of 100", seq(1, 100), 95, 95},
		{"p99 of 100", seq(1, 100), 99, 99},
		{"p95 of 101", seq(1, 101), 95, 96},
		{"p0 is the minimum", seq(1, 10), 0, 1},
		{"p100 is the maximum", seq(1, 7), 100, 7},
		{"p50 of 24", seq(1, 24), 50, 12},
		{"p95 of 24", seq(1, 24), 95, 23},
	} {
		if got := Percentile(tc.values, tc.p); got != tc.want {
			t.Errorf("%s: Percentile(%v, %d) = %d, want %d", tc.name, tc.values, tc.p, got, tc.want)
		}
	}
}

func TestNearestRank(t *testing.T) {
	for _, tc := range []struct{ p, n, want int }{
		{50, 0, 0}, {50, 1, 1}, {95, 1, 1}, {50, 2, 1}, {95, 2, 2}, {50, 10, 5}, {95, 10, 10},
		{50, 100, 50}, {95, 100, 95}, {100, 7, 7}, {50, 3, 2}, {95, 20, 19}, {0, 5, 1},
	} {
		if got := NearestRank(tc.p, tc.n); got != tc.want {
			t.Errorf("NearestRank(%d, %d) = %d, want %d", tc.p, tc.n, got, tc.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		name          string
		durations     []int64
		p50, p95, max int64
	}{
		{"none", nil, 0, 0, 0},
		{"two", []int64{200, 100}, 100, 200, 200},
		{"unsorted", []int64{2001, 401, 1999, 100, 300}, 401, 2001, 2001},
		{"sorted 1..20", seq(1, 20), 10, 19, 20},
		{"ties", []int64{5, 5, 5, 9}, 5, 9, 9},
	} {
		in := slices.Clone(tc.durations)
		p50, p95, max := Summarize(in)
		if p50 != tc.p50 || p95 != tc.p95 || max != tc.max {
			t.Errorf("%s: Summarize(%v) = %d, %d, %d; want %d, %d, %d", tc.name, tc.durations, p50, p95, max, tc.p50, tc.p95, tc.max)
		}
		if !slices.Equal(in, tc.durations) {
			t.Errorf("%s: Summarize changed its input to %v", tc.name, in)
		}
	}
}
