package server

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/localemu/front"
)

// TestGuardGivesAnotherListenerTheEmulatorsChecks: what Guard refuses
// before its handler runs, answered by the handler's own Refuse.
func TestGuardGivesAnotherListenerTheEmulatorsChecks(t *testing.T) {
	reached := 0
	h := Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached++ }), GuardOptions{
		What: "console", AllowedHosts: []string{"proxy.internal"}, AllowFlag: "--allow-host NAME",
		Refuse: func(w http.ResponseWriter, r *http.Request, why front.Refusal, msg string) {
			w.WriteHeader(why.Status())
			fmt.Fprint(w, why.Code()+": "+msg)
		},
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, tc := range []struct {
		name   string
		host   string
		header map[string]string
		status int
		says   string
	}{
		{"loopback", "", nil, 200, ""},
		{"an allowed host", "proxy.internal:8080", nil, 200, ""},
		{"a rebound name", "evil.example", nil, 403, `the Host "evil.example" is not this console's`},
		{"another origin", "", map[string]string{"Origin": "http://evil.example"}, 403, "another origin"},
		{"another site", "", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "another site"},
		{"oversize headers", "", map[string]string{"X-Big": strings.Repeat("a", front.MaxHeaderBytes)}, 431, "exceed"},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
		if tc.host != "" {
			req.Host = tc.host
		}
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		before := reached
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.says) {
			t.Errorf("%s: %d %q, want %d saying %q", tc.name, resp.StatusCode, body, tc.status, tc.says)
		}
		if passed := reached > before; passed != (tc.status == 200) {
			t.Errorf("%s: the handler ran: %v", tc.name, passed)
		}
	}
}

// TestServeGuardedDropsSlowClients: a client that never finishes its
// headers is dropped after the read timeout, and the server stops when its
// context ends.
func TestServeGuardedDropsSlowClients(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- ServeGuarded(ctx, ln, http.NotFoundHandler(), GuardOptions{What: "console", ReadTimeout: 300 * time.Millisecond,
			Refuse: func(w http.ResponseWriter, r *http.Request, why front.Refusal, msg string) {
				w.WriteHeader(why.Status())
			}})
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.ReadAll(conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("a client that never finished its headers was still connected after %s", time.Since(start))
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the slow client was dropped after %s, want about the 300 ms read timeout", took)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeGuarded returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ServeGuarded did not return after its context ended")
	}
}
