package localemu

import (
	"container/heap"
	"time"
)

// expiryQueue orders the waiting async events by when they reach their
// maximum age. One engine-wide timer fires for the earliest, instead of one
// timer per event: a burst of tens of thousands of queued events then costs a
// heap slot each, not a runtime timer each.
type expiryQueue []*tracked

func (q expiryQueue) Len() int           { return len(q) }
func (q expiryQueue) Less(i, j int) bool { return q[i].expiresAt.Before(q[j].expiresAt) }
func (q expiryQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].expiryIdx, q[j].expiryIdx = i, j
}
func (q *expiryQueue) Push(x any) {
	t := x.(*tracked)
	t.expiryIdx = len(*q)
	*q = append(*q, t)
}
func (q *expiryQueue) Pop() any {
	old := *q
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	t.expiryIdx = -1
	return t
}

// scheduleExpiryLocked adds an event to the queue and, if it is now the
// earliest, moves the timer.
func (e *Engine) scheduleExpiryLocked(t *tracked, at time.Time) {
	t.expiresAt = at
	heap.Push(&e.expiries, t)
	if t.expiryIdx == 0 {
		e.resetExpiryTimerLocked()
	}
}

// unscheduleExpiryLocked takes a settled event out of the queue.
func (e *Engine) unscheduleExpiryLocked(t *tracked) {
	if t.expiryIdx >= 0 {
		heap.Remove(&e.expiries, t.expiryIdx)
	}
}

func (e *Engine) resetExpiryTimerLocked() {
	if len(e.expiries) == 0 || e.closing {
		if e.expiryTimer != nil {
			e.expiryTimer.Stop()
		}
		return
	}
	d := max(time.Until(e.expiries[0].expiresAt), 0)
	if e.expiryTimer == nil {
		e.expiryTimer = time.AfterFunc(d, e.expireDue)
		return
	}
	e.expiryTimer.Reset(d)
}

// expireDue ends every event whose maximum age has come while it waits. One
// that is running then finishes its attempt and is not retried past its age
// (see finishAttempt).
func (e *Engine) expireDue() {
	now := time.Now()
	var due []*tracked
	e.mu.Lock()
	for len(e.expiries) > 0 && !e.expiries[0].expiresAt.After(now) {
		t := heap.Pop(&e.expiries).(*tracked)
		if e.events[t.id] == t && !e.closing && (t.phase == phaseWaiting || t.phase == phaseReady) {
			e.unqueueLocked(t)
			due = append(due, t)
		}
	}
	e.resetExpiryTimerLocked()
	e.mu.Unlock()
	for _, t := range due {
		e.expire(t)
	}
}
