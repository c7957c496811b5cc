package cli

import (
	"context"
	"encoding/json"
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/asyncfn/asyncfn/adapters"
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
}

func invokeCommand(g *Globals, io IO) *ucli.Command {
	o := &invokeOptions{Globals: g, IO: io}
	return &ucli.Command{
		Name:  "invoke",
		Usage: "invoke a function; with --async print its RequestId at once",
		Description: "Without --async the result is printed on stdout and a function error exits 1.\n" +
			"With --async only the RequestId is printed, so ID=$(asyncfn invoke -f fn --async) works.",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "function", Aliases: []string{"f"}, Usage: "`FUNCTION` to invoke", Destination: &o.Function},
			&ucli.BoolFlag{Name: "async", Usage: "invoke asynchronously (an Event invoke)", Destination: &o.Async},
			&ucli.StringFlag{Name: "data", Aliases: []string{"d"}, Usage: "event payload as `JSON`", Destination: &o.Data},
			&ucli.StringFlag{Name: "path", Aliases: []string{"p"}, Usage: "read the payload from `FILE` (- for stdin)", Destination: &o.Path},
			&ucli.StringFlag{Name: "qualifier", Usage: "version or alias `Q`", Destination: &o.Qualifier},
			&ucli.StringFlag{Name: "durable-name", Usage: "idempotent start: an event with this `NAME` is returned instead of a new one", Destination: &o.DurableName},
			&ucli.BoolFlag{Name: "log", Aliases: []string{"l"}, Usage: "print the invocation's log to stderr (sync invokes)", Destination: &o.Log},
		},
		Action: func(c *ucli.Context) error { return runInvoke(c.Context, o) },
	}
}

func runInvoke(ctx context.Context, o *invokeOptions) error {
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
	inv, err := t.provider.Invoke(ctx, fn.DeployedName, payload, adapters.InvokeOptions{
		Async: o.Async, Qualifier: o.Qualifier, DurableName: o.DurableName, LogTail: o.Log})
	if err != nil {
		return fmt.Errorf("invoke %s: %w", fn.Name, err)
	}
	if o.Log && inv.Log != "" {
		fmt.Fprint(o.IO.Err, inv.Log)
	}
	if o.JSON() {
		if err := writeJSONOut(o.IO.Out, inv); err != nil {
			return err
		}
	} else if o.Async {
		fmt.Fprintln(o.IO.Out, inv.RequestID)
	} else if len(inv.Result) > 0 {
		fmt.Fprintln(o.IO.Out, string(inv.Result))
	}
	if inv.Error != nil {
		if !o.JSON() {
			fmt.Fprintf(o.IO.Err, "RequestId %s: %s (%s)\n", inv.RequestID, inv.Status, inv.Error)
		}
		return &exitCodeError{code: exitFailure}
	}
	return nil
}
