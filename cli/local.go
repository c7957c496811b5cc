package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	ucli "github.com/urfave/cli/v2"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/adapters/local"
	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/front"
	"github.com/asyncfn/asyncfn/localemu/runtime"
	"github.com/asyncfn/asyncfn/localemu/server"
	"github.com/asyncfn/asyncfn/spec"
)

// emulatorOptions are the flags shared by `local start` and `dev`.
type emulatorOptions struct {
	Addr           string
	StateDir       string
	MaxConcurrency int
	CloudBackoff   bool
	Drain          time.Duration
	Credentials    string
	CredsFile      string
	AllowHosts     ucli.StringSlice
	CPUByMemory    bool
	MaxConns       int
	LogKeep        string
	Retention      string
	MaxStoreSize   string
}

func emulatorFlags(o *emulatorOptions) []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "addr", Value: server.DefaultAddr, Usage: "listen on `HOST:PORT` (an address beyond loopback needs --credentials)", Destination: &o.Addr},
		&ucli.StringFlag{Name: "state-dir", Usage: "keep state in `DIR` (default: .asyncfn beside serverless.yml)", Destination: &o.StateDir},
		&ucli.IntFlag{Name: "max-concurrency", Value: 100, Usage: "at most `N` events running at once over all functions", Destination: &o.MaxConcurrency},
		&ucli.BoolFlag{Name: "cloud-backoff", Usage: "wait between retries as Lambda does (1 min, then 2) instead of 0.5 s, 1 s", Destination: &o.CloudBackoff},
		&ucli.StringFlag{Name: "credentials", Usage: "require requests signed with `ID:KEY` (needed to listen beyond loopback); on the command line the key shows in ps: prefer ASYNCFN_CREDENTIALS or --credentials-file", EnvVars: []string{"ASYNCFN_CREDENTIALS"}, Destination: &o.Credentials},
		&ucli.StringFlag{Name: "credentials-file", Usage: "read the credentials (one line, ID:KEY) from `FILE`, readable by its owner only", EnvVars: []string{"ASYNCFN_CREDENTIALS_FILE"}, TakesFile: true, Destination: &o.CredsFile},
		&ucli.DurationFlag{Name: "drain", Value: 10 * time.Second, Usage: "on SIGINT/SIGTERM let running events finish for up to `DUR`", Destination: &o.Drain},
		&ucli.StringSliceFlag{Name: "allow-host", Usage: "also answer requests whose Host is `NAME` or NAME:PORT, for a proxy or a container (repeatable; loopback names and the --addr host are always answered)", Destination: &o.AllowHosts},
		&ucli.BoolFlag{Name: "cpu-by-memory", Usage: "give each instance CPU in proportion to its memory size, as Lambda does (1,769 MB = one vCPU; needs the cpu cgroup controller)", Destination: &o.CPUByMemory},
		&ucli.IntFlag{Name: "max-connections", Value: server.DefaultMaxConns, Usage: "serve at most `N` connections at once; more wait to be accepted", Destination: &o.MaxConns},
		&ucli.StringFlag{Name: "log-keep", Value: "16MiB", Usage: "keep the first and the last half of `SIZE` of each attempt's output, with one line saying what was elided between (live followers get every line; \"all\" keeps everything)", Destination: &o.LogKeep},
		&ucli.StringFlag{Name: "retention", Value: "7d", Usage: "delete finished events, with their attempts and logs, `DUR` after they end (e.g. 36h, 7d); a function's own shorter rule applies first: SCF's 3 days, a durable function's retentionPeriodInDays; \"never\" keeps everything", Destination: &o.Retention},
		&ucli.StringFlag{Name: "max-store-size", Usage: "keep the state database under `SIZE` (e.g. 2GiB) by deleting the oldest finished events first (default: no budget)", Destination: &o.MaxStoreSize},
	}
}

// bounds parses --log-keep, --retention and --max-store-size into o.
func (o *emulatorOptions) bounds(eo *localemu.Options) error {
	switch strings.ToLower(o.LogKeep) {
	case "all":
		eo.LogKeep = -1
	default:
		n, err := humanize.ParseBytes(o.LogKeep)
		if err != nil || n < 2 {
			return usagef("--log-keep %q: want a size such as 16MiB or 512KB, or all", o.LogKeep)
		}
		eo.LogKeep = int64(n)
	}
	switch strings.ToLower(o.Retention) {
	case "never":
		eo.Retention = -1
	default:
		d, err := parseDays(o.Retention)
		if err != nil || d <= 0 {
			return usagef("--retention %q: want a duration such as 36h or 7d, or never", o.Retention)
		}
		eo.Retention = d
	}
	if o.MaxStoreSize != "" {
		n, err := humanize.ParseBytes(o.MaxStoreSize)
		if err != nil || n == 0 {
			return usagef("--max-store-size %q: want a size such as 2GiB or 500MB", o.MaxStoreSize)
		}
		eo.MaxStoreSize = int64(n)
	}
	return nil
}

