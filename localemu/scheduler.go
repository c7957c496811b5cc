package localemu

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/asyncfn/asyncfn/cloud"
	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/localemu/runtime"
	"github.com/asyncfn/asyncfn/localemu/store"
)

func (fs *fnState) limit(def int) int {
	if fs.cfg != nil && fs.cfg.ReservedConcurrency != nil {
		return *fs.cfg.ReservedConcurrency
	}
	return def
}

// dispatchLocked starts queued events while there is capacity, oldest first
// across functions, each function within its own cap. An event goes to an
// idle instance of its function when there is one; a new instance is
// started for it only when the scaling policy says no running one will be
// free soon enough (scale.go).
func (e *Engine) dispatchLocked() {
	if e.closing {
		return
	}
	now := time.Now()
	e.cpu.update(now)
	budget := map[*fnState]int{} // cold starts allowed now, per function
	for e.running < e.opts.MaxConcurrency {
		var best *fnState
		for _, fs := range e.fns {
			if len(fs.queue) == 0 || fs.running >= fs.limit(e.opts.FunctionConcurrency) && fs.cfg != nil {
				continue
			}
			if fs.cfg != nil && !e.hasIdleLocked(fs, fs.queue[0]) {
				n, ok := budget[fs]
				if !ok {
					n = e.spawnBudgetLocked(fs, now)
					budget[fs] = n
				}
				if n <= 0 {
					continue
				}
			}
			if best == nil || fs.queue[0].seq < best.queue[0].seq {
				best = fs
			}
		}
		if best == nil {
			break
		}
		t := best.queue[0]
		best.queue[0] = nil
		best.queue = best.queue[1:]
		ctx, cancel := context.WithCancel(context.Background())
		r := &run{id: t.id, fn: t.fn, inc: t.inc, ctx: ctx, cancel: cancel}
		if best.cfg != nil {
			if in := e.takeIdleLocked(best, t); in != nil {
				r.warm = in
				e.busyLocked(best, r, now) // its instance is taken from now on
			} else {
				r.cold, r.coldSince = true, now
				best.starting++
				budget[best]--
			}
		}
		t.phase, t.run = phaseRunning, r
		e.running++
		best.running++
		e.wg.Add(1)
		go e.execute(best, r)
	}
	e.wakeForQueuedLocked(now)
}

// outcome is how one attempt ended.
type outcome struct {
	status   event.Status // Succeeded, Failed, TimedOut or Terminated
	result   []byte
	errType  string
	errMsg   string
	started  time.Time
	ended    time.Time
	duration time.Duration
	memoryMB int
}

// execute runs one attempt of an event and records how it ended.
func (e *Engine) execute(fs *fnState, r *run) {
	defer e.wg.Done()
	defer r.cancel()
	ctx := context.Background()
	inst, ev, oc, err := e.attempt(ctx, fs, r)
	if err != nil {
		e.log.Error("running event", "requestId", r.id, "err", err)
	}

	e.mu.Lock()
	if t := e.events[r.id]; t != nil && t.run == r {
		t.phase, t.run = phaseSettling, nil
	}
	if r.terminating && oc.status != event.Terminated && ev != nil {
		// Terminate was asked while the attempt ran: whatever the handler did
		// after the signal — crashed, failed, or returned a result it saved
		// on SIGTERM — the event was stopped on request. A result is kept.
		oc.status, oc.errType, oc.errMsg = event.Terminated, ErrTypeTerminated, "terminated on request"
	}
	keep := inst != nil && oc.reusable() && !r.terminating && !e.closing && fs.cfg != nil && inst.version == fs.version && inst.inc == fs.inc
	if inst != nil {
		inst.cur.Store(nil)
		if keep {
			inst.idleAt = time.Now()
			fs.idle = append(fs.idle, inst)
		}
	}
	e.mu.Unlock()
	if inst != nil && !keep {
		e.retire(inst)
	}

	if e.hooks.settling != nil {
		e.hooks.settling(r.id)
	}
	if ev != nil {
		if err := e.finishAttempt(ev, oc); err != nil {
			e.log.Error("recording event outcome", "requestId", r.id, "err", err)
		}
	} else if cur, err := e.store.GetEvent(ctx, r.id); err == nil && cur.Status.Terminal() {
		e.settle(cur) // it had ended before this attempt could start
	}

	e.mu.Lock()
	e.running--
	fs.running--
	e.endRunLocked(fs, r, oc)
	e.dispatchLocked()
	e.mu.Unlock()
}

