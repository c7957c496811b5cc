package cli

// `asyncfn local collect DIR`: what a failed CI run needs, as files a person
// can read — every function's events (statuses, attempts, errors) and their
// logs since the emulator started.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/asyncfn/asyncfn/nativeapi"
)

// collectOptions: asyncfn local collect DIR.
type collectOptions struct {
	ctlOptions
	Since string
	Dir   string
}

func localCollectCommand(g *Globals, io IO) *ucli.Command {
	o := &collectOptions{ctlOptions: ctlOptions{Globals: g, IO: io}}
	return &ucli.Command{
		Name:      "collect",
		Usage:     "write every function's events and logs to DIR as readable files (for CI artifacts)",
		UsageText: "asyncfn local collect DIR [--addr HOST:PORT] [--since DUR|TIME|all]",
		Description: "Writes DIR/summary.txt (and summary.json), and per function DIR/FUNCTION/ with\n" +
			"function.json, events.json (every event with its attempts and errors), events.txt (a table),\n" +
			"one REQUESTID.log per event and function.log (lines outside any event); DIR/emulator.log is the\n" +
			"emulator's own output when it was started with --detach. By default it takes what happened since\n" +
			"the emulator started (from its pid record; everything when there is none).",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "addr", Usage: "the emulator at `HOST:PORT` (default: ASYNCFN_LOCAL_URL, else " + defaultLocalURL + ")", Destination: &o.Addr},
			&ucli.StringFlag{Name: "since", Usage: "events created after `WHEN`: a duration back (1h), an RFC 3339 time, or all", Destination: &o.Since},
			&ucli.StringFlag{Name: "state-dir", Usage: "the emulator whose state is in `DIR` (to find when it started and its log)", Destination: &o.StateDir},
		},
		Action: func(c *ucli.Context) error {
			if c.NArg() != 1 {
				return usagef("local collect takes one argument, the directory to write (got %d)", c.NArg())
			}
			o.Dir = c.Args().First()
			return runCollect(c.Context, o)
		},
	}
}

// collectClient reads the native API (with the credentials, if any, as
// HTTP Basic auth).
type collectClient struct {
	base *url.URL
	http *http.Client
}

