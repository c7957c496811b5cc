package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/event"
)

func eventsCommand(g *Globals, io IO) *ucli.Command {
	return &ucli.Command{
		Name:  "events",
		Usage: "list, inspect, terminate, count and wait for a function's events",
		Subcommands: []*ucli.Command{
			eventsListCommand(g, io),
			eventsGetCommand(g, io),
			eventsTerminateCommand(g, io),
			eventsStatsCommand(g, io),
			eventsWaitCommand(g, io),
		},
	}
}

// parseSince reads a duration back from now ("90m", "2h", "3d") or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if strings.HasSuffix(s, "d") {
		if n, err := strconv.Atoi(strings.TrimSuffix(s, "d")); err == nil && n >= 0 {
			return now.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, usagef("--since %q: use a duration such as 30m, 2h or 3d, or an RFC 3339 time", s)
	}
	return now.Add(-d), nil
}

func parseStatuses(s string) ([]event.Status, error) {
	if s == "" {
		return nil, nil
	}
	var out []event.Status
	for _, part := range strings.Split(s, ",") {
		st, ok := event.Parse(part)
		if !ok {
			return nil, usagef("--status %q: use one or more of %v, comma-separated", part, event.All)
		}
		out = append(out, st)
	}
	return out, nil
}

// eventsListOptions: asyncfn events list.
type eventsListOptions struct {
	*Globals
	IO       IO
	Function string
	Status   string
	Since    string
	Limit    int
	Offset   int
	Order    string
}

func eventsListCommand(g *Globals, io IO) *ucli.Command {
	o := &eventsListOptions{Globals: g, IO: io}
	return &ucli.Command{
		Name:  "list",
		Usage: "list a function's events, newest first by default",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "function", Aliases: []string{"f"}, Usage: "`FUNCTION` whose events to list", Destination: &o.Function},
			&ucli.StringFlag{Name: "status", Usage: "only these statuses: `S[,S]` of QUEUED, RUNNING, SUCCEEDED, FAILED, TIMED_OUT, TERMINATED", Destination: &o.Status},
			&ucli.StringFlag{Name: "since", Usage: "only events created in the last `DUR` (30m, 2h, 3d) or since an RFC 3339 time", Destination: &o.Since},
			&ucli.IntFlag{Name: "limit", Value: 20, Usage: "at most `N` events (1-100)", Destination: &o.Limit},
			&ucli.IntFlag{Name: "offset", Usage: "skip the first `N` matches", Destination: &o.Offset},
			&ucli.StringFlag{Name: "order", Value: "desc", Usage: "by creation time: asc or desc", Destination: &o.Order},
		},
		Action: func(c *ucli.Context) error { return runEventsList(c.Context, o) },
	}
}

