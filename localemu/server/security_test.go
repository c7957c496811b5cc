package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/emutest"
	"github.com/asyncfn/asyncfn/localemu/store"
	"github.com/asyncfn/asyncfn/nativeapi"
)

// serveOn runs a Server with opts on a loopback port until the test ends
// and returns its base URL.
func serveOn(t *testing.T, e *localemu.Engine, opts Options) string {
	t.Helper()
	ln, err := Listen("127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	srv := New(e, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// answer is what a front answered: the HTTP status and the error code in the
// front's shape (x-amzn-ErrorType or JSON 1.1 __type, SCF's Response.Error.Code,
// the native error.code), "" for none.
type answer struct {
	status int
	code   string
	header http.Header
	body   string
}

func do(t *testing.T, r *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, body: string(b), code: resp.Header.Get("X-Amzn-ErrorType")}
	var body map[string]any
	_ = json.Unmarshal(b, &body)
	if r, ok := body["Response"].(map[string]any); ok {
		if e, ok := r["Error"].(map[string]any); ok {
			a.code, _ = e["Code"].(string)
		}
	} else if e, ok := body["error"].(map[string]any); ok {
		a.code, _ = e["code"].(string)
	} else if typ, ok := body["__type"].(string); ok && a.code == "" {
		a.code = typ
	}
	return a
}

// deployBoth deploys one function per cloud: "lam" (AWS) and "scf-fn"
// (Tencent), so that the refused invokes name functions that exist.
func deployBoth(t *testing.T, e *localemu.Engine) {
	t.Helper()
	zero := 0
	for _, cfg := range []localemu.FunctionConfig{
		{Name: "lam", Provider: "aws", Runtime: "nodejs18.x", Handler: "index.ok", MemorySize: 128, Timeout: 30},
		{Name: "scf-fn", Provider: "tencent", Runtime: "Nodejs16.13", Handler: "index.ok", MemorySize: 128, Timeout: 30,
			Async: localemu.AsyncConfig{Enabled: true, RetryAttempts: &zero}},
	} {
		if _, err := e.Deploy(context.Background(), cfg, emutest.CodeZip(t)); err != nil {
			t.Fatal(err)
		}
	}
}

// assertNothingDone: only the two functions of deployBoth, and no event.
func assertNothingDone(t *testing.T, e *localemu.Engine) {
	t.Helper()
	fns, err := e.Functions(context.Background())
	if err != nil || len(fns) != 2 {
		t.Errorf("functions after refused requests: %d, want the 2 deployed (%v)", len(fns), err)
	}
	_, total, err := e.Events(context.Background(), store.EventQuery{})
	if err != nil || total != 0 {
		t.Errorf("events after refused requests: %d (%v)", total, err)
	}
}

// browserish builds the requests a web page can make: each of the fronts'
// deploy and invoke routes with a body a page may send without a preflight.
type browserish struct {
	t    *testing.T
	base string
	zip  string // base64
}

func (b browserish) req(method, path, body string, header ...string) *http.Request {
	r, err := http.NewRequest(method, b.base+path, strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	r.Header.Set("Content-Type", "text/plain")
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	return r
}

// each is every front's deploy and invoke, with extra headers.
func (b browserish) each(header ...string) []struct {
	name string
	req  *http.Request
	// status and code of the refusal in that front's shape
	status int
	code   string
} {
	lambdaCreate := `{"FunctionName":"evil","Role":"arn:aws:iam::1:role/r","Runtime":"nodejs18.x","Handler":"index.ok","Code":{"ZipFile":"` + b.zip + `"}}`
	scfCreate := `{"FunctionName":"evil","Runtime":"Nodejs16.13","Handler":"index.ok","Code":{"ZipFile":"` + b.zip + `"}}`
	nativeDeploy, _ := json.Marshal(nativeapi.DeployRequest{Config: localemu.FunctionConfig{Name: "evil", Runtime: "nodejs18.x", Handler: "index.ok"}})
	scf := func(action, body string) *http.Request {
		return b.req("POST", "/", body, append([]string{"X-TC-Action", action, "X-TC-Version", "2018-04-16", "Content-Type", "application/json"}, header...)...)
	}
	type c = struct {
		name   string
		req    *http.Request
		status int
		code   string
	}
	return []c{
		{"Lambda CreateFunction", b.req("POST", "/2015-03-31/functions", lambdaCreate, header...), 403, "AccessDeniedException"},
		{"Lambda Invoke", b.req("POST", "/2015-03-31/functions/lam/invocations", `{}`, header...), 403, "AccessDeniedException"},
		{"Lambda async Invoke", b.req("POST", "/2015-03-31/functions/lam/invocations", `{}`, append([]string{"X-Amz-Invocation-Type", "Event"}, header...)...), 403, "AccessDeniedException"},
		{"Lambda ListFunctions", b.req("GET", "/2015-03-31/functions/", "", header...), 403, "AccessDeniedException"},
		{"Logs DescribeLogGroups", b.req("POST", "/", `{}`, append([]string{"X-Amz-Target", "Logs_20140328.DescribeLogGroups", "Content-Type", "application/x-amz-json-1.1"}, header...)...), 403, "AccessDeniedException"},
		{"SCF CreateFunction", scf("CreateFunction", scfCreate), 200, "AuthFailure.UnauthorizedOperation"},
		{"SCF Invoke", scf("Invoke", `{"FunctionName":"scf-fn","InvocationType":"Event"}`), 200, "AuthFailure.UnauthorizedOperation"},
		{"native deploy", b.req("PUT", "/v1/functions/evil", string(nativeDeploy), header...), 403, "Forbidden"},
		{"native invoke", b.req("POST", "/v1/functions/lam/invocations?type=Event", `{}`, header...), 403, "Forbidden"},
		{"native health", b.req("GET", "/v1/health", "", header...), 403, "Forbidden"},
		{"unknown route", b.req("GET", "/nope", "", header...), 403, "Forbidden"},
	}
}

// A web page cannot deploy or invoke: a request from another origin is
// refused on every front, in that front's shape, before anything is read
// or done; and no CORS is granted to it.
func TestCrossOriginRequestsAreRefused(t *testing.T) {
	e := emutest.NewEngine(t, localemu.Options{})
	deployBoth(t, e)
	base := serveOn(t, e, Options{})
	b := browserish{t: t, base: base, zip: base64.StdEncoding.EncodeToString(emutest.CodeZip(t))}
	for _, from := range [][]string{
		{"Origin", "http://evil.example"},
		{"Origin", "null"},
		{"Origin", "http://localhost:1"}, // another port is another origin
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site"}, // another port of localhost
		{"Origin", base, "Sec-Fetch-Site", "cross-site"},
	} {
		for _, c := range b.each(from...) {
			t.Run(strings.Join(from, "=")+"/"+c.name, func(t *testing.T) {
				a := do(t, c.req)
				if a.status != c.status || a.code != c.code {
					t.Errorf("HTTP %d %q, want %d %q: %s", a.status, a.code, c.status, c.code, a.body)
				}
				if !strings.Contains(a.body, "origin") && !strings.Contains(a.body, "site") {
					t.Errorf("the refusal does not say why: %s", a.body)
				}
				if v := a.header.Get("Access-Control-Allow-Origin"); v != "" {
					t.Errorf("Access-Control-Allow-Origin %q granted", v)
				}
			})
		}
	}
	assertNothingDone(t, e)
}

// A CORS preflight from another origin gets a refusal and no grant.
func TestPreflightFromAnotherOriginGetsNoCORS(t *testing.T) {
	e := emutest.NewEngine(t, localemu.Options{})
	base := serveOn(t, e, Options{})
	for _, c := range []struct{ path, code string }{
		{"/2015-03-31/functions", "AccessDeniedException"},
		{"/2015-03-31/functions/lam/invocations", "AccessDeniedException"},
		{"/v1/functions/x", "Forbidden"},
		{"/", "Forbidden"}, // an OPTIONS to / is no SCF request: the native API refuses it
	} {
		r, _ := http.NewRequest(http.MethodOptions, base+c.path, nil)
		r.Header.Set("Origin", "http://evil.example")
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", "content-type,x-amz-target")
		r.Header.Set("Sec-Fetch-Mode", "cors")
		a := do(t, r)
		if a.status != http.StatusForbidden || a.code != c.code {
			t.Errorf("OPTIONS %s: HTTP %d %q, want 403 %q: %s", c.path, a.status, a.code, c.code, a.body)
		}
		for k := range a.header {
			if strings.HasPrefix(strings.ToLower(k), "access-control-") {
				t.Errorf("OPTIONS %s: CORS header %s: %s", c.path, k, a.header.Get(k))
			}
		}
	}
}

// DNS rebinding: a request whose Host is another name than the emulator's
// is refused on every front, whatever its origin.
func TestForeignHostIsRefused(t *testing.T) {
	e := emutest.NewEngine(t, localemu.Options{})
	deployBoth(t, e)
	base := serveOn(t, e, Options{AllowedHosts: []string{"emu.internal", "proxy.example:8080"}})
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(base, "http://"))
	b := browserish{t: t, base: base, zip: base64.StdEncoding.EncodeToString(emutest.CodeZip(t))}
	for _, host := range []string{"evil.example:" + port, "evil.example", "127.0.0.1.evil.example:" + port, "localhost.evil.example", "proxy.example:" + port, "emu.internal.evil.example"} {
		for _, c := range b.each() {
			t.Run(host+"/"+c.name, func(t *testing.T) {
				c.req.Host = host
				// The page's own origin, as a rebound page sends it.
				c.req.Header.Set("Origin", "http://"+host)
				a := do(t, c.req)
				if a.status != c.status || a.code != c.code {
					t.Errorf("HTTP %d %q, want %d %q: %s", a.status, a.code, c.status, c.code, a.body)
				}
				if !strings.Contains(a.body, "Host") {
					t.Errorf("the refusal does not say why: %s", a.body)
				}
			})
		}
	}
	// HTTP/1.0 without a Host header names no host at all.
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "PUT /v1/functions/evil HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("no Host: HTTP %d, want 403", resp.StatusCode)
	}
	assertNothingDone(t, e)
}

