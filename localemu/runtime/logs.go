package runtime

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"
)

const (
	// maxLineBytes caps one delivered line: longer output without a newline is
	// split, so a process printing megabytes without newlines cannot make the
	// emulator buffer them.
	maxLineBytes = 256 << 10
	// maxHeldBytes bounds the output held before the first Invoke names the
	// request it belongs to; past it, the held output is delivered without a
	// RequestID and so is the rest.
	maxHeldBytes = 1 << 20
	// syncTimeout bounds how long an answer waits for the output that was in
	// the pipe when it arrived to be read. The wait is for the emulator's own
	// reader (at most a pipe buffer's worth); the bound only guards against a
	// stalled Config.OnLog.
	syncTimeout = 5 * time.Second
)

// stream reads one of the process's output pipes and delivers it line by line,
// in order, through Instance.route. A line is attributed when it is completed
// (see Line).
type stream struct {
	name string
	f    *os.File
	inst *Instance
	done chan struct{}

	// read counts bytes read from the pipe; consumed counts bytes taken into a
	// line (delivered, or held as the start of an unfinished line). See
	// waitConsumed.
	read, consumed atomic.Int64

	// mu guards the unfinished line. It is held while a chunk is split into
	// lines and delivered, and while cut delivers an unfinished line, so the
	// stream's lines reach OnLog in order.
	mu     sync.Mutex
	line   []byte
	wasCut bool // the unfinished line was cut at an answer: a newline right after it ends nothing

	tailMu    sync.Mutex
	tailLines []string
	tailMax   int
}

func newStream(name string, f *os.File, inst *Instance, tailMax int) *stream {
	return &stream{name: name, f: f, inst: inst, done: make(chan struct{}), tailMax: tailMax}
}

// pumpBuffers lends the pumps their read buffers. A pump holds one only
// while output is ready to read: a thousand instances waiting on silent
// handlers hold none. (A buffer of the pump's own would be 64 KiB each, and
// as a local of that size it lives on the goroutine's stack, which then
// takes 128 KiB: a quarter of a gigabyte for 1,000 instances' two pipes.)
var pumpBuffers = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

func (s *stream) pump() {
	defer close(s.done)
	rc, err := s.f.SyscallConn()
	if err != nil {
		s.finish()
		return
	}
	for {
		var (
			buf  *[]byte
			n    int
			rerr error
		)
		err := rc.Read(func(fd uintptr) bool {
			buf = pumpBuffers.Get().(*[]byte)
			for {
				n, rerr = syscall.Read(int(fd), *buf)
				if rerr != syscall.EINTR {
					break
				}
			}
			if rerr == syscall.EAGAIN {
				pumpBuffers.Put(buf) // nothing to read: wait without a buffer
				buf = nil
				return false
			}
			return true
		})
		if err == nil && rerr == nil && n > 0 {
			s.read.Add(int64(n))
			s.mu.Lock()
			s.take((*buf)[:n])
			s.consumed.Add(int64(n))
			s.mu.Unlock()
		}
		if buf != nil {
			pumpBuffers.Put(buf)
		}
		if err != nil || rerr != nil || n <= 0 {
			s.finish() // end of file, the pipe closed, or a read error
			return
		}
	}
}

// finish delivers an unfinished last line once the pipe has ended.
func (s *stream) finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.line) > 0 {
		s.emit(s.line)
		s.line = s.line[:0]
	}
}

// take splits chunk into lines and delivers the complete ones; s.mu is held.
func (s *stream) take(chunk []byte) {
	for len(chunk) > 0 {
		if s.wasCut {
			s.wasCut = false
			if chunk[0] == '\n' {
				chunk = chunk[1:]
				continue
			}
		}
		if nl := bytes.IndexByte(chunk, '\n'); nl < 0 {
			s.line = append(s.line, chunk...)
			chunk = nil
		} else {
			s.line = append(s.line, chunk[:nl]...)
			chunk = chunk[nl+1:]
			s.emit(s.line)
			s.line = s.line[:0]
		}
		for len(s.line) > maxLineBytes {
			cut := maxLineBytes
			for cut < len(s.line) && cut > maxLineBytes-utf8.UTFMax && !utf8.RuneStart(s.line[cut]) {
				cut-- // do not split a UTF-8 sequence
			}
			s.emit(s.line[:cut])
			s.line = append(s.line[:0], s.line[cut:]...)
		}
	}
}