func runEventsList(ctx context.Context, o *eventsListOptions) error {
	statuses, err := parseStatuses(o.Status)
	if err != nil {
		return err
	}
	since, err := parseSince(o.Since, time.Now())
	if err != nil {
		return err
	}
	if o.Limit < 1 || o.Limit > 100 {
		return usagef("--limit %d: use 1 to 100", o.Limit)
	}
	if o.Offset < 0 {
		return usagef("--offset %d must not be negative", o.Offset)
	}
	if o.Order != "asc" && o.Order != "desc" {
		return usagef("--order %q: use asc or desc", o.Order)
	}
	t, fn, err := openFunction(o.Globals, o.IO, o.Function)
	if err != nil {
		return err
	}
	page, err := t.provider.Events(ctx, fn.DeployedName, adapters.EventQuery{Statuses: statuses, Since: since, Desc: o.Order == "desc", Offset: o.Offset, Limit: o.Limit})
	if err != nil {
		return fmt.Errorf("list events of %s: %w", fn.Name, err)
	}
	if o.JSON() {
		if page.Events == nil {
			page.Events = []adapters.Event{}
		}
		return writeJSONOut(o.IO.Out, page)
	}
	tw := tabwriter.NewWriter(o.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REQUEST ID\tSTATUS\tATTEMPTS\tCREATED\tDURATION\tERROR")
	for _, ev := range page.Events {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", ev.RequestID, ev.Status, ev.Attempts, ev.CreatedAt.Local().Format("2006-01-02 15:04:05"),
			duration(ev), oneLine(ev.ErrorMessage, 60))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(o.IO.Err, "%d of %d event(s)\n", len(page.Events), page.Total)
	return nil
}

func duration(ev adapters.Event) string {
	switch {
	case ev.Status == event.Running && ev.StartedAt != nil:
		return time.Since(*ev.StartedAt).Round(time.Second).String() + "+"
	case ev.StartedAt == nil:
		return "-"
	}
	return (time.Duration(ev.DurationMs) * time.Millisecond).String()
}

func oneLine(s string, max int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > max {
		return s[:max-1] + "…"
	}
	return s
}

// eventsGetOptions: asyncfn events get.
type eventsGetOptions struct {
	*Globals
	IO        IO
	Function  string
	RequestID string
}

func eventsGetCommand(g *Globals, io IO) *ucli.Command {
	o := &eventsGetOptions{Globals: g, IO: io}
	return &ucli.Command{
		Name:      "get",
		Usage:     "show one event: status, attempts, times, result or error",
		ArgsUsage: "REQUEST_ID",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "function", Aliases: []string{"f"}, Usage: "`FUNCTION` the event belongs to", Destination: &o.Function},
		},
		Action: func(c *ucli.Context) error {
			if c.NArg() != 1 {
				return usagef("events get takes one REQUEST_ID")
			}
			o.RequestID = c.Args().First()
			return runEventsGet(c.Context, o)
		},
	}
}

func runEventsGet(ctx context.Context, o *eventsGetOptions) error {
	t, fn, err := openFunction(o.Globals, o.IO, o.Function)
	if err != nil {
		return err
	}
	ev, err := t.provider.Event(ctx, fn.DeployedName, o.RequestID)
	if err != nil {
		return fmt.Errorf("event %s of %s: %w", o.RequestID, fn.Name, err)
	}
	if o.JSON() {
		return writeJSONOut(o.IO.Out, ev)
	}
	tw := tabwriter.NewWriter(o.IO.Out, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	ts := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Local().Format(time.RFC3339Nano)
	}
	row("RequestId", ev.RequestID)
	row("Function", ev.Function)
	row("Status", string(ev.Status))
	row("InvokeType", ev.InvokeType)
	row("Attempts", strconv.Itoa(ev.Attempts))
	row("Created", ev.CreatedAt.Local().Format(time.RFC3339Nano))
	row("Started", ts(ev.StartedAt))
	row("Ended", ts(ev.EndedAt))
	row("Duration", duration(ev))
	if ev.MaxMemoryMB > 0 {
		row("MaxMemory", strconv.Itoa(ev.MaxMemoryMB)+" MB")
	}
	row("Result", adapters.ResultString(ev.Result, ev.ResultText))
	row("ErrorType", ev.ErrorType)
	row("ErrorMessage", ev.ErrorMessage)
	return tw.Flush()
}

// eventsTerminateOptions: asyncfn events terminate.
type eventsTerminateOptions struct {
	*Globals
	IO        IO
	Function  string
	RequestID string
	Grace     time.Duration
}

func eventsTerminateCommand(g *Globals, io IO) *ucli.Command {
	o := &eventsTerminateOptions{Globals: g, IO: io}
	return &ucli.Command{
		Name:      "terminate",
		Usage:     "stop a queued or running event",
		ArgsUsage: "REQUEST_ID",
		Description: "With --grace the function's process gets SIGTERM and is killed after DUR;\n" +
			"without it, it is killed at once. A queued event is removed from the queue.",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "function", Aliases: []string{"f"}, Usage: "`FUNCTION` the event belongs to", Destination: &o.Function},
			&ucli.DurationFlag{Name: "grace", Usage: "SIGTERM first and SIGKILL after `DUR` (e.g. 10s)", Destination: &o.Grace},
		},
		Action: func(c *ucli.Context) error {
			if c.NArg() != 1 {
				return usagef("events terminate takes one REQUEST_ID")
			}
			o.RequestID = c.Args().First()
			return runEventsTerminate(c.Context, o)
		},
	}
}

