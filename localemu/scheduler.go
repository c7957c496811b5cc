package localemu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/localemu/runtime"
	"github.com/asyncfn/asyncfn/localemu/store"
)

// enqueueLocked puts an event on its function's queue, at once or when due.
func (e *Engine) enqueueLocked(id, fn string, due time.Time) {
	e.seq++
	item := &queueItem{id: id, fn: fn, seq: e.seq}
	e.queued[id] = item
	if d := time.Until(due); d > 0 {
		item.timer = time.AfterFunc(d, func() {
			e.mu.Lock()
			defer e.mu.Unlock()
			if e.queued[id] != item || e.closing {
				return
			}
			item.timer = nil
			e.pushLocked(item)
			e.dispatchLocked()
		})
		return
	}
	e.pushLocked(item)
}

func (e *Engine) pushLocked(item *queueItem) {
	fs := e.fns[item.fn]
	if fs == nil {
		fs = &fnState{name: item.fn}
		e.fns[item.fn] = fs
	}
	fs.queue = append(fs.queue, item)
}

func (e *Engine) unqueueLocked(item *queueItem) {
	delete(e.queued, item.id)
	if item.timer != nil {
		item.timer.Stop()
		return
	}
	if fs := e.fns[item.fn]; fs != nil {
		for i, q := range fs.queue {
			if q == item {
				fs.queue = append(fs.queue[:i], fs.queue[i+1:]...)
				break
			}
		}
	}
}

func (fs *fnState) limit(def int) int {
	if fs.cfg != nil && fs.cfg.ReservedConcurrency != nil {
		return *fs.cfg.ReservedConcurrency
	}
	return def
}

// dispatchLocked starts queued events while there is capacity, oldest first
// across functions, each function within its own cap.
func (e *Engine) dispatchLocked() {
	if e.closing {
		return
	}
	for e.running < e.opts.MaxConcurrency {
		var best *fnState
		for _, fs := range e.fns {
			if len(fs.queue) == 0 || fs.running >= fs.limit(e.opts.FunctionConcurrency) && fs.cfg != nil {
				continue
			}
			if best == nil || fs.queue[0].seq < best.queue[0].seq {
				best = fs
			}
		}
		if best == nil {
			return
		}
		item := best.queue[0]
		best.queue[0] = nil
		best.queue = best.queue[1:]
		delete(e.queued, item.id)
		ctx, cancel := context.WithCancel(context.Background())
		r := &run{id: item.id, fn: item.fn, ctx: ctx, cancel: cancel}
		e.runs[item.id] = r
		e.running++
		best.running++
		e.wg.Add(1)
		go e.execute(best, r)
	}
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
	delete(e.runs, r.id)
	if oc.status != event.Terminated && r.terminating {
		// Terminate arrived while the attempt was ending: a handler that was
		// killed by the signal reports a crash, which is the termination.
		if oc.status != event.Succeeded {
			oc.status, oc.errType, oc.errMsg = event.Terminated, "Terminated", "terminated on request"
		}
	}
	keep := inst != nil && oc.reusable() && !r.terminating && !e.closing && fs.cfg != nil && inst.version == fs.version
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

	if ev != nil {
		if err := e.finishAttempt(ev, oc); err != nil {
			e.log.Error("recording event outcome", "requestId", r.id, "err", err)
		}
	}

	e.mu.Lock()
	e.running--
	fs.running--
	e.dispatchLocked()
	e.mu.Unlock()
}

