package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/emutest"
)

func dialServer(t *testing.T, base string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// waitClosed reads conn until the server closes it, and returns how long
// that took; it fails the test if the server has not closed it by limit.
func waitClosed(t *testing.T, conn net.Conn, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	conn.SetReadDeadline(start.Add(limit))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the connection is still open after %s", limit)
	}
	return time.Since(start)
}

// A client that sends its body slowly is cut off at the read timeout, and
// what it sent is not deployed.
func TestSlowBodyIsCutOffAtTheReadTimeout(t *testing.T) {
	e := emutest.NewEngine(t, localemu.Options{})
	const readTimeout = 500 * time.Millisecond
	base := serveOn(t, e, Options{ReadTimeout: readTimeout})
	for _, c := range []struct{ name, head string }{
		{"native deploy", "PUT /v1/functions/slow HTTP/1.1\r\nContent-Type: application/json\r\n"},
		{"Lambda CreateFunction", "POST /2015-03-31/functions HTTP/1.1\r\nContent-Type: application/json\r\n"},
		{"SCF CreateFunction", "POST / HTTP/1.1\r\nContent-Type: application/json\r\nX-TC-Action: CreateFunction\r\nX-TC-Version: 2018-04-16\r\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := dialServer(t, base)
			start := time.Now()
			fmt.Fprintf(conn, "%sHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n{", c.head)
			stop := make(chan struct{})
			defer close(stop)
			go func() { // a byte every 100 ms: 100000 of them would take hours
				tick := time.NewTicker(100 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
						if _, err := conn.Write([]byte(" ")); err != nil {
							return
						}
					}
				}
			}()
			waitClosed(t, conn, 10*time.Second)
			if d := time.Since(start); d < readTimeout-50*time.Millisecond || d > readTimeout+3*time.Second {
				t.Errorf("closed after %s, want about %s", d, readTimeout)
			}
		})
	}
	fns, err := e.Functions(context.Background())
	if err != nil || len(fns) != 0 {
		t.Errorf("functions after slow bodies: %d (%v)", len(fns), err)
	}
}

// A slow header is cut off too (ReadHeaderTimeout is at most ReadTimeout).
func TestSlowHeadersAreCutOff(t *testing.T) {
	e := emutest.NewEngine(t, localemu.Options{})
	base := serveOn(t, e, Options{ReadTimeout: 300 * time.Millisecond})
	conn := dialServer(t, base)
	io.WriteString(conn, "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
	if d := waitClosed(t, conn, 10*time.Second); d > 3*time.Second {
		t.Errorf("closed after %s", d)
	}
}

// An idle keep-alive connection is closed after the idle timeout.
func TestIdleConnectionIsClosed(t *testing.T) {
	e := emutest.NewEngine(t, localemu.Options{})
	const idle = 300 * time.Millisecond
	base := serveOn(t, e, Options{IdleTimeout: idle})
	conn := dialServer(t, base)
	br := bufio.NewReader(conn)
	for i := 0; i < 2; i++ { // the connection is kept alive between requests
		io.WriteString(conn, "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Close {
			t.Fatalf("health: HTTP %d, close %v", resp.StatusCode, resp.Close)
		}
	}
	start := time.Now()
	conn.SetReadDeadline(start.Add(10 * time.Second))
	_, err := br.ReadByte()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the idle connection is still open after 10s")
	}
	if d := time.Since(start); d < idle-50*time.Millisecond || d > idle+3*time.Second {
		t.Errorf("closed after %s, want about %s", d, idle)
	}
}

