// Package cli is the asyncfn command line: each command is an options struct
// and a run function that takes injected I/O, so commands are tested without
// a terminal. Commands stay thin: parse flags, call a provider, print.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	ucli "github.com/urfave/cli/v2"

	"github.com/asyncfn/asyncfn/spec"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // the operation failed, or a function failed in a sync invoke
	exitUsage   = 2 // usage or configuration error
)

// IO is where a command reads and writes. Data goes to Out, progress and
// notes to Err, so `ID=$(asyncfn invoke --async ...)` captures only the id.
type IO struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// Getenv reads the environment (tests inject their own).
	Getenv func(string) (string, bool)
}

// Globals are the flags every command accepts, before or after its name.
type Globals struct {
	ConfigFile string
	Stage      string
	Region     string
	Params     []string
	Output     string // "text" or "json"
	Endpoint   string
	Local      bool
}

// JSON reports whether --output json was asked for.
func (g *Globals) JSON() bool { return g.Output == "json" }

// usageError is a mistake in how the command was called (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// exitCodeError carries a specific exit status with its message (possibly empty).
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitCodeError) Unwrap() error { return e.err }

var globalFlagTakesValue = map[string]bool{
	"-c": true, "--config": true, "--stage": true, "-s": true, "--region": true, "-r": true,
	"--param": true, "--output": true, "-o": true, "--endpoint": true, "--local": false,
}

// hoistGlobals moves global flags written after the command name to the
// front, so `asyncfn events get ID -f fn --output json` works as people type it.
func hoistGlobals(args []string) []string {
	if len(args) < 2 {
		return args
	}
	var globals, rest []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		name := a
		if j := strings.IndexByte(a, '='); j > 0 && strings.HasPrefix(a, "-") {
			name = a[:j]
		}
		takes, ok := globalFlagTakesValue[name]
		if !ok {
			rest = append(rest, a)
			continue
		}
		globals = append(globals, a)
		if takes && name == a && i+1 < len(args) {
			i++
			globals = append(globals, args[i])
		}
	}
	return append(append([]string{args[0]}, globals...), moveArgsLast(rest)...)
}

// commandWords are the names on the command path (not positional arguments).
var commandWords = map[string]bool{
	"print": true, "validate": true, "local": true, "start": true, "dev": true, "deploy": true, "remove": true,
	"invoke": true, "logs": true, "events": true, "list": true, "get": true, "terminate": true, "stats": true, "help": true,
}

// commandFlagTakesValue lists the command flags that take a value, so that
// their values are not mistaken for positional arguments.
var commandFlagTakesValue = map[string]bool{
	"-f": true, "--function": true, "--grace": true, "--status": true, "--since": true, "--limit": true, "--offset": true,
	"--order": true, "-d": true, "--data": true, "-p": true, "--path": true, "--qualifier": true, "--durable-name": true,
	"--request-id": true, "--filter": true, "--addr": true, "--state-dir": true, "--max-concurrency": true, "--drain": true,
	"--credentials": true, "--invoke": true,
}

// moveArgsLast moves positional arguments after the flags that follow them:
// urfave/cli stops parsing flags at the first argument, but people write
// `events get ID -f fn`.
func moveArgsLast(args []string) []string {
	var out, positional []string
	path := true
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			out = append(out, positional...)
			return append(out, args[i:]...)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			path = false
			out = append(out, a)
			if commandFlagTakesValue[a] && i+1 < len(args) {
				i++
				out = append(out, args[i])
			}
		case path && commandWords[a]:
			out = append(out, a)
		default:
			path = false
			positional = append(positional, a)
		}
	}
	return append(out, positional...)
}

// Run executes the command line and returns the exit status.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return RunContext(ctx, args, IO{In: stdin, Out: stdout, Err: stderr, Getenv: os.LookupEnv})
}

// RunContext is Run with an explicit context and I/O (for tests).
func RunContext(ctx context.Context, args []string, io IO) int {
	if io.Getenv == nil {
		io.Getenv = os.LookupEnv
	}
	g := &Globals{}
	app := newApp(g, io)
	err := app.RunContext(ctx, hoistGlobals(args))
	return report(io.Err, err)
}

