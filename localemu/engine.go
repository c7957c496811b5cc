// Package localemu is the local emulator's engine: it runs functions as real
// processes with the asynchronous-event semantics of Tencent SCF's async mode
// and Lambda's async invoke (an id at once, status, retries, event age, logs,
// terminate), durable across restarts. Its Go API — Engine and its methods,
// the error kinds (Kind) and attempt outcomes (Outcome) — is all that the wire
// protocols in localemu/front see; localemu/server puts them on one port.
//
// An event is committed to the store before its RequestId is returned; from
// then on the engine keeps one in-memory record of it until it is terminal,
// only moves it forward through the statuses of package event, and a restart
// picks up whatever was in flight.
//
// The engine also keeps an object store (buckets and objects, objects.go)
// and published layer versions (layers.go) that the S3 and COS fronts and
// the Lambda and SCF fronts share: code arrives inline or by object
// reference (DeployCode), checked against each cloud's limits
// (CodeLimitsFor). docs/objects.md is the fronts' contract.
package localemu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/asyncfn/asyncfn/artifact"
	"github.com/asyncfn/asyncfn/cloud"
	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/localemu/runtime"
	"github.com/asyncfn/asyncfn/localemu/store"
	"github.com/asyncfn/asyncfn/nativeapi"
)

// Options configure an Engine. Zero values take the documented defaults.
type Options struct {
	StateDir string // required: the store and extracted code live here
	// MaxConcurrency caps running events over all functions (default 100).
	MaxConcurrency int
	// FunctionConcurrency caps running events of one function that sets no
	// reservedConcurrency (default: MaxConcurrency).
	FunctionConcurrency int
	// Backoff is the delay before retry n (1-based); default LocalBackoff.
	Backoff func(n int) time.Duration
	// IdleTimeout ends warm instances unused for this long (default 10 min).
	IdleTimeout time.Duration
	// LogKeep bounds the bytes of an attempt's output the store keeps: the
	// first half and the last half, with one marker line for what was
	// elided between (default DefaultLogKeep; negative: keep everything).
	// Live subscribers get every line whatever it is.
	LogKeep int64
	// Retention deletes finished events, with their attempts and logs, this
	// long after they ended (default DefaultRetention); a function's own
	// rule (SCF's tracking window, a durable function's retention period)
	// applies when it is shorter. Negative: never, own rules included.
	Retention time.Duration
	// MaxStoreSize, when positive, is the store's disk budget: past it, the
	// oldest finished events are deleted first. An accept is never refused
	// for old data.
	MaxStoreSize int64
	// PruneInterval is how often retention and the budget are applied
	// (default DefaultPruneInterval, or a quarter of a shorter Retention,
	// and at most 10 s with a MaxStoreSize).
	PruneInterval time.Duration
	Logger        *slog.Logger
	// FunctionEnv are variables every instance of a provider's functions
	// gets under its own declared ones: the emulator's endpoints and
	// credentials (server.FunctionEnv), so that a function's SDK reaches
	// the emulator's object store as it would reach the cloud's.
	FunctionEnv map[cloud.Provider]map[string]string

	// elideAfter overrides the hub's elideAfter (tests).
	elideAfter time.Duration
}

// LocalBackoff retries quickly, so that a laptop or CI run sees retries in seconds.
func LocalBackoff(n int) time.Duration { return time.Duration(n) * 500 * time.Millisecond }

// CloudBackoff waits as Lambda does between async retries: 1 minute, then 2.
func CloudBackoff(n int) time.Duration {
	if n <= 1 {
		return time.Minute
	}
	return 2 * time.Minute
}

// Engine runs events. It is safe for concurrent use.
type Engine struct {
	lock    *os.File // held for the engine's lifetime
	opts    Options
	store   *store.Store
	logs    *logHub
	log     *slog.Logger
	codeDir string
	workDir string
	instDir string             // one file per live instance: its process group, for cleanup after a crash
	procs   *runtime.ProcTable // shared by all instances: one /proc scan per interval

	mu          sync.Mutex
	closing     bool
	fns         map[string]*fnState
	running     int
	seq         uint64
	wake        *time.Timer                   // the dispatcher's next look at queued events (scale.go)
	cpu         cpuMeter                      // is the machine saturated (scale.go)
	incs        uint64                        // incarnations handed out (see fnState.inc)
	events      map[string]*tracked           // every live (non-terminal) event
	expiries    expiryQueue                   // waiting async events, by when they reach their maximum age
	expiryTimer *time.Timer                   // fires for the earliest of expiries
	waiters     map[string][]chan store.Event // sent the event once it is terminal
	wg          sync.WaitGroup
	stopIdle    chan struct{}
	stopPrune   context.CancelFunc
	pruneDone   chan struct{}
	drained     chan struct{} // closed when Drain has finished
	closeOnce   sync.Once
	codeMu      sync.Mutex // held by a deploy from unpacking to recording, and by collectCode
	hooks       testHooks
}

