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
	"path/filepath"
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
	// ResolvedConfig is --resolved-config: a file (or "-", stdin) holding
	// the configuration the Serverless Framework resolved, as JSON. The
	// serverless-asyncfn plugin passes it, so that the binary and the
	// Framework never disagree about a value; ConfigFile then only names
	// the file and locates the service directory.
	ResolvedConfig string
	resolved       []byte // ResolvedConfig's content, read once (stdin can be read only once)
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

// argSpec is what the argument ordering needs to know about one command:
// which of its flags take a value and the names of its subcommands. It is
// read from the commands' own flag definitions, so it cannot fall behind them.
type argSpec struct {
	takesValue map[string]bool     // flag name or alias -> takes a value
	sub        map[string]*argSpec // subcommand name or alias
}

func newArgSpec(flags []ucli.Flag, hideHelp, hideHelpCommand bool, cmds []*ucli.Command) *argSpec {
	s := &argSpec{takesValue: map[string]bool{}, sub: map[string]*argSpec{}}
	if !hideHelp && ucli.HelpFlag != nil {
		flags = append(flags[:len(flags):len(flags)], ucli.HelpFlag)
	}
	for _, f := range flags {
		takes := true
		if _, ok := f.(*ucli.BoolFlag); ok {
			takes = false
		} else if v, ok := f.(interface{ TakesValue() bool }); ok {
			takes = v.TakesValue()
		}
		for _, n := range f.Names() {
			s.takesValue[n] = takes
		}
	}
	for _, c := range cmds {
		cs := newArgSpec(c.Flags, c.HideHelp, c.HideHelpCommand, c.Subcommands)
		for _, n := range c.Names() {
			s.sub[n] = cs
		}
	}
	// urfave/cli gives the app and every command a help subcommand.
	if !hideHelp && !hideHelpCommand && s.sub["help"] == nil {
		help := newArgSpec(nil, false, true, nil)
		s.sub["help"], s.sub["h"] = help, help
	}
	return s
}

// flagName is the name in a flag argument ("-f", "--function=x" -> "function"),
// or "" for an argument that is not a flag.
func flagName(a string) (name string, inline bool) {
	if len(a) < 2 || a[0] != '-' {
		return "", false
	}
	name = strings.TrimPrefix(a[1:], "-")
	name, _, inline = strings.Cut(name, "=")
	return name, inline
}

// orderArgs rewrites the command line into the order urfave/cli parses:
// global flags first, then the command's name, its flags, and its positional
// arguments last. urfave/cli stops reading flags at the first argument and
// reads global flags only before the command, while people write
// `asyncfn events get ID -f fn --output json`. A flag is looked up in the
// command named so far, then in its parents, up to the global flags; its
// value (when it takes one) stays with it, even if it looks like a flag or
// a command. Anything after "--" is left as it is.
func orderArgs(app *ucli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	root := newArgSpec(app.Flags, app.HideHelp, app.HideHelpCommand, app.Commands)
	if !app.HideVersion && ucli.VersionFlag != nil {
		for _, n := range ucli.VersionFlag.Names() {
			root.takesValue[n] = false
		}
	}
	var globals, path, flags, positional, rest []string
	specs := []*argSpec{root} // the command path so far, root first
	pathDone := false
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = args[i:]
			break
		}
		name, inline := flagName(a)
		if name == "" {
			if cur := specs[len(specs)-1]; !pathDone && cur.sub[a] != nil {
				path = append(path, a)
				specs = append(specs, cur.sub[a])
				continue
			}
			pathDone = true
			positional = append(positional, a)
			continue
		}
		level, takes := -1, false
		for j := len(specs) - 1; j >= 0; j-- {
			if t, ok := specs[j].takesValue[name]; ok {
				level, takes = j, t
				break
			}
		}
		dst := &flags
		if level == 0 {
			dst = &globals
		} else {
			// A command's own flag (or an unknown one, left for the
			// parser to report) ends its name.
			pathDone = true
		}
		*dst = append(*dst, a)
		if takes && !inline && i+1 < len(args) {
			i++
			*dst = append(*dst, args[i])
		}
	}
	out := append([]string{args[0]}, globals...)
	out = append(append(append(out, path...), flags...), positional...)
	return append(out, rest...)
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
	err := app.RunContext(ctx, orderArgs(app, args))
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
			&ucli.StringFlag{Name: "resolved-config", Usage: "read the configuration the Serverless Framework resolved from `FILE` (JSON; - for stdin) instead of resolving serverless.yml (-c names it); the serverless-asyncfn plugin passes it", Destination: &g.ResolvedConfig},
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
		consoleCommand(g, io),
	}
	return append(cmds, runtimeCommands(g, io)...)
}

// loadService reads the serverless.yml that the global flags point at, for
// the commands that deploy or call it (spec.Load: every problem is an error).
func loadService(g *Globals, io IO) (*spec.Loaded, error) {
	return loadWith(false, g, io)
}

// loadWith reads the serverless.yml that the global flags point at — the
// same file, stage, region, params and environment — with spec.Load, or
// spec.LoadForPrint when forPrint; with --resolved-config, the Framework's
// resolved configuration with spec.LoadResolved (or LoadResolvedForPrint).
func loadWith(forPrint bool, g *Globals, io IO) (*spec.Loaded, error) {
	path := g.ConfigFile
	if path == "" && g.ResolvedConfig != "" {
		// The file is not read: it only names the configuration and
		// locates the service directory.
		dir, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		if path, err = spec.Find(dir); err != nil {
			path = filepath.Join(dir, "serverless.yml")
		}
	}
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
	var loaded *spec.Loaded
	var err error
	switch {
	case g.ResolvedConfig != "":
		data, rerr := g.resolvedConfig(io)
		if rerr != nil {
			return nil, rerr
		}
		load := spec.LoadResolved
		if forPrint {
			load = spec.LoadResolvedForPrint
		}
		loaded, err = load(path, data, opts)
	case forPrint:
		loaded, err = spec.LoadForPrint(path, opts)
	default:
		loaded, err = spec.Load(path, opts)
	}
	if err != nil {
		var errs spec.Errors
		if errors.As(err, &errs) {
			return nil, err
		}
		return nil, &usageError{err.Error()}
	}
	return loaded, nil
}

// resolvedConfig reads --resolved-config, once.
func (g *Globals) resolvedConfig(cio IO) ([]byte, error) {
	if g.resolved != nil {
		return g.resolved, nil
	}
	var data []byte
	var err error
	if g.ResolvedConfig == "-" {
		if cio.In == nil {
			return nil, usagef("--resolved-config -: no standard input")
		}
		data, err = io.ReadAll(cio.In)
	} else {
		data, err = os.ReadFile(g.ResolvedConfig)
	}
	if err != nil {
		return nil, usagef("--resolved-config %s: %v", g.ResolvedConfig, err)
	}
	g.resolved = data
	return data, nil
}

// printWarnings writes configuration warnings to stderr.
func printWarnings(w io.Writer, warnings []*spec.Error) {
	for _, wr := range warnings {
		fmt.Fprintln(w, "Warning:", wr.Error())
	}
}