// kind is the attempt's Outcome.
func (oc *outcome) kind() Outcome { return OutcomeOf(oc.status, oc.errType) }

func (oc *outcome) reusable() bool { return oc.kind().ReusesInstance() }

// attempt marks the event RUNNING, runs it on an instance and returns what happened.
func (e *Engine) attempt(ctx context.Context, fs *fnState, r *run) (*instance, *store.Event, outcome, error) {
	now := time.Now().UTC()
	var oc outcome
	ev, err := e.store.GetEvent(ctx, r.id)
	if err != nil {
		return nil, nil, oc, err
	}
	if ev.Status.Terminal() {
		return nil, nil, oc, nil
	}
	e.mu.Lock()
	cfg, version, code, opt := fs.cfg, fs.version, fs.code, fs.opt
	r.code, r.opt = code, opt
	if fs.inc != r.inc {
		cfg = nil // removed and created again: the event belonged to the old function
	}
	e.mu.Unlock()

	// An event that cannot run now ends without an attempt (oc.started stays zero).
	if cfg == nil {
		oc.status, oc.errType, oc.errMsg, oc.ended = event.Failed, ErrTypeFunctionRemoved, removedMessage(fs.name), now
		return nil, &ev, oc, nil
	}
	if ev.InvokeType == event.InvokeEvent && now.Sub(ev.CreatedAt) > cfg.MaxEventAge() {
		oc.status, oc.errType, oc.ended = event.Failed, ErrTypeEventAge, now
		oc.errMsg = ageExceededMessage(cfg.MaxEventAge(), &ev)
		return nil, &ev, oc, nil
	}
	ev.Attempts++
	r.attempt = ev.Attempts
	ev.Status, ev.Version = event.Running, version
	if ev.StartedAt.IsZero() {
		ev.StartedAt = now
	}
	ev.NextAttempt = time.Time{}
	oc.started = now
	if err := e.store.UpdateEventWithAttempt(ctx, &ev, store.Attempt{RequestID: ev.RequestID, N: ev.Attempts, StartedAt: now, Status: event.Running}); err != nil {
		return nil, &ev, oc, err
	}
	// As Lambda writes it: the version executed, $LATEST when invoked
	// unqualified (the attempt is the line's own field, not in its text).
	executed := "$LATEST"
	if ev.Qualifier != "" {
		executed = ev.Qualifier
	}
	e.platformLog(r, "START RequestId: %s Version: %s", ev.RequestID, executed)

	inst, err := e.acquire(r, fs, cfg, version, code, opt)
	if err != nil {
		oc.status, oc.errType, oc.errMsg, oc.ended = event.Failed, "Runtime.StartError", err.Error(), time.Now().UTC()
		if errors.Is(err, context.Canceled) && e.terminating(r) {
			oc.status, oc.errType, oc.errMsg = event.Terminated, ErrTypeTerminated, "terminated on request"
		}
		e.platformLog(r, "END RequestId: %s", ev.RequestID)
		return nil, &ev, oc, nil
	}

	timeout := time.Duration(cfg.Timeout) * time.Second
	// The runtime starts the deadline when it hands the event over (its /next
	// is answered): a cold start's init is not timed (it has its own bound).
	resp, err := inst.rt.Invoke(r.ctx, runtime.Request{RequestID: ev.RequestID, Payload: ev.Payload, Timeout: timeout,
		TraceID:   "Root=1-" + fmt.Sprintf("%08x", now.Unix()) + "-" + strings.ReplaceAll(ev.RequestID, "-", "")[:24],
		OnHandoff: func(at time.Time) { e.handedOff(fs, r, at) }})

	oc.ended = time.Now().UTC()
	oc.duration = resp.Duration
	if oc.duration == 0 {
		oc.duration = oc.ended.Sub(now)
	}
	oc.memoryMB = resp.MaxMemoryMB
	var exit *runtime.ExitError
	switch {
	case err == nil && resp.Error == nil:
		oc.status, oc.result = event.Succeeded, resp.Payload
	case err == nil:
		oc.status, oc.errType, oc.errMsg = event.Failed, resp.Error.Type, resp.Error.Message
		e.platformLog(r, "%s\t%s\tERROR\t%s: %s", oc.ended.Format(time.RFC3339Nano), ev.RequestID, resp.Error.Type, resp.Error.Message)
	case e.terminating(r):
		oc.status, oc.errType, oc.errMsg = event.Terminated, ErrTypeTerminated, "terminated on request"
	case errors.As(err, &exit) && exit.OutOfMemoryMB > 0:
		// The process tree outgrew memorySize, as Lambda and SCF enforce it.
		// (RLIMIT_AS cannot do this: V8 reserves far more address space than it uses.)
		oc.status, oc.errType = event.Failed, ErrTypeOutOfMemory
		oc.errMsg = fmt.Sprintf("RequestId: %s Error: Runtime exited with error: signal: killed (memory used %d MB exceeds the memory size of %d MB)", ev.RequestID, exit.OutOfMemoryMB, cfg.MemorySize)
		oc.memoryMB = exit.OutOfMemoryMB
		e.platformLog(r, "%s", oc.errMsg)
	case errors.Is(err, context.DeadlineExceeded):
		oc.status, oc.errType = event.TimedOut, "Sandbox.Timedout"
		oc.errMsg = fmt.Sprintf("Task timed out after %.2f seconds", timeout.Seconds())
		e.platformLog(r, "%s %s Task timed out after %.2f seconds", oc.ended.Format(time.RFC3339Nano), ev.RequestID, timeout.Seconds())
	case errors.Is(err, context.Canceled):
		oc.status, oc.errType, oc.errMsg = event.Failed, "Emulator.Stopped", "the emulator stopped while this attempt was running"
	case errors.As(err, &exit):
		oc.status, oc.errType, oc.errMsg = event.Failed, "Runtime.ExitError", fmt.Sprintf("RequestId: %s Error: %s", ev.RequestID, exit.Error())
		if exit.InitError != nil {
			oc.errType, oc.errMsg = exit.InitError.Type, exit.InitError.Message
		}
		e.platformLog(r, "RequestId: %s Error: %s", ev.RequestID, exit.Error())
	default:
		oc.status, oc.errType, oc.errMsg = event.Failed, "Runtime.Unknown", err.Error()
	}
	// Truncated as DurationMs is, so REPORT and every listing agree on the millisecond.
	ms := float64(oc.duration.Truncate(10*time.Microsecond)) / float64(time.Millisecond)
	e.platformLog(r, "END RequestId: %s", ev.RequestID)
	report := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB",
		ev.RequestID, ms, int64(ms)+1, cfg.MemorySize, oc.memoryMB)
	if resp.InitDuration > 0 { // a cold start, reported as Lambda does
		report += fmt.Sprintf("\tInit Duration: %.2f ms", float64(resp.InitDuration)/float64(time.Millisecond))
	}
	e.platformLog(r, "%s", report)
	return inst, &ev, oc, nil
}

