package runtime

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Limits and timings.
const (
	// maxResponseBytes is Lambda's synchronous response limit as it enforces it
	// (6 MB plus a small allowance; its error message quotes this number).
	maxResponseBytes = 6291556
	// drainTimeout bounds how long output is drained after the process exits:
	// a grandchild that escaped the process group may hold the pipes open.
	drainTimeout = 2 * time.Second
	// initExitWait is how long a runtime that reported /init/error gets to exit
	// by itself before it is killed.
	initExitWait = 2 * time.Second
	// defaultSampleEvery is how often memory is sampled during an invocation,
	// and the age at which the process table is read anew.
	defaultSampleEvery = 250 * time.Millisecond
	// DefaultInitTimeout is Lambda's bound on the init phase (see Invoke).
	DefaultInitTimeout = 10 * time.Second
)

// Instance is one running function process and its Runtime API listener.
type Instance struct {
	cfg     Config
	family  string
	cmd     *exec.Cmd
	pid     int            // the process started: the reaper, or the runtime without one
	leader  int            // the runtime's process (pid without a reaper)
	link    *reaperLink    // nil without a reaper
	cg      instanceCgroup // nil without cgroups (see cgroup_linux.go)
	cgGone  atomic.Bool    // cg is being removed: nothing is left to kill in it
	srv     *http.Server
	ln      net.Listener
	tmpDir  string    // removed at exit when Start created it
	started time.Time // when the process started: the init phase begins

	nextCh     chan *invocation // Invoke → the runtime's pending GET /next
	exited     chan struct{}    // closed when the leader has exited (not yet reaped)
	done       chan struct{}    // closed when reaped, output drained, listener closed
	initFailed chan struct{}    // closed on /init/error

	busy    atomic.Bool
	streams [2]*stream // stdout, stderr
	procs   *ProcTable
	oomKB   atomic.Int64 // resident memory that broke Config.MemoryLimitMB

	// Output attribution (see route): logMu is taken after mu, never before.
	logMu     sync.Mutex
	logID     string // request id that output is attributed to right now
	holding   bool   // output is held until the first Invoke names its request
	held      []Line
	heldBytes int

	mu        sync.Mutex
	current   *invocation    // handed to the runtime, not yet answered
	firstNext time.Time      // when the runtime first asked for an invocation: init ended
	handedAny bool           // an invocation was handed to the runtime
	initErr   *FunctionError // from /init/error
	reaped    bool           // pid was reaped: it (and its pgid) may be reused, never signal it again
	killArmed bool           // the reaper's kill deadline is set
	exitErr   *ExitError     // set before done is closed
	scfReady  bool
	stopOnce  sync.Once
	serveDone chan struct{}
}

// invocation is one request handed to the runtime.
type invocation struct {
	req     Request
	timeout time.Duration // the function's timeout; 0 with a fixed deadline
	result  chan answer   // buffered: the runtime's answer
	handed  chan struct{} // closed by handleNext once deadline and handedAt are set
	// deadline is set by handleNext at the handoff (handedAt + timeout) unless
	// Invoke fixed it before (Request.Deadline, or an init timeout).
	deadline  time.Time
	handedAt  time.Time
	answering atomic.Bool // the runtime answered; its output is being synced
}

// answer is the runtime's reply to an invocation.
type answer struct {
	payload []byte
	err     *FunctionError
	at      time.Time
}