// report prints err and maps it onto an exit status.
func report(w io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	var code *exitCodeError
	if errors.As(err, &code) {
		if code.err != nil && code.Error() != "" {
			fmt.Fprintln(w, "Error:", code.Error())
		}
		return code.code
	}
	var specErrs spec.Errors
	var usage *usageError
	switch {
	case errors.As(err, &specErrs):
		fmt.Fprintf(w, "Error: %s has %d problem(s):\n", specErrs[0].File, len(specErrs))
		for _, e := range specErrs {
			fmt.Fprintln(w, "  "+e.Error())
		}
		return exitUsage
	case errors.As(err, &usage):
		fmt.Fprintln(w, "Error:", err)
		return exitUsage
	case isFlagError(err):
		fmt.Fprintln(w, "Error:", err)
		return exitUsage
	}
	fmt.Fprintln(w, "Error:", err)
	return exitFailure
}

func isFlagError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"flag provided but not defined", "Required flag", "invalid value", "flag needs an argument", "No help topic"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func newApp(g *Globals, io IO) *ucli.App {
	app := &ucli.App{
		Name:  "asyncfn",
		Usage: "deploy, invoke and control long-running asynchronous serverless functions",
		Description: "asyncfn reads serverless.yml and drives Tencent SCF (async execution mode), AWS Lambda\n" +
			"or the local emulator: async invokes return a RequestId at once, logs follow live, and every\n" +
			"event can be listed, inspected and terminated. Global flags may also follow the command.",
		Reader:                 io.In,
		Writer:                 io.Out,
		ErrWriter:              io.Err,
		HideVersion:            true,
		UseShortOptionHandling: false,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "serverless.yml `FILE` (default: serverless.yml in the current directory)", Destination: &g.ConfigFile},
			&ucli.StringFlag{Name: "stage", Aliases: []string{"s"}, Usage: "work on `STAGE` (${opt:stage}, ${sls:stage}; default provider.stage, else dev)", Destination: &g.Stage},
			&ucli.StringFlag{Name: "region", Aliases: []string{"r"}, Usage: "work in `REGION` (${opt:region}; default provider.region)", Destination: &g.Region},
			&ucli.StringSliceFlag{Name: "param", Usage: "`KEY=VALUE` for ${param:KEY} (repeatable)"},
			&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "text", Usage: "output `FORMAT`: text or json", Destination: &g.Output},
			&ucli.StringFlag{Name: "endpoint", Usage: "send API calls to `URL` instead of the cloud", EnvVars: []string{"ASYNCFN_ENDPOINT"}, Destination: &g.Endpoint},
			&ucli.BoolFlag{Name: "local", Usage: "use the local emulator at " + defaultLocalURL + " (ASYNCFN_LOCAL_URL overrides; ASYNCFN_CREDENTIALS if it has credentials), no cloud account", Destination: &g.Local},
		},
		Before: func(c *ucli.Context) error {
			g.Params = c.StringSlice("param")
			if g.Output != "text" && g.Output != "json" {
				return usagef("--output %q: use text or json", g.Output)
			}
			return nil
		},
		Commands: commands(g, io),
		OnUsageError: func(c *ucli.Context, err error, isSubcommand bool) error {
			return usagef("%v (see asyncfn --help)", err)
		},
		ExitErrHandler: func(*ucli.Context, error) {}, // we map errors to exit codes ourselves
	}
	return app
}

func commands(g *Globals, io IO) []*ucli.Command {
	cmds := []*ucli.Command{
		printCommand(g, io),
		validateCommand(g, io),
	}
	return append(cmds, runtimeCommands(g, io)...)
}

// loadService reads the serverless.yml that the global flags point at.
func loadService(g *Globals, io IO) (*spec.Loaded, error) {
	path := g.ConfigFile
	if path == "" {
		dir, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		if path, err = spec.Find(dir); err != nil {
			return nil, &usageError{err.Error()}
		}
	}
	opts := spec.Options{Stage: g.Stage, Region: g.Region, Opts: map[string]string{}, Params: map[string]string{}, Env: io.Getenv}
	if g.Stage != "" {
		opts.Opts["stage"] = g.Stage
	}
	if g.Region != "" {
		opts.Opts["region"] = g.Region
	}
	for _, p := range g.Params {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, usagef("--param %q: use KEY=VALUE", p)
		}
		opts.Params[k] = v
	}
	loaded, err := spec.Load(path, opts)
	if err != nil {
		var errs spec.Errors
		if errors.As(err, &errs) {
			return nil, err
		}
		return nil, &usageError{err.Error()}
	}
	return loaded, nil
}

// printWarnings writes configuration warnings to stderr.
func printWarnings(w io.Writer, warnings []*spec.Error) {
	for _, wr := range warnings {
		fmt.Fprintln(w, "Warning:", wr.Error())
	}
}
