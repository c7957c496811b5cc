package localemu

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/asyncfn/asyncfn/localemu/store"
)

// outputKeep bounds what the store keeps of one attempt's output: its first
// head bytes and its last tail bytes; the lines between are elided, leaving
// one marker line in their place that says how many lines and bytes went.
// The clouds keep every line (CLS, CloudWatch Logs); the emulator keeps
// the part a person reads — how it started and how it ended — so that a job
// printing for a day does not fill the disk. Live subscribers get every line.
type outputKeep struct {
	head, tail int64 // zero: keep everything
}

// DefaultLogKeep is what the store keeps of an attempt's output by default:
// the first and the last 8 MiB.
const DefaultLogKeep = 16 << 20

// keepOf splits Options.LogKeep between head and tail; negative keeps all.
func keepOf(total int64) outputKeep {
	if total < 0 {
		return outputKeep{}
	}
	return outputKeep{head: total / 2, tail: total - total/2}
}

func (k outputKeep) bounded() bool { return k.head > 0 || k.tail > 0 }

const (
	// outputChunkBytes is the granularity of elision: the stored tail is
	// counted in chunks of about this many bytes of consecutive lines, so
	// that an attempt's bookkeeping is a few hundred entries, not a line each.
	outputChunkBytes = 64 << 10
	// defaultElideAfter is how long a line stays stored at least, kept or
	// not: a client polling the cloud fronts' log APIs (FilterLogEvents,
	// GetFunctionLogs) sees every line if it polls at least this often.
	defaultElideAfter = 10 * time.Second
)

type outputKey struct {
	requestID string
	attempt   int
}

// output is the bookkeeping of one attempt's bounded output.
type output struct {
	function  string
	headBytes int64 // kept in the head
	inTail    bool  // the head is full: every further line is tail
	chunks    []outputChunk
	tailBytes int64 // sum of chunks' bytes
	marker    int64 // seq of the marker line; 0 until something is elided
	elided    struct{ lines, bytes int64 }
	ended     bool
}

// outputChunk is a stretch of consecutive lines of an attempt, stored and
// not elided yet.
type outputChunk struct {
	first, last  int64 // seqs
	bytes, lines int64
	at           time.Time // when its last line was written
}

// countOutputLocked files l (numbered) in its attempt's head or tail.
func (h *logHub) countOutputLocked(l *store.LogLine) {
	if !h.keep.bounded() {
		return
	}
	k := outputKey{l.RequestID, l.Attempt}
	o := h.outputs[k]
	if o == nil {
		o = &output{function: l.Function}
		h.outputs[k] = o
	}
	n := int64(len(l.Text)) + 1
	if !o.inTail && o.headBytes+n <= h.keep.head {
		o.headBytes += n
		return
	}
	o.inTail = true
	now := time.Now()
	if c := len(o.chunks) - 1; c >= 0 && o.chunks[c].bytes < outputChunkBytes {
		ch := &o.chunks[c]
		ch.last, ch.bytes, ch.lines, ch.at = l.Seq, ch.bytes+n, ch.lines+1, now
	} else {
		o.chunks = append(o.chunks, outputChunk{first: l.Seq, last: l.Seq, bytes: n, lines: 1, at: now})
	}
	o.tailBytes += n
}

// endOutput notes that an attempt has ended: once what it stored is
// bounded, its bookkeeping goes.
func (h *logHub) endOutput(requestID string, attempt int) {
	h.mu.Lock()
	if o := h.outputs[outputKey{requestID, attempt}]; o != nil {
		o.ended = true
	}
	h.mu.Unlock()
}

// readThroughLocked is the highest seq every subscriber that may want a
// line of fn's requestID has read past.
func (h *logHub) readThroughLocked(fn, requestID string) int64 {
	through := int64(math.MaxInt64)
	for s := range h.subs {
		if s.filter.RequestID != "" && s.filter.RequestID != requestID {
			continue
		}
		if len(s.filter.Functions) > 0 && !contains(s.filter.Functions, fn) {
			continue
		}
		through = min(through, s.cursor.Load())
	}
	return through
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// trim elides the stored lines of each attempt beyond its head that are no
// longer in its tail, once they are stored, every subscriber that may want
// them has read them and (unless force, at close) they are elideAfter old.
func (h *logHub) trim(force bool) {
	if !h.keep.bounded() {
		return
	}
	now := time.Now()
	var work []store.Elision
	h.mu.Lock()
	for k, o := range h.outputs {
		readThrough := h.readThroughLocked(o.function, k.requestID)
		var through int64
		for len(o.chunks) > 0 {
			c := o.chunks[0]
			if o.tailBytes-c.bytes < h.keep.tail || c.last > h.flushedSeq || c.last > readThrough ||
				(!force && now.Sub(c.at) < h.elideAfter) {
				break
			}
			if o.marker == 0 {
				o.marker = c.first
			}
			o.chunks = o.chunks[1:]
			o.tailBytes -= c.bytes
			o.elided.lines += c.lines
			o.elided.bytes += c.bytes
			through = c.last
		}
		if through > 0 {
			work = append(work, store.Elision{RequestID: k.requestID, Attempt: k.attempt, Marker: o.marker, Through: through,
				Text: h.markerText(o)})
		}
		if o.ended && (len(o.chunks) == 0 || o.tailBytes-o.chunks[0].bytes < h.keep.tail) {
			delete(h.outputs, k) // nothing more will ever be elided
		}
	}
	h.mu.Unlock()
	for _, el := range work {
		if err := h.store.ElideLogs(context.Background(), el); err != nil {
			h.log.Error("eliding log lines", "requestId", el.RequestID, "err", err)
		}
	}
}

// elideStored bounds what the store kept of an attempt whose bookkeeping
// was lost: one the emulator was stopped in the middle of.
func (h *logHub) elideStored(ctx context.Context, requestID string, attempt int) error {
	if !h.keep.bounded() {
		return nil
	}
	h.flush()
	m, err := h.store.Middle(ctx, requestID, attempt, h.keep.head, h.keep.tail)
	if err != nil || m.Lines == 0 {
		return err
	}
	o := &output{}
	o.elided.lines, o.elided.bytes = m.Lines, m.Bytes
	return h.store.ElideLogs(ctx, store.Elision{RequestID: requestID, Attempt: attempt, Marker: m.From, Through: m.Through,
		Text: h.markerText(o)})
}

func (h *logHub) markerText(o *output) string {
	return fmt.Sprintf("[asyncfn] %s lines (%s) of this attempt's output elided here: the emulator keeps the first %s and the last %s of each attempt's output (local start --log-keep)",
		humanize.Comma(o.elided.lines), humanize.IBytes(uint64(o.elided.bytes)), humanize.IBytes(uint64(h.keep.head)), humanize.IBytes(uint64(h.keep.tail)))
}