// Start starts the per-instance Runtime API listener on 127.0.0.1:0 and the
// function's process, and returns once the process has started; the runtime's
// initialisation may still be running (Invoke waits for its first /next). ctx
// bounds start-up only: the process outlives it.
//
// The process runs in its own process group with a clean environment (see
// environment) and, on Linux, dies with the emulator (Pdeathsig). On Linux it
// runs under a reaper (see internal/reaper) that keeps every process it starts
// — also one that calls setsid or double-forks — inside the instance: counted
// in its memory, signalled by Terminate, and killed when the instance ends.
// Its stdout and stderr are delivered line by line to cfg.OnLog as they are
// written.
func Start(ctx context.Context, cfg Config) (*Instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	family, err := Family(cfg.Runtime)
	if err != nil {
		return nil, err
	}
	if cfg.CodeDir == "" {
		return nil, errors.New("runtime: Config.CodeDir is required")
	}
	if cfg.CodeDir, err = filepath.Abs(cfg.CodeDir); err != nil {
		return nil, fmt.Errorf("runtime: code directory: %w", err)
	}
	ownWork := false
	if cfg.WorkDir == "" {
		if cfg.WorkDir, err = os.MkdirTemp("", "asyncfn-instance-"); err != nil {
			return nil, fmt.Errorf("runtime: work directory: %w", err)
		}
		ownWork = true
	} else if cfg.WorkDir, err = filepath.Abs(cfg.WorkDir); err != nil {
		return nil, fmt.Errorf("runtime: work directory: %w", err)
	}
	if err := os.MkdirAll(cfg.WorkDir, 0o700); err != nil {
		return nil, fmt.Errorf("runtime: work directory: %w", err)
	}
	tmpDir, err := os.MkdirTemp(cfg.WorkDir, "tmp-")
	if err != nil {
		return nil, fmt.Errorf("runtime: temporary directory: %w", err)
	}
	cleanup := func() {
		os.RemoveAll(tmpDir)
		if ownWork {
			os.RemoveAll(cfg.WorkDir)
		}
	}
	l, err := prepare(&cfg, family)
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("runtime %s: %w", cfg.Runtime, err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("runtime: listen: %w", err)
	}
	i := &Instance{
		cfg:        cfg,
		family:     family,
		ln:         ln,
		nextCh:     make(chan *invocation),
		exited:     make(chan struct{}),
		done:       make(chan struct{}),
		initFailed: make(chan struct{}),
		serveDone:  make(chan struct{}),
	}
	if ownWork {
		i.tmpDir = cfg.WorkDir
	} else {
		i.tmpDir = tmpDir
	}
	i.holding = true
	i.srv = &http.Server{Handler: i.routes(), ReadHeaderTimeout: 30 * time.Second}
	go func() {
		defer close(i.serveDone)
		_ = i.srv.Serve(ln)
	}()

	port := ln.Addr().(*net.TCPAddr).Port
	cmd := exec.Command(l.argv[0], l.argv[1:]...)
	cmd.Dir = cfg.CodeDir
	cmd.Env = environment(&cfg, family, l, port, tmpDir)
	cmd.SysProcAttr = sysProcAttr()
	var link *reaperLink
	var cg instanceCgroup
	abandon := func() {
		if link != nil {
			link.closeChildEnds()
			link.release(false)
		}
		if cg != nil {
			releaseCgroup(cg)
		}
	}
	if cmd.Err == nil && useReaper() {
		// Without a cgroup (none here, or this one could not be made) the
		// reaper alone keeps the instance together.
		cg, _ = newInstanceCgroup(cfg.MemoryLimitMB, cfg.MemoryMB)
		var dirs []string
		if cg != nil {
			dirs = cg.dirs()
		}
		if link, err = wrapInReaper(cmd, cg != nil, dirs); err != nil {
			abandon()
			i.stopServer()
			cleanup()
			return nil, fmt.Errorf("runtime: pipe: %w", err)
		}
		cmd.SysProcAttr = reaperProcAttr()
	}

	var readEnds, writeEnds []*os.File
	for range 2 {
		r, w, err := os.Pipe()
		if err != nil {
			closeAll(readEnds, writeEnds)
			abandon()
			i.stopServer()
			cleanup()
			return nil, fmt.Errorf("runtime: pipe: %w", err)
		}
		readEnds, writeEnds = append(readEnds, r), append(writeEnds, w)
	}
	cmd.Stdout, cmd.Stderr = writeEnds[0], writeEnds[1]
	if err := ctx.Err(); err != nil {
		closeAll(readEnds, writeEnds)
		abandon()
		i.stopServer()
		cleanup()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		closeAll(readEnds, writeEnds)
		abandon()
		i.stopServer()
		cleanup()
		return nil, fmt.Errorf("runtime %s: starting %s: %w", cfg.Runtime, l.argv[0], err)
	}
	// The child holds its own copies; ours must go so that EOF arrives when it exits.
	closeAll(nil, writeEnds)
	i.cmd, i.pid, i.leader = cmd, cmd.Process.Pid, cmd.Process.Pid
	if link != nil {
		link.closeChildEnds()
		if cg != nil {
			// The reaper holds until it is in the cgroup, so that the runtime
			// and everything it starts are born inside.
			if err := cg.add(i.pid); err != nil {
				releaseCgroup(cg)
				cg = nil
			}
			link.release(true)
		}
		// The reaper says which process the runtime is, or why it did not start.
		t := time.NewTimer(reaperStartWait)
		var serr error
		select {
		case <-link.started:
			serr = link.startErr
		case <-ctx.Done():
			serr = ctx.Err()
		case <-t.C:
			serr = errors.New("the process reaper did not start it in time")
		}
		t.Stop()
		if serr != nil {
			// A runtime that did start dies with the reaper (its Pdeathsig),
			// before it could start anything itself.
			_ = syscall.Kill(-i.pid, syscall.SIGKILL)
			_ = cmd.Wait()
			if cg != nil {
				releaseCgroup(cg)
			}
			closeAll(readEnds, nil)
			i.stopServer()
			cleanup()
			if errors.Is(serr, ctx.Err()) {
				return nil, serr
			}
			return nil, fmt.Errorf("runtime %s: starting %s: %w", cfg.Runtime, l.argv[0], serr)
		}
		if cg != nil {
			// Out again: the reaper is not the instance's, so it is neither
			// counted nor killed with it, and lives to report how it ended.
			// (Should the move fail, it is killed with the instance and its
			// own status stands in for the runtime's.)
			_ = cg.home(i.pid)
		}
		i.link, i.leader, i.cg = link, link.leader, cg
	}
	i.started = time.Now()
	i.procs = cfg.Procs
	if i.procs == nil {
		i.procs = NewProcTable(defaultSampleEvery)
	}
	i.streams[0] = newStream("stdout", readEnds[0], i, 0)
	i.streams[1] = newStream("stderr", readEnds[1], i, 8)
	for _, s := range i.streams {
		go s.pump()
	}
	go i.lifecycle()
	return i, nil
}

