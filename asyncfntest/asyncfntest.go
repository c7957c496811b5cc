// Package asyncfntest starts an asyncfn emulator inside a Go test, in the
// spirit of net/http/httptest: a real engine with its state in a temporary
// directory, every API front (native /v1/, Lambda and CloudWatch Logs,
// SCF API 3.0) on a free loopback port, stopped when the test ends.
//
//	emu := asyncfntest.Start(t)
//	emu.Deploy(t, "testdata/hello", asyncfntest.Function{Name: "hello", Handler: "index.handler"})
//	id := emu.InvokeAsync(t, "hello", `{"n": 1}`)
//	ev := emu.Wait(t, id) // ev.Status == "SUCCEEDED"
//
// Point a client at emu.URL: the asyncfn CLI with ASYNCFN_LOCAL_URL (or
// --endpoint), an AWS SDK or the aws CLI with emu.Env().
package asyncfntest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/artifact"
	"github.com/asyncfn/asyncfn/cloud"
	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/front"
	"github.com/asyncfn/asyncfn/localemu/server"
	"github.com/asyncfn/asyncfn/localemu/store"
)

// Emulator is an emulator running in the test's process.
type Emulator struct {
	// URL is its base URL, http://127.0.0.1:PORT, for every front.
	URL string
	// StateDir is its state directory, a t.TempDir().
	StateDir string
	// Engine is the engine behind the fronts, for what no API shows.
	Engine *localemu.Engine

	creds *front.Credentials
}

// Option configures Start.
type Option func(*config)

type config struct {
	creds          *front.Credentials
	maxConcurrency int
	backoff        func(int) time.Duration
	logger         *slog.Logger
}

// WithCredentials makes the emulator require requests signed with this key
// pair (SigV4, TC3) and the native API take it as HTTP Basic auth, as
// `asyncfn local start --credentials ID:KEY` does.
func WithCredentials(id, key string) Option {
	return func(c *config) { c.creds = &front.Credentials{ID: id, Key: key} }
}

// WithMaxConcurrency bounds the events running at once (default 100).
func WithMaxConcurrency(n int) Option { return func(c *config) { c.maxConcurrency = n } }

// WithBackoff sets the wait before each retry (default 50 ms, so a test
// that exhausts a function's retries takes no time).
func WithBackoff(f func(attempt int) time.Duration) Option { return func(c *config) { c.backoff = f } }

// WithLogger gives the engine's log a destination (default: discarded).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// Start runs an emulator until the test ends: the server stops, running
// events are drained for up to 5 s and the engine closes in t.Cleanup.
func Start(t testing.TB, opts ...Option) *Emulator {
	t.Helper()
	cfg := config{maxConcurrency: 100, backoff: func(int) time.Duration { return 50 * time.Millisecond },
		logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o(&cfg)
	}
	dir := t.TempDir()
	// Loopback only, as the emulator itself listens by default.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("asyncfntest: listen: %v", err)
	}
	eng, err := localemu.New(localemu.Options{StateDir: dir, MaxConcurrency: cfg.maxConcurrency, Backoff: cfg.backoff, Logger: cfg.logger,
		FunctionEnv: server.FunctionEnv("http://"+ln.Addr().String(), cfg.creds)})
	if err != nil {
		ln.Close()
		t.Fatalf("asyncfntest: start engine: %v", err)
	}
	srv := server.New(eng, server.Options{Credentials: cfg.creds})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer dcancel()
		eng.Drain(dctx)
		cancel()
		if err := <-done; err != nil {
			t.Errorf("asyncfntest: server: %v", err)
		}
		closeEngine(t, eng)
	})
	return &Emulator{URL: "http://" + ln.Addr().String(), StateDir: dir, Engine: eng, creds: cfg.creds}
}

func closeEngine(t testing.TB, eng *localemu.Engine) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := eng.Close(ctx); err != nil {
		t.Errorf("asyncfntest: close engine: %v", err)
	}
}

// Function is what Deploy needs to know about a function; zero fields take
// the defaults noted.
type Function struct {
	Name        string            // deployed name (required)
	Handler     string            // e.g. index.handler (required)
	Provider    cloud.Provider    // default aws
	Runtime     string            // default nodejs20.x
	MemorySize  int               // MB, default 128
	Timeout     int               // seconds, default 30
	Environment map[string]string // the function's variables
	// RetryAttempts is the async retry policy (nil: the provider default, 2).
	RetryAttempts *int
}

// Retries is a helper for Function.RetryAttempts.
func Retries(n int) *int { return &n }

// Deploy packages every file under dir as the function's code and deploys
// it; a failure fails the test. It returns the deployed version.
func (e *Emulator) Deploy(t testing.TB, dir string, fn Function) int {
	t.Helper()
	if fn.Name == "" || fn.Handler == "" {
		t.Fatalf("asyncfntest: Deploy needs a Name and a Handler")
	}
	zip, _, err := artifact.Build(dir, nil)
	if err != nil {
		t.Fatalf("asyncfntest: package %s: %v", dir, err)
	}
	cfg := localemu.FunctionConfig{Name: fn.Name, Provider: fn.Provider, Runtime: fn.Runtime, Handler: fn.Handler,
		MemorySize: fn.MemorySize, Timeout: fn.Timeout, Environment: fn.Environment}
	cfg.Async.RetryAttempts = fn.RetryAttempts
	if cfg.Provider == "" {
		cfg.Provider = cloud.AWS
	}
	if cfg.Runtime == "" {
		cfg.Runtime = "nodejs20.x"
	}
	if cfg.MemorySize == 0 {
		cfg.MemorySize = 128
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30
	}
	f, err := e.Engine.Deploy(context.Background(), cfg, zip)
	if err != nil {
		t.Fatalf("asyncfntest: deploy %s: %v", fn.Name, err)
	}
	return f.Version
}

// InvokeAsync accepts an asynchronous event and returns its RequestId.
func (e *Emulator) InvokeAsync(t testing.TB, fn, payload string) string {
	t.Helper()
	ev, err := e.Engine.Invoke(context.Background(), localemu.InvokeRequest{Function: fn, Payload: []byte(payload), Type: event.InvokeEvent})
	if err != nil {
		t.Fatalf("asyncfntest: invoke %s: %v", fn, err)
	}
	return ev.RequestID
}

// Wait waits up to 30 s for an event to finish and returns it.
func (e *Emulator) Wait(t testing.TB, requestID string) store.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ev, err := e.Engine.Wait(ctx, requestID)
	if err != nil {
		t.Fatalf("asyncfntest: wait for %s: %v", requestID, err)
	}
	return ev
}

// Env is the environment that points the asyncfn CLI, the aws CLI and the
// AWS SDKs at the emulator, as KEY=VALUE (append it to os.Environ() for a
// command): the emulator's credentials if it has them, else dummy ones.
// A profile or session token in the environment still applies: drop
// AWS_PROFILE and AWS_SESSION_TOKEN from it if they may be set.
func (e *Emulator) Env() []string {
	id, key := "asyncfn-local", "asyncfn-local-secret"
	env := []string{"ASYNCFN_LOCAL_URL=" + e.URL}
	if e.creds != nil {
		id, key = e.creds.ID, e.creds.Key
		env = append(env, fmt.Sprintf("ASYNCFN_CREDENTIALS=%s:%s", id, key))
	}
	return append(env,
		"AWS_ENDPOINT_URL="+e.URL, "AWS_ENDPOINT_URL_LAMBDA="+e.URL, "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS="+e.URL,
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID="+id, "AWS_SECRET_ACCESS_KEY="+key)
}
