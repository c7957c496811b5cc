package cli

// events wait: follow many events to a terminal status with paged listings
// (one request per page of up to waitPageSize events, not one per event),
// a live progress display on stderr, and a summary at the end.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	ucli "github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/event"
)

const (
	// waitPageSize is asked of Events per page; a provider that gives
	// fewer is paged on by the offset it did give.
	waitPageSize = 1000
	// waitSlack widens the listing window before the oldest pending event,
	// for a cloud whose filter is coarser than the CreatedAt it reports
	// (whole seconds). Every round reads again what finished in it, so it
	// is kept short.
	waitSlack = time.Second
	// waitNotFoundGrace is how long an id no listing shows is asked after
	// one by one before it is reported NOT_FOUND: a cloud's listing may lag
	// its invoke (Lambda's from CloudWatch Logs).
	waitNotFoundGrace = 30 * time.Second
	// waitOneByOne is how many unseen ids are asked for one by one.
	waitOneByOne = 50
)

// statusNotFound is an id the provider does not know (after the grace).
const statusNotFound event.Status = "NOT_FOUND"

// statusPending counts, in the progress display, the events not finished
// yet: rounds list only finished events, so a pending one's last status
// seen (QUEUED, RUNNING) would be stale.
const statusPending event.Status = "PENDING"

// eventsWaitOptions: asyncfn events wait.
type eventsWaitOptions struct {
	*Globals
	IO       IO
	Function string
	IDs      []string
	From     string
	Timeout  time.Duration
	Interval time.Duration
}

func eventsWaitCommand(g *Globals, io IO) *ucli.Command {
	o := &eventsWaitOptions{Globals: g, IO: io}
	return &ucli.Command{
		Name:      "wait",
		Usage:     "follow events to a terminal status; exit 0 if all SUCCEEDED, 1 if not",
		ArgsUsage: "[REQUEST_ID...]",
		Description: "Ids come from the arguments and from --from (one per line; the JSON lines of\n" +
			"invoke --each --output json are read too). Progress goes to stderr: a live bar on a\n" +
			"terminal, plain lines otherwise, and each failure as it happens. Events are followed with\n" +
			"paged listings, not one request per event. At the end the ids that did not succeed are\n" +
			"printed on stdout (ID, STATUS, ERROR, tab-separated); with --output json a summary:\n" +
			"counts per status, duration p50/p95/max and the failed ids with their errors.\n" +
			"Exit 0 if all SUCCEEDED, 1 if any did not (or --timeout passed), 2 on usage errors,\n" +
			"130 when interrupted.",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "function", Aliases: []string{"f"}, Usage: "`FUNCTION` the events belong to", Destination: &o.Function},
			&ucli.StringFlag{Name: "from", Usage: "read RequestIds from `FILE` (- for stdin)", Destination: &o.From},
			&ucli.DurationFlag{Name: "timeout", Usage: "give up after `DUR`; what is still pending counts as not succeeded", Destination: &o.Timeout},
			&ucli.DurationFlag{Name: "interval", Value: time.Second, Usage: "list what finished at most every `DUR`", Destination: &o.Interval},
		},
		Action: func(c *ucli.Context) error {
			o.IDs = c.Args().Slice()
			return runEventsWait(c.Context, o)
		},
	}
}

// readWaitIDs reads RequestIds, one per line: a JSON object's requestId
// (lines without one, such as a failed input's, are skipped), or else the
// line's first field (so the failures events wait printed can be fed back).
func readWaitIDs(r io.Reader) ([]string, error) {
	var ids []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if line[0] == '{' {
			var v struct {
				RequestID string `json:"requestId"`
			}
			if err := json.Unmarshal([]byte(line), &v); err != nil {
				return nil, fmt.Errorf("line %d: not valid JSON: %w", n, err)
			}
			if v.RequestID != "" {
				ids = append(ids, v.RequestID)
			}
			continue
		}
		ids = append(ids, strings.Fields(line)[0])
	}
	return ids, sc.Err()
}

