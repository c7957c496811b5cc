package console

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/event"
)

// The statistics view: counts per status and the duration percentiles come
// from the provider's Stats (one definition of percentiles, event.Summarize,
// on every provider); the duration histogram and events over time are drawn
// from the newest maxChartEvents events of the window. Every chart is an SVG
// drawn here, with a title and a description for screen readers and a table
// of the same numbers beside it.

// maxChartEvents bounds the events read for the histogram and the time
// series (pages of 100, the native API's and the CLI's largest).
const maxChartEvents = 1000

type statsView struct {
	Filter     filter
	Windows    []windowChoice
	Stats      adapters.Stats
	Counts     []statusCount
	Sampled    int  // events the histogram and time series are drawn from
	Truncated  bool // the window holds more than maxChartEvents
	StatusSVG  template.HTML
	PctSVG     template.HTML
	HistSVG    template.HTML
	TimeSVG    template.HTML
	Percentile []bar
	Histogram  []bar
	OverTime   []bar
}

type windowChoice struct {
	Value, Label string
	Selected     bool
}

// bar is one bar of a chart: its label and value.
type bar struct {
	Label string
	Value int64
	Class string // a CSS class (a status's colour)
}

func (c *Console) stats(r *http.Request, src Source, d *pageData) (string, error) {
	fn, err := c.withFunction(r, src, d)
	if err != nil {
		return "", err
	}
	now := c.opts.Now()
	q := r.URL.Query()
	if !q.Has("last") {
		q.Set("last", "24h")
	}
	q.Del("page")
	f, err := parseFilter(q, now)
	if err != nil {
		return "", err
	}
	p, ctx := src.Provider(), r.Context()
	eq := adapters.EventQuery{Statuses: f.Statuses, Since: f.since, Until: f.until}
	st, err := p.Stats(ctx, fn.Name, eq)
	if err != nil {
		return "", err
	}
	v := &statsView{Filter: f, Stats: st, Counts: counts(st.ByStatus)}
	for _, w := range windows {
		v.Windows = append(v.Windows, windowChoice{w.Value, w.Label, w.Value == f.Last})
	}
	var evs []adapters.Event
	eq.Desc, eq.Limit = true, 100
	for len(evs) < maxChartEvents {
		eq.Offset = len(evs)
		page, err := p.Events(ctx, fn.Name, eq)
		if err != nil {
			return "", err
		}
		evs = append(evs, page.Events...)
		if len(page.Events) < eq.Limit || len(evs) >= page.Total {
			v.Truncated = len(evs) < page.Total
			break
		}
		v.Truncated = true
	}
	v.Sampled = len(evs)

	statusBars := make([]bar, len(v.Counts))
	for i, sc := range v.Counts {
		statusBars[i] = bar{Label: string(sc.Status), Value: int64(sc.N), Class: "s-" + strings.ToLower(string(sc.Status))}
	}
	v.Percentile = []bar{{"p50", st.P50Ms, "pct"}, {"p95", st.P95Ms, "pct"}, {"max", st.MaxMs, "pct"}}
	v.Histogram = histogram(evs)
	start := f.since
	if start.IsZero() && len(evs) > 0 {
		start = evs[len(evs)-1].CreatedAt
	}
	end := now
	if !f.until.IsZero() && f.until.Before(now) {
		end = f.until
	}
	v.OverTime = overTime(evs, start, end)

	v.StatusSVG = barChart("chart-status", "Events per status", fmt.Sprintf("%d events by status", st.Total), statusBars, "")
	v.PctSVG = barChart("chart-pct", "Duration percentiles", fmt.Sprintf("p50 %d ms, p95 %d ms, max %d ms", st.P50Ms, st.P95Ms, st.MaxMs), v.Percentile, " ms")
	v.HistSVG = barChart("chart-hist", "Duration histogram", fmt.Sprintf("durations of %d finished events", timedCount(evs)), v.Histogram, "")
	v.TimeSVG = barChart("chart-time", "Events over time", fmt.Sprintf("%d events created per interval", len(evs)), v.OverTime, "")
	d.Stats, d.Title = v, fn.Name+": statistics"
	return "stats", nil
}

func timedCount(evs []adapters.Event) int {
	n := 0
	for _, ev := range evs {
		if event.Timed(ev.Status, ev.Attempts) {
			n++
		}
	}
	return n
}