// testHooks let tests stop the engine at a chosen step, to force an
// interleaving deterministically; nil in production.
type testHooks struct {
	// settling runs after an attempt has ended and before its outcome is
	// recorded, with no lock held.
	settling func(requestID string)
}

type fnState struct {
	name    string
	version int
	// inc identifies this life of the function: a function removed and
	// created again starts its versions at 1 again, so version numbers alone
	// cannot tell an instance of the old function from one of the new.
	inc     uint64
	cfg     *FunctionConfig
	code    string // extracted code of the latest version
	opt     string // its layers merged (the clouds' /opt); "" without layers
	queue   []*tracked
	running int
	idle    []*instance
	// What the scaling policy (scale.go) knows of the function: runs whose
	// instance is still starting, runs handed to their instance (by the time
	// they were handed), and the recent handler duration and cold start.
	starting  int
	invoking  map[*run]time.Time
	duration  ewma
	coldStart ewma
}

// run is one attempt in flight.
type run struct {
	id          string
	fn          string
	inc         uint64 // the function incarnation the event belongs to
	code        string // the code directory the attempt runs (set when it starts)
	opt         string // and its layers directory
	attempt     int
	ctx         context.Context
	cancel      context.CancelFunc
	inst        *instance
	warm        *instance // the idle instance dispatch chose for this run, if any
	cold        bool      // the run starts a new instance
	coldSince   time.Time // when it was dispatched to start one
	handed      bool      // its event reached the instance (under Engine.mu)
	terminating bool
	grace       time.Duration
}

// instance is a warm function process and the run it is serving.
type instance struct {
	rt      *runtime.Instance
	version int
	inc     uint64 // the function incarnation it runs code of
	code    string
	opt     string
	cur     atomic.Pointer[run] // the run being served; read on every output line
	idleAt  time.Time
}

const (
	defaultMaxConcurrency = 100
	defaultIdleTimeout    = 10 * time.Minute
)

// New opens the state directory, recovers events that were in flight when
// the previous process stopped, and starts running queued events.
func New(opts Options) (*Engine, error) {
	if opts.StateDir == "" {
		return nil, errors.New("localemu: a state directory is required")
	}
	if opts.MaxConcurrency <= 0 {
		opts.MaxConcurrency = defaultMaxConcurrency
	}
	if opts.FunctionConcurrency <= 0 {
		opts.FunctionConcurrency = opts.MaxConcurrency
	}
	if opts.Backoff == nil {
		opts.Backoff = LocalBackoff
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = defaultIdleTimeout
	}
	if opts.LogKeep == 0 {
		opts.LogKeep = DefaultLogKeep
	}
	if opts.Retention == 0 {
		opts.Retention = DefaultRetention
	}
	if opts.PruneInterval <= 0 {
		// Often enough that a short retention is kept to within a quarter
		// of it, and a budget to within seconds.
		opts.PruneInterval = DefaultPruneInterval
		if opts.Retention > 0 {
			opts.PruneInterval = min(opts.PruneInterval, max(opts.Retention/4, time.Second))
		}
		if opts.MaxStoreSize > 0 {
			opts.PruneInterval = min(opts.PruneInterval, budgetInterval)
		}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	lock, err := lockStateDir(opts.StateDir)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(opts.StateDir)
	if err != nil {
		lock.Close()
		return nil, err
	}
	e := &Engine{
		lock:     lock,
		opts:     opts,
		store:    st,
		log:      opts.Logger,
		procs:    runtime.NewProcTable(250 * time.Millisecond),
		codeDir:  filepath.Join(opts.StateDir, "code"),
		workDir:  filepath.Join(opts.StateDir, "work"),
		instDir:  filepath.Join(opts.StateDir, "instances"),
		fns:      make(map[string]*fnState),
		events:   make(map[string]*tracked),
		waiters:  make(map[string][]chan store.Event),
		stopIdle: make(chan struct{}),
		drained:  make(chan struct{}),
	}
	for _, d := range []string{e.codeDir, e.workDir, e.instDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			st.Close()
			lock.Close()
			return nil, fmt.Errorf("localemu: create %s: %w", d, err)
		}
	}
	lastSeq, err := st.MaxLogSeq(context.Background())
	if err != nil {
		st.Close()
		lock.Close()
		return nil, fmt.Errorf("localemu: read log position: %w", err)
	}
	e.logs = newLogHub(st, lastSeq, keepOf(opts.LogKeep), e.log)
	if opts.elideAfter > 0 {
		e.logs.elideAfter = opts.elideAfter
	}
	e.killLeftovers()
	if err := e.loadFunctions(); err != nil {
		e.logs.close()
		st.Close()
		lock.Close()
		return nil, err
	}
	e.collectCode()                      // what a previous process left unused
	e.sweepObjects(context.Background()) // and object files it never recorded
	if err := e.recover(); err != nil {
		e.logs.close()
		st.Close()
		lock.Close()
		return nil, err
	}
	go e.reapIdle()
	pctx, stopPrune := context.WithCancel(context.Background())
	e.stopPrune, e.pruneDone = stopPrune, make(chan struct{})
	go e.pruneLoop(pctx)
	return e, nil
}

