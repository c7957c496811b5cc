package cli

// The emulator in the background, for CI and scripts: `local start --detach`,
// `local wait`, `local stop`. A running emulator records itself in its state
// directory (emulator.pid, emulator.json) and, so that the commands can find
// it from its address alone, in a per-user index keyed by HOST:PORT.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	ucli "github.com/urfave/cli/v2"
)

// Files a running emulator leaves in its state directory.
const (
	pidFileName    = "emulator.pid"
	recordFileName = "emulator.json"
	logFileName    = "emulator.log"
	// detachedEnv marks the child `local start --detach` runs, so that it
	// records where its output goes.
	detachedEnv = "ASYNCFN_LOCAL_DETACHED"
)

// Exit statuses of wait and stop beyond the common ones.
const (
	// exitNotReady: `local wait` / `local start --detach` saw no emulator
	// answer in time; `local stop` saw it not exit in time.
	exitNotReady = 3
)

// emulatorRecord is what a running emulator says about itself.
type emulatorRecord struct {
	PID       int       `json:"pid"`
	URL       string    `json:"url"`
	StateDir  string    `json:"stateDir"`
	Log       string    `json:"log,omitempty"` // where a detached emulator's stdout and stderr go
	StartedAt time.Time `json:"startedAt"`
	// Credentials says whether it requires signed requests (never the key).
	Credentials bool `json:"credentials"`
}

// indexDir is the per-user directory of running emulators by address
// ($XDG_CACHE_HOME/asyncfn/emulators, ~/.cache/... or the platform's own).
func indexDir(io IO) (string, error) {
	if v, ok := io.Getenv("XDG_CACHE_HOME"); ok && filepath.IsAbs(v) {
		return filepath.Join(v, "asyncfn", "emulators"), nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no per-user cache directory: %w", err)
	}
	return filepath.Join(dir, "asyncfn", "emulators"), nil
}

// indexFile is the index entry of the emulator at rawURL (one per HOST:PORT).
func indexFile(io IO, rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("emulator URL %q: not http://HOST:PORT", redactURL(rawURL))
	}
	dir, err := indexDir(io)
	if err != nil {
		return "", err
	}
	host, port := u.Hostname(), u.Port()
	if host == "localhost" {
		host = "127.0.0.1" // the emulator records the address it is bound to
	}
	name := strings.NewReplacer(":", "_", "/", "_").Replace(host) + "_" + port
	return filepath.Join(dir, name+".json"), nil
}

// writeRecord records a running emulator in its state directory and in the
// index; it returns a function that removes what still names this process.
func writeRecord(rec emulatorRecord, io IO) (remove func(), err error) {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return nil, err
	}
	pidPath := filepath.Join(rec.StateDir, pidFileName)
	recPath := filepath.Join(rec.StateDir, recordFileName)
	if err := os.WriteFile(pidPath, []byte(strconv.Itoa(rec.PID)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write pid file: %w", err)
	}
	if err := os.WriteFile(recPath, append(data, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", recPath, err)
	}
	paths := []string{pidPath, recPath}
	// The index is a convenience: without it, --state-dir still finds the emulator.
	if idx, err := indexFile(io, rec.URL); err == nil {
		if err := os.MkdirAll(filepath.Dir(idx), 0o700); err == nil && os.WriteFile(idx, append(data, '\n'), 0o600) == nil {
			paths = append(paths, idx)
		}
	}
	return func() {
		for _, p := range paths {
			// Only what still names this process: a newer emulator may own it.
			owner := pidIn(p)
			if !strings.HasSuffix(p, pidFileName) {
				r, _ := readRecordFile(p)
				owner = r.PID
			}
			if owner == rec.PID {
				os.Remove(p)
			}
		}
	}, nil
}

func pidIn(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

func readRecordFile(path string) (emulatorRecord, error) {
	var rec emulatorRecord
	b, err := os.ReadFile(path)
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return rec, fmt.Errorf("%s: %w", path, err)
	}
	return rec, nil
}

// errNoRecord: no running emulator recorded itself for that address.
var errNoRecord = errors.New("no emulator record")

// findRecord finds the record of the emulator at rawURL: in stateDir when
// given, else in the index. A record whose process is gone is stale.
func findRecord(io IO, rawURL, stateDir string) (emulatorRecord, error) {
	var path string
	if stateDir != "" {
		path = filepath.Join(stateDir, recordFileName)
	} else {
		p, err := indexFile(io, rawURL)
		if err != nil {
			return emulatorRecord{}, err
		}
		path = p
	}
	rec, err := readRecordFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return rec, errNoRecord
	}
	if err != nil {
		return rec, err
	}
	if !processAlive(rec.PID) {
		return rec, errNoRecord
	}
	return rec, nil
}