func closeAll(a, b []*os.File) {
	for _, f := range a {
		f.Close()
	}
	for _, f := range b {
		f.Close()
	}
}

// lifecycle waits for the process to end, takes the rest of its process group
// with it, reaps it, drains its output and then reports Done. Waiting without
// reaping first keeps the leader's pid (the group id) reserved, so signalling
// the group cannot hit an unrelated process that reused the id.
func (i *Instance) lifecycle() {
	var werr error
	if waitNoReap(i.pid) {
		close(i.exited)
		i.mu.Lock()
		// The instance is over: children it left behind go with it.
		_ = syscall.Kill(-i.pid, syscall.SIGKILL)
		i.mu.Unlock()
		werr = i.cmd.Wait()
		i.mu.Lock()
		i.reaped = true
		i.mu.Unlock()
	} else {
		werr = i.cmd.Wait()
		i.mu.Lock()
		i.reaped = true
		i.mu.Unlock()
		close(i.exited)
		// Best effort: the group id stays reserved while members remain.
		_ = syscall.Kill(-i.pid, syscall.SIGKILL)
	}

	// Drain output, bounded: a process that left the group may hold the pipes.
	drained := make(chan struct{})
	go func() {
		for _, s := range i.streams {
			<-s.done
		}
		close(drained)
	}()
	select {
	case <-drained:
	case <-time.After(drainTimeout):
		for _, s := range i.streams {
			s.f.Close()
		}
		<-drained
	}

	if i.cg != nil {
		// The kernel's memory limit killed it between two samples.
		if limit := int64(i.cfg.MemoryLimitMB) * 1024; limit > 0 && i.oomKB.Load() == 0 && i.cg.oomKills() > 0 {
			i.oomKB.Store(max(limit+1, int64(i.cg.peakKB())))
		}
		i.cgGone.Store(true)
		releaseCgroup(i.cg)
	}
	ee := &ExitError{Code: -1, Stderr: i.streams[1].tail()}
	if ws, ok := i.leaderStatus(); ok {
		if ws.Signaled() {
			ee.Signal = signalName(ws.Signal())
		} else {
			ee.Code = ws.ExitStatus()
		}
	} else if st := i.cmd.ProcessState; st != nil {
		ee.Code = st.ExitCode()
	} else if werr != nil {
		ee.Stderr = werr.Error()
	}
	i.mu.Lock()
	ee.InitError = i.initErr
	ee.OutOfMemoryMB = int((i.oomKB.Load() + 1023) / 1024)
	i.exitErr = ee
	i.mu.Unlock()
	i.stopServer()
	for _, s := range i.streams {
		s.f.Close()
	}
	if i.tmpDir != "" {
		os.RemoveAll(i.tmpDir)
	}
	close(i.done)
}