func (e *Engine) loadFunctions() error {
	fns, err := e.store.ListFunctions(context.Background())
	if err != nil {
		return fmt.Errorf("localemu: load functions: %w", err)
	}
	for _, f := range fns {
		cfg, err := DecodeConfig(f.Config)
		if err != nil {
			return fmt.Errorf("localemu: function %s: %w", f.Name, err)
		}
		e.incs++
		e.fns[f.Name] = &fnState{name: f.Name, version: f.Version, inc: e.incs, cfg: cfg,
			code: filepath.Join(e.codeDir, f.CodeSHA256), opt: e.optDir(f.LayersSHA256)}
	}
	return nil
}

// recover re-queues QUEUED events and counts RUNNING ones as a failed attempt.
func (e *Engine) recover() error {
	ctx := context.Background()
	evs, _, err := e.store.ListEvents(ctx, store.EventQuery{Statuses: []event.Status{event.Queued, event.Running}})
	if err != nil {
		return fmt.Errorf("localemu: recover events: %w", err)
	}
	for i := range evs {
		ev := evs[i]
		if ev.InvokeType == event.InvokeRequestResponse && ev.Status == event.Queued {
			// Its caller went away with the previous process: nobody waits for the answer.
			now := time.Now().UTC()
			ev.Status, ev.EndedAt, ev.ErrorType, ev.ErrorMessage = event.Failed, now, ErrTypeRestarted, "the emulator stopped before this synchronous invocation ran"
			if err := e.store.UpdateEvent(ctx, &ev); err != nil {
				return fmt.Errorf("localemu: recover %s: %w", ev.RequestID, err)
			}
			continue
		}
		e.mu.Lock()
		t := e.trackLocked(&ev)
		e.mu.Unlock()
		if ev.Status == event.Running {
			done, err := e.finishRecordedAttempt(&ev)
			if err != nil {
				return err
			}
			if done {
				continue
			}
			now := time.Now()
			a := store.Attempt{RequestID: ev.RequestID, N: ev.Attempts, EndedAt: now, Status: event.Failed,
				ErrorType: ErrTypeRestarted, ErrorMessage: "the emulator stopped while this attempt was running"}
			if ev.Attempts == 0 {
				a.N = 1
				ev.Attempts = 1
			}
			if err := e.store.PutAttempt(ctx, a); err != nil {
				return fmt.Errorf("localemu: recover %s: %w", ev.RequestID, err)
			}
			// What it printed before the stop is bounded as if it had run on.
			if err := e.logs.elideStored(ctx, ev.RequestID, ev.Attempts); err != nil {
				e.log.Error("bounding the output of an interrupted attempt", "requestId", ev.RequestID, "err", err)
			}
			e.logs.append(store.LogLine{Function: ev.Function, RequestID: ev.RequestID, Attempt: ev.Attempts, Time: now,
				Stream: "platform", Text: fmt.Sprintf("RESTART RequestId: %s attempt %d was interrupted by an emulator restart", ev.RequestID, ev.Attempts)})
			if err := e.finishAttempt(&ev, outcome{status: event.Failed, errType: a.ErrorType, errMsg: a.ErrorMessage, ended: now}); err != nil {
				return err
			}
			continue // finishAttempt queued a retry or ended the event
		}
		e.mu.Lock()
		e.enqueueLocked(t, ev.NextAttempt)
		e.mu.Unlock()
	}
	e.mu.Lock()
	e.dispatchLocked()
	e.mu.Unlock()
	return nil
}