func (oc *outcome) reusable() bool {
	// A handled error leaves the runtime ready for the next invoke, as on Lambda;
	// a timeout, crash or termination does not.
	return oc.status == event.Succeeded || oc.status == event.Failed && !strings.HasPrefix(oc.errType, "Runtime.")
}

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
	cfg, version, code := fs.cfg, fs.version, fs.code
	e.mu.Unlock()

	ev.Attempts++
	r.attempt = ev.Attempts
	if cfg == nil {
		oc.status, oc.errType, oc.errMsg, oc.ended = event.Failed, "ResourceNotFound", "function "+fs.name+" no longer exists", now
		return nil, &ev, oc, nil
	}
	if ev.InvokeType == event.InvokeEvent && now.Sub(ev.CreatedAt) > cfg.maxEventAge() {
		oc.status, oc.errType, oc.ended = event.Failed, "EventAgeExceeded", now
		oc.errMsg = fmt.Sprintf("the event waited longer than its maximum age of %s", cfg.maxEventAge())
		ev.Attempts-- // it never ran this time
		return nil, &ev, oc, nil
	}
	ev.Status, ev.Version = event.Running, version
	if ev.StartedAt.IsZero() {
		ev.StartedAt = now
	}
	ev.NextAttempt = time.Time{}
	oc.started = now
	if err := e.store.UpdateEventWithAttempt(ctx, &ev, store.Attempt{RequestID: ev.RequestID, N: ev.Attempts, StartedAt: now, Status: event.Running}); err != nil {
		return nil, &ev, oc, err
	}
	e.platformLog(r, "START RequestId: %s Version: %d Attempt: %d", ev.RequestID, version, ev.Attempts)

	inst, err := e.acquire(r, fs, cfg, version, code)
	if err != nil {
		oc.status, oc.errType, oc.errMsg, oc.ended = event.Failed, "Runtime.StartError", err.Error(), time.Now().UTC()
		if errors.Is(err, context.Canceled) && r.terminating {
			oc.status, oc.errType, oc.errMsg = event.Terminated, "Terminated", "terminated on request"
		}
		e.platformLog(r, "END RequestId: %s", ev.RequestID)
		return nil, &ev, oc, nil
	}

	timeout := time.Duration(cfg.Timeout) * time.Second
	deadline := time.Now().Add(timeout)
	ictx, cancel := context.WithDeadline(r.ctx, deadline)
	resp, err := inst.rt.Invoke(ictx, runtime.Request{RequestID: ev.RequestID, Payload: ev.Payload, Deadline: deadline,
		TraceID: "Root=1-" + fmt.Sprintf("%08x", now.Unix()) + "-" + strings.ReplaceAll(ev.RequestID, "-", "")[:24]})
	cancel()
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
	case r.terminating:
		oc.status, oc.errType, oc.errMsg = event.Terminated, "Terminated", "terminated on request"
	case errors.As(err, &exit) && exit.OutOfMemoryMB > 0:
		// The process tree outgrew memorySize, as Lambda and SCF enforce it.
		// (RLIMIT_AS cannot do this: V8 reserves far more address space than it uses.)
		oc.status, oc.errType = event.Failed, "Runtime.OutOfMemory"
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
	ms := float64(oc.duration) / float64(time.Millisecond)
	e.platformLog(r, "END RequestId: %s", ev.RequestID)
	e.platformLog(r, "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB",
		ev.RequestID, ms, int64(ms)+1, cfg.MemorySize, oc.memoryMB)
	return inst, &ev, oc, nil
}

