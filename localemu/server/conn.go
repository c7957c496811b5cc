package server

// How long a client may hold a connection. The http.Server bounds reading a
// request, headers and body (ReadTimeout), and an idle keep-alive connection
// (IdleTimeout). The handler's time is not bounded by the connection: a
// synchronous invoke runs as long as its function's timeout, and a log
// stream (GET /v1/logs/stream, CloudWatch StartLiveTail) as long as its
// client follows it. (net/http clears the read deadline once the body has
// been read, when it starts watching the connection for the client going
// away; the server's tests hold it to that.) What the server adds is a
// deadline on each write of a response and each flush — which is how the
// streams send — so that a client that stops reading is dropped, a
// stream's included, however long the stream has run.

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// deadlineWriter extends the connection's write deadline before each write
// and flush, so that WriteTimeout bounds each one rather than the response.
type deadlineWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController // of the wrapped writer
	timeout time.Duration
	set     time.Time // when the deadline was last extended
}

var _ interface {
	http.Flusher
	FlushError() error
	Unwrap() http.ResponseWriter
} = (*deadlineWriter)(nil)

// extend sets the write deadline to now+timeout, unless it was set so
// recently that it is still at least three quarters of that away (a stream
// writes line by line; the deadline need not move on each).
func (w *deadlineWriter) extend() {
	now := time.Now()
	if now.Sub(w.set) < w.timeout/4 {
		return
	}
	w.set = now
	_ = w.rc.SetWriteDeadline(now.Add(w.timeout)) // unsupported under a recorder: no deadline
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	w.extend()
	return w.ResponseWriter.Write(p)
}

// Flush implements http.Flusher for the fronts that stream.
func (w *deadlineWriter) Flush() { _ = w.FlushError() }

// FlushError is what http.ResponseController.Flush calls.
func (w *deadlineWriter) FlushError() error {
	w.extend()
	return w.rc.Flush()
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *deadlineWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// boundWrites gives every write of the response to w the write timeout.
// It returns the writer the handler gets, and a function to call when the
// handler returns: it bounds the final flush of the response, which
// net/http does after the handler.
func boundWrites(w http.ResponseWriter, writeTimeout time.Duration) (http.ResponseWriter, func()) {
	if writeTimeout <= 0 {
		return w, func() {}
	}
	rc := http.NewResponseController(w)
	dw := &deadlineWriter{ResponseWriter: w, rc: rc, timeout: writeTimeout}
	// A write net/http makes before the handler's first (100 Continue), and
	// a deadline left from the previous response on this connection, get a
	// fresh deadline too.
	dw.extend()
	return dw, func() { _ = rc.SetWriteDeadline(time.Now().Add(writeTimeout)) }
}

// limitListener accepts at most cap(sem) connections at once; Accept waits
// for one to close (new ones wait in the kernel's backlog meanwhile).
type limitListener struct {
	net.Listener
	sem       chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func newLimitListener(ln net.Listener, n int) *limitListener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, n), done: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitConn gives its slot back once, when closed.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// CloseWrite half-closes a TCP connection, as net/http does before closing
// one on an error.
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// namedListener is what Listen returns: a listener that remembers the host
// it was asked to bind, so that the server answers that name as its own.
type namedListener struct {
	net.Listener
	host string
}