// finishRecordedAttempt completes an event whose last attempt had ended and
// been recorded when the previous process died before the event itself was
// updated: its outcome stands, so a handler that succeeded is not run again.
func (e *Engine) finishRecordedAttempt(ev *store.Event) (bool, error) {
	attempts, err := e.store.Attempts(context.Background(), ev.RequestID)
	if err != nil {
		return false, fmt.Errorf("localemu: recover %s: %w", ev.RequestID, err)
	}
	for _, a := range attempts {
		if a.N != ev.Attempts || a.EndedAt.IsZero() || !a.Status.Terminal() {
			continue
		}
		oc := outcome{status: a.Status, errType: a.ErrorType, errMsg: a.ErrorMessage, ended: a.EndedAt,
			duration: time.Duration(a.DurationMs) * time.Millisecond, memoryMB: a.MaxMemoryMB}
		return true, e.finishAttempt(ev, oc)
	}
	return false, nil
}

// killLeftovers ends the processes that instances of a previous emulator
// process left behind: a SIGKILLed emulator takes its direct children with it
// (Pdeathsig), but not what they started.
func (e *Engine) killLeftovers() {
	entries, err := os.ReadDir(e.instDir)
	if err != nil {
		return
	}
	for _, ent := range entries {
		path := filepath.Join(e.instDir, ent.Name())
		pgid, err := strconv.Atoi(ent.Name())
		fp, rerr := os.ReadFile(path)
		if err == nil && rerr == nil {
			if n := runtime.KillLeftoverGroup(pgid, string(fp)); n > 0 {
				e.log.Warn("killed processes a previous emulator's instance left behind", "group", pgid, "processes", n)
			}
		}
		os.Remove(path)
	}
}

// track records a live instance's process group (see killLeftovers).
func (e *Engine) track(in *instance) {
	pid := in.rt.PID()
	if fp, err := runtime.Fingerprint(pid); err == nil {
		_ = os.WriteFile(filepath.Join(e.instDir, strconv.Itoa(pid)), []byte(fp), 0o600)
	}
}

// retire ends an instance for good and forgets its process group.
func (e *Engine) retire(in *instance) {
	in.rt.Terminate(0)
	os.Remove(filepath.Join(e.instDir, strconv.Itoa(in.rt.PID())))
	e.collectCode()
}

// collectCode removes unpacked code that neither a function's latest version
// nor any instance (warm, running or starting) uses: each deploy may unpack
// up to a gigabyte, and a removed or redeployed function's old code would
// otherwise stay for good. Deploy holds codeMu from unpacking to recording,
// so code being deployed is never collected.
func (e *Engine) collectCode() {
	e.codeMu.Lock()
	defer e.codeMu.Unlock()
	inUse := make(map[string]bool)
	e.mu.Lock()
	for _, fs := range e.fns {
		if fs.cfg != nil {
			inUse[fs.code], inUse[fs.opt] = true, true
		}
		for _, in := range fs.idle {
			inUse[in.code], inUse[in.opt] = true, true
		}
	}
	for _, t := range e.events {
		if t.run != nil {
			inUse[t.run.code], inUse[t.run.opt] = true, true
			if t.run.inst != nil {
				inUse[t.run.inst.code], inUse[t.run.inst.opt] = true, true
			}
		}
	}
	e.mu.Unlock()
	entries, err := os.ReadDir(e.codeDir)
	if err != nil {
		return
	}
	for _, ent := range entries {
		path := filepath.Join(e.codeDir, ent.Name())
		if ent.IsDir() && !strings.HasPrefix(ent.Name(), ".") && !inUse[path] {
			if err := os.RemoveAll(path); err != nil {
				e.log.Warn("removing unused code", "dir", path, "err", err)
			}
		}
	}
}