// acquire returns a warm instance of the version, or starts one.
func (e *Engine) acquire(r *run, fs *fnState, cfg *FunctionConfig, version int, code, opt string) (*instance, error) {
	e.mu.Lock()
	if in := r.warm; in != nil {
		r.warm = nil
		usable := in.version == version && in.inc == r.inc
		select {
		case <-in.rt.Done():
			usable = false // exited since dispatch chose it
		default:
		}
		if usable {
			in.cur.Store(r)
			r.inst = in
			e.mu.Unlock()
			return in, nil
		}
		go e.retire(in)
		// Start one instead: this run is now a cold start.
		r.cold, r.coldSince = true, time.Now()
		fs.starting++
	}
	e.mu.Unlock()

	in := &instance{version: version, inc: r.inc, code: code, opt: opt}
	rcfg := runtime.Config{
		Function: cfg.Name,
		Version:  version,
		Runtime:  cfg.Runtime,
		Handler:  cfg.Handler,
		CodeDir:  code,
		OptDir:   opt,
		Cloud:    cfg.Provider,
		MemoryMB: cfg.MemorySize,
		Timeout:  time.Duration(cfg.Timeout) * time.Second,
		Region:   cfg.Region,
		ARN:      functionARN(cfg),
		Env:      e.instanceEnv(cfg),
		WorkDir:  filepath.Join(e.workDir, workDirName(cfg.Name)),
		// The limit is enforced by sampling the process tree's resident memory.
		MemoryLimitMB: cfg.MemorySize,
		Procs:         e.procs,
		OnLog: func(l runtime.Line) {
			e.functionLog(cfg.Name, in.cur.Load(), l)
		},
	}
	rt, err := runtime.Start(r.ctx, rcfg)
	if err != nil {
		return nil, err
	}
	in.rt = rt
	e.track(in)
	e.mu.Lock()
	in.cur.Store(r)
	r.inst = in
	terminating, grace := r.terminating, r.grace
	e.mu.Unlock()
	if terminating {
		// Terminate arrived while the process was starting.
		go rt.Terminate(grace)
	}
	return in, nil
}