// The emulator answers its loopback names and addresses, with or without
// the port, the hosts it is told to allow, and its own origin.
func TestOwnAndAllowedHostsAreAnswered(t *testing.T) {
	e := emutest.NewEngine(t, localemu.Options{})
	base := serveOn(t, e, Options{AllowedHosts: []string{"emu.internal", "Proxy.Example.:8080", "[fd00::1]"}})
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(base, "http://"))
	for _, host := range []string{
		"127.0.0.1:" + port, "127.0.0.1", "127.9.8.7:" + port, "localhost:" + port, "LOCALHOST", "localhost.",
		"[::1]:" + port, "[::1]", "emu.internal", "emu.internal:" + port, "EMU.internal:1234", "proxy.example:8080", "[fd00::1]:" + port,
	} {
		for _, origin := range []string{"", "http://" + host, "https://" + host} {
			r, _ := http.NewRequest(http.MethodGet, base+"/v1/functions", nil)
			r.Host = host
			if origin != "" {
				r.Header.Set("Origin", origin)
				r.Header.Set("Sec-Fetch-Site", "same-origin")
			}
			if a := do(t, r); a.status != http.StatusOK {
				t.Errorf("Host %q Origin %q: HTTP %d %q: %s", host, origin, a.status, a.code, a.body)
			}
		}
	}
	// A same-origin POST a page of the emulator's own could send.
	r, _ := http.NewRequest(http.MethodPost, base+"/2015-03-31/functions/nope/invocations", strings.NewReader("{}"))
	r.Header.Set("Origin", base)
	if a := do(t, r); a.status != http.StatusNotFound || a.code != "ResourceNotFoundException" {
		t.Errorf("same-origin invoke: HTTP %d %q, want the front's own 404: %s", a.status, a.code, a.body)
	}
	// A port other than the allowed one is not the allowed host.
	r, _ = http.NewRequest(http.MethodGet, base+"/v1/functions", nil)
	r.Host = "proxy.example:8081"
	if a := do(t, r); a.status != http.StatusForbidden {
		t.Errorf("proxy.example:8081: HTTP %d, want 403", a.status)
	}
}