// Deploy stores a new version of a function from inline zip bytes. With
// code == nil the current code is kept (a configuration-only update).
func (e *Engine) Deploy(ctx context.Context, cfg FunctionConfig, code []byte) (store.Function, error) {
	return e.DeployCode(ctx, cfg, Code{Zip: code})
}

// DeployCode stores a new version of a function whose package is inline or
// an object of the object store; the zero Code keeps the current code. The
// provider's CodeLimits apply: the inline zip's size, the number of layers,
// and the code and its layers unzipped together.
func (e *Engine) DeployCode(ctx context.Context, cfg FunctionConfig, code Code) (store.Function, error) {
	if err := validateConfig(&cfg); err != nil {
		return store.Function{}, err
	}
	lim := CodeLimitsFor(cfg.Provider)
	layers, layersSHA, err := e.resolveLayers(ctx, cfg.Layers, lim)
	if err != nil {
		return store.Function{}, err
	}
	var sum string
	var size, unzipped int64
	var p *pkg
	if !code.empty() {
		if p, err = e.openCode(ctx, code, lim); err != nil {
			return store.Function{}, err
		}
		defer p.close()
		sum, size, unzipped = p.sha256, p.size, p.unzipped
	}
	e.codeMu.Lock() // until the code is recorded: collectCode must not take it
	defer e.codeMu.Unlock()
	if p == nil {
		cur, err := e.store.GetFunction(ctx, cfg.Name)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return store.Function{}, &InvalidParameterError{Msg: "function " + cfg.Name + " does not exist yet: code is required"}
			}
			return store.Function{}, err
		}
		sum, size = cur.CodeSHA256, cur.CodeSize
		if len(layers) > 0 {
			unzipped = dirSize(filepath.Join(e.codeDir, sum))
		}
	}
	if total := unzipped + layersTotal(layers); total > lim.Unzipped {
		return store.Function{}, &CodeTooLargeError{Unzipped: true, Size: total, Limit: lim.Unzipped}
	}
	if p != nil {
		if err := e.extract(sum, p.r, p.size, lim.Unzipped-layersTotal(layers)); err != nil {
			return store.Function{}, err
		}
	}
	if err := e.mergeLayers(layers, layersSHA, lim); err != nil {
		return store.Function{}, err
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return store.Function{}, err
	}
	f, err := e.store.PutFunction(ctx, store.Function{Name: cfg.Name, Config: raw, CodeSHA256: sum, CodeSize: size, LayersSHA256: layersSHA})
	if err != nil {
		return store.Function{}, err
	}
	e.mu.Lock()
	fs := e.fns[cfg.Name]
	if fs == nil {
		fs = &fnState{name: cfg.Name}
		e.fns[cfg.Name] = fs
	}
	if fs.cfg == nil {
		// Created, or created again after a remove: a new life of the function.
		e.incs++
		fs.inc = e.incs
	}
	c := cfg
	fs.version, fs.cfg, fs.code, fs.opt = f.Version, &c, filepath.Join(e.codeDir, sum), e.optDir(layersSHA)
	// Warm instances of older versions are retired; running ones finish undisturbed.
	stale := fs.idle
	fs.idle = nil
	e.dispatchLocked()
	e.mu.Unlock()
	for _, in := range stale {
		go e.retire(in)
	}
	go e.collectCode() // the previous code, once nothing uses it (after this deploy lets go of codeMu)
	return f, nil
}

// dirSize is the bytes of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// extract unpacks code into its content-addressed directory once, writing
// at most maxBytes.
func (e *Engine) extract(sum string, r io.ReaderAt, size, maxBytes int64) error {
	dest := filepath.Join(e.codeDir, sum)
	if _, err := os.Stat(dest); err == nil {
		return nil
	}
	tmp, err := os.MkdirTemp(e.codeDir, ".extract-")
	if err != nil {
		return fmt.Errorf("localemu: unpack code: %w", err)
	}
	if err := artifact.ExtractFrom(r, size, tmp, artifact.Limits{MaxBytes: maxBytes}); err != nil {
		os.RemoveAll(tmp)
		if errors.Is(err, artifact.ErrLimit) && maxBytes > 0 {
			return &CodeTooLargeError{Unzipped: true, Size: maxBytes + 1, Limit: maxBytes}
		}
		return &InvalidParameterError{Msg: "code: " + err.Error()}
	}
	if err := os.Rename(tmp, dest); err != nil {
		os.RemoveAll(tmp)
		if _, statErr := os.Stat(dest); statErr == nil {
			return nil // a concurrent deploy of the same code won
		}
		return fmt.Errorf("localemu: unpack code: %w", err)
	}
	return nil
}