// workDirName names a function's scratch directory (its instances' HOME and
// TMPDIR) by a digest of its name: a path is never built from a name.
func workDirName(fn string) string {
	h := sha256.Sum256([]byte(fn))
	return hex.EncodeToString(h[:8])
}

func functionARN(cfg *FunctionConfig) string {
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	if cfg.Provider == cloud.Tencent {
		return "qcs::scf:" + region + ":uin/100000000001:namespace/default/function/" + cfg.Name
	}
	return "arn:aws:lambda:" + region + ":000000000000:function:" + cfg.Name
}

// functionLog records a line the function wrote. Every line reaches the
// log; what the store keeps of an attempt's output is bounded (keep.go).
func (e *Engine) functionLog(fn string, r *run, l runtime.Line) {
	line := store.LogLine{Function: fn, RequestID: l.RequestID, Time: l.Time, Stream: l.Stream, Text: l.Text}
	if line.Time.IsZero() {
		line.Time = time.Now().UTC()
	}
	if r == nil || r.id != l.RequestID {
		e.logs.append(line) // outside any invocation (init, a stray write)
		return
	}
	line.Attempt = r.attempt
	e.logs.appendOutput(line)
}

func (e *Engine) platformLog(r *run, format string, args ...any) {
	e.logs.append(store.LogLine{Function: r.fn, RequestID: r.id, Attempt: r.attempt, Time: time.Now().UTC(),
		Stream: "platform", Text: fmt.Sprintf(format, args...)})
}

// terminating reports whether a Terminate has signalled the run.
func (e *Engine) terminating(r *run) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return r.terminating
}

