package localemu

import (
	"time"
)

// The scaling policy: how many instances a function runs.
//
// Starting an instance for every arriving event — what the engine once did —
// fills the machine with processes during a burst of short events: each
// cold start costs tens of milliseconds of CPU and tens of megabytes, while
// a warm instance serves a 1 ms handler hundreds of times in that while.
// Lambda scales by need, not by arrival, and so does the engine:
//
//   - an event goes to an idle instance of its function when there is one;
//   - otherwise a new instance is started for it only when the running ones
//     will not be free soon enough to serve the queue: the instances busy
//     with a run are expected to be free after the function's recent
//     duration, and each will then serve one queued event per duration; an
//     event waits for them when they can serve the queue before a cold
//     start would end;
//   - while nothing is known of the function's duration, it gets a few
//     instances (coldStartBurst), and a short function later starts at most
//     that many at once; once a run has lasted longer than a cold
//     start the function is known to be slow and every queued event gets an
//     instance at once, as for a long function that must not wait behind
//     another's run;
//   - a run that outlasts the function's recent duration by a cold start no
//     longer counts as soon free;
//   - while every core is busy, a short function gets no further instance
//     (one that has none still starts): more processes would not serve its
//     queue faster, only slow the ones that do (cpu.go).
//
// reservedConcurrency and the engine's MaxConcurrency stay hard caps.

const (
	// coldStartBurst is how many instances of a function may start at once
	// while its duration is unknown.
	coldStartBurst = 4
	// defaultColdStart is the cold start assumed until one is measured.
	defaultColdStart = 250 * time.Millisecond
)

// ewma is an exponentially weighted moving average of durations: the
// recent past, cheaply.
type ewma struct {
	v     time.Duration
	known bool
}

func (a *ewma) add(d time.Duration) {
	if !a.known {
		a.v, a.known = d, true
		return
	}
	a.v += (d - a.v) / 5
}

func (a *ewma) or(def time.Duration) time.Duration {
	if a.known {
		return a.v
	}
	return def
}

// hasIdleLocked tells whether an idle instance could serve t.
func (e *Engine) hasIdleLocked(fs *fnState, t *tracked) bool {
	for _, in := range fs.idle {
		if in.version == fs.version && in.inc == t.inc {
			return true
		}
	}
	return false
}

// takeIdleLocked takes the most recently idle instance that can serve t
// (the warmest), retiring the ones that never will: an older version or
// incarnation, or a process that exited while idle.
func (e *Engine) takeIdleLocked(fs *fnState, t *tracked) *instance {
	for len(fs.idle) > 0 {
		in := fs.idle[len(fs.idle)-1]
		fs.idle = fs.idle[:len(fs.idle)-1]
		select {
		case <-in.rt.Done():
			go e.retire(in)
			continue
		default:
		}
		if in.version != fs.version || in.inc != t.inc {
			go e.retire(in)
			continue
		}
		return in
	}
	return nil
}

// spawnBudgetLocked is how many new instances fs may start now for its
// queue (see the policy above).
func (e *Engine) spawnBudgetLocked(fs *fnState, now time.Time) int {
	queued := len(fs.queue)
	if queued == 0 {
		return 0
	}
	cold := fs.coldStart.or(defaultColdStart)
	// What the busy instances will serve before a new one could start.
	var capacity float64
	slow := fs.duration.known && fs.duration.v >= cold
	for _, handed := range fs.invoking {
		elapsed := now.Sub(handed)
		d := fs.duration.v
		switch {
		case !fs.duration.known || elapsed > d:
			// Nothing known, or it has outrun the function's recent
			// duration: it may still end soon, for one event, until it has
			// run a cold start longer than expected.
			if elapsed-min(elapsed, d) < cold {
				capacity++
			} else {
				slow = true
			}
		case d-elapsed < cold:
			// It ends before a cold start would, then serves one event per
			// duration.
			capacity += float64(cold-(d-elapsed)) / float64(max(d, time.Millisecond))
		}
	}
	need := queued - int(capacity)
	if need <= 0 {
		return 0
	}
	if !slow {
		// While nothing is known the bound is on the function's instances
		// (a run that ends at once would have them all idle soon); once its
		// short duration is known, on the cold starts under way.
		if fs.duration.known {
			need = min(need, coldStartBurst-fs.starting)
		} else {
			need = min(need, coldStartBurst-fs.starting-len(fs.invoking))
		}
		if e.cpu.saturated(now) && fs.starting+len(fs.invoking) > 0 {
			// Every core is busy: another instance of a short function would
			// only take CPU from those serving its queue.
			need = 0
		}
	}
	if need > 0 {
		e.log.Debug("starting instances", "function", fs.name, "count", need, "queued", queued, "capacity", capacity, "slow", slow,
			"starting", fs.starting, "busy", len(fs.invoking), "duration", fs.duration.v, "coldStart", cold)
	}
	return need
}

// wakeForQueuedLocked arms one timer to run the dispatcher again while an
// event is queued without an instance: the policy's inputs (how long runs
// and waits have lasted) change with time alone.
func (e *Engine) wakeForQueuedLocked(now time.Time) {
	if e.wake != nil || e.closing {
		return
	}
	var wait time.Duration = -1
	for _, fs := range e.fns {
		if len(fs.queue) == 0 || fs.cfg == nil || fs.running >= fs.limit(e.opts.FunctionConcurrency) {
			continue
		}
		d := max(fs.coldStart.or(defaultColdStart)/4, 5*time.Millisecond)
		if wait < 0 || d < wait {
			wait = d
		}
	}
	if wait < 0 {
		return
	}
	e.wake = time.AfterFunc(wait, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.wake = nil
		e.dispatchLocked()
	})
}

// handedOff records that r's event reached its instance: a cold start is
// over, and the run is busy from at.
func (e *Engine) handedOff(fs *fnState, r *run, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r.cold && !r.handed {
		fs.starting--
		// The cold start as the queue meets it: from dispatch to handoff.
		// Known now, not when the run ends, so a long run's function learns
		// it early.
		fs.coldStart.add(at.Sub(r.coldSince))
		e.dispatchLocked() // a cold start ended: the burst bound has room again
	}
	r.handed = true
	e.busyLocked(fs, r, at)
}

// busyLocked counts r's instance as busy with it since at: from dispatch for
// a warm instance (recording the attempt comes before the handoff), from the
// handoff for a new one.
func (e *Engine) busyLocked(fs *fnState, r *run, at time.Time) {
	if fs.invoking == nil {
		fs.invoking = map[*run]time.Time{}
	}
	fs.invoking[r] = at
}

// endRunLocked updates what the policy knows when r ends: its duration, and
// that it no longer holds or starts an instance. A warm instance chosen for
// a run that never used it goes back to the idle list.
func (e *Engine) endRunLocked(fs *fnState, r *run, oc outcome) {
	if _, ok := fs.invoking[r]; ok {
		delete(fs.invoking, r)
		if oc.duration > 0 {
			fs.duration.add(oc.duration)
		}
	}
	if r.cold && !r.handed {
		fs.starting--
	}
	if in := r.warm; in != nil {
		r.warm = nil
		if fs.cfg != nil && in.version == fs.version && in.inc == fs.inc && !e.closing {
			fs.idle = append(fs.idle, in)
		} else {
			go e.retire(in)
		}
	}
}