func (c *collectClient) get(ctx context.Context, path string, q url.Values, out any) error {
	u := *c.base
	u.User = nil
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	if c.base.User != nil {
		pw, _ := c.base.User.Password()
		req.SetBasicAuth(c.base.User.Username(), pw)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var body nativeapi.ErrorBody
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		if json.Unmarshal(b, &body) == nil && body.Error.Message != "" {
			return fmt.Errorf("GET %s: %d %s: %s", path, resp.StatusCode, body.Error.Code, body.Error.Message)
		}
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}

// collectSince is when the collection starts: --since, else the start of the
// emulator's record, else the zero time (everything).
func collectSince(o *collectOptions, rec *emulatorRecord, now time.Time) (time.Time, error) {
	switch s := strings.TrimSpace(o.Since); {
	case s == "all":
		return time.Time{}, nil
	case s != "":
		if d, err := time.ParseDuration(s); err == nil {
			return now.Add(-d), nil
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, usagef("--since %q: use a duration (1h), an RFC 3339 time or all", s)
		}
		return t, nil
	case rec != nil:
		return rec.StartedAt, nil
	}
	return time.Time{}, nil
}

// functionSummary is one function's line in summary.json.
type functionSummary struct {
	Function string         `json:"function"`
	Events   int            `json:"events"`
	ByStatus map[string]int `json:"byStatus"`
	Failed   []string       `json:"failed,omitempty"` // request ids that did not succeed
}

// collectSummary is summary.json.
type collectSummary struct {
	URL         string            `json:"url"`
	CollectedAt time.Time         `json:"collectedAt"`
	Since       *time.Time        `json:"since,omitempty"`
	Functions   []functionSummary `json:"functions"`
}

func runCollect(ctx context.Context, o *collectOptions) error {
	base, err := o.url()
	if err != nil {
		return err
	}
	u, err := url.Parse(withCredentials(base, o.IO))
	if err != nil {
		return usagef("emulator URL %q: %v", base, err)
	}
	stateDir := o.StateDir
	if stateDir != "" {
		if stateDir, err = filepath.Abs(stateDir); err != nil {
			return err
		}
	}
	var rec *emulatorRecord
	if r, err := findRecord(o.IO, base, stateDir); err == nil {
		rec = &r
	}
	now := time.Now().UTC()
	since, err := collectSince(o, rec, now)
	if err != nil {
		return err
	}
	c := &collectClient{base: u, http: &http.Client{Timeout: time.Minute}}
	var fns struct {
		Functions []nativeapi.FunctionInfo `json:"functions"`
	}
	if err := c.get(ctx, "/v1/functions", nil, &fns); err != nil {
		return fmt.Errorf("list functions at %s: %w", base, err)
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", o.Dir, err)
	}
	sum := collectSummary{URL: base, CollectedAt: now, Functions: []functionSummary{}}
	if !since.IsZero() {
		sum.Since = &since
	}
	for _, fn := range fns.Functions {
		fs, err := collectFunction(ctx, c, o.Dir, fn, since)
		if err != nil {
			return fmt.Errorf("collect %s: %w", fn.Name, err)
		}
		sum.Functions = append(sum.Functions, fs)
	}
	if rec != nil && rec.Log != "" {
		if err := copyFile(rec.Log, filepath.Join(o.Dir, "emulator.log")); err != nil && !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(o.IO.Err, "Warning: emulator log not copied: %v\n", err)
		}
	}
	if err := writeJSONFile(filepath.Join(o.Dir, "summary.json"), sum); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(o.Dir, "summary.txt"), []byte(summaryText(sum)), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(o.IO.Err, "collected %d function(s) from %s into %s\n", len(sum.Functions), base, o.Dir)
	return nil
}

// collectFunction writes one function's directory.
func collectFunction(ctx context.Context, c *collectClient, root string, fn nativeapi.FunctionInfo, since time.Time) (functionSummary, error) {
	fs := functionSummary{Function: fn.Name, ByStatus: map[string]int{}}
	dir := filepath.Join(root, fn.Name) // names are checked as the clouds check them: no separators
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fs, err
	}
	if err := writeJSONFile(filepath.Join(dir, "function.json"), fn); err != nil {
		return fs, err
	}
	var events []nativeapi.EventInfo
	for offset := 0; ; {
		q := url.Values{"order": {"asc"}, "limit": {"100"}, "offset": {strconv.Itoa(offset)}}
		if !since.IsZero() {
			q.Set("since", since.Format(time.RFC3339Nano))
		}
		var page nativeapi.EventPage
		if err := c.get(ctx, "/v1/functions/"+url.PathEscape(fn.Name)+"/events", q, &page); err != nil {
			return fs, err
		}
		for _, ev := range page.Events {
			// The single event carries its attempts (and the payload).
			var full nativeapi.EventInfo
			if err := c.get(ctx, "/v1/functions/"+url.PathEscape(fn.Name)+"/events/"+url.PathEscape(ev.RequestID), nil, &full); err != nil {
				return fs, err
			}
			events = append(events, full)
		}
		offset += len(page.Events)
		if len(page.Events) == 0 || offset >= page.Total {
			break
		}
	}
	logs, err := collectLogLines(ctx, c, fn.Name, since)
	if err != nil {
		return fs, err
	}
	byID := map[string][]nativeapi.LogLineInfo{}
	for _, l := range logs {
		byID[l.RequestID] = append(byID[l.RequestID], l)
	}
	for _, ev := range events {
		fs.Events++
		fs.ByStatus[string(ev.Status)]++
		if ev.Status != "SUCCEEDED" {
			fs.Failed = append(fs.Failed, ev.RequestID)
		}
		if err := os.WriteFile(filepath.Join(dir, ev.RequestID+".log"), []byte(logText(byID[ev.RequestID])), 0o644); err != nil {
			return fs, err
		}
	}
	if lines := byID[""]; len(lines) > 0 {
		if err := os.WriteFile(filepath.Join(dir, "function.log"), []byte(logText(lines)), 0o644); err != nil {
			return fs, err
		}
	}
	if events == nil {
		events = []nativeapi.EventInfo{}
	}
	if err := writeJSONFile(filepath.Join(dir, "events.json"), events); err != nil {
		return fs, err
	}
	return fs, os.WriteFile(filepath.Join(dir, "events.txt"), []byte(eventsText(events)), 0o644)
}