// leaderStatus is how the runtime's process ended: as the reaper reported it,
// or the process's own status without a reaper (or when the reaper was killed
// before it could report).
func (i *Instance) leaderStatus() (syscall.WaitStatus, bool) {
	if i.link != nil {
		select {
		case <-i.link.done:
		case <-time.After(drainTimeout):
		}
		select {
		case <-i.link.done:
			if i.link.reported {
				return i.link.status, true
			}
		default:
		}
	}
	if st := i.cmd.ProcessState; st != nil {
		ws, ok := st.Sys().(syscall.WaitStatus)
		return ws, ok
	}
	return 0, false
}

// releaseCgroup removes an instance's cgroup, killing what is still in it
// (only after the reaper could not clean up: it reaps everything it holds
// before it exits).
func releaseCgroup(cg instanceCgroup) {
	for range 50 {
		if cg.delete() == nil {
			return
		}
		_ = cg.kill()
		time.Sleep(20 * time.Millisecond)
	}
}

func (i *Instance) stopServer() {
	i.stopOnce.Do(func() {
		_ = i.srv.Close()
		_ = i.ln.Close()
	})
}

// Invoke hands req to the runtime's pending GET /next (waiting for the runtime
// to ask, e.g. during init) and waits for its /response or /error.
//
// Timeouts are the clouds': the deadline starts when the invocation is handed
// to the runtime, deadline = handoff + req.Timeout, so a cold start's
// initialisation does not count against it (Response.InitDuration reports it).
// Initialisation has its own bound, Config.InitTimeout (default 10 s): AWS,
// "Understanding the Lambda execution environment lifecycle", Init phase
// (docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html): "The Init phase is
// limited to 10 seconds. If all three tasks do not complete within 10 seconds,
// Lambda retries the Init phase at the time of the first function invocation
// with the configured function timeout." and "If a function crashes or times
// out during the Init phase, Lambda emits error information in the INIT_REPORT
// log." When the bound passes before the runtime's first /next, the instance
// delivers the line "INIT_REPORT Init Duration: N ms\tPhase: init\tStatus:
// timeout" (Stream "platform", the invocation's RequestID) and, where Lambda
// would start the init again under the function's timeout, lets the same
// initialisation go on under it, counted from the process's start: a rerun
// that takes as long as the first one ends at the same point relative to the
// function's timeout, so the outcome is Lambda's — TIMED_OUT unless init and
// handler fit in the timeout, with the handler seeing the same remaining time
// — without running the function's init code twice (it just ends sooner, by
// the init bound, in wall-clock time). Response.Duration then includes the
// initialisation, and InitDuration is 0. (Logs from Lambda show the same:
// "INIT_REPORT Init Duration: 10000.12 ms Phase: init Status: timeout"
// followed by "Task timed out after ...".)
//
// It returns ErrTimeout (which is context.DeadlineExceeded) when the deadline
// passes; ctx.Err() if ctx ends first; an *ExitError if the process ends
// before answering or its initialisation failed; ErrBusy if another Invoke is
// in progress. A function error is not a Go error: it is Response.Error. With
// ErrTimeout, ctx.Err() or an *ExitError the Response still carries what ran
// (Duration, Deadline, MaxMemoryMB). The instance is not stopped on a timeout:
// the caller terminates it.
func (i *Instance) Invoke(ctx context.Context, req Request) (Response, error) {
	if !i.busy.CompareAndSwap(false, true) {
		return Response{}, ErrBusy
	}
	defer i.busy.Store(false)

	i.mu.Lock()
	cold := !i.handedAny
	initEnded := !i.firstNext.IsZero()
	i.mu.Unlock()
	if cold {
		// The initialisation's output is this invocation's: it waits for it.
		i.claimInit(req.RequestID)
	}
	handed := false
	defer func() {
		if cold && !handed {
			i.unclaimInit(req.RequestID)
		}
	}()
	select {
	case <-i.done:
		return Response{}, i.exitError()
	default:
	}

	inv := &invocation{req: req, timeout: req.Timeout, result: make(chan answer, 1), handed: make(chan struct{})}
	if inv.timeout <= 0 {
		if !req.Deadline.IsZero() {
			inv.deadline = req.Deadline
		} else if inv.timeout = i.cfg.Timeout; inv.timeout <= 0 {
			inv.timeout = 24 * time.Hour
		}
	}

	// Hand it over, within the init phase's bound on a cold start.
	initBound := i.cfg.InitTimeout
	if initBound <= 0 {
		initBound = DefaultInitTimeout
	}
	var initExpired, expired <-chan time.Time
	if cold && !initEnded {
		t := time.NewTimer(time.Until(i.started.Add(initBound)))
		defer t.Stop()
		initExpired = t.C
	}
	var expiry *time.Timer
	defer func() {
		if expiry != nil {
			expiry.Stop()
		}
	}()
	armDeadline := func() {
		expiry = time.NewTimer(time.Until(inv.deadline))
		expired = expiry.C
	}
	if !inv.deadline.IsZero() {
		armDeadline()
	}
	initTimedOut := false
handoff:
	for {
		select {
		case i.nextCh <- inv:
			break handoff
		case <-initExpired:
			initExpired = nil
			i.mu.Lock()
			asked := !i.firstNext.IsZero() && !i.firstNext.After(i.started.Add(initBound))
			i.mu.Unlock()
			if asked {
				continue // the runtime asked in time; the handoff lost the race
			}
			initTimedOut = true
			i.emitLine(Line{RequestID: req.RequestID, Stream: "platform", Time: time.Now(),
				Text: fmt.Sprintf("INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: timeout", float64(initBound)/float64(time.Millisecond))})
			if inv.deadline.IsZero() {
				inv.deadline = i.started.Add(inv.timeout)
				armDeadline()
			}
		case <-expired:
			var d time.Duration // never handed over: nothing ran
			if initTimedOut {
				d = min(time.Since(i.started), inv.timeout) // the init it retried ran
			}
			return Response{Duration: d, Deadline: inv.deadline, MaxMemoryMB: (i.rssKB(true) + 1023) / 1024}, ErrTimeout
		case <-ctx.Done():
			return Response{}, ctx.Err()
		case <-i.done:
			return Response{}, i.exitError()
		case <-i.initFailed:
			return Response{}, i.failedInit()
		}
	}
	handed = true
	<-inv.handed
	start := inv.handedAt
	var initDuration time.Duration
	if initTimedOut {
		start = i.started // the initialisation counts, as Lambda's retried init does
	} else if cold {
		i.mu.Lock()
		initDuration = i.firstNext.Sub(i.started)
		i.mu.Unlock()
	}

	// Peak memory: sample the process tree while the invocation runs.
	var peak atomic.Int64
	peak.Store(int64(i.rssKB(true)))
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go i.sample(stop, sampled, &peak)
	finish := func(r Response) Response {
		close(stop)
		<-sampled
		if kb := int64(i.rssKB(true)); kb > peak.Load() {
			peak.Store(kb)
		}
		r.MaxMemoryMB = int((peak.Load() + 1023) / 1024)
		r.InitDuration, r.Deadline = initDuration, inv.deadline
		return r
	}
	answered := func(a answer) (Response, error) {
		return finish(Response{Payload: a.payload, Error: a.err, Duration: a.at.Sub(start)}), nil
	}

	deadline := time.NewTimer(time.Until(inv.deadline))
	defer deadline.Stop()
	graced := false
	for {
		select {
		case a := <-inv.result:
			return answered(a)
		case <-deadline.C:
			if inv.answering.Load() && !graced {
				// It answered in time; its output is still being read.
				graced = true
				deadline.Reset(syncTimeout + time.Second)
				continue
			}
			select {
			case a := <-inv.result:
				return answered(a)
			default:
			}
			return finish(Response{Duration: time.Since(start)}), ErrTimeout
		case <-ctx.Done():
			// The Response still says how long it ran and how much memory it used.
			return finish(Response{Duration: time.Since(start)}), ctx.Err()
		case <-i.done:
			select {
			case a := <-inv.result: // answered just before exiting
				return answered(a)
			default:
			}
			return finish(Response{Duration: time.Since(start)}), i.exitError()
		}
	}
}

