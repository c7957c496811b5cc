package console

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/event"
)

func TestNiceStep(t *testing.T) {
	for in, want := range map[int64]int64{0: 1, 1: 1, 2: 2, 3: 5, 6: 10, 11: 20, 101: 200, 260: 500, 4001: 5000} {
		if got := niceStep(in); got != want {
			t.Errorf("niceStep(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestHistogramCountsOnlyFinishedEventsThatRan(t *testing.T) {
	evs := []adapters.Event{
		{Status: event.Succeeded, Attempts: 1, DurationMs: 0},
		{Status: event.Succeeded, Attempts: 1, DurationMs: 120},
		{Status: event.Failed, Attempts: 2, DurationMs: 950},
		{Status: event.Running, Attempts: 1, DurationMs: 5000},   // not finished
		{Status: event.Terminated, Attempts: 0, DurationMs: 900}, // never ran
	}
	bars := histogram(evs)
	// max 950 ms in at most 10 bins: width niceStep(96) = 100 ms, 10 bins.
	if len(bars) != 10 || bars[0].Label != "0ms–" || bars[1].Label != "100ms–" || bars[9].Label != "900ms–" {
		t.Fatalf("bins %+v", bars)
	}
	var total int64
	for _, b := range bars {
		total += b.Value
	}
	if total != 3 || bars[0].Value != 1 || bars[1].Value != 1 || bars[9].Value != 1 {
		t.Errorf("counts %+v, want 0 ms, 120 ms and 950 ms counted once each", bars)
	}
	if histogram(nil) != nil || histogram(evs[3:]) != nil {
		t.Error("a histogram of no finished events has bars")
	}
}

func TestOverTimeBucketsByCreation(t *testing.T) {
	start := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	end := start.Add(12 * time.Minute)
	evs := []adapters.Event{{CreatedAt: start}, {CreatedAt: start.Add(90 * time.Second)}, {CreatedAt: end}, {CreatedAt: start.Add(-time.Minute)}}
	bars := overTime(evs, start, end)
	if len(bars) != 12 || bars[0].Value != 1 || bars[1].Value != 1 || bars[11].Value != 1 || bars[0].Label != "10:00" {
		t.Errorf("bars %+v", bars)
	}
	if overTime(nil, start, end) != nil || overTime(evs, end, start) != nil {
		t.Error("no events, or an empty window, drew bars")
	}
}

func TestBarChartEscapesEveryString(t *testing.T) {
	svg := string(barChart(`x"><script>`, `<b>t</b>`, `d&`, []bar{{Label: `<img src=x onerror=alert(1)>`, Value: 3, Class: `"><script>`}}, `<u>`))
	for _, bad := range []string{"<script", "<img", "<b>", "<u>", `x">`} {
		if strings.Contains(svg, bad) {
			t.Errorf("the chart holds %q unescaped:\n%s", bad, svg)
		}
	}
	if !strings.HasPrefix(svg, `<svg class="chart"`) || !strings.Contains(svg, `&lt;img src=x onerror=alert(1)&gt;: 3&lt;u&gt;`) {
		t.Errorf("chart:\n%s", svg)
	}
	if empty := string(barChart("e", "t", "d", nil, "")); !strings.Contains(empty, "no events in this window") {
		t.Errorf("an empty chart: %s", empty)
	}
}

func TestParseFilter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f, err := parseFilter(url.Values{"status": {"running", "FAILED"}, "last": {"1h"}, "from": {"2026-03-01T11:30"}, "to": {"2026-03-01T11:45"}, "page": {"3"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Statuses) != 2 || f.Statuses[0] != event.Running || f.Page != 3 {
		t.Errorf("filter %+v", f)
	}
	// The later of last and from bounds the start; to includes its minute.
	if !f.since.Equal(time.Date(2026, 3, 1, 11, 30, 0, 0, time.UTC)) || !f.until.Equal(time.Date(2026, 3, 1, 11, 46, 0, 0, time.UTC)) {
		t.Errorf("window %s – %s", f.since, f.until)
	}
	if got := f.query(2).Encode(); got != "from=2026-03-01T11%3A30&last=1h&page=2&status=RUNNING&status=FAILED&to=2026-03-01T11%3A45" {
		t.Errorf("query %s", got)
	}
	if f, _ := parseFilter(url.Values{"last": {"7d"}}, now); !f.since.Equal(now.Add(-7 * 24 * time.Hour)) {
		t.Errorf("7d: %s", f.since)
	}
	for _, q := range []url.Values{{"status": {"DONE"}}, {"last": {"-1h"}}, {"from": {"2026-03-01"}}, {"page": {"x"}}} {
		if _, err := parseFilter(q, now); err == nil {
			t.Errorf("%v parsed", q)
		}
	}
}
