package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/console"
	"github.com/asyncfn/asyncfn/localemu/front"
	"github.com/asyncfn/asyncfn/localemu/server"
)

// defaultConsoleAddr is where `asyncfn console` listens by default.
const defaultConsoleAddr = "127.0.0.1:9780"

// Default page refresh: the emulator answers at once; a cloud's event APIs
// have rate limits (SCF ListAsyncEvents, Lambda's), so the pages ask less often.
const (
	consoleRefreshLocal = console.DefaultPollInterval
	consoleRefreshCloud = 3 * time.Second
)

// consoleOptions: asyncfn console.
type consoleOptions struct {
	*Globals
	IO         IO
	Addr       string
	AllowHosts []string
	Refresh    time.Duration
}

func consoleCommand(g *Globals, io IO) *ucli.Command {
	o := &consoleOptions{Globals: g, IO: io}
	return &ucli.Command{
		Name:  "console",
		Usage: "serve a web console of the service's functions and their async events",
		Description: "Serves, until interrupted, a console for the functions of serverless.yml on its provider\n" +
			"(with --local, the emulator): functions with their async settings and counts per status,\n" +
			"each function's events (filtered, paged, updated live), statistics as charts, one event\n" +
			"with its attempts, payload, result and live log, terminate and async invoke. It listens on\n" +
			"loopback only and has no login of its own; with --local and ASYNCFN_CREDENTIALS it asks the\n" +
			"browser for the emulator's credentials. The emulator serves the same console at /console/.\n" +
			"Prints the console's URL on stdout ({\"url\"} with -o json).",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "addr", Value: defaultConsoleAddr, Usage: "listen on `HOST:PORT` (a loopback address)", Destination: &o.Addr},
			&ucli.StringSliceFlag{Name: "allow-host", Usage: "also answer requests for Host `NAME` or NAME:PORT (a proxy's name; repeatable)"},
			&ucli.DurationFlag{Name: "refresh", Usage: "how often pages look for new events and statuses (`DUR`)",
				DefaultText: fmt.Sprintf("%s, %s on a cloud", consoleRefreshLocal, consoleRefreshCloud), Destination: &o.Refresh},
		},
		Action: func(c *ucli.Context) error {
			o.AllowHosts = c.StringSlice("allow-host")
			return runConsole(c.Context, o)
		},
	}
}

func runConsole(ctx context.Context, o *consoleOptions) error {
	if o.Refresh < 0 {
		return usagef("--refresh must not be negative")
	}
	if o.Refresh == 0 {
		o.Refresh = consoleRefreshCloud
		if o.Local {
			o.Refresh = consoleRefreshLocal
		}
	}
	ln, err := listenLoopback(o.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	t, err := openTarget(o.Globals, o.IO)
	if err != nil {
		return err
	}
	opts := console.Options{
		Title:        fmt.Sprintf("%s (%s)", t.svc.Name, providerName(o.Globals, t)),
		Source:       func(*http.Request) (console.Source, error) { return &console.Service{Svc: t.svc, P: t.provider}, nil },
		PollInterval: o.Refresh,
		Linger:       adapters.LingerLocal,
	}
	if !o.Local {
		opts.Linger = max(adapters.LingerCloud, 2*o.Refresh)
	}
	if o.Local {
		// The emulator's credentials guard what it runs: the console
		// that uses them asks the browser for them too.
		if v, ok := o.IO.Getenv("ASYNCFN_CREDENTIALS"); ok && v != "" {
			if opts.Credentials, err = front.ParseCredentials(v); err != nil {
				return usagef("ASYNCFN_CREDENTIALS: %v", err)
			}
		}
	}
	c, err := console.New(opts)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String() + "/"
	if o.JSON() {
		if err := writeJSONOut(o.IO.Out, map[string]string{"url": url}); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(o.IO.Out, url)
	}
	fmt.Fprintf(o.IO.Err, "asyncfn console: %s serves %s; Ctrl-C stops it\n", url, opts.Title)
	return server.ServeGuarded(ctx, ln, c, server.GuardOptions{What: "console", AllowedHosts: o.AllowHosts, AllowFlag: "--allow-host NAME", Refuse: c.Refuse})
}

// providerName is what the console's title calls the provider.
func providerName(g *Globals, t *target) string {
	if g.Local {
		return "local emulator"
	}
	return t.svc.Provider.Name
}

// listenLoopback listens on addr, which must be a loopback address: the
// console shows and terminates events and has no login of its own.
func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, usagef("--addr %q: use HOST:PORT, such as %s", addr, defaultConsoleAddr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, usagef("--addr %q is not a loopback address: the console shows and terminates events and has no login of its own; "+
			"reach it from another machine through an SSH tunnel", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("console: listen on %s: %w", addr, err)
	}
	return ln, nil
}