// finishAttempt records an attempt's outcome and decides what comes next:
// a retry (QUEUED with a due time) or a terminal status and its destination.
// A Terminate that arrived since the attempt ended wins over a retry.
func (e *Engine) finishAttempt(ev *store.Event, oc outcome) error {
	ctx := context.Background()
	e.logs.endOutput(ev.RequestID, ev.Attempts)
	// The attempt's end is saved with the event's next state, in one operation.
	var attempt *store.Attempt
	if ev.Attempts > 0 && !oc.started.IsZero() {
		attempt = &store.Attempt{RequestID: ev.RequestID, N: ev.Attempts, StartedAt: oc.started, EndedAt: oc.ended, Status: oc.status,
			ErrorType: oc.errType, ErrorMessage: oc.errMsg, DurationMs: oc.duration.Milliseconds(), MaxMemoryMB: oc.memoryMB}
	}
	save := func() error {
		if attempt != nil {
			return e.store.UpdateEventWithAttempt(ctx, ev, *attempt)
		}
		return e.store.UpdateEvent(ctx, ev)
	}
	if !oc.started.IsZero() || oc.duration > 0 {
		// It ran: the event reports this attempt (an event that could not run
		// now keeps what its last attempt reported).
		ev.DurationMs, ev.MaxMemoryMB = oc.duration.Milliseconds(), oc.memoryMB
		ev.Result = oc.result
	}
	ev.ErrorType, ev.ErrorMessage = oc.errType, oc.errMsg

	e.mu.Lock()
	var cfg *FunctionConfig
	var t *tracked
	if fs := e.fns[ev.Function]; fs != nil {
		cfg = fs.cfg
		if t = e.events[ev.RequestID]; t != nil && fs.inc != t.inc {
			cfg = nil // the function was removed (and maybe created again) since
		}
	}
	stop := e.stopRequestedLocked(ev.RequestID)
	e.mu.Unlock()

	retry := !stop && oc.kind().Retryable() && ev.InvokeType == event.InvokeEvent && cfg != nil && ev.Attempts <= cfg.RetryAttempts()
	if retry && time.Since(ev.CreatedAt) >= cfg.MaxEventAge() {
		// Old enough already: it ends here, and says why.
		retry = false
		oc.errType, oc.errMsg = ErrTypeEventAge, ageExceededMessage(cfg.MaxEventAge(), ev)
		ev.ErrorType, ev.ErrorMessage = oc.errType, oc.errMsg
	}
	if retry {
		delay := e.opts.Backoff(ev.Attempts)
		ev.Status = event.Queued
		ev.NextAttempt = time.Now().UTC().Add(delay)
		if err := save(); err != nil {
			return err
		}
		attempt = nil // saved
		e.logs.append(store.LogLine{Function: ev.Function, RequestID: ev.RequestID, Attempt: ev.Attempts, Time: time.Now().UTC(), Stream: "platform",
			Text: fmt.Sprintf("RETRY RequestId: %s attempt %d ended %s (%s); retrying in %s", ev.RequestID, ev.Attempts, oc.status, oc.errType, delay)})
		e.mu.Lock()
		if t != nil && e.events[ev.RequestID] == t && t.stop == nil {
			if !e.closing {
				e.enqueueLocked(t, ev.NextAttempt)
			}
			// Closing: it stays QUEUED in the store for the next start.
			e.mu.Unlock()
			return nil
		}
		stop = t != nil && t.stop != nil
		e.mu.Unlock()
		if !stop {
			return nil
		}
	}
	if stop && oc.status != event.Terminated {
		oc.status = event.Terminated
		ev.ErrorType, ev.ErrorMessage = ErrTypeTerminated, "terminated on request"
		e.logs.append(store.LogLine{Function: ev.Function, RequestID: ev.RequestID, Attempt: ev.Attempts, Time: time.Now().UTC(), Stream: "platform",
			Text: "TERMINATED RequestId: " + ev.RequestID + " was stopped on request between attempts"})
	}
	ev.Status = oc.status
	ev.EndedAt = oc.ended
	if ev.EndedAt.IsZero() || ev.Status == event.Terminated && oc.ended.IsZero() {
		ev.EndedAt = time.Now().UTC()
	}
	ev.NextAttempt = time.Time{}
	if err := save(); err != nil {
		return err
	}
	e.settle(*ev)
	e.sendDestination(*ev)
	return nil
}