// parseDays is time.ParseDuration that also takes whole days ("7d").
func parseDays(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil {
			return 0, err
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// credentials reads the emulator's credentials from --credentials (or
// ASYNCFN_CREDENTIALS) or from --credentials-file, never both; nil if none.
func (o *emulatorOptions) credentials() (*front.Credentials, error) {
	pair, from := o.Credentials, "--credentials"
	if o.CredsFile != "" {
		if pair != "" {
			return nil, usagef("--credentials and --credentials-file both given: use one")
		}
		st, err := os.Stat(o.CredsFile)
		if err != nil {
			return nil, usagef("--credentials-file: %v", err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			return nil, usagef("--credentials-file %s: readable by others (mode %04o): chmod 600 it", o.CredsFile, st.Mode().Perm())
		}
		b, err := os.ReadFile(o.CredsFile)
		if err != nil {
			return nil, usagef("--credentials-file: %v", err)
		}
		pair, from = strings.TrimSpace(string(b)), "--credentials-file "+o.CredsFile
	}
	if pair == "" {
		return nil, nil
	}
	creds, err := front.ParseCredentials(pair)
	if err != nil {
		// The message names the form, never the key.
		return nil, usagef("%s: credentials must be one line ID:KEY", from)
	}
	return creds, nil
}

// stateDir picks the state directory: the flag, else .asyncfn beside serverless.yml.
func (o *emulatorOptions) stateDir(g *Globals) (string, error) {
	if o.StateDir != "" {
		return filepath.Abs(o.StateDir)
	}
	if g.ConfigFile != "" {
		abs, err := filepath.Abs(g.ConfigFile)
		if err != nil {
			return "", err
		}
		return filepath.Join(filepath.Dir(abs), ".asyncfn"), nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return filepath.Join(wd, ".asyncfn"), nil
}

// emulator is a running engine and server.
type emulator struct {
	engine  *localemu.Engine
	url     string
	started time.Time // when it began to serve
	done    chan error
	stop    context.CancelFunc
	// unrecord removes its pid file and index entry once it has stopped.
	unrecord func()
}

func startEmulator(o *emulatorOptions, g *Globals, io IO) (*emulator, error) {
	dir, err := o.stateDir(g)
	if err != nil {
		return nil, err
	}
	if o.MaxConcurrency < 1 {
		return nil, usagef("--max-concurrency must be at least 1")
	}
	if o.MaxConns < 1 {
		return nil, usagef("--max-connections must be at least 1")
	}
	creds, err := o.credentials()
	if err != nil {
		return nil, err
	}
	ln, err := server.Listen(o.Addr, creds != nil)
	if err != nil {
		return nil, usagef("%v", err)
	}
	backoff := localemu.LocalBackoff
	if o.CloudBackoff {
		backoff = localemu.CloudBackoff
	}
	eo := localemu.Options{StateDir: dir, MaxConcurrency: o.MaxConcurrency, Backoff: backoff,
		Logger:      slog.New(slog.NewTextHandler(io.Err, &slog.HandlerOptions{Level: slog.LevelWarn})),
		FunctionEnv: server.FunctionEnv("http://"+ln.Addr().String(), creds)}
	if err := o.bounds(&eo); err != nil {
		ln.Close()
		return nil, err
	}
	runtime.SetCPUByMemory(o.CPUByMemory) // before any instance starts
	eng, err := localemu.New(eo)
	if err != nil {
		ln.Close()
		return nil, err
	}
	if addr, ok := io.Getenv("ASYNCFN_PPROF"); ok && addr != "" {
		if err := servePprof(addr); err != nil {
			eng.Close(context.Background())
			ln.Close()
			return nil, usagef("ASYNCFN_PPROF: %v", err)
		}
		fmt.Fprintf(io.Err, "profiling on http://%s/debug/pprof/\n", addr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	em := &emulator{engine: eng, url: "http://" + ln.Addr().String(), started: time.Now().UTC(), done: make(chan error, 1), stop: cancel}
	// Recorded before it answers: whoever sees it answer can find its pid.
	logPath, _ := io.Getenv(detachedEnv)
	em.unrecord, err = writeRecord(emulatorRecord{PID: os.Getpid(), URL: em.url, StateDir: dir, Log: logPath,
		StartedAt: em.started, Credentials: creds != nil}, io)
	if err != nil {
		cancel()
		eng.Close(context.Background())
		ln.Close()
		return nil, err
	}
	srv := server.New(eng, server.Options{Credentials: creds, AllowedHosts: o.AllowHosts.Value(), MaxConns: o.MaxConns})
	go func() { em.done <- srv.Serve(ctx, ln) }()
	fmt.Fprintf(io.Err, "asyncfn emulator listening on %s (state %s)\n", em.url, dir)
	fmt.Fprintf(io.Err, "instances: %s\n", runtime.IsolationMode())
	return em, nil
}

// shutdown lets running events finish up to drain while the API still
// answers (invokes are refused; events, logs and terminate work), then stops
// the server and closes the engine.
func (em *emulator) shutdown(drain time.Duration, io IO) error {
	ctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	fmt.Fprintf(io.Err, "asyncfn emulator stopping: waiting up to %s for running events\n", drain)
	em.engine.Drain(ctx)
	em.stop()
	serveErr := <-em.done
	defer em.unrecord()
	if err := em.engine.Close(ctx); err != nil {
		return err
	}
	return serveErr
}

// localStartOptions: asyncfn local start.
type localStartOptions struct {
	*Globals
	IO IO
	emulatorOptions
	Detach      bool
	WaitTimeout time.Duration
	// Args is the process's command line, which --detach runs again in the
	// background (without --detach).
	Args []string
}

func localCommand(g *Globals, io IO) *ucli.Command {
	o := &localStartOptions{Globals: g, IO: io}
	return &ucli.Command{
		Name:  "local",
		Usage: "run the local emulator",
		Subcommands: []*ucli.Command{{
			Name:  "start",
			Usage: "serve the emulator until SIGINT/SIGTERM (state survives restarts); --detach runs it in the background",
			Description: "The emulator's native API is under /v1/. Point commands at it with --local\n" +
				"(" + defaultLocalURL + "; ASYNCFN_LOCAL_URL or --endpoint for another address).\n" +
				"It records its pid in emulator.pid (and emulator.json) in the state directory while it runs.\n" +
				"--detach returns once it answers and prints its URL; its output goes to emulator.log in the\n" +
				"state directory. Exit status: 0 running; 1 it could not start (the log's end says why);\n" +
				"2 usage; 3 it did not answer within --wait-timeout.",
			Flags: append(emulatorFlags(&o.emulatorOptions),
				&ucli.BoolFlag{Name: "detach", Usage: "run in the background: return once it answers, print its URL", Destination: &o.Detach},
				&ucli.DurationFlag{Name: "wait-timeout", Value: 30 * time.Second, Usage: "with --detach: give up (exit 3) if it does not answer within `DUR`", Destination: &o.WaitTimeout},
			),
			Action: func(c *ucli.Context) error {
				o.Args = os.Args
				if o.Detach {
					return runDetached(c.Context, o)
				}
				return runLocalStart(c.Context, o)
			},
		},
			localWaitCommand(g, io),
			localStopCommand(g, io),
			localEnvCommand(g, io),
			localCollectCommand(g, io),
		},
	}
}

func runLocalStart(ctx context.Context, o *localStartOptions) error {
	em, err := startEmulator(&o.emulatorOptions, o.Globals, o.IO)
	if err != nil {
		return err
	}
	if o.JSON() {
		_ = json.NewEncoder(o.IO.Out).Encode(map[string]string{"url": em.url})
	}
	select {
	case <-ctx.Done():
	case err := <-em.done:
		em.done <- err
	}
	return em.shutdown(o.Drain, o.IO)
}

// devOptions: asyncfn dev.
type devOptions struct {
	*Globals
	IO IO
	emulatorOptions
	Invoke string
	Data   string
	Exit   bool
}

func devCommand(g *Globals, io IO) *ucli.Command {
	o := &devOptions{Globals: g, IO: io}
	flags := append(emulatorFlags(&o.emulatorOptions),
		&ucli.StringFlag{Name: "invoke", Usage: "after deploying, invoke `FUNCTION` asynchronously", Destination: &o.Invoke},
		&ucli.StringFlag{Name: "data", Aliases: []string{"d"}, Usage: "payload `JSON` for --invoke", Destination: &o.Data},
		&ucli.BoolFlag{Name: "exit", Usage: "with --invoke: stop once that event has finished (exit 1 unless it SUCCEEDED)", Destination: &o.Exit},
	)
	return &ucli.Command{
		Name:  "dev",
		Usage: "start the emulator, deploy the service to it and follow all logs (Ctrl-C stops)",
		Flags: flags,
		Action: func(c *ucli.Context) error {
			return runDev(c.Context, o)
		},
	}
}

func runDev(ctx context.Context, o *devOptions) error {
	if o.Exit && o.Invoke == "" {
		return usagef("--exit needs --invoke FUNCTION")
	}
	loaded, err := loadService(o.Globals, o.IO)
	if err != nil {
		return err
	}
	printWarnings(o.IO.Err, loaded.Warnings)
	svc := loaded.Service
	var invokeFn *spec.Function
	if o.Invoke != "" {
		t := &target{svc: svc}
		if invokeFn, err = t.function(o.Invoke); err != nil {
			return err
		}
	}
	em, err := startEmulator(&o.emulatorOptions, o.Globals, o.IO)
	if err != nil {
		return err
	}
	runErr := dev(ctx, o, svc, em, invokeFn)
	if err := em.shutdown(o.Drain, o.IO); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

func dev(ctx context.Context, o *devOptions, svc *spec.Service, em *emulator, invokeFn *spec.Function) error {
	p, err := local.New(em.url, svc)
	if err != nil {
		return err
	}
	t := &target{svc: svc, provider: p}
	quiet := *o.Globals
	quiet.Output = "text"
	if _, err := deployAll(ctx, t, "", &quiet, IO{In: o.IO.In, Out: o.IO.Err, Err: o.IO.Err, Getenv: o.IO.Getenv}); err != nil {
		return err
	}
	fmt.Fprintf(o.IO.Err, "\nReady. In another terminal:\n  ASYNCFN_LOCAL_URL=%s asyncfn -c %s --local invoke -f %s --async\nCtrl-C stops.\n\n",
		em.url, svc.File, svc.Functions[0].Name)
	// Follow what happens from now on, not the history of earlier sessions.
	q := adapters.LogQuery{Tail: true, Since: time.Now()}
	if invokeFn != nil {
		inv, err := p.Invoke(ctx, invokeFn.DeployedName, []byte(o.Data), adapters.InvokeOptions{Async: true})
		if err != nil {
			return fmt.Errorf("invoke %s: %w", invokeFn.Name, err)
		}
		fmt.Fprintln(o.IO.Out, inv.RequestID)
		fmt.Fprintf(o.IO.Err, "Invoked %s asynchronously: RequestId %s\n", invokeFn.Name, inv.RequestID)
		if o.Exit {
			// The emulator ends the stream once the event has ended and
			// every line of it was sent.
			q.Function, q.RequestID = invokeFn.DeployedName, inv.RequestID
			if err := streamLogs(ctx, p, q, o.Globals, o.IO.Err); err != nil {
				return err
			}
			if ctx.Err() != nil {
				return nil
			}
			ev, err := p.Event(context.Background(), invokeFn.DeployedName, inv.RequestID)
			if err != nil {
				return err
			}
			fmt.Fprintf(o.IO.Err, "RequestId %s %s after %d attempt(s)\n", ev.RequestID, ev.Status, ev.Attempts)
			if ev.Status != "SUCCEEDED" {
				return &exitCodeError{code: exitFailure, err: fmt.Errorf("%s %s: %s %s", invokeFn.Name, ev.Status, ev.ErrorType, ev.ErrorMessage)}
			}
			if r := adapters.ResultString(ev.Result, ev.ResultText); r != "" {
				fmt.Fprintf(o.IO.Err, "Result: %s\n", r)
			}
			return nil
		}
	}
	err = streamLogs(ctx, p, q, o.Globals, o.IO.Err)
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		return nil
	}
	return err
}

// servePprof serves Go's profiles on a loopback address of their own, for
// performance work on the emulator (ASYNCFN_PPROF=127.0.0.1:6060).
func servePprof(addr string) error {
	ln, err := server.Listen(addr, false)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	go http.Serve(ln, mux)
	return nil
}