// processAlive reports whether pid runs (a zombie has exited).
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	// An exited child of a parent that does not reap is a zombie: gone.
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && b[i+2] == 'Z' {
			return false
		}
	}
	return true
}

// isEmulatorProcess guards against a recycled pid: where /proc exists, the
// process must be an `asyncfn ... local start`.
func isEmulatorProcess(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return true // no /proc: trust the record
	}
	args := strings.Split(string(b), "\x00")
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "local" && args[i+1] == "start" {
			return true
		}
	}
	return false
}

// withCredentials is base with ASYNCFN_CREDENTIALS (ID:KEY), if set, as
// its user info: how the native API takes them.
func withCredentials(base string, cio IO) string {
	pair, ok := cio.Getenv("ASYNCFN_CREDENTIALS")
	id, key, found := strings.Cut(pair, ":")
	u, err := url.Parse(base)
	if !ok || !found || err != nil || u.User != nil {
		return base
	}
	u.User = url.UserPassword(id, key)
	return u.String()
}

// redactURL drops user info (credentials) from a URL for messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}

// healthy reports whether an emulator answers GET /v1/health at base.
func healthy(ctx context.Context, base string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(redactURL(base), "/")+"/v1/health", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// ctlOptions locate a running emulator: --addr, else the globals
// (--endpoint, ASYNCFN_LOCAL_URL, the default address).
type ctlOptions struct {
	*Globals
	IO       IO
	Addr     string
	StateDir string
	Timeout  time.Duration
}

// url is the emulator's base URL, credentials stripped.
func (o *ctlOptions) url() (string, error) {
	if o.Addr != "" {
		if _, _, err := net.SplitHostPort(o.Addr); err != nil {
			return "", usagef("--addr %q: use HOST:PORT", o.Addr)
		}
		return "http://" + o.Addr, nil
	}
	return redactURL(o.Globals.localURL(o.IO)), nil
}

func ctlFlags(o *ctlOptions, timeout time.Duration, timeoutUsage string) []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "addr", Usage: "the emulator at `HOST:PORT` (default: ASYNCFN_LOCAL_URL, else " + defaultLocalURL + ")", Destination: &o.Addr},
		&ucli.DurationFlag{Name: "timeout", Value: timeout, Usage: timeoutUsage, Destination: &o.Timeout},
	}
}

func localWaitCommand(g *Globals, io IO) *ucli.Command {
	o := &ctlOptions{Globals: g, IO: io}
	return &ucli.Command{
		Name:      "wait",
		Usage:     "wait until the emulator answers (exit 0), or 3 after --timeout",
		UsageText: "asyncfn local wait [--addr HOST:PORT] [--timeout 30s]",
		Flags:     ctlFlags(o, 30*time.Second, "give up after `DUR`"),
		Action:    func(c *ucli.Context) error { return runLocalWait(c.Context, o) },
	}
}

func runLocalWait(ctx context.Context, o *ctlOptions) error {
	base, err := o.url()
	if err != nil {
		return err
	}
	if err := waitHealthy(ctx, base, o.Timeout, nil); err != nil {
		return err
	}
	fmt.Fprintln(o.IO.Out, base)
	return nil
}

// notReadyError: nothing answered in time (exit 3).
type notReadyError struct {
	url     string
	timeout time.Duration
	detail  string
}

func (e *notReadyError) Error() string {
	msg := fmt.Sprintf("no emulator answered at %s within %s", e.url, e.timeout)
	if e.detail != "" {
		msg += "\n" + e.detail
	}
	return msg
}

// waitHealthy polls base until it answers, the timeout ends, or gone
// reports (non-nil) that the process meant to answer has exited.
func waitHealthy(ctx context.Context, base string, timeout time.Duration, gone func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if healthy(ctx, base) {
			return nil
		}
		if gone != nil {
			if err := gone(); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return &exitCodeError{code: exitNotReady, err: &notReadyError{url: base, timeout: timeout}}
		case <-tick.C:
		}
	}
}

func localStopCommand(g *Globals, io IO) *ucli.Command {
	o := &ctlOptions{Globals: g, IO: io}
	flags := append(ctlFlags(o, time.Minute, "wait up to `DUR` for it to exit (it drains running events first, up to its --drain)"),
		&ucli.StringFlag{Name: "state-dir", Usage: "the emulator whose state is in `DIR` (default: found from its address)", Destination: &o.StateDir})
	return &ucli.Command{
		Name:  "stop",
		Usage: "stop a running emulator as SIGTERM does (drain, then exit) and wait until it has exited",
		Description: "Exit status: 0 stopped, or none was running; 1 it could not be signalled, or an emulator\n" +
			"answers at the address but recorded no pid (give --state-dir); 3 it had not exited after --timeout.",
		Flags:  flags,
		Action: func(c *ucli.Context) error { return runLocalStop(c.Context, o) },
	}
}