// cut delivers the unfinished line, if any, as a line of its own: it is
// called when the runtime answers an invocation, whose output it is.
func (s *stream) cut() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.line) > 0 {
		s.emit(s.line)
		s.line = s.line[:0]
		s.wasCut = true
	}
}

func (s *stream) emit(b []byte) {
	text := strings.TrimSuffix(string(b), "\r")
	if s.tailMax > 0 {
		s.tailMu.Lock()
		s.tailLines = append(s.tailLines, text)
		if len(s.tailLines) > s.tailMax {
			s.tailLines = s.tailLines[len(s.tailLines)-s.tailMax:]
		}
		s.tailMu.Unlock()
	}
	s.inst.route(Line{Stream: s.name, Text: text, Time: time.Now()})
}

// tail returns the last lines of the stream since resetTail (stderr keeps a
// few for ExitError), capped at 4 KiB.
func (s *stream) tail() string {
	s.tailMu.Lock()
	defer s.tailMu.Unlock()
	t := strings.Join(s.tailLines, "\n")
	if len(t) > 4096 {
		t = t[len(t)-4096:]
	}
	return t
}

func (s *stream) resetTail() {
	s.tailMu.Lock()
	s.tailLines = nil
	s.tailMu.Unlock()
}

// waitConsumed waits, at most until deadline, until everything written to the
// pipe so far has been taken into lines. It is called when the runtime answers
// an invocation, before the request id is cleared: a handler that prints and
// then returns must have its line attributed to its own invocation, though the
// answer can reach the emulator before the pipe is read.
func (s *stream) waitConsumed(deadline time.Time) {
	target := s.read.Load() + int64(s.pending())
	for s.consumed.Load() < target {
		select {
		case <-s.done:
			return
		default:
		}
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// pending is the number of unread bytes in the pipe (FIONREAD). SyscallConn
// keeps the descriptor non-blocking, unlike Fd, so Close still interrupts Read.
func (s *stream) pending() int {
	rc, err := s.f.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	_ = rc.Control(func(fd uintptr) { n = pipeBytes(fd) })
	return n
}

// syncLogs makes the output written before an answer the answered
// invocation's: everything that was in the pipes is read (the bootstraps
// flush their own buffers before answering), and unfinished lines are cut.
func (i *Instance) syncLogs() {
	deadline := time.Now().Add(syncTimeout)
	for _, s := range i.streams {
		s.waitConsumed(deadline)
	}
	for _, s := range i.streams {
		s.cut()
	}
}

// route attributes a completed line to the invocation output belongs to right
// now and delivers it to Config.OnLog — or holds it while no invocation has
// yet claimed the instance's initialisation output (see claimInit).
func (i *Instance) route(l Line) {
	i.logMu.Lock()
	if i.holding {
		if i.heldBytes+len(l.Text) < maxHeldBytes {
			i.held = append(i.held, l)
			i.heldBytes += len(l.Text) + 1
			i.logMu.Unlock()
			return
		}
		i.releaseLocked("") // too much to hold: deliver it unattributed, and the rest as it comes
	}
	l.RequestID = i.logID
	i.logMu.Unlock()
	i.emitLine(l)
}

func (i *Instance) emitLine(l Line) {
	if fn := i.cfg.OnLog; fn != nil {
		fn(l)
	}
}

// releaseLocked delivers the held output as request id's and stops holding.
// i.logMu is held, so that lines routed meanwhile follow the released ones.
func (i *Instance) releaseLocked(id string) {
	if !i.holding {
		return
	}
	i.holding = false
	for _, l := range i.held {
		l.RequestID = id
		i.emitLine(l)
	}
	i.held, i.heldBytes = nil, 0
}

// claimInit makes the output of the instance's initialisation — what was
// held so far, and what comes until the runtime asks for an invocation —
// request id's: the invocation that started the instance waits for it.
func (i *Instance) claimInit(id string) {
	i.logMu.Lock()
	defer i.logMu.Unlock()
	i.releaseLocked(id)
	i.logID = id
}

// unclaimInit stops attributing output to id, when its invocation ended
// without being handed to the runtime.
func (i *Instance) unclaimInit(id string) {
	i.logMu.Lock()
	defer i.logMu.Unlock()
	if i.logID == id {
		i.logID = ""
	}
}

func (i *Instance) setLogID(id string) {
	i.logMu.Lock()
	i.logID = id
	i.logMu.Unlock()
}
