package localemu

import (
	"context"
	"fmt"
	"time"

	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/localemu/store"
	"github.com/asyncfn/asyncfn/nativeapi"
)

// Error types the engine itself gives an event or an attempt (a handler's own
// errors carry the runtime's types). Fronts and destinations decide on these.
const (
	ErrTypeTerminated      = "Terminated"
	ErrTypeEventAge        = "EventAgeExceeded"
	ErrTypeFunctionRemoved = "ResourceNotFound"
	ErrTypeRestarted       = "Emulator.Restarted"
	ErrTypeStopped         = "Emulator.Stopped"
	// ErrTypeOutOfMemory: the engine killed an attempt whose process tree
	// outgrew memorySize (SCF reports it as 434 MemoryLimitReached).
	ErrTypeOutOfMemory = "Runtime.OutOfMemory"
)

// phase is where a live event is in the engine.
type phase int

const (
	phaseWaiting  phase = iota // QUEUED, its retry due later (a timer holds it)
	phaseReady                 // QUEUED in its function's queue
	phaseRunning               // an attempt is in flight (starting or executing)
	phaseSettling              // held by no queue or timer: an attempt just ended, or the event is being ended
)

// tracked is the engine's one in-memory record of a live event. It exists
// from the moment the event is accepted (or recovered at start) until its
// terminal status is saved, so a Terminate finds it at every moment of the
// event's life — queued, starting, running, or between an attempt's end and
// its retry — and a stop request recorded on it is honoured by whichever step
// moves the event next.
type tracked struct {
	id      string
	fn      string
	inc     uint64 // the incarnation of the function the event was accepted for
	created time.Time
	async   bool
	seq     uint64    // arrival order in its function's queue
	readyAt time.Time // when it last joined its function's queue
	phase   phase
	timer   *time.Timer // a retry's due time (phaseWaiting)
	// expiresAt is when an async event reaches its maximum age (zero until
	// armed); expiryIdx its place in the engine's expiry queue, -1 when out.
	expiresAt time.Time
	expiryIdx int
	run       *run // the attempt in flight (phaseRunning)
	stop      *stopRequest
}

// stopRequest is a Terminate waiting to be honoured.
type stopRequest struct{ grace time.Duration }

// trackLocked returns the record of a live event, creating it.
func (e *Engine) trackLocked(ev *store.Event) *tracked {
	if t := e.events[ev.RequestID]; t != nil {
		return t
	}
	t := &tracked{id: ev.RequestID, fn: ev.Function, created: ev.CreatedAt, async: ev.InvokeType == event.InvokeEvent, phase: phaseSettling, expiryIdx: -1}
	if fs := e.fns[ev.Function]; fs != nil {
		t.inc = fs.inc
	}
	e.events[ev.RequestID] = t
	return t
}

// enqueueLocked puts an event on its function's queue, at once or when due,
// and arms its maximum-age expiry.
func (e *Engine) enqueueLocked(t *tracked, due time.Time) {
	e.seq++
	t.seq = e.seq
	t.run = nil
	e.armExpiryLocked(t)
	if d := time.Until(due); d > 0 {
		t.phase = phaseWaiting
		var timer *time.Timer
		timer = time.AfterFunc(d, func() {
			e.mu.Lock()
			defer e.mu.Unlock()
			if e.events[t.id] != t || t.phase != phaseWaiting || t.timer != timer || e.closing {
				return
			}
			t.timer = nil
			e.pushLocked(t)
			e.dispatchLocked()
		})
		t.timer = timer
		return
	}
	e.pushLocked(t)
}

func (e *Engine) pushLocked(t *tracked) {
	fs := e.fns[t.fn]
	if fs == nil {
		fs = &fnState{name: t.fn}
		e.fns[t.fn] = fs
	}
	t.phase = phaseReady
	t.readyAt = time.Now()
	fs.queue = append(fs.queue, t)
}

// unqueueLocked takes a QUEUED event off its queue or timer; it is then settling.
func (e *Engine) unqueueLocked(t *tracked) {
	switch t.phase {
	case phaseWaiting:
		if t.timer != nil {
			t.timer.Stop()
			t.timer = nil
		}
	case phaseReady:
		if fs := e.fns[t.fn]; fs != nil {
			for i, q := range fs.queue {
				if q == t {
					fs.queue = append(fs.queue[:i], fs.queue[i+1:]...)
					break
				}
			}
		}
	}
	t.phase = phaseSettling
}

// armExpiryLocked ends a waiting async event when it reaches its maximum age,
// wherever it waits. Lambda: "Maximum age of event – The maximum amount of
// time Lambda retains an event in the asynchronous event queue"; an expired
// event is discarded and sent to the on-failure destination with the
// condition EventAgeExceeded (AWS Lambda Developer Guide, "Configuring error
// handling for asynchronous invocation"). SCF's msgTTL is the same bound.
func (e *Engine) armExpiryLocked(t *tracked) {
	if !t.async || !t.expiresAt.IsZero() {
		return
	}
	fs := e.fns[t.fn]
	if fs == nil || fs.cfg == nil {
		return
	}
	e.scheduleExpiryLocked(t, t.created.Add(fs.cfg.MaxEventAge()))
}

// expire ends an event taken off its queue at its maximum age.
func (e *Engine) expire(t *tracked) {
	e.mu.Lock()
	age := e.maxEventAgeLocked(t.fn)
	e.mu.Unlock()
	ctx := context.Background()
	ev, err := e.store.GetEvent(ctx, t.id)
	if err != nil {
		e.log.Error("expiring event", "requestId", t.id, "err", err)
		return
	}
	e.endUnrun(&ev, event.Failed, ErrTypeEventAge, ageExceededMessage(age, &ev),
		fmt.Sprintf("EXPIRED RequestId: %s reached its maximum event age of %s before it could run; it was dropped", ev.RequestID, age))
	e.sendDestination(ev)
}

