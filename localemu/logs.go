package localemu

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asyncfn/asyncfn/localemu/store"
)

// logHub numbers every log line, keeps the most recent ones in a ring for live
// subscribers, and writes all of them to the store in batches.
//
// Fan-out is notification-only: an append does a non-blocking send on each
// subscriber's one-slot channel, and subscribers copy lines out of the ring
// at their own pace. A slow subscriber therefore never blocks a function or
// another subscriber; if it falls behind the ring it catches up from the store.
//
// Every line reaches the ring, the store and so every live subscriber,
// whatever an event's volume. What the store keeps of an attempt's output
// is bounded afterwards (see outputKeep): its head, its tail, and one marker
// line for what was elided between, never before every subscriber that may
// want an elided line has read it.
//
// Memory is bounded too: the ring by lines and bytes, and the lines not yet
// written by maxPendingBytes — past it a function's output waits for the
// store (as a pipe makes a writer wait for its reader) rather than grow.
type logHub struct {
	store *store.Store
	log   *slog.Logger
	keep  outputKeep
	// elideAfter: see defaultElideAfter.
	elideAfter time.Duration

	mu         sync.Mutex
	lastSeq    int64
	flushedSeq int64           // the highest seq committed to the store
	ring       []store.LogLine // circular, ordered by Seq
	head       int             // index of the oldest line
	size       int
	ringBytes  int64
	subs       map[*Subscription]struct{}
	pending    []store.LogLine // appended but not yet written to the store
	pendBytes  int64
	written    *sync.Cond // on mu: broadcast when pending is taken to be written
	closing    bool
	outputs    map[outputKey]*output // the attempts whose output is bounded, see keep.go

	flushReq chan struct{}
	flushMu  sync.Mutex // serialises writers so lines reach the store in order
	stop     chan struct{}
	done     chan struct{}
}

const (
	logRingSize      = 1 << 16
	logRingBytes     = 32 << 20
	logFlushInterval = 20 * time.Millisecond
	logFlushBatch    = 4096
	// maxPendingBytes bounds the output held for the store: a function
	// printing faster than the store writes waits past it.
	maxPendingBytes = 16 << 20
)

// lineBytes is what a line costs in memory, about.
func lineBytes(l *store.LogLine) int64 {
	return int64(len(l.Text)+len(l.RequestID)+len(l.Function)) + 96
}

func newLogHub(st *store.Store, lastSeq int64, keep outputKeep, lg *slog.Logger) *logHub {
	h := &logHub{
		store:      st,
		log:        lg,
		keep:       keep,
		elideAfter: defaultElideAfter,
		lastSeq:    lastSeq,
		flushedSeq: lastSeq,
		ring:       make([]store.LogLine, logRingSize),
		subs:       make(map[*Subscription]struct{}),
		outputs:    make(map[outputKey]*output),
		flushReq:   make(chan struct{}, 1),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	h.written = sync.NewCond(&h.mu)
	go h.flushLoop()
	return h
}

// append assigns the next sequence number to l and publishes it.
func (h *logHub) append(l store.LogLine) {
	h.mu.Lock()
	full := h.publishLocked(&l)
	h.mu.Unlock()
	if full {
		h.requestFlush()
	}
}

// appendOutput publishes a line a function wrote during attempt, waiting
// while the store is behind by maxPendingBytes, and counts it against what
// the store keeps of the attempt's output.
func (h *logHub) appendOutput(l store.LogLine) {
	h.mu.Lock()
	for h.pendBytes >= maxPendingBytes && !h.closing {
		h.requestFlush()
		h.written.Wait()
	}
	full := h.publishLocked(&l)
	h.countOutputLocked(&l)
	h.mu.Unlock()
	if full {
		h.requestFlush()
	}
}

func (h *logHub) requestFlush() {
	select {
	case h.flushReq <- struct{}{}:
	default:
	}
}

// publishLocked numbers l, puts it in the ring and the pending batch and
// wakes the subscribers; it reports whether the batch is due to be written.
func (h *logHub) publishLocked(l *store.LogLine) bool {
	h.lastSeq++
	l.Seq = h.lastSeq
	n := lineBytes(l)
	for h.size > 0 && (h.size == len(h.ring) || h.ringBytes+n > logRingBytes) {
		h.ringBytes -= lineBytes(&h.ring[h.head])
		h.ring[h.head] = store.LogLine{}
		h.head = (h.head + 1) % len(h.ring)
		h.size--
	}
	h.ring[(h.head+h.size)%len(h.ring)] = *l
	h.size++
	h.ringBytes += n
	h.pending = append(h.pending, *l)
	h.pendBytes += n
	for s := range h.subs {
		select {
		case s.notify <- struct{}{}:
		default:
		}
	}
	return len(h.pending) >= logFlushBatch || h.pendBytes >= maxPendingBytes/4
}

func (h *logHub) flushLoop() {
	defer close(h.done)
	t := time.NewTicker(logFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-h.flushReq:
		case <-h.stop:
			h.flush()
			h.trim(true)
			return
		}
		h.flush()
		h.trim(false)
	}
}