// acquire returns a warm instance of the version, or starts one.
func (e *Engine) acquire(r *run, fs *fnState, cfg *FunctionConfig, version int, code string) (*instance, error) {
	e.mu.Lock()
	for len(fs.idle) > 0 {
		in := fs.idle[len(fs.idle)-1]
		fs.idle = fs.idle[:len(fs.idle)-1]
		select {
		case <-in.rt.Done():
			go e.retire(in) // exited while idle
			continue
		default:
		}
		if in.version != version {
			go e.retire(in)
			continue
		}
		in.cur.Store(r)
		r.inst = in
		e.mu.Unlock()
		return in, nil
	}
	e.mu.Unlock()

	in := &instance{version: version, code: code}
	rcfg := runtime.Config{
		Function: cfg.Name,
		Version:  version,
		Runtime:  cfg.Runtime,
		Handler:  cfg.Handler,
		CodeDir:  code,
		MemoryMB: cfg.MemorySize,
		Timeout:  time.Duration(cfg.Timeout) * time.Second,
		Region:   cfg.Region,
		ARN:      functionARN(cfg),
		Env:      cfg.Environment,
		WorkDir:  filepath.Join(e.workDir, cfg.Name),
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

func functionARN(cfg *FunctionConfig) string {
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	if cfg.Provider == "tencent" {
		return "qcs::scf:" + region + ":uin/100000000001:namespace/default/function/" + cfg.Name
	}
	return "arn:aws:lambda:" + region + ":000000000000:function:" + cfg.Name
}

// functionLog records a line the function wrote, within the event's log cap.
func (e *Engine) functionLog(fn string, r *run, l runtime.Line) {
	line := store.LogLine{Function: fn, RequestID: l.RequestID, Time: l.Time, Stream: l.Stream, Text: l.Text}
	if r != nil && r.id == l.RequestID {
		line.Attempt = r.attempt
		if r.logCapped.Load() {
			return
		}
		if r.logBytes.Add(int64(len(l.Text))+1) > e.opts.LogLimit {
			if r.logCapped.Swap(true) {
				return
			}
			line.Stream = "platform"
			line.Text = fmt.Sprintf("[asyncfn] log limit of %d bytes reached for this event: further output is dropped", e.opts.LogLimit)
		}
	}
	if line.Time.IsZero() {
		line.Time = time.Now().UTC()
	}
	e.logs.append(line)
}

func (e *Engine) platformLog(r *run, format string, args ...any) {
	e.logs.append(store.LogLine{Function: r.fn, RequestID: r.id, Attempt: r.attempt, Time: time.Now().UTC(),
		Stream: "platform", Text: fmt.Sprintf(format, args...)})
}

// finishAttempt records an attempt's outcome and decides what comes next:
// a retry (QUEUED with a due time) or a terminal status and its destination.
func (e *Engine) finishAttempt(ev *store.Event, oc outcome) error {
	ctx := context.Background()
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
	ev.DurationMs, ev.MaxMemoryMB = oc.duration.Milliseconds(), oc.memoryMB
	ev.Result, ev.ErrorType, ev.ErrorMessage = oc.result, oc.errType, oc.errMsg

	retry := false
	var delay time.Duration
	if (oc.status == event.Failed || oc.status == event.TimedOut) && ev.InvokeType == event.InvokeEvent && oc.errType != "EventAgeExceeded" {
		e.mu.Lock()
		var cfg *FunctionConfig
		if fs := e.fns[ev.Function]; fs != nil {
			cfg = fs.cfg
		}
		e.mu.Unlock()
		if cfg != nil && ev.Attempts <= cfg.retryAttempts() {
			delay = e.opts.Backoff(ev.Attempts)
			retry = time.Since(ev.CreatedAt)+delay <= cfg.maxEventAge()
		}
	}
	if retry {
		ev.Status = event.Queued
		ev.NextAttempt = time.Now().UTC().Add(delay)
		if err := save(); err != nil {
			return err
		}
		e.logs.append(store.LogLine{Function: ev.Function, RequestID: ev.RequestID, Attempt: ev.Attempts, Time: time.Now().UTC(), Stream: "platform",
			Text: fmt.Sprintf("RETRY RequestId: %s attempt %d ended %s (%s); retrying in %s", ev.RequestID, ev.Attempts, oc.status, oc.errType, delay)})
		e.mu.Lock()
		if !e.closing {
			e.enqueueLocked(ev.RequestID, ev.Function, ev.NextAttempt)
		}
		e.mu.Unlock()
		return nil
	}
	ev.Status = oc.status
	ev.EndedAt = oc.ended
	if ev.EndedAt.IsZero() {
		ev.EndedAt = time.Now().UTC()
	}
	ev.NextAttempt = time.Time{}
	if err := save(); err != nil {
		return err
	}
	e.notifyTerminal(*ev)
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
	} else if ev.ErrorType == "EventAgeExceeded" {
		condition = "EventAgeExceeded"
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