// collectLogLines pages through a function's stored log lines.
func collectLogLines(ctx context.Context, c *collectClient, fn string, since time.Time) ([]nativeapi.LogLineInfo, error) {
	var all []nativeapi.LogLineInfo
	cursor := ""
	for {
		q := url.Values{"function": {fn}, "limit": {"1000"}}
		if !since.IsZero() {
			q.Set("since", since.Format(time.RFC3339Nano))
		}
		if cursor != "" {
			q.Set("after", cursor)
		}
		var page nativeapi.LogPage
		if err := c.get(ctx, "/v1/logs", q, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Lines...)
		if len(page.Lines) < 1000 || page.Cursor == "" || page.Cursor == cursor {
			return all, nil
		}
		cursor = page.Cursor
	}
}

func logText(lines []nativeapi.LogLineInfo) string {
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%s %s %s\n", l.Time.UTC().Format("2006-01-02T15:04:05.000Z"), l.Stream, l.Text)
	}
	return b.String()
}

// eventsText is events.txt: one line per event, then each failure's attempts.
func eventsText(events []nativeapi.EventInfo) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REQUEST ID\tSTATUS\tATTEMPTS\tCREATED\tDURATION\tERROR")
	for _, ev := range events {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%dms\t%s\n", ev.RequestID, ev.Status, ev.Attempts, ev.CreatedAt.UTC().Format(time.RFC3339),
			ev.DurationMs, oneLine(strings.TrimSpace(ev.ErrorType+" "+ev.ErrorMessage), 200))
	}
	tw.Flush()
	for _, ev := range events {
		if ev.Status == "SUCCEEDED" || len(ev.AttemptList) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s %s:\n", ev.RequestID, ev.Status)
		for _, a := range ev.AttemptList {
			fmt.Fprintf(&b, "  attempt %d %s %dms %s\n", a.N, a.Status, a.DurationMs, oneLine(strings.TrimSpace(a.ErrorType+" "+a.ErrorMessage), 200))
		}
	}
	return b.String()
}

func summaryText(s collectSummary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "asyncfn emulator %s, collected %s\n", s.URL, s.CollectedAt.Format(time.RFC3339))
	if s.Since != nil {
		fmt.Fprintf(&b, "events since %s\n", s.Since.UTC().Format(time.RFC3339))
	}
	fmt.Fprintln(&b)
	for _, f := range s.Functions {
		statuses := make([]string, 0, len(f.ByStatus))
		for st, n := range f.ByStatus {
			statuses = append(statuses, fmt.Sprintf("%s %d", st, n))
		}
		sort.Strings(statuses)
		fmt.Fprintf(&b, "%s: %d event(s)", f.Function, f.Events)
		if len(statuses) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(statuses, ", "))
		}
		fmt.Fprintln(&b)
		for _, id := range f.Failed {
			fmt.Fprintf(&b, "  not succeeded: %s/%s.log\n", f.Function, id)
		}
	}
	if len(s.Functions) == 0 {
		fmt.Fprintln(&b, "no functions deployed")
	}
	return b.String()
}

func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