func runEventsTerminate(ctx context.Context, o *eventsTerminateOptions) error {
	if o.Grace < 0 {
		return usagef("--grace must not be negative")
	}
	t, fn, err := openFunction(o.Globals, o.IO, o.Function)
	if err != nil {
		return err
	}
	// Ask first, so that nothing is announced for an event that has already
	// finished (or is only queued: that one leaves the queue, no signal).
	// Should the lookup fail, the terminate call itself gives the answer.
	if ev, err := t.provider.Event(ctx, fn.DeployedName, o.RequestID); err == nil {
		if ev.Status.Terminal() {
			return fmt.Errorf("terminate %s: the event already finished: %s", o.RequestID, ev.Status)
		}
		if o.Grace > 0 && ev.Status == event.Running {
			fmt.Fprintf(o.IO.Err, "%s is RUNNING: sending SIGTERM; SIGKILL after %s if it has not stopped ...\n", o.RequestID, o.Grace)
		}
	}
	if err := t.provider.Terminate(ctx, fn.DeployedName, o.RequestID, o.Grace); err != nil {
		return fmt.Errorf("terminate %s: %w", o.RequestID, err)
	}
	if o.JSON() {
		return writeJSONOut(o.IO.Out, map[string]any{"requestId": o.RequestID, "status": event.Terminated})
	}
	fmt.Fprintf(o.IO.Err, "%s %s\n", o.RequestID, event.Terminated)
	return nil
}

// eventsStatsOptions: asyncfn events stats.
type eventsStatsOptions struct {
	*Globals
	IO       IO
	Function string
	Since    string
}

func eventsStatsCommand(g *Globals, io IO) *ucli.Command {
	o := &eventsStatsOptions{Globals: g, IO: io}
	return &ucli.Command{
		Name:  "stats",
		Usage: "count a function's events per status, with p50/p95/max duration",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "function", Aliases: []string{"f"}, Usage: "`FUNCTION` whose events to count", Destination: &o.Function},
			&ucli.StringFlag{Name: "since", Usage: "only events created in the last `DUR` (30m, 2h, 3d) or since an RFC 3339 time", Destination: &o.Since},
		},
		Action: func(c *ucli.Context) error { return runEventsStats(c.Context, o) },
	}
}

func runEventsStats(ctx context.Context, o *eventsStatsOptions) error {
	since, err := parseSince(o.Since, time.Now())
	if err != nil {
		return err
	}
	t, fn, err := openFunction(o.Globals, o.IO, o.Function)
	if err != nil {
		return err
	}
	st, err := t.provider.Stats(ctx, fn.DeployedName, adapters.EventQuery{Since: since})
	if err != nil {
		return fmt.Errorf("stats of %s: %w", fn.Name, err)
	}
	if o.JSON() {
		return writeJSONOut(o.IO.Out, st)
	}
	tw := tabwriter.NewWriter(o.IO.Out, 0, 4, 2, ' ', 0)
	for _, s := range event.All {
		fmt.Fprintf(tw, "%s\t%d\n", s, st.ByStatus[s])
	}
	fmt.Fprintf(tw, "TOTAL\t%d\n", st.Total)
	ms := func(n int64) time.Duration { return time.Duration(n) * time.Millisecond }
	fmt.Fprintf(tw, "DURATION\tp50 %s  p95 %s  max %s\n", ms(st.P50Ms), ms(st.P95Ms), ms(st.MaxMs))
	return tw.Flush()
}