// sendDestination invokes an onSuccess/onFailure destination that names a
// function the emulator has, with Lambda's destination record as payload.
func (e *Engine) sendDestination(ev store.Event) {
	if ev.InvokeType != event.InvokeEvent || ev.Status == event.Terminated {
		return
	}
	e.mu.Lock()
	var cfg *FunctionConfig
	if fs := e.fns[ev.Function]; fs != nil {
		cfg = fs.cfg
	}
	e.mu.Unlock()
	if cfg == nil {
		return
	}
	target, condition := cfg.Async.OnFailure, "RetriesExhausted"
	if ev.Status == event.Succeeded {
		target, condition = cfg.Async.OnSuccess, "Success"
	} else if OutcomeOf(ev.Status, ev.ErrorType) == OutcomeEventAge {
		condition = ErrTypeEventAge // the destination condition has the same name
	}
	if target == "" {
		return
	}
	name := target
	if i := strings.LastIndex(target, ":function:"); i >= 0 {
		name = strings.SplitN(target[i+len(":function:"):], ":", 2)[0]
	}
	e.mu.Lock()
	fs := e.fns[name]
	known := fs != nil && fs.cfg != nil
	e.mu.Unlock()
	if !known {
		e.logs.append(store.LogLine{Function: ev.Function, RequestID: ev.RequestID, Attempt: ev.Attempts, Time: time.Now().UTC(), Stream: "platform",
			Text: fmt.Sprintf("DESTINATION %s is not a function of this emulator; the record was not delivered", target)})
		return
	}
	record := destinationRecord(cfg, ev, condition)
	go func() {
		d, err := e.Invoke(context.Background(), InvokeRequest{Function: name, Payload: record, Type: event.InvokeEvent})
		text := fmt.Sprintf("DESTINATION %s invoked with RequestId %s (%s)", name, d.RequestID, condition)
		if err != nil {
			text = fmt.Sprintf("DESTINATION %s could not be invoked: %v", name, err)
		}
		e.logs.append(store.LogLine{Function: ev.Function, RequestID: ev.RequestID, Attempt: ev.Attempts, Time: time.Now().UTC(), Stream: "platform", Text: text})
	}()
}

// destinationRecord builds the invocation record Lambda sends to destinations.
func destinationRecord(cfg *FunctionConfig, ev store.Event, condition string) []byte {
	type requestContext struct {
		RequestID              string `json:"requestId"`
		FunctionArn            string `json:"functionArn"`
		Condition              string `json:"condition"`
		ApproximateInvokeCount int    `json:"approximateInvokeCount"`
	}
	type responseContext struct {
		StatusCode      int    `json:"statusCode"`
		ExecutedVersion string `json:"executedVersion"`
		FunctionError   string `json:"functionError,omitempty"`
	}
	rec := struct {
		Version         string          `json:"version"`
		Timestamp       string          `json:"timestamp"`
		RequestContext  requestContext  `json:"requestContext"`
		RequestPayload  json.RawMessage `json:"requestPayload"`
		ResponseContext responseContext `json:"responseContext"`
		ResponsePayload json.RawMessage `json:"responsePayload"`
	}{
		Version:         "1.0",
		Timestamp:       ev.EndedAt.UTC().Format("2006-01-02T15:04:05.000Z"),
		RequestContext:  requestContext{RequestID: ev.RequestID, FunctionArn: functionARN(cfg) + ":$LATEST", Condition: condition, ApproximateInvokeCount: ev.Attempts},
		RequestPayload:  json.RawMessage(ev.Payload),
		ResponseContext: responseContext{StatusCode: 200, ExecutedVersion: "$LATEST"},
	}
	if ev.Status == event.Succeeded {
		rec.ResponsePayload = json.RawMessage(ev.Result)
	} else {
		rec.ResponseContext.FunctionError = "Unhandled"
		rec.ResponsePayload, _ = json.Marshal(map[string]string{"errorType": ev.ErrorType, "errorMessage": ev.ErrorMessage})
	}
	if len(rec.ResponsePayload) == 0 || !json.Valid(rec.ResponsePayload) {
		rec.ResponsePayload = json.RawMessage("null")
	}
	b, _ := json.Marshal(rec)
	return b
}