// Function returns the latest version of a function and its configuration.
func (e *Engine) Function(ctx context.Context, name string) (store.Function, *FunctionConfig, error) {
	f, err := e.store.GetFunction(ctx, name)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.Function{}, nil, fmt.Errorf("%w: %s", ErrFunctionNotFound, name)
		}
		return store.Function{}, nil, err
	}
	cfg, err := DecodeConfig(f.Config)
	return f, cfg, err
}

// DeployedConfig returns the configuration of the function's latest
// version from memory, without reading the store: what a front needs on the
// invoke path (is it durable, its region). The config is shared and must not
// be changed; ok is false for a function that is not deployed.
func (e *Engine) DeployedConfig(name string) (cfg *FunctionConfig, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if fs := e.fns[name]; fs != nil && fs.cfg != nil {
		return fs.cfg, true
	}
	return nil, false
}

// Functions lists the latest version of every function.
func (e *Engine) Functions(ctx context.Context) ([]store.Function, error) {
	return e.store.ListFunctions(ctx)
}

// RemoveFunction deletes a function. Its events are kept. Events still
// waiting to run end FAILED at once (ResourceNotFound: they never ran on it;
// Lambda discards a deleted function's queued events); running ones finish
// their attempt on the old code and are not retried; its instances are
// retired and never serve a function created again under the same name.
func (e *Engine) RemoveFunction(ctx context.Context, name string) error {
	if err := e.store.DeleteFunction(ctx, name); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %s", ErrFunctionNotFound, name)
		}
		return err
	}
	e.mu.Lock()
	var idle []*instance
	if fs := e.fns[name]; fs != nil {
		idle = fs.idle
		fs.idle = nil
		fs.cfg = nil
	}
	var waiting []*tracked
	for _, t := range e.events {
		if t.fn == name && (t.phase == phaseWaiting || t.phase == phaseReady) {
			e.unqueueLocked(t)
			waiting = append(waiting, t)
		}
	}
	e.dispatchLocked()
	e.mu.Unlock()
	for _, in := range idle {
		go e.retire(in)
	}
	go e.collectCode()
	for _, t := range waiting {
		ev, err := e.store.GetEvent(ctx, t.id)
		if err != nil {
			e.log.Error("failing a removed function's event", "requestId", t.id, "err", err)
			continue
		}
		e.endUnrun(&ev, event.Failed, ErrTypeFunctionRemoved, removedMessage(name),
			fmt.Sprintf("REMOVED RequestId: %s did not run: function %s was removed", ev.RequestID, name))
	}
	return nil
}

func removedMessage(fn string) string {
	return "function " + fn + " was removed before this event could run"
}

// InvokeRequest is one invocation to accept.
type InvokeRequest struct {
	Function    string
	Payload     []byte
	Type        string // event.InvokeEvent or event.InvokeRequestResponse (default)
	Qualifier   string
	DurableName string // idempotent start: an existing event of that name is returned
}