// dedupe keeps the first of each id, in order.
func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func runEventsWait(ctx context.Context, o *eventsWaitOptions) error {
	if o.Timeout < 0 {
		return usagef("--timeout must not be negative")
	}
	if o.Interval <= 0 {
		return usagef("--interval must be positive")
	}
	ids := slices.Clone(o.IDs)
	if o.From != "" {
		if o.From == "-" && o.ResolvedConfig == "-" {
			return usagef("--from - and --resolved-config - both read standard input: give the ids as a file")
		}
		var r io.Reader = o.IO.In
		if o.From != "-" {
			f, err := os.Open(o.From)
			if err != nil {
				return usagef("--from: %v", err)
			}
			defer f.Close()
			r = f
		} else if r == nil {
			return usagef("--from -: no standard input")
		}
		more, err := readWaitIDs(r)
		if err != nil {
			return usagef("--from %s: %v", o.From, err)
		}
		ids = append(ids, more...)
	}
	ids = dedupe(ids)
	if len(ids) == 0 {
		return usagef("events wait needs RequestIds: as arguments or with --from FILE|-")
	}
	t, fn, err := openFunction(o.Globals, o.IO, o.Function)
	if err != nil {
		return err
	}
	wctx := ctx
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	w := newWaiter(t.provider, fn.DeployedName, ids)
	prog := newWaitProgress(o.IO.Err, len(ids))
	w.onChange = prog.update
	w.onFailure = prog.failure
	start := time.Now()
	err = w.run(wctx, o.Interval)
	took := time.Since(start)
	prog.finish(w)
	if err != nil && wctx.Err() == nil {
		return fmt.Errorf("events wait %s: %w", fn.Name, err)
	}
	sum := w.summary(fn.Name, took)
	if o.JSON() {
		if err := writeJSONOut(o.IO.Out, sum); err != nil {
			return err
		}
	} else {
		for _, f := range sum.Failed {
			fmt.Fprintf(o.IO.Out, "%s\t%s\t%s\n", f.RequestID, f.Status, oneLine(strings.TrimPrefix(f.ErrorType+": "+f.ErrorMessage, ": "), 200))
		}
		fmt.Fprintf(o.IO.Err, "%d event(s) in %s: %s\n", len(ids), took.Round(time.Millisecond), countsLine(sum.ByStatus))
	}
	switch {
	case ctx.Err() != nil:
		return &exitCodeError{code: exitInterrupted, err: fmt.Errorf("interrupted: %d of %d event(s) still pending", len(sum.Pending), len(ids))}
	case wctx.Err() != nil:
		return &exitCodeError{code: exitFailure, err: fmt.Errorf("--timeout %s: %d of %d event(s) still pending", o.Timeout, len(sum.Pending), len(ids))}
	case len(sum.Failed) > 0:
		return &exitCodeError{code: exitFailure}
	}
	return nil
}

// countsLine is "SUCCEEDED 950, FAILED 50" in lifecycle order.
func countsLine(by map[event.Status]int) string {
	var parts []string
	for _, s := range append([]event.Status{statusPending}, append(slices.Clone(event.All), statusNotFound)...) {
		if by[s] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, by[s]))
		}
	}
	if len(parts) == 0 {
		return "none seen yet"
	}
	return strings.Join(parts, ", ")
}

// waiter follows a set of events of one function.
type waiter struct {
	p   adapters.Provider
	fn  string
	ids []string
	// last is each id's newest state; an id absent has not been seen.
	last map[string]adapters.Event
	// firstMissing is when an id was first looked for in vain.
	firstMissing map[string]time.Time
	done         int              // ids in a terminal status (or NOT_FOUND)
	now          func() time.Time // for the not-found grace (tests move it)

	onChange  func(w *waiter)
	onFailure func(ev adapters.Event)
}

func newWaiter(p adapters.Provider, fn string, ids []string) *waiter {
	return &waiter{p: p, fn: fn, ids: ids, last: map[string]adapters.Event{}, firstMissing: map[string]time.Time{}, now: time.Now,
		onChange: func(*waiter) {}, onFailure: func(adapters.Event) {}}
}

func (w *waiter) terminal(id string) bool {
	ev, ok := w.last[id]
	return ok && (ev.Status.Terminal() || ev.Status == statusNotFound)
}

// observe records ev if it is one of ours and changed.
func (w *waiter) observe(ev adapters.Event) {
	prev, ok := w.last[ev.RequestID]
	if !ok {
		if _, wanted := w.firstMissing[ev.RequestID]; !wanted {
			return
		}
	}
	if ok && (prev.Status.Terminal() || prev.Status == statusNotFound) {
		return
	}
	w.last[ev.RequestID] = ev
	delete(w.firstMissing, ev.RequestID)
	if ev.Status.Terminal() || ev.Status == statusNotFound {
		w.done++
		if ev.Status != event.Succeeded {
			w.onFailure(ev)
		}
	}
}