// sample records the peak RSS of the process tree from the shared process
// table while an invocation runs, and enforces Config.MemoryLimitMB.
func (i *Instance) sample(stop <-chan struct{}, sampled chan<- struct{}, peak *atomic.Int64) {
	defer close(sampled)
	t := time.NewTicker(defaultSampleEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-i.exited:
			return
		case <-t.C:
		}
		kb := int64(i.rssKB(false))
		if kb > peak.Load() {
			peak.Store(kb)
		}
		if limit := int64(i.cfg.MemoryLimitMB) * 1024; limit > 0 && kb > limit {
			i.oomKB.Store(kb)
			i.signalGroup(syscall.SIGKILL)
			return
		} else if limit > 0 && i.cg != nil && i.cg.oomKills() > 0 {
			// The kernel's hard limit stopped a process between two samples:
			// the instance is out of memory, as a whole, as on Lambda.
			i.oomKB.Store(max(kb, limit+1, int64(i.cg.peakKB())))
			i.signalGroup(syscall.SIGKILL)
			return
		}
	}
}

// rssKB is the resident memory of the instance's processes: every descendant
// of the reaper (not the reaper itself), or the process group without one;
// fresh adds a direct reading of the runtime's process, for the first and last
// sample of an invocation.
func (i *Instance) rssKB(fresh bool) int {
	var kb int
	if i.link != nil {
		kb = i.procs.TreeRSSKB(i.pid)
	} else {
		kb = i.procs.GroupRSSKB(i.pid)
	}
	if fresh {
		kb = max(kb, i.procs.LeaderRSSKB(i.leader))
	}
	return kb
}