// Invoke accepts an invocation. An Event invoke returns the QUEUED event once
// it is committed; a RequestResponse invoke waits for the terminal event.
func (e *Engine) Invoke(ctx context.Context, req InvokeRequest) (store.Event, error) {
	async := req.Type == event.InvokeEvent
	if !async {
		req.Type = event.InvokeRequestResponse
	}
	e.mu.Lock()
	closing := e.closing
	fs := e.fns[req.Function]
	var cfg *FunctionConfig
	var version int
	if fs != nil {
		cfg, version = fs.cfg, fs.version
	}
	e.mu.Unlock()
	if closing {
		return store.Event{}, ErrShuttingDown
	}
	if cfg == nil {
		return store.Event{}, fmt.Errorf("%w: %s", ErrFunctionNotFound, req.Function)
	}
	if !async && cfg.ReservedConcurrency != nil {
		// A synchronous invoke is never queued: at the function's reserved
		// concurrency Lambda answers 429 TooManyRequestsException with the
		// reason ReservedFunctionConcurrentInvocationLimitExceeded (Lambda API
		// reference, Invoke: Errors), and with 0 it throttles every invoke.
		e.mu.Lock()
		busy := fs.running
		e.mu.Unlock()
		if busy >= *cfg.ReservedConcurrency {
			return store.Event{}, &ThrottledError{Function: req.Function, Reserved: *cfg.ReservedConcurrency}
		}
	}
	limit := nativeapi.MaxSyncPayload
	if async {
		limit = cfg.AsyncPayloadLimit()
	}
	if len(req.Payload) > limit {
		return store.Event{}, &PayloadTooLargeError{Size: len(req.Payload), Limit: limit, Async: async}
	}
	if len(req.Payload) == 0 {
		req.Payload = []byte("{}")
	} else if !json.Valid(req.Payload) {
		return store.Event{}, &InvalidParameterError{Msg: "the request payload is not valid JSON"}
	}
	if req.DurableName != "" {
		ev, err := e.store.FindEventByDurableName(ctx, req.Function, req.DurableName)
		if err == nil {
			return ev, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return store.Event{}, err
		}
	}
	ev := store.Event{
		RequestID:   uuid.NewString(),
		Function:    req.Function,
		Version:     version,
		Qualifier:   req.Qualifier,
		InvokeType:  req.Type,
		Payload:     req.Payload,
		Status:      event.Queued,
		CreatedAt:   time.Now().UTC(),
		DurableName: req.DurableName,
	}
	var wait chan store.Event
	if !async {
		e.mu.Lock()
		wait = e.addWaiterLocked(ev.RequestID)
		e.mu.Unlock()
	}
	if err := e.store.InsertEvent(ctx, &ev); err != nil {
		if wait != nil {
			e.removeWaiter(ev.RequestID, wait)
		}
		return store.Event{}, fmt.Errorf("localemu: record event: %w", err)
	}
	e.mu.Lock()
	e.enqueueLocked(e.trackLocked(&ev), time.Time{})
	e.dispatchLocked()
	e.mu.Unlock()
	if async {
		return ev, nil
	}
	select {
	case final := <-wait:
		return final, nil
	case <-ctx.Done():
		// The caller is gone; the event runs on and stays queryable.
		return ev, ctx.Err()
	}
}

// Event returns one event. fn, when not empty, must be the event's function.
func (e *Engine) Event(ctx context.Context, fn, requestID string) (store.Event, error) {
	ev, err := e.store.GetEvent(ctx, requestID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.Event{}, fmt.Errorf("%w: %s", ErrEventNotFound, requestID)
		}
		return store.Event{}, err
	}
	if fn != "" && ev.Function != fn {
		return store.Event{}, fmt.Errorf("%w: %s (of function %s)", ErrEventNotFound, requestID, fn)
	}
	return ev, nil
}

// Events lists events; the int is the number of all matches.
func (e *Engine) Events(ctx context.Context, q store.EventQuery) ([]store.Event, int, error) {
	return e.store.ListEvents(ctx, q)
}

// Stats computes status statistics.
func (e *Engine) Stats(ctx context.Context, q store.EventQuery) (store.Stats, error) {
	return e.store.Stats(ctx, q)
}

// Attempts lists the attempts of an event.
func (e *Engine) Attempts(ctx context.Context, requestID string) ([]store.Attempt, error) {
	return e.store.Attempts(ctx, requestID)
}

// Wait blocks until the event is terminal or ctx ends.
func (e *Engine) Wait(ctx context.Context, requestID string) (store.Event, error) {
	e.mu.Lock()
	ch := e.addWaiterLocked(requestID)
	e.mu.Unlock()
	defer e.removeWaiter(requestID, ch)
	ev, err := e.store.GetEvent(ctx, requestID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.Event{}, fmt.Errorf("%w: %s", ErrEventNotFound, requestID)
		}
		return store.Event{}, err
	}
	if ev.Status.Terminal() {
		return ev, nil
	}
	select {
	case final := <-ch:
		return final, nil
	case <-ctx.Done():
		return ev, ctx.Err()
	}
}

// Logs returns stored log lines (everything appended so far is included).
func (e *Engine) Logs(ctx context.Context, q store.LogQuery) ([]store.LogLine, error) {
	e.logs.flush()
	return e.store.Logs(ctx, q)
}

// LastLogSeq is the number of the last log line written.
func (e *Engine) LastLogSeq() int64 {
	e.logs.mu.Lock()
	defer e.logs.mu.Unlock()
	return e.logs.lastSeq
}

