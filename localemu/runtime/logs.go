package runtime

import (
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// maxLineBytes caps one delivered line: longer output without a newline is
// split, so a process printing megabytes without newlines cannot make the
// emulator buffer them.
const maxLineBytes = 256 << 10

// stream reads one of the process's output pipes and delivers it line by line
// to Config.OnLog, in order. OnLog runs on this goroutine: while it runs the
// pipe is not read, and once the pipe buffer is full the function blocks on its
// next write — so OnLog must be fast (the engine buffers).
type stream struct {
	name string
	f    *os.File
	inst *Instance
	done chan struct{}

	// read counts bytes read from the pipe; consumed counts bytes taken into a
	// line (delivered, or held as the start of an unfinished line). See
	// waitConsumed.
	read, consumed atomic.Int64

	tailMu    sync.Mutex
	tailLines []string
	tailMax   int
}

func newStream(name string, f *os.File, inst *Instance, tailMax int) *stream {
	return &stream{name: name, f: f, inst: inst, done: make(chan struct{}), tailMax: tailMax}
}

func (s *stream) pump() {
	defer close(s.done)
	buf := make([]byte, 64<<10)
	var line []byte
	var lineID string
	var lineTime time.Time
	for {
		n, err := s.f.Read(buf)
		s.read.Add(int64(n))
		chunk := buf[:n]
		for len(chunk) > 0 {
			if len(line) == 0 {
				// A line belongs to the invocation running when it began.
				lineID, lineTime = s.inst.currentLogID(), time.Now()
			}
			nl := -1
			for j, c := range chunk {
				if c == '\n' {
					nl = j
					break
				}
			}
			if nl < 0 {
				line = append(line, chunk...)
				chunk = nil
			} else {
				line = append(line, chunk[:nl]...)
				chunk = chunk[nl+1:]
				s.emit(line, lineID, lineTime)
				line = line[:0]
			}
			for len(line) > maxLineBytes {
				cut := maxLineBytes
				for cut < len(line) && cut > maxLineBytes-utf8.UTFMax && !utf8.RuneStart(line[cut]) {
					cut-- // do not split a UTF-8 sequence
				}
				s.emit(line[:cut], lineID, lineTime)
				line = append(line[:0], line[cut:]...)
				lineTime = time.Now()
			}
		}
		s.consumed.Add(int64(n))
		if err != nil {
			if len(line) > 0 {
				s.emit(line, lineID, lineTime)
			}
			return
		}
	}
}

func (s *stream) emit(b []byte, id string, at time.Time) {
	text := strings.TrimSuffix(string(b), "\r")
	if s.tailMax > 0 {
		s.tailMu.Lock()
		s.tailLines = append(s.tailLines, text)
		if len(s.tailLines) > s.tailMax {
			s.tailLines = s.tailLines[len(s.tailLines)-s.tailMax:]
		}
		s.tailMu.Unlock()
	}
	if fn := s.inst.cfg.OnLog; fn != nil {
		fn(Line{RequestID: id, Stream: s.name, Text: text, Time: at})
	}
}

// tail returns the last lines of the stream (stderr keeps a few for ExitError),
// capped at 4 KiB.
func (s *stream) tail() string {
	s.tailMu.Lock()
	defer s.tailMu.Unlock()
	t := strings.Join(s.tailLines, "\n")
	if len(t) > 4096 {
		t = t[len(t)-4096:]
	}
	return t
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

// syncLogs lets the output written before an answer be attributed to it.
func (i *Instance) syncLogs() {
	deadline := time.Now().Add(100 * time.Millisecond)
	for _, s := range i.streams {
		s.waitConsumed(deadline)
	}
}