// run lists until every event is terminal or ctx ends (its error then).
func (w *waiter) run(ctx context.Context, interval time.Duration) error {
	for _, id := range w.ids {
		w.firstMissing[id] = time.Time{} // wanted, never looked for
	}
	// Discovery: newest first, since a batch just sent is the newest;
	// this learns each event's creation time, which bounds later rounds.
	if err := w.list(ctx, adapters.EventQuery{Desc: true}, len(w.ids)); err != nil {
		return err
	}
	for {
		if err := w.lookUpMissing(ctx); err != nil {
			return err
		}
		w.onChange(w)
		if w.done == len(w.ids) {
			return nil
		}
		began := time.Now()
		if err := w.round(ctx); err != nil {
			return err
		}
		// Never list more often than a round takes: a slow provider
		// (or a huge window) is not hammered.
		pause := max(interval, time.Since(began))
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// terminalStatuses are what a round lists: an event still pending is not
// listed again and again, only once when it has finished.
var terminalStatuses = []event.Status{event.Succeeded, event.Failed, event.TimedOut, event.Terminated}

// round lists the events that finished, from the oldest pending one on,
// ascending, until every pending event has been found finished or the
// listing ends. As events mostly finish in the order they were created,
// the oldest pending one moves on and a round reads little more than what
// finished since the last: a batch of 10,000 is not listed whole each time.
func (w *waiter) round(ctx context.Context) error {
	var oldest time.Time
	pending := 0
	for _, id := range w.ids {
		ev, ok := w.last[id]
		if !ok || w.terminal(id) {
			continue
		}
		pending++
		if oldest.IsZero() || ev.CreatedAt.Before(oldest) {
			oldest = ev.CreatedAt
		}
	}
	if pending == 0 {
		return nil
	}
	return w.list(ctx, adapters.EventQuery{Statuses: terminalStatuses, Since: oldest.Add(-waitSlack)}, pending)
}

// list pages through q, recording our events, and stops early once want
// of the pending (or never seen) events were seen on this pass.
func (w *waiter) list(ctx context.Context, q adapters.EventQuery, want int) error {
	q.Limit = waitPageSize
	seen := 0
	for {
		page, err := w.p.Events(ctx, w.fn, q)
		if err != nil {
			return fmt.Errorf("list events: %w", err)
		}
		for _, ev := range page.Events {
			_, known := w.last[ev.RequestID]
			_, missing := w.firstMissing[ev.RequestID]
			if missing || known && !w.terminal(ev.RequestID) {
				seen++
			}
			w.observe(ev)
		}
		q.Offset += len(page.Events)
		if seen >= want || len(page.Events) == 0 || q.Offset >= page.Total {
			return nil
		}
	}
}

// lookUpMissing finds the ids no listing showed yet: while there are many
// (a cloud whose listing lags its invokes) with another newest-first
// listing, and when few are left one by one; after waitNotFoundGrace an
// unknown id is NOT_FOUND. Only stragglers (a typo, a late log) cost a
// request each.
func (w *waiter) lookUpMissing(ctx context.Context) error {
	if n := len(w.firstMissing); n > waitOneByOne {
		if err := w.list(ctx, adapters.EventQuery{Desc: true}, n); err != nil {
			return err
		}
	}
	if len(w.firstMissing) > waitOneByOne {
		// Still many after a listing to the end: those missing past the
		// grace are unknown, as a lookup would have said one by one.
		now := w.now()
		for _, id := range w.ids {
			first, missing := w.firstMissing[id]
			switch {
			case !missing:
			case first.IsZero():
				w.firstMissing[id] = now
			case now.Sub(first) >= waitNotFoundGrace:
				w.observe(adapters.Event{RequestID: id, Status: statusNotFound, ErrorMessage: "no such event of this function"})
			}
		}
		return nil
	}
	for _, id := range w.ids {
		first, missing := w.firstMissing[id]
		if !missing {
			continue
		}
		now := w.now()
		if first.IsZero() {
			first = now
			w.firstMissing[id] = now
		}
		ev, err := w.p.Event(ctx, w.fn, id)
		switch {
		case err == nil:
			ev.RequestID = id
			w.observe(ev)
		case errors.Is(err, adapters.ErrNotFound):
			if now.Sub(first) >= waitNotFoundGrace {
				w.observe(adapters.Event{RequestID: id, Status: statusNotFound, ErrorMessage: "no such event of this function"})
			}
		default:
			return fmt.Errorf("event %s: %w", id, err)
		}
	}
	return nil
}

// waitSummary is events wait's result (--output json): the events' stats,
// as events stats gives them, and what the wait adds.
type waitSummary struct {
	adapters.Stats
	ElapsedMs int64         `json:"elapsedMs"`
	Failed    []waitFailure `json:"failed"`
	Pending   []string      `json:"pending,omitempty"` // not terminal when the wait ended
}

// waitFailure is an event that did not succeed (or had not when the wait ended).
type waitFailure struct {
	RequestID    string       `json:"requestId"`
	Status       event.Status `json:"status"`
	ErrorType    string       `json:"errorType,omitempty"`
	ErrorMessage string       `json:"errorMessage,omitempty"`
}

// summary counts the events as last seen; durations are summarised as
// events stats does it (adapters.StatsOf: event.Timed, nearest rank).
func (w *waiter) summary(fn string, took time.Duration) waitSummary {
	evs := make([]adapters.Event, 0, len(w.ids))
	for _, id := range w.ids {
		if ev, ok := w.last[id]; ok {
			evs = append(evs, ev)
		}
	}
	s := waitSummary{Stats: adapters.StatsOf(fn, len(w.ids), evs), ElapsedMs: took.Milliseconds(), Failed: []waitFailure{}}
	for _, id := range w.ids {
		ev, ok := w.last[id]
		if !ok {
			ev = adapters.Event{RequestID: id, Status: "UNKNOWN"}
		}
		if ev.Status == event.Succeeded {
			continue
		}
		if !w.terminal(id) {
			s.Pending = append(s.Pending, id)
		}
		s.Failed = append(s.Failed, waitFailure{RequestID: id, Status: ev.Status, ErrorType: ev.ErrorType, ErrorMessage: ev.ErrorMessage})
	}
	return s
}

// waitProgress shows events wait's progress on stderr: a bar on a
// terminal, a plain line every few seconds otherwise; failures as lines.
type waitProgress struct {
	w       io.Writer
	bar     *progressbar.ProgressBar // nil when stderr is not a terminal
	total   int
	start   time.Time
	lastOut time.Time
	lastMsg string
}

func newWaitProgress(w io.Writer, total int) *waitProgress {
	p := &waitProgress{w: w, total: total, start: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("waiting"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("events"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetWidth(30),
		)
	}
	return p
}

// counts are the final statuses seen, and how many are still pending.
func (p *waitProgress) counts(w *waiter) map[event.Status]int {
	by := map[event.Status]int{}
	for _, id := range w.ids {
		if w.terminal(id) {
			by[w.last[id].Status]++
		} else {
			by[statusPending]++
		}
	}
	return by
}

func (p *waitProgress) update(w *waiter) {
	line := countsLine(p.counts(w))
	if p.bar != nil {
		p.bar.Describe(line)
		_ = p.bar.Set(w.done)
		return
	}
	// Plain lines: on a change, at most every 2 s, and always the last.
	now := time.Now()
	if line == p.lastMsg || now.Sub(p.lastOut) < 2*time.Second && w.done < p.total {
		return
	}
	p.lastOut, p.lastMsg = now, line
	el := now.Sub(p.start)
	rate := float64(w.done) / max(el.Seconds(), 1e-3)
	eta := "-"
	if w.done > 0 && w.done < p.total {
		eta = time.Duration(float64(p.total-w.done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "wait: %d/%d done in %s (%.1f/s, ETA %s): %s\n", w.done, p.total, el.Round(time.Second), rate, eta, line)
}

func (p *waitProgress) failure(ev adapters.Event) {
	msg := fmt.Sprintf("%s %s", ev.Status, ev.RequestID)
	if e := strings.TrimPrefix(ev.ErrorType+": "+ev.ErrorMessage, ": "); e != "" {
		msg += ": " + oneLine(e, 160)
	}
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	fmt.Fprintln(p.w, msg)
}

func (p *waitProgress) finish(w *waiter) {
	if p.bar != nil {
		_ = p.bar.Set(w.done)
		fmt.Fprintln(p.w)
	}
}