// flush writes pending lines to the store and returns once they are committed.
func (h *logHub) flush() {
	h.flushMu.Lock()
	defer h.flushMu.Unlock()
	h.mu.Lock()
	batch := h.pending
	h.pending, h.pendBytes = nil, 0
	h.written.Broadcast()
	h.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	if err := h.store.AppendLogs(context.Background(), batch); err != nil {
		h.log.Error("writing log lines to the store", "lines", len(batch), "err", err)
	}
	h.mu.Lock()
	h.flushedSeq = batch[len(batch)-1].Seq
	h.mu.Unlock()
}

func (h *logHub) close() {
	h.mu.Lock()
	h.closing = true
	h.written.Broadcast()
	h.mu.Unlock()
	close(h.stop)
	<-h.done
	h.mu.Lock()
	for s := range h.subs {
		close(s.closed)
		delete(h.subs, s)
	}
	h.mu.Unlock()
}

// LogFilter selects the lines a subscription or query sees. Zero fields match all.
type LogFilter struct {
	Functions []string // any of these functions
	RequestID string
	Contains  string
	Since     time.Time
}

func (f *LogFilter) Match(l *store.LogLine) bool {
	if len(f.Functions) > 0 {
		ok := false
		for _, fn := range f.Functions {
			if fn == l.Function {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if f.RequestID != "" && l.RequestID != f.RequestID {
		return false
	}
	if !f.Since.IsZero() && l.Time.Before(f.Since) {
		return false
	}
	if f.Contains != "" && !strings.Contains(l.Text, f.Contains) {
		return false
	}
	return true
}

// Subscription follows the log live from a cursor (a sequence number).
type Subscription struct {
	hub    *logHub
	filter LogFilter
	cursor atomic.Int64 // written by the subscriber, read by trim
	notify chan struct{}
	closed chan struct{}
	once   sync.Once
}

func (h *logHub) subscribe(f LogFilter, after int64) *Subscription {
	s := &Subscription{hub: h, filter: f, notify: make(chan struct{}, 1), closed: make(chan struct{})}
	s.cursor.Store(after)
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Cursor is the sequence number of the last line Next returned.
func (s *Subscription) Cursor() int64 { return s.cursor.Load() }

// Close ends the subscription.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.hub.mu.Lock()
		if _, ok := s.hub.subs[s]; ok {
			delete(s.hub.subs, s)
			close(s.closed)
		}
		s.hub.mu.Unlock()
	})
}

// Next returns up to max lines after the cursor, waiting until at least one
// matches, ctx ends (ctx.Err()) or the hub closes (ErrShuttingDown).
func (s *Subscription) Next(ctx context.Context, max int) ([]store.LogLine, error) {
	for {
		lines, err := s.collect(ctx, max)
		if err != nil || len(lines) > 0 {
			return lines, err
		}
		select {
		case <-s.notify:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.closed:
			return nil, ErrShuttingDown
		}
	}
}

func (s *Subscription) collect(ctx context.Context, max int) ([]store.LogLine, error) {
	h := s.hub
	cursor := s.cursor.Load()
	h.mu.Lock()
	oldest := h.lastSeq - int64(h.size) + 1 // seq of the oldest line in the ring
	if cursor+1 < oldest {
		// Fallen behind the ring: read the missing stretch from the store.
		// The store still has all of it: trim elides no line a subscriber
		// that may want it has not read.
		h.mu.Unlock()
		h.flush()
		q := s.filter.Query(cursor, max)
		q.BeforeSeq = oldest // the ring has the rest
		lines, err := h.store.Logs(ctx, q)
		if err != nil {
			return nil, err
		}
		var out []store.LogLine
		for i := range lines {
			cursor = lines[i].Seq
			if s.filter.Match(&lines[i]) {
				out = append(out, lines[i])
			}
		}
		if len(out) == 0 && cursor+1 < oldest {
			cursor = oldest - 1 // nothing matching in the stored stretch
		}
		s.cursor.Store(cursor)
		return out, nil
	}
	// Lines in the ring are contiguous in seq: index = offset from the oldest.
	start := int(cursor + 1 - oldest)
	var out []store.LogLine
	n := h.size - start
	for i := 0; i < n && len(out) < max; i++ {
		l := &h.ring[(h.head+start+i)%len(h.ring)]
		cursor = l.Seq
		if s.filter.Match(l) {
			out = append(out, *l)
		}
	}
	s.cursor.Store(cursor)
	h.mu.Unlock()
	return out, nil
}

// Query is the store query for the lines f matches after a cursor, at most
// limit of them (0 = all), in order.
func (f LogFilter) Query(after int64, limit int) store.LogQuery {
	return store.LogQuery{AfterSeq: after, Functions: f.Functions, RequestID: f.RequestID, Contains: f.Contains, Since: f.Since, Limit: limit}
}