func (i *Instance) exitError() error {
	<-i.done
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.exitErr
}

// failedInit waits for a runtime that reported /init/error to exit (killing it
// if it does not) and returns the resulting ExitError.
func (i *Instance) failedInit() error {
	select {
	case <-i.done:
	case <-time.After(initExitWait):
		i.Terminate(0)
	}
	return i.exitError()
}

// Terminate stops the process. With grace > 0 it sends SIGTERM to the process
// group, then SIGKILL to the group after grace or as soon as the leader exits;
// with grace == 0 it sends SIGKILL at once. Under a reaper, "the group" is
// every process of the instance, also those that left the process group. It
// returns once the process has been reaped and its output drained and
// delivered.
func (i *Instance) Terminate(grace time.Duration) {
	if grace > 0 {
		i.signalGroup(syscall.SIGTERM)
		t := time.NewTimer(grace)
		select {
		case <-i.exited:
		case <-t.C:
		}
		t.Stop()
	}
	i.signalGroup(syscall.SIGKILL)
	<-i.done
	// Never invoked: what it printed belongs to no invocation.
	i.logMu.Lock()
	i.releaseLocked("")
	i.logMu.Unlock()
}

func (i *Instance) signalGroup(sig syscall.Signal) {
	if sig == syscall.SIGKILL && i.cg != nil && !i.cgGone.Load() {
		// Frozen, killed, thawed (v1) or cgroup.kill (v2): nothing in the
		// cgroup can fork past it. The cgroup's name is never reused, so this
		// is safe at any time.
		_ = i.cg.kill()
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.reaped {
		return
	}
	if i.link == nil {
		_ = syscall.Kill(-i.pid, sig)
		return
	}
	if sig != syscall.SIGKILL {
		_ = syscall.Kill(i.pid, sig) // the reaper forwards it to every process
		return
	}
	// SIGKILL to the reaper would orphan what it holds: it is asked to kill
	// the instance instead, and killed only if it does not.
	_ = syscall.Kill(i.pid, reaperKill)
	if !i.killArmed {
		i.killArmed = true
		time.AfterFunc(reaperKillWait, func() {
			i.mu.Lock()
			defer i.mu.Unlock()
			if !i.reaped {
				_ = syscall.Kill(-i.pid, syscall.SIGKILL)
			}
		})
	}
}

// Done is closed when the process has exited and its output has been drained.
func (i *Instance) Done() <-chan struct{} { return i.done }

// PID is the process id of the function's process (also its process group id).
// Under a reaper it is the runtime's process, the reaper's child.
func (i *Instance) PID() int { return i.leader }

// Busy reports whether an Invoke is in progress.
func (i *Instance) Busy() bool { return i.busy.Load() }

// MemoryMB is the current resident memory of the process tree (the sum over the
// reaper's descendants, or the process group, read from /proc), for
// memory-limit sampling. It is 0 once the
// process has exited, and on systems without /proc.
func (i *Instance) MemoryMB() int {
	select {
	case <-i.exited:
		return 0
	default:
	}
	return (i.rssKB(false) + 1023) / 1024
}
