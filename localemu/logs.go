package localemu

import (
	"context"
	"log/slog"
	"strings"
	"sync"
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
type logHub struct {
	store *store.Store
	log   *slog.Logger

	mu      sync.Mutex
	lastSeq int64
	ring    []store.LogLine // circular, ordered by Seq
	head    int             // index of the oldest line
	size    int
	subs    map[*Subscription]struct{}
	pending []store.LogLine // appended but not yet written to the store

	flushReq chan struct{}
	flushMu  sync.Mutex // serialises writers so lines reach the store in order
	stop     chan struct{}
	done     chan struct{}
}

const (
	logRingSize      = 1 << 16
	logFlushInterval = 20 * time.Millisecond
	logFlushBatch    = 4096
)

func newLogHub(st *store.Store, lastSeq int64, lg *slog.Logger) *logHub {
	h := &logHub{
		store:    st,
		log:      lg,
		lastSeq:  lastSeq,
		ring:     make([]store.LogLine, logRingSize),
		subs:     make(map[*Subscription]struct{}),
		flushReq: make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go h.flushLoop()
	return h
}

// append assigns the next sequence number to l and publishes it.
func (h *logHub) append(l store.LogLine) {
	h.mu.Lock()
	h.lastSeq++
	l.Seq = h.lastSeq
	idx := (h.head + h.size) % len(h.ring)
	if h.size == len(h.ring) {
		h.head = (h.head + 1) % len(h.ring)
	} else {
		h.size++
	}
	h.ring[idx] = l
	h.pending = append(h.pending, l)
	full := len(h.pending) >= logFlushBatch
	for s := range h.subs {
		select {
		case s.notify <- struct{}{}:
		default:
		}
	}
	h.mu.Unlock()
	if full {
		select {
		case h.flushReq <- struct{}{}:
		default:
		}
	}
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
			return
		}
		h.flush()
	}
}

// flush writes pending lines to the store and returns once they are committed.
func (h *logHub) flush() {
	h.flushMu.Lock()
	defer h.flushMu.Unlock()
	h.mu.Lock()
	batch := h.pending
	h.pending = nil
	h.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	if err := h.store.AppendLogs(context.Background(), batch); err != nil {
		h.log.Error("writing log lines to the store", "lines", len(batch), "err", err)
	}
}

func (h *logHub) close() {
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
	cursor int64
	notify chan struct{}
	closed chan struct{}
	once   sync.Once
}

func (h *logHub) subscribe(f LogFilter, after int64) *Subscription {
	s := &Subscription{hub: h, filter: f, cursor: after, notify: make(chan struct{}, 1), closed: make(chan struct{})}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Cursor is the sequence number of the last line Next returned.
func (s *Subscription) Cursor() int64 { return s.cursor }

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
	h.mu.Lock()
	oldest := h.lastSeq - int64(h.size) + 1 // seq of the oldest line in the ring
	if s.cursor+1 < oldest {
		// Fallen behind the ring: read the missing stretch from the store.
		h.mu.Unlock()
		h.flush()
		q := s.filter.Query(s.cursor, max)
		q.BeforeSeq = oldest // the ring has the rest
		lines, err := h.store.Logs(ctx, q)
		if err != nil {
			return nil, err
		}
		var out []store.LogLine
		for i := range lines {
			s.cursor = lines[i].Seq
			if s.filter.Match(&lines[i]) {
				out = append(out, lines[i])
			}
		}
		if len(out) == 0 && s.cursor+1 < oldest {
			s.cursor = oldest - 1 // nothing matching in the stored stretch
		}
		return out, nil
	}
	// Lines in the ring are contiguous in seq: index = offset from the oldest.
	start := int(s.cursor + 1 - oldest)
	var out []store.LogLine
	n := h.size - start
	for i := 0; i < n && len(out) < max; i++ {
		l := &h.ring[(h.head+start+i)%len(h.ring)]
		s.cursor = l.Seq
		if s.filter.Match(l) {
			out = append(out, *l)
		}
	}
	h.mu.Unlock()
	return out, nil
}

// Query is the store query for the lines f matches after a cursor, at most
// limit of them (0 = all), in order.
func (f LogFilter) Query(after int64, limit int) store.LogQuery {
	return store.LogQuery{AfterSeq: after, Functions: f.Functions, RequestID: f.RequestID, Contains: f.Contains, Since: f.Since, Limit: limit}
}