// Connections past MaxConns wait to be accepted until one closes.
func TestConnectionsAreBounded(t *testing.T) {
	e := emutest.NewEngine(t, localemu.Options{})
	base := serveOn(t, e, Options{MaxConns: 2})
	health := func(conn net.Conn, br *bufio.Reader) error {
		if _, err := io.WriteString(conn, "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
			return err
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	a, b := dialServer(t, base), dialServer(t, base)
	for _, c := range []net.Conn{a, b} {
		if err := health(c, bufio.NewReader(c)); err != nil {
			t.Fatal(err)
		}
	}
	third := dialServer(t, base)
	br := bufio.NewReader(third)
	third.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	var ne net.Error
	if err := health(third, br); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("a third connection was served while two are open (%v)", err)
	}
	a.Close()
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(br, nil) // the request sent above, served now
	if err != nil {
		t.Fatalf("the third connection is not served once one closed: %v", err)
	}
	resp.Body.Close()
}

// A synchronous invoke runs longer than the read timeout: the timeout
// bounds reading the request, not the handler.
func TestSyncInvokeOutlivesTheReadTimeout(t *testing.T) {
	emutest.NeedNode(t)
	e := emutest.NewEngine(t, localemu.Options{})
	deployBoth(t, e)
	base := serveOn(t, e, Options{ReadTimeout: 300 * time.Millisecond})
	for _, path := range []string{"/v1/functions/lam/invocations", "/2015-03-31/functions/lam/invocations"} {
		resp, err := http.Post(base+path, "application/json", strings.NewReader(`{"ms":1500}`))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"fn":"lam"`) {
			t.Errorf("%s: HTTP %d %s", path, resp.StatusCode, b)
		}
	}
}

// The native log stream (Server-Sent Events) goes on past the read and
// write timeouts, and brings the lines of an invoke made after them.
func TestLogStreamOutlivesTheTimeouts(t *testing.T) {
	emutest.NeedNode(t)
	e := emutest.NewEngine(t, localemu.Options{})
	deployBoth(t, e)
	const timeout = 300 * time.Millisecond
	base := serveOn(t, e, Options{ReadTimeout: timeout, WriteTimeout: timeout})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/logs/stream?function=lam&from=now", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	time.Sleep(5 * timeout)
	ev, err := e.Invoke(ctx, localemu.InvokeRequest{Function: "lam", Payload: []byte(`{}`), Type: event.InvokeEvent})
	if err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the stream ended before the invoke's lines (ctx %v)", ctx.Err())
			}
			if strings.HasPrefix(l, "data:") && strings.Contains(l, "working on "+ev.RequestID) {
				return
			}
		case <-ctx.Done():
			t.Fatal("no line of the invoke")
		}
	}
}

// CloudWatch Logs StartLiveTail goes on past the read and write timeouts:
// its sessionUpdates keep coming, with an invoke's lines.
func TestLiveTailOutlivesTheTimeouts(t *testing.T) {
	emutest.NeedNode(t)
	e := emutest.NewEngine(t, localemu.Options{})
	deployBoth(t, e)
	const timeout = 300 * time.Millisecond
	base := serveOn(t, e, Options{ReadTimeout: timeout, WriteTimeout: timeout})
	cfg := aws.Config{Region: "us-east-1", Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
	})}
	cw := cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) {
		o.BaseEndpoint = aws.String(base)
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error { // no "streaming-" host prefix
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("noHostPrefix",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
				}), middleware.Before)
		})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := cw.StartLiveTail(ctx, &cloudwatchlogs.StartLiveTailInput{LogGroupIdentifiers: []string{"/aws/lambda/lam"}})
	if err != nil {
		t.Fatal(err)
	}
	stream := out.GetStream()
	defer stream.Close()
	start := time.Now()
	var id string
	for {
		var ev cwtypes.StartLiveTailResponseStream
		var ok bool
		select {
		case ev, ok = <-stream.Events():
		case <-ctx.Done():
			t.Fatal("no line of the invoke")
		}
		if !ok {
			t.Fatalf("the session ended after %s: %v", time.Since(start), stream.Err())
		}
		u, isUpdate := ev.(*cwtypes.StartLiveTailResponseStreamMemberSessionUpdate)
		if !isUpdate {
			continue
		}
		if id == "" && time.Since(start) > 5*timeout {
			id = emutest.InvokeAsync(t, e, "lam", `{}`).RequestID
		}
		for _, l := range u.Value.SessionResults {
			if id != "" && strings.Contains(aws.ToString(l.Message), "working on "+id) {
				return
			}
		}
	}
}

// A client that stops reading is dropped once a write has waited the write
// timeout, however long the response has been running.
func TestStuckReaderIsDropped(t *testing.T) {
	const timeout = 200 * time.Millisecond
	failed := make(chan error, 1)
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w, done := boundWrites(w, timeout)
		defer done()
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		time.Sleep(3 * timeout) // a stream idle longer than the timeout is not cut
		chunk := make([]byte, 64<<10)
		for {
			if _, err := w.Write(chunk); err != nil {
				failed <- err
				return
			}
			w.(http.Flusher).Flush()
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	defer hs.Close()
	conn := dialServer(t, "http://"+ln.Addr().String())
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetReadBuffer(4 << 10)
	}
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	select {
	case err := <-failed:
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("write error %v, want a timeout", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the handler still writes to a client that reads nothing")
	}
}

// A keep-alive connection idle for longer than the write timeout is
// answered on its next request, a refused one included.
func TestWriteTimeoutDoesNotOutliveItsResponse(t *testing.T) {
	e := emutest.NewEngine(t, localemu.Options{})
	const timeout = 200 * time.Millisecond
	base := serveOn(t, e, Options{WriteTimeout: timeout, IdleTimeout: 10 * time.Second})
	conn := dialServer(t, base)
	br := bufio.NewReader(conn)
	for _, c := range []struct {
		origin string
		status int
	}{{"", 200}, {"http://evil.example", 403}, {"", 200}} {
		time.Sleep(3 * timeout)
		req := "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		if c.origin != "" {
			req += "Origin: " + c.origin + "\r\n"
		}
		io.WriteString(conn, req+"\r\n")
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("Origin %q after %s idle: %v", c.origin, 3*timeout, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("Origin %q: HTTP %d, want %d", c.origin, resp.StatusCode, c.status)
		}
	}
}