func (e *Engine) maxEventAgeLocked(fn string) time.Duration {
	if fs := e.fns[fn]; fs != nil && fs.cfg != nil {
		return fs.cfg.MaxEventAge()
	}
	return nativeapi.DefaultMaxEventAge
}

// ageExceededMessage says why an event ended at its maximum age, keeping what
// its last attempt reported (each attempt keeps its own error too).
func ageExceededMessage(age time.Duration, ev *store.Event) string {
	msg := fmt.Sprintf("the event reached its maximum age of %s", age)
	if ev.Attempts > 0 && ev.ErrorType != "" {
		msg += fmt.Sprintf(" after %d attempt(s); the last failed with %s: %s", ev.Attempts, ev.ErrorType, ev.ErrorMessage)
	}
	return msg
}

// endUnrun gives an event that is not running (settling, off every queue) a
// terminal status, logs why, saves it and settles it.
func (e *Engine) endUnrun(ev *store.Event, status event.Status, errType, errMsg, logLine string) {
	now := time.Now().UTC()
	ev.Status, ev.EndedAt, ev.ErrorType, ev.ErrorMessage = status, now, errType, errMsg
	ev.NextAttempt = time.Time{}
	if err := e.store.UpdateEvent(context.Background(), ev); err != nil {
		e.log.Error("ending event", "requestId", ev.RequestID, "err", err)
		return
	}
	e.logs.append(store.LogLine{Function: ev.Function, RequestID: ev.RequestID, Attempt: ev.Attempts, Time: now, Stream: "platform", Text: logLine})
	e.settle(*ev)
}

// settle forgets a live event whose terminal status is saved and wakes
// everyone waiting for it. Waiters are registered under the same lock that
// guards the record, so none is missed.
func (e *Engine) settle(ev store.Event) {
	e.mu.Lock()
	if t := e.events[ev.RequestID]; t != nil {
		if t.timer != nil {
			t.timer.Stop()
		}
		e.unscheduleExpiryLocked(t)
		delete(e.events, ev.RequestID)
	}
	ws := e.waiters[ev.RequestID]
	delete(e.waiters, ev.RequestID)
	e.mu.Unlock()
	for _, w := range ws {
		w <- ev
	}
}

// stopRequestedLocked reports whether a Terminate is waiting on the event.
func (e *Engine) stopRequestedLocked(id string) bool {
	t := e.events[id]
	return t != nil && t.stop != nil
}

// Terminate stops an event: a queued one is taken off the queue, a running
// one is signalled (SIGTERM then SIGKILL after grace, or SIGKILL at once), and
// one between attempts is not retried. It returns the TERMINATED event. An
// event that was live when asked ends TERMINATED whatever its handler does
// next (what it returned is kept), as SCF's TerminateAsyncEvent and Lambda's
// StopDurableExecution end an execution ABORTED / STOPPED.
func (e *Engine) Terminate(ctx context.Context, fn, requestID string, grace time.Duration) (store.Event, error) {
	ev, err := e.Event(ctx, fn, requestID)
	if err != nil {
		return store.Event{}, err
	}
	if ev.Status.Terminal() {
		return ev, fmt.Errorf("%w: %s is %s", ErrEventFinished, requestID, ev.Status)
	}
	e.mu.Lock()
	t := e.events[requestID]
	if t == nil {
		// It settled after it was read (or the engine is shutting down and
		// no longer moves it): the store has the last word.
		e.mu.Unlock()
		if ev, err = e.Event(ctx, fn, requestID); err != nil {
			return store.Event{}, err
		}
		if ev.Status.Terminal() {
			return ev, fmt.Errorf("%w: %s is %s", ErrEventFinished, requestID, ev.Status)
		}
		return ev, ErrShuttingDown
	}
	ch := e.addWaiterLocked(requestID)
	defer e.removeWaiter(requestID, ch)
	if t.stop == nil {
		t.stop = &stopRequest{grace: grace}
	}
	var signal func()
	switch t.phase {
	case phaseWaiting, phaseReady:
		e.unqueueLocked(t)
		e.mu.Unlock()
		ev, err := e.store.GetEvent(ctx, requestID)
		if err != nil {
			return store.Event{}, err
		}
		e.endUnrun(&ev, event.Terminated, ErrTypeTerminated, "terminated while queued",
			"TERMINATED RequestId: "+ev.RequestID+" was removed from the queue")
	case phaseRunning:
		r := t.run
		if !r.terminating {
			r.terminating, r.grace = true, grace
			if inst := r.inst; inst != nil {
				signal = func() { inst.rt.Terminate(grace) }
			} else {
				r.cancel() // still starting: the attempt ends before it reaches a process
			}
		}
		e.mu.Unlock()
	default:
		// Between an attempt's end and what follows: finishAttempt sees the
		// request and ends the event instead of retrying it.
		e.mu.Unlock()
	}
	if signal != nil {
		signal()
	}
	wctx, cancel := context.WithTimeout(ctx, grace+30*time.Second)
	defer cancel()
	select {
	case final := <-ch:
		if final.Status != event.Terminated {
			return final, fmt.Errorf("%w: %s is %s", ErrEventFinished, requestID, final.Status)
		}
		return final, nil
	case <-wctx.Done():
		return ev, fmt.Errorf("localemu: terminate %s: %w", requestID, wctx.Err())
	}
}