// SubscribeLogs follows the log from after (a sequence number; 0 = from the
// start of what is kept, -1 = only new lines).
func (e *Engine) SubscribeLogs(f LogFilter, after int64) *Subscription {
	if after < 0 {
		e.logs.mu.Lock()
		after = e.logs.lastSeq
		e.logs.mu.Unlock()
	}
	return e.logs.subscribe(f, after)
}

// Drain stops accepting invocations and lets running events finish until
// ctx ends, then stops the rest (each counts as a failed attempt and follows
// its retry policy at the next start). Queries, logs and Terminate keep
// working until Close, so a user can watch and stop what is draining.
func (e *Engine) Drain(ctx context.Context) {
	e.mu.Lock()
	if e.closing {
		e.mu.Unlock()
		<-e.drained
		return
	}
	e.closing = true
	for _, t := range e.events {
		// What waits stays QUEUED in the store for the next start.
		if t.timer != nil {
			t.timer.Stop()
		}
	}
	if e.expiryTimer != nil {
		e.expiryTimer.Stop()
	}
	e.mu.Unlock()
	close(e.stopIdle)
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		e.mu.Lock()
		for _, t := range e.events {
			if t.run != nil {
				t.run.cancel()
			}
		}
		e.mu.Unlock()
		<-done
	}
	close(e.drained)
}

// Close drains the engine (see Drain) if that was not done yet, retires the
// warm instances and closes the store.
func (e *Engine) Close(ctx context.Context) error {
	e.Drain(ctx)
	var err error
	e.closeOnce.Do(func() {
		e.mu.Lock()
		var idle []*instance
		for _, fs := range e.fns {
			idle = append(idle, fs.idle...)
			fs.idle = nil
		}
		e.mu.Unlock()
		for _, in := range idle {
			e.retire(in)
		}
		e.stopPrune()
		<-e.pruneDone
		e.logs.close()
		err = e.store.Close()
		e.lock.Close()
	})
	return err
}

func (e *Engine) addWaiterLocked(id string) chan store.Event {
	ch := make(chan store.Event, 1)
	e.waiters[id] = append(e.waiters[id], ch)
	return ch
}

func (e *Engine) removeWaiter(id string, ch chan store.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ws := e.waiters[id]
	for i, w := range ws {
		if w == ch {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(e.waiters, id)
	} else {
		e.waiters[id] = ws
	}
}

// reapIdle ends warm instances that were not used for IdleTimeout.
func (e *Engine) reapIdle() {
	t := time.NewTicker(e.opts.IdleTimeout / 4)
	defer t.Stop()
	for {
		select {
		case <-e.stopIdle:
			return
		case <-t.C:
		}
		var old []*instance
		cutoff := time.Now().Add(-e.opts.IdleTimeout)
		e.mu.Lock()
		for _, fs := range e.fns {
			keep := fs.idle[:0]
			for _, in := range fs.idle {
				if in.idleAt.Before(cutoff) {
					old = append(old, in)
				} else {
					keep = append(keep, in)
				}
			}
			fs.idle = keep
		}
		e.mu.Unlock()
		for _, in := range old {
			e.retire(in)
		}
	}
}

// Logger is the engine's logger, for the fronts that serve it.
func (e *Engine) Logger() *slog.Logger { return e.log }

// LogSubscribers is the number of live log subscriptions open now.
func (e *Engine) LogSubscribers() int {
	e.logs.mu.Lock()
	defer e.logs.mu.Unlock()
	return len(e.logs.subs)
}

// ListAttempts lists attempts across events: one function's attempts in a
// window of start times, a page of them in one order, and how many match.
func (e *Engine) ListAttempts(ctx context.Context, q store.AttemptQuery) ([]store.Attempt, int, error) {
	return e.store.ListAttempts(ctx, q)
}

// instanceEnv is what an instance of cfg sees: the provider's FunctionEnv
// under the function's declared variables.
func (e *Engine) instanceEnv(cfg *FunctionConfig) map[string]string {
	base := e.opts.FunctionEnv[cfg.Provider]
	if len(base) == 0 {
		return cfg.Environment
	}
	env := make(map[string]string, len(base)+len(cfg.Environment))
	for k, v := range base {
		env[k] = v
	}
	for k, v := range cfg.Environment {
		env[k] = v
	}
	return env
}
