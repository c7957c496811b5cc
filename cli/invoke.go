package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"regexp"
	"strconv"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/spec"
)

// invokeOptions: asyncfn invoke.
type invokeOptions struct {
	*Globals
	IO          IO
	Function    string
	Async       bool
	Data        string
	Path        string
	Qualifier   string
	DurableName string
	Log         bool
	Each        string  // --each FILE|-: one async event per input
	Rate        float64 // --rate: invokes per second with --each
	MaxInFlight int     // --max-in-flight: invokes awaiting an answer with --each
}

func invokeCommand(g *Globals, io IO) *ucli.Command {
	o := &invokeOptions{Globals: g, IO: io}
	return &ucli.Command{
		Name:  "invoke",
		Usage: "invoke a function; with --async print its RequestId at once",
		Description: "Without --async the result is printed on stdout and a function error exits 1.\n" +
			"With --async only the RequestId is printed, so ID=$(asyncfn invoke -f fn --async) works.\n" +
			"With --async --each FILE (- for stdin) every JSON line, or every element of a JSON array,\n" +
			"is one event: RequestIds are printed one per line in input order (with --output json one\n" +
			"line per input: index, line, requestId); throttled invokes are retried with backoff, and\n" +
			"an interrupt prints every RequestId already handed out before it exits (130).",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "function", Aliases: []string{"f"}, Usage: "`FUNCTION` to invoke", Destination: &o.Function},
			&ucli.BoolFlag{Name: "async", Usage: "invoke asynchronously (an Event invoke)", Destination: &o.Async},
			&ucli.StringFlag{Name: "data", Aliases: []string{"d"}, Usage: "event payload as `JSON`", Destination: &o.Data},
			&ucli.StringFlag{Name: "path", Aliases: []string{"p"}, Usage: "read the payload from `FILE` (- for stdin)", Destination: &o.Path},
			&ucli.StringFlag{Name: "qualifier", Usage: "version or alias `Q`", Destination: &o.Qualifier},
			&ucli.StringFlag{Name: "durable-name", Usage: "idempotent start: an event with this `NAME` is returned instead of a new one", Destination: &o.DurableName},
			&ucli.BoolFlag{Name: "log", Aliases: []string{"l"}, Usage: "print the invocation's log to stderr (sync invokes)", Destination: &o.Log},
			&ucli.StringFlag{Name: "each", Usage: "with --async: one event per JSON line or JSON array element of `FILE` (- for stdin)", Destination: &o.Each},
			&ucli.Float64Flag{Name: "rate", Usage: "with --each: at most `N` invokes per second (0: no limit)", Destination: &o.Rate},
			&ucli.IntFlag{Name: "max-in-flight", Value: defaultFanOutConfig().MaxInFlight, Usage: "with --each: at most `N` invokes awaiting an answer at once", Destination: &o.MaxInFlight},
		},
		Action: func(c *ucli.Context) error { return runInvoke(c.Context, o) },
	}
}

func runInvoke(ctx context.Context, o *invokeOptions) error {
	if o.Each != "" {
		return runInvokeEach(ctx, o)
	}
	if o.Path == "-" && o.ResolvedConfig == "-" {
		return usagef("-p - and --resolved-config - both read standard input: give the payload as a file or with -d")
	}
	payload, err := readPayload(o.Data, o.Path, o.IO.In)
	if err != nil {
		return err
	}
	if len(payload) > 0 && !json.Valid(payload) {
		return usagef("the payload is not valid JSON")
	}
	t, fn, err := openFunction(o.Globals, o.IO, o.Function)
	if err != nil {
		return err
	}
	// A cloud sends a sync invoke's log tail in the same answer; with JSON
	// output it is asked for so that the duration can be read from it when
	// the provider reports none (Lambda's REPORT line).
	logTail := o.Log || (o.JSON() && !o.Async && !o.Local)
	start := time.Now()
	inv, err := t.provider.Invoke(ctx, fn.DeployedName, payload, adapters.InvokeOptions{
		Async: o.Async, Qualifier: o.Qualifier, DurableName: o.DurableName, LogTail: logTail})
	if err != nil {
		if !o.Async {
			return syncInvokeFailed(ctx, t, fn, start, err)
		}
		return fmt.Errorf("invoke %s: %w", fn.Name, err)
	}
	if o.Log && inv.Log != "" {
		fmt.Fprint(o.IO.Err, inv.Log)
	}
	if o.JSON() {
		out := invokeOutput{RequestID: inv.RequestID, Status: inv.Status, Result: inv.Result, ResultText: inv.ResultText, Error: inv.Error, ExecutionARN: inv.ExecutionARN}
		if o.Log {
			out.Log = inv.Log
		}
		if !o.Async {
			d := inv.DurationMs
			if d == 0 {
				d = reportedDuration(inv.Log, inv.RequestID)
			}
			out.DurationMs = &d
		}
		if err := writeJSONOut(o.IO.Out, out); err != nil {
			return err
		}
	} else if o.Async {
		fmt.Fprintln(o.IO.Out, inv.RequestID)
	} else if r := adapters.ResultString(inv.Result, inv.ResultText); r != "" {
		fmt.Fprintln(o.IO.Out, r)
	}
	if inv.Error != nil {
		if !o.JSON() {
			fmt.Fprintf(o.IO.Err, "RequestId %s: %s (%s)\n", inv.RequestID, inv.Status, inv.Error)
		}
		return &exitCodeError{code: exitFailure}
	}
	return nil
}