func runLocalStop(ctx context.Context, o *ctlOptions) error {
	base, err := o.url()
	if err != nil {
		return err
	}
	stateDir := o.StateDir
	if stateDir != "" {
		if stateDir, err = filepath.Abs(stateDir); err != nil {
			return err
		}
	}
	rec, err := findRecord(o.IO, base, stateDir)
	if errors.Is(err, errNoRecord) {
		if healthy(ctx, base) {
			if stateDir != "" {
				return fmt.Errorf("an emulator answers at %s but no running emulator recorded its pid in %s", base, stateDir)
			}
			return fmt.Errorf("an emulator answers at %s but recorded no pid for that address: give --state-dir DIR", base)
		}
		fmt.Fprintf(o.IO.Err, "no emulator is running at %s\n", base)
		return nil
	}
	if err != nil {
		return err
	}
	if !isEmulatorProcess(rec.PID) {
		return fmt.Errorf("pid %d in %s is not an asyncfn emulator any more: not signalling it", rec.PID, filepath.Join(rec.StateDir, pidFileName))
	}
	if err := syscall.Kill(rec.PID, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			fmt.Fprintf(o.IO.Err, "no emulator is running at %s\n", rec.URL)
			return nil
		}
		return fmt.Errorf("signal emulator pid %d: %w", rec.PID, err)
	}
	fmt.Fprintf(o.IO.Err, "stopping the emulator at %s (pid %d): draining running events\n", rec.URL, rec.PID)
	deadline := time.Now().Add(o.Timeout)
	for processAlive(rec.PID) {
		if time.Now().After(deadline) {
			return &exitCodeError{code: exitNotReady, err: fmt.Errorf("the emulator (pid %d) had not exited after %s", rec.PID, o.Timeout)}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	fmt.Fprintf(o.IO.Err, "stopped the emulator at %s\n", rec.URL)
	return nil
}

// detachArgs are this command line without --detach and its timeout, for the
// background child.
func detachArgs(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		name, inline := flagName(args[i])
		switch name {
		case "detach":
			continue
		case "wait-timeout":
			if !inline {
				i++
			}
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// runDetached starts this same command line in the background — its own
// session, stdin from /dev/null, stdout and stderr appended to
// emulator.log in the state directory — waits until it answers, prints its
// URL and returns. If it exits first, the end of its log says why.
func runDetached(ctx context.Context, o *localStartOptions) error {
	if o.Args == nil {
		return usagef("--detach: the command line to run in the background is unknown")
	}
	dir, err := o.stateDir(o.Globals)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	base := "http://" + o.Addr
	if healthy(ctx, base) {
		return fmt.Errorf("an emulator already answers at %s: stop it first (asyncfn local stop --addr %s)", base, o.Addr)
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("--detach: find this executable: %w", err)
	}
	logPath := filepath.Join(dir, logFileName)
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open emulator log: %w", err)
	}
	defer logf.Close()
	start, _ := logf.Seek(0, io.SeekEnd)
	fmt.Fprintf(logf, "--- asyncfn local start --detach, %s\n", time.Now().UTC().Format(time.RFC3339))
	cmd := exec.Command(exe, detachArgs(o.Args[1:])...)
	cmd.Env = append(os.Environ(), detachedEnv+"="+logPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // Ctrl-C of the caller's terminal does not reach it
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the emulator: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	gone := func() error {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("the emulator exited before it answered (%v); %s ends:\n%s", err, logPath, logTail(logPath, start, 20))
		default:
			return nil
		}
	}
	// The record names the URL (with --addr HOST:0, the port it was given).
	var url string
	deadline := time.Now().Add(o.WaitTimeout)
	for url == "" {
		if rec, err := readRecordFile(filepath.Join(dir, recordFileName)); err == nil && rec.PID == cmd.Process.Pid {
			url = rec.URL
			break
		}
		if err := gone(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			cmd.Process.Signal(syscall.SIGTERM)
			return &exitCodeError{code: exitNotReady, err: &notReadyError{url: base, timeout: o.WaitTimeout, detail: logTail(logPath, start, 20)}}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := waitHealthy(ctx, url, time.Until(deadline)+time.Second, gone); err != nil {
		cmd.Process.Signal(syscall.SIGTERM)
		return err
	}
	if o.JSON() {
		_ = json.NewEncoder(o.IO.Out).Encode(map[string]any{"url": url, "pid": cmd.Process.Pid, "stateDir": dir, "log": logPath})
	} else {
		fmt.Fprintln(o.IO.Out, url)
	}
	fmt.Fprintf(o.IO.Err, "asyncfn emulator running at %s (pid %d, log %s); asyncfn local stop ends it\n", url, cmd.Process.Pid, logPath)
	return nil
}

// logTail is the last n lines written to path after offset.
func logTail(path string, offset int64, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if offset > 0 && offset <= int64(len(b)) {
		b = b[offset:]
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
