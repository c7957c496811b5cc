package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/adapters/all"
)

// logsOptions: asyncfn logs.
type logsOptions struct {
	*Globals
	IO        IO
	Function  string
	RequestID string
	Tail      bool
	Since     string
	Filter    string
	Poll      time.Duration
}

func logsCommand(g *Globals, io IO) *ucli.Command {
	o := &logsOptions{Globals: g, IO: io}
	return &ucli.Command{
		Name:  "logs",
		Usage: "print a function's logs; --tail follows them live",
		Description: "With --tail and --request-id the command ends once that event has finished;\n" +
			"--tail without --request-id starts 10 minutes back unless --since says otherwise.\n" +
			"--output json prints one JSON object per line.",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "function", Aliases: []string{"f"}, Usage: "`FUNCTION` whose logs to print", Destination: &o.Function},
			&ucli.StringFlag{Name: "request-id", Usage: "only the lines of event `ID`", Destination: &o.RequestID},
			&ucli.BoolFlag{Name: "tail", Aliases: []string{"t"}, Usage: "keep following new lines", Destination: &o.Tail},
			&ucli.StringFlag{Name: "since", Usage: "only lines of the last `DUR` (30m, 2h, 3d) or since an RFC 3339 time", Destination: &o.Since},
			&ucli.StringFlag{Name: "filter", Usage: "only lines that contain `TEXT`", Destination: &o.Filter},
			&ucli.DurationFlag{Name: "poll-interval", Usage: "with --tail on a cloud: ask for new lines every `DUR` (default 1s; the emulator's --local tail streams instead)", Destination: &o.Poll},
		},
		Action: func(c *ucli.Context) error { return runLogs(c.Context, o) },
	}
}

func runLogs(ctx context.Context, o *logsOptions) error {
	sinceFlag := o.Since
	if sinceFlag == "" && o.Tail && o.RequestID == "" {
		// Following a whole function starts with its recent past, not its whole history.
		sinceFlag = "10m"
	}
	since, err := parseSince(sinceFlag, time.Now())
	if err != nil {
		return err
	}
	if o.Poll < 0 {
		return usagef("--poll-interval must not be negative")
	}
	t, err := openTargetWith(o.Globals, o.IO, all.Options{PollInterval: o.Poll})
	if err != nil {
		return err
	}
	fn, err := t.function(o.Function)
	if err != nil {
		return err
	}
	q := adapters.LogQuery{Function: fn.DeployedName, RequestID: o.RequestID, Since: since, Filter: o.Filter, Tail: o.Tail}
	if o.Tail && o.RequestID != "" {
		// Follow one event until it has finished, then stop.
		if _, err := t.provider.Event(ctx, fn.DeployedName, o.RequestID); err != nil {
			return fmt.Errorf("event %s of %s: %w", o.RequestID, fn.Name, err)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		linger := adapters.LingerLocal
		if !o.Local {
			linger = max(adapters.LingerCloud, 2*o.Poll)
		}
		go adapters.StopWhenFinished(ctx, cancel, t.provider, fn.DeployedName, o.RequestID, linger)
	}
	return streamLogs(ctx, t.provider, q, o.Globals, o.IO.Out)
}

// streamLogs prints lines until the stream ends or ctx is cancelled (a
// cancelled tail is a normal end).
func streamLogs(ctx context.Context, p adapters.Provider, q adapters.LogQuery, g *Globals, out io.Writer) error {
	stream, err := p.Logs(ctx, q)
	if err != nil {
		return fmt.Errorf("logs: %w", err)
	}
	defer stream.Close()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for {
		l, err := stream.Next(ctx)
		if errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) && q.Tail {
			return nil
		}
		if err != nil {
			return fmt.Errorf("logs: %w", err)
		}
		if g.JSON() {
			if err := enc.Encode(l); err != nil {
				return err
			}
			continue
		}
		if _, err := fmt.Fprintln(out, formatLogLine(l, len(q.Function) == 0)); err != nil {
			return err
		}
	}
}

func formatLogLine(l adapters.LogLine, withFunction bool) string {
	id := l.RequestID
	if len(id) > 8 {
		id = id[:8]
	}
	if id == "" {
		id = "-"
	}
	prefix := l.Time.Local().Format("15:04:05.000") + " " + id
	if withFunction && l.Function != "" {
		prefix += " " + l.Function
	}
	return prefix + "  " + l.Text
}