// The address a connection arrived on is the emulator's own (a wildcard
// bind answers each interface's address); another address is not.
func TestHostGuardLocalAddress(t *testing.T) {
	g := newHostGuard(nil)
	local := &net.TCPAddr{IP: net.ParseIP("192.0.2.10"), Port: 9770}
	for host, want := range map[string]bool{
		"192.0.2.10:9770": true, "192.0.2.10": true, "192.0.2.11:9770": false, "[::ffff:192.0.2.10]:9770": true,
		"evil.example:9770": false, "[::1]:9770": true, "127.0.0.1": true, "0.0.0.0:9770": false, ":9770": false,
	} {
		r, _ := http.NewRequest(http.MethodGet, "http://x/v1/health", nil)
		r.Host = host
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, net.Addr(local)))
		if got := g.allows(r); got != want {
			t.Errorf("Host %q on %s: allowed %v, want %v", host, local, got, want)
		}
	}
	// The name the emulator was bound to (Listen's host) is its own.
	g.allow("myhost.lan")
	r, _ := http.NewRequest(http.MethodGet, "http://myhost.lan:9770/v1/health", nil)
	if !g.allows(r) {
		t.Error("the bound name is refused")
	}
}

// POST / takes the content type of the API that claims it: a page's
// text/plain body reaches neither SCF nor CloudWatch Logs.
func TestRootRequiresTheAPIsContentType(t *testing.T) {
	e := emutest.NewEngine(t, localemu.Options{})
	deployBoth(t, e)
	base := serveOn(t, e, Options{})
	zip := base64.StdEncoding.EncodeToString(emutest.CodeZip(t))
	post := func(ct string, header ...string) *http.Request {
		body := `{"FunctionName":"evil","Runtime":"Nodejs16.13","Handler":"index.ok","Code":{"ZipFile":"` + zip + `"}}`
		r, _ := http.NewRequest(http.MethodPost, base+"/", bytes.NewReader([]byte(body)))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		return r
	}
	scf := []string{"X-TC-Action", "CreateFunction", "X-TC-Version", "2018-04-16"}
	logs := []string{"X-Amz-Target", "Logs_20140328.DescribeLogGroups"}
	for _, c := range []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"SCF text/plain", post("text/plain", scf...), 200, "InvalidParameter"},
		{"SCF form", post("application/x-www-form-urlencoded", scf...), 200, "InvalidParameter"},
		{"SCF none", post("", scf...), 200, "InvalidParameter"},
		{"Logs text/plain", post("text/plain", logs...), 400, "UnknownOperationException"},
		{"Logs application/json", post("application/json", logs...), 400, "UnknownOperationException"},
		{"Logs x-amz-json-1.1", post("application/x-amz-json-1.1", logs...), 200, ""},
		{"Logs x-amz-json-1.1 with charset", post("application/x-amz-json-1.1; charset=utf-8", logs...), 200, ""},
	} {
		a := do(t, c.req)
		if a.status != c.status || a.code != c.code {
			t.Errorf("%s: HTTP %d %q, want %d %q: %s", c.name, a.status, a.code, c.status, c.code, a.body)
		}
	}
	assertNothingDone(t, e)
}