// histogram buckets the durations of the finished events into at most 10
// equal ranges from 0 to a round maximum.
func histogram(evs []adapters.Event) []bar {
	var ds []int64
	var maxMs int64
	for _, ev := range evs {
		if event.Timed(ev.Status, ev.Attempts) {
			ds = append(ds, ev.DurationMs)
			maxMs = max(maxMs, ev.DurationMs)
		}
	}
	if len(ds) == 0 {
		return nil
	}
	const n = 10
	width := niceStep((maxMs + 1 + n - 1) / n)
	bins := int(maxMs/width) + 1
	out := make([]bar, bins)
	for i := range out {
		out[i].Label = fmtMs(int64(i)*width) + "–"
		out[i].Class = "hist"
	}
	for _, d := range ds {
		out[d/width].Value++
	}
	return out
}

// niceStep rounds a bucket width up to 1, 2 or 5 times a power of ten.
func niceStep(v int64) int64 {
	step := int64(1)
	for {
		for _, m := range []int64{1, 2, 5} {
			if step*m >= v {
				return step * m
			}
		}
		step *= 10
	}
}

func fmtMs(ms int64) string {
	switch {
	case ms >= 60000 && ms%60000 == 0:
		return fmt.Sprintf("%dm", ms/60000)
	case ms >= 1000 && ms%1000 == 0:
		return fmt.Sprintf("%ds", ms/1000)
	case ms >= 1000:
		return fmt.Sprintf("%.1fs", float64(ms)/1000)
	}
	return fmt.Sprintf("%dms", ms)
}

// overTime counts the events created in each of 12 equal intervals from
// start to end.
func overTime(evs []adapters.Event, start, end time.Time) []bar {
	if len(evs) == 0 || !end.After(start) {
		return nil
	}
	const n = 12
	step := end.Sub(start) / n
	if step <= 0 {
		step = time.Second
	}
	out := make([]bar, n)
	layout := "15:04"
	if end.Sub(start) > 48*time.Hour {
		layout = "01-02 15:04"
	} else if end.Sub(start) < 10*time.Minute {
		layout = "15:04:05"
	}
	for i := range out {
		out[i].Label = start.Add(time.Duration(i) * step).UTC().Format(layout)
		out[i].Class = "time"
	}
	for _, ev := range evs {
		i := int(ev.CreatedAt.Sub(start) / step)
		if i >= 0 && i < n {
			out[i].Value++
		} else if i == n {
			out[n-1].Value++
		}
	}
	return out
}

// barChart draws bars as an SVG: a vertical bar per value, its value above
// it and its label below. Every string in it is escaped; id names its title
// for aria-labelledby.
func barChart(id, title, desc string, bars []bar, unit string) template.HTML {
	const w, h, top, bottom, left = 560, 220, 24, 44, 8
	esc := template.HTMLEscapeString
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" id="%s" role="img" aria-labelledby="%s-t %s-d" viewBox="0 0 %d %d" width="%d" height="%d">`,
		esc(id), esc(id), esc(id), w, h, w, h)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, esc(id), esc(title), esc(id), esc(desc))
	if len(bars) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="empty">no events in this window</text></svg>`, w/2, h/2)
		return template.HTML(b.String())
	}
	var peak int64
	for _, br := range bars {
		peak = max(peak, br.Value)
	}
	plotH := float64(h - top - bottom)
	slot := float64(w-2*left) / float64(len(bars))
	barW := slot * 0.7
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, left, h-bottom, w-left, h-bottom)
	for i, br := range bars {
		bh := 0.0
		if peak > 0 {
			bh = plotH * float64(br.Value) / float64(peak)
		}
		x := float64(left) + float64(i)*slot + (slot-barW)/2
		y := float64(h-bottom) - bh
		fmt.Fprintf(&b, `<rect class="bar %s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %d%s</title></rect>`,
			esc(br.Class), x, y, barW, bh, esc(br.Label), br.Value, esc(unit))
		fmt.Fprintf(&b, `<text class="value" x="%.1f" y="%.1f">%d%s</text>`, x+barW/2, y-4, br.Value, esc(unit))
		fmt.Fprintf(&b, `<text class="label" x="%.1f" y="%d" transform="rotate(-20 %.1f %d)">%s</text>`,
			x+barW/2, h-bottom+16, x+barW/2, h-bottom+16, esc(br.Label))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