// invokeOutput is `invoke --output json`: adapters.Invocation, with
// durationMs in every sync invoke's answer (0 is a duration too).
type invokeOutput struct {
	RequestID    string                  `json:"requestId"`
	Status       event.Status            `json:"status,omitempty"`
	Result       json.RawMessage         `json:"result,omitempty"`
	ResultText   string                  `json:"resultText,omitempty"`
	Error        *adapters.FunctionError `json:"error,omitempty"`
	Log          string                  `json:"log,omitempty"`
	ExecutionARN string                  `json:"executionArn,omitempty"`
	DurationMs   *int64                  `json:"durationMs,omitempty"`
}

var reportLine = regexp.MustCompile(`(?m)^REPORT RequestId: (\S+)\s+Duration: ([0-9.]+) ms`)

// reportedDuration reads the duration from a Lambda REPORT line of the
// request in a log tail, or 0.
func reportedDuration(log, requestID string) int64 {
	for _, m := range reportLine.FindAllStringSubmatch(log, -1) {
		if requestID != "" && m[1] != requestID {
			continue
		}
		if f, err := strconv.ParseFloat(m[2], 64); err == nil {
			return int64(math.Round(f))
		}
	}
	return 0
}

// syncInvokeFailed explains a sync invoke that ended without an answer. If
// the request reached the provider (the connection closed while waiting, or
// the user interrupted the command), the event exists: say what became of
// it rather than blame the connection. Only when that cannot be found out
// either is the original error (which names the endpoint) reported.
func syncInvokeFailed(ctx context.Context, t *target, fn *spec.Function, start time.Time, err error) error {
	wrapped := fmt.Errorf("invoke %s: %w", fn.Name, err)
	var apiErr *adapters.APIError
	var opErr *net.OpError
	if errors.As(err, &apiErr) || errors.As(err, &opErr) && opErr.Op == "dial" {
		return wrapped // an answer, or no connection at all: nothing was started
	}
	interrupted := ctx.Err() != nil
	lctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ev, found, lerr := findSyncEvent(lctx, t, fn, start, !interrupted)
	if lerr != nil {
		return wrapped
	}
	if !found {
		if interrupted {
			return fmt.Errorf("invoke %s: interrupted while waiting for the result; the invocation may still be running (asyncfn events list -f %s)", fn.Name, fn.Name)
		}
		return wrapped
	}
	if ev.Status.Terminal() {
		msg := fmt.Sprintf("RequestId %s ended %s", ev.RequestID, ev.Status)
		if ev.ErrorType != "" || ev.ErrorMessage != "" {
			msg += fmt.Sprintf(" (%s: %s)", ev.ErrorType, ev.ErrorMessage)
		}
		if interrupted {
			return fmt.Errorf("invoke %s: interrupted while waiting; %s", fn.Name, msg)
		}
		return fmt.Errorf("invoke %s: no result came back: %s", fn.Name, msg)
	}
	if interrupted {
		return fmt.Errorf("invoke %s: interrupted while waiting; RequestId %s is still %s and goes on without this command (asyncfn events terminate %s -f %s stops it)",
			fn.Name, ev.RequestID, ev.Status, ev.RequestID, fn.Name)
	}
	return fmt.Errorf("invoke %s: the connection closed before the result came back (%v); RequestId %s is %s (asyncfn events get %s -f %s)",
		fn.Name, rootCause(err), ev.RequestID, ev.Status, ev.RequestID, fn.Name)
}

// rootCause is the innermost error of a chain (such as EOF), without the
// hints the layers above it added.
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// findSyncEvent finds the one sync event of fn created since start (an
// answerless invoke has no RequestId). With settle it waits a little for the
// event to finish: a connection closed by a killed run is answered just
// before the status is recorded.
func findSyncEvent(ctx context.Context, t *target, fn *spec.Function, start time.Time, settle bool) (adapters.Event, bool, error) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		page, err := t.provider.Events(ctx, fn.DeployedName, adapters.EventQuery{Since: start.Add(-time.Second), Desc: true, Limit: 100})
		if err != nil {
			return adapters.Event{}, false, err
		}
		var mine []adapters.Event
		for _, ev := range page.Events {
			if ev.InvokeType == event.InvokeRequestResponse && !ev.CreatedAt.Before(start.Add(-time.Second)) {
				mine = append(mine, ev)
			}
		}
		if len(mine) != 1 {
			return adapters.Event{}, false, nil // none, or not knowable which
		}
		if !settle || mine[0].Status.Terminal() || time.Now().After(deadline) {
			return mine[0], true, nil
		}
		select {
		case <-ctx.Done():
			return mine[0], true, nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}
