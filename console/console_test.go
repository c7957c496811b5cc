package console_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/asyncfntest"
	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/localemu/emutest"
	"github.com/asyncfn/asyncfn/localemu/store"
)

// The console is tested where it is served: at /console/ of a real emulator
// (asyncfntest), running the emulator's test handlers in real processes.

const evil = `<img src=x onerror="document.title='pwned'">`

// start runs an emulator with the test handlers deployed as fn-ok (ok),
// fn-fail (fail, no retries) and fn-long (graceful: runs a minute, exits on
// SIGTERM).
func start(t *testing.T, opts ...asyncfntest.Option) *asyncfntest.Emulator {
	t.Helper()
	emutest.NeedNode(t)
	em := asyncfntest.Start(t, opts...)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(emutest.Handlers), 0o644); err != nil {
		t.Fatal(err)
	}
	em.Deploy(t, dir, asyncfntest.Function{Name: "fn-ok", Handler: "index.ok"})
	em.Deploy(t, dir, asyncfntest.Function{Name: "fn-fail", Handler: "index.fail", RetryAttempts: asyncfntest.Retries(0)})
	em.Deploy(t, dir, asyncfntest.Function{Name: "fn-long", Handler: "index.graceful"})
	return em
}

// browser is a client with a cookie jar, as a browser has.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type page struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, c *http.Client, u string, hdr ...string) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return do(t, c, req)
}

func do(t *testing.T, c *http.Client, req *http.Request) page {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, resp.Header, string(b)}
}

var tokenRE = regexp.MustCompile(`name="token" value="([^"]+)"`)

// tokenOf is the session token a page carries.
func tokenOf(t *testing.T, p page) string {
	t.Helper()
	m := tokenRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("the page carries no token:\n%s", p.body)
	}
	return m[1]
}

// post sends a form with the given headers; cookies come from c's jar.
func post(t *testing.T, c *http.Client, u string, form url.Values, hdr ...string) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return do(t, c, req)
}

func statusOf(t *testing.T, em *asyncfntest.Emulator, id string) event.Status {
	t.Helper()
	ev, err := em.Engine.Event(t.Context(), "", id)
	if err != nil {
		t.Fatal(err)
	}
	return ev.Status
}

func waitStatus(t *testing.T, em *asyncfntest.Emulator, id string, want event.Status) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if statusOf(t, em, id) == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("event %s never reached %s (it is %s)", id, want, statusOf(t, em, id))
}

func checkHeaders(t *testing.T, what string, p page) {
	t.Helper()
	csp := p.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("%s: Content-Security-Policy %q, want script-src 'self' and nothing inline", what, csp)
	}
	if p.header.Get("X-Content-Type-Options") != "nosniff" || p.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("%s: headers %v lack nosniff / DENY", what, p.header)
	}
}

func TestViewsRenderPayloadsResultsAndLogsAsText(t *testing.T) {
	em := start(t)
	okID := em.InvokeAsync(t, "fn-ok", `{"title": `+jsonString(evil)+`, "ms": 10}`)
	failID := em.InvokeAsync(t, "fn-fail", `{"file": `+jsonString(evil)+`}`)
	em.Wait(t, okID)
	em.Wait(t, failID)
	c := browser(t)
	base := em.URL + "/console/"

	fns := get(t, c, base)
	checkHeaders(t, "functions", fns)
	for _, want := range []string{"fn-ok", "fn-fail", "fn-long", `data-status="SUCCEEDED">1<`, "Retries"} {
		if !strings.Contains(fns.body, want) {
			t.Errorf("the functions view lacks %q", want)
		}
	}

	var counts struct {
		Functions []struct {
			Name   string `json:"name"`
			Total  int    `json:"total"`
			Counts []struct {
				Status event.Status `json:"status"`
				N      int          `json:"n"`
			} `json:"counts"`
		} `json:"functions"`
	}
	if p := get(t, c, base+"api/functions"); json.Unmarshal([]byte(p.body), &counts) != nil || len(counts.Functions) != 3 {
		t.Errorf("the functions API: %s", p.body)
	}
	for _, f := range counts.Functions {
		if f.Name == "fn-ok" && (f.Total != 1 || len(f.Counts) != len(event.All) || f.Counts[2].Status != event.Succeeded || f.Counts[2].N != 1) {
			t.Errorf("the functions API counts fn-ok as %+v", f)
		}
	}

	evs := get(t, c, base+"f/fn-fail")
	checkHeaders(t, "events", evs)
	if evs.status != 200 || !strings.Contains(evs.body, failID) || !strings.Contains(evs.body, "FAILED") {
		t.Fatalf("events view %d:\n%s", evs.status, evs.body)
	}

	for _, id := range []struct{ fn, id string }{{"fn-ok", okID}, {"fn-fail", failID}} {
		p := get(t, c, base+"f/"+id.fn+"/e/"+id.id)
		checkHeaders(t, "event", p)
		if p.status != 200 {
			t.Fatalf("event view %d: %s", p.status, p.body)
		}
		if strings.Contains(p.body, "<img") || !strings.Contains(p.body, "&lt;img src=x onerror=") {
			t.Errorf("the event view of %s does not escape the payload:\n%s", id.fn, p.body)
		}
		if strings.Count(p.body, "<script") != 1 || !strings.Contains(p.body, `<script src="/console/static/console.js" defer></script>`) {
			t.Errorf("the event view has a script other than console.js")
		}
	}
	okPage := get(t, c, base+"f/fn-ok/e/"+okID)
	for _, want := range []string{"SUCCEEDED", "attempt 1 started: RUNNING", "attempt 1 ended: SUCCEEDED", "&#34;echo&#34;"} {
		if !strings.Contains(okPage.body, want) {
			t.Errorf("the event view lacks %q", want)
		}
	}
	failPage := get(t, c, base+"f/fn-fail/e/"+failID)
	if !strings.Contains(failPage.body, "source file not found: &lt;img") {
		t.Errorf("the failed event's error is missing or unescaped")
	}

	// The JSON the page polls, and its log.
	var ev struct {
		Status      event.Status `json:"status"`
		Payload     string       `json:"payload"`
		AttemptList []struct {
			N      int          `json:"n"`
			Status event.Status `json:"status"`
		} `json:"attemptList"`
	}
	api := get(t, c, base+"api/f/fn-ok/e/"+okID)
	if err := json.Unmarshal([]byte(api.body), &ev); err != nil || ev.Status != event.Succeeded || !strings.Contains(ev.Payload, `<img src=x onerror=`) || len(ev.AttemptList) != 1 {
		t.Errorf("event API %s (%v)", api.body, err)
	}
	log := get(t, c, base+"api/f/fn-ok/e/"+okID+"/log")
	if log.header.Get("Content-Type") != "text/event-stream" || !strings.Contains(log.body, "working on "+okID) ||
		!strings.HasSuffix(log.body, "event: end\ndata: SUCCEEDED\n\n") {
		t.Errorf("log stream of a finished event:\n%s", log.body)
	}

	// A browser that reconnects (Last-Event-ID) gets the lines after it.
	again := get(t, c, base+"api/f/fn-ok/e/"+okID+"/log", "Last-Event-ID", firstID(t, log.body))
	if strings.Contains(again.body, "working on "+okID) || !strings.Contains(again.body, "\ndata: {") || !strings.Contains(again.body, "event: end") {
		t.Errorf("the log stream after Last-Event-ID:\n%s", again.body)
	}

	// Statics are served with the same headers; the script never writes HTML.
	js := get(t, c, base+"static/console.js")
	checkHeaders(t, "console.js", js)
	if js.status != 200 || strings.Contains(js.body, "innerHTML") || strings.Contains(js.body, "insertAdjacentHTML") || strings.Contains(js.body, "eval(") {
		t.Errorf("console.js (%d) writes HTML or evaluates code", js.status)
	}
}

// jsonString is s as a JSON string, with < and > as they are.
func jsonString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSpace(b.String())
}

func TestStatisticsViewDrawsItsCharts(t *testing.T) {
	em := start(t)
	var ids []string
	for i := 0; i < 3; i++ {
		ids = append(ids, em.InvokeAsync(t, "fn-ok", `{"ms": 20}`))
	}
	for _, id := range ids {
		em.Wait(t, id)
	}
	c := browser(t)
	p := get(t, c, em.URL+"/console/f/fn-ok/stats")
	if p.status != 200 {
		t.Fatalf("stats %d: %s", p.status, p.body)
	}
	for _, id := range []string{"chart-status", "chart-pct", "chart-hist", "chart-time"} {
		if !strings.Contains(p.body, `<svg class="chart" id="`+id+`"`) {
			t.Errorf("the statistics view lacks the chart %s", id)
		}
	}
	if !strings.Contains(p.body, "<title>SUCCEEDED: 3</title>") || !strings.Contains(p.body, "3 events;") {
		t.Errorf("the status chart does not count 3 SUCCEEDED:\n%s", p.body)
	}
	if all := get(t, c, em.URL+"/console/f/fn-ok/stats?last="); !strings.Contains(all.body, "3 events;") {
		t.Errorf("stats over all time lack the 3 events")
	}
	if bad := get(t, c, em.URL+"/console/f/fn-ok/stats?last=forever"); bad.status != 400 || !strings.Contains(bad.body, "last &#34;forever&#34;") {
		t.Errorf("a bad window answered %d:\n%s", bad.status, bad.body)
	}
}

func TestEventsFilterAndPaging(t *testing.T) {
	em := start(t)
	okID := em.InvokeAsync(t, "fn-ok", `{}`)
	em.Wait(t, okID)
	c := browser(t)
	base := em.URL + "/console/"
	if p := get(t, c, base+"f/fn-ok?status=FAILED"); p.status != 200 || strings.Contains(p.body, okID) {
		t.Errorf("status=FAILED shows the SUCCEEDED event (%d)", p.status)
	}
	if p := get(t, c, base+"f/fn-ok?status=SUCCEEDED&last=1h"); !strings.Contains(p.body, okID) {
		t.Errorf("status=SUCCEEDED&last=1h lacks the event")
	}
	future := time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04")
	if p := get(t, c, base+"f/fn-ok?from="+future); strings.Contains(p.body, okID) {
		t.Errorf("from=%s shows an event created before", future)
	}
	for q, field := range map[string]string{"status=DONE": "status", "from=yesterday": "from", "page=0": "page", "last=2w": "last"} {
		p := get(t, c, base+"f/fn-ok?"+q)
		if p.status != 400 || !strings.Contains(p.body, field+" &#34;") {
			t.Errorf("?%s answered %d, want 400 naming %s:\n%s", q, p.status, field, p.body)
		}
	}
	if p := get(t, c, base+"f/no-such-fn"); p.status != 404 {
		t.Errorf("an unknown function answered %d", p.status)
	}
	if p := get(t, c, base+"f/fn-ok/e/no-such-event"); p.status != 404 {
		t.Errorf("an unknown event answered %d", p.status)
	}
	// Just invoked on a cloud that lists the event a moment later: shown as accepted.
	if p := get(t, c, base+"f/fn-ok/e/not-listed-yet?invoked=1"); p.status != 200 || !strings.Contains(p.body, `class="status s-queued" aria-live="polite">QUEUED<`) {
		t.Errorf("an event not listed yet after its invoke answered %d:\n%s", p.status, p.body)
	}
	if p := get(t, c, base+"api/f/fn-ok/events?status=nope"); p.status != 400 || !strings.Contains(p.body, `"message"`) {
		t.Errorf("the API answered a bad filter %d %s", p.status, p.body)
	}
}

// TestActionsNeedTheSessionToken replays terminate and invoke without the
// session's cookie, without its token, with another session's token, and
// from another origin: none changes anything.
func TestActionsNeedTheSessionToken(t *testing.T) {
	em := start(t)
	id := em.InvokeAsync(t, "fn-long", `{}`)
	waitStatus(t, em, id, event.Running)
	base := em.URL + "/console/"
	evURL := base + "f/fn-long/e/" + id

	alice, mallory := browser(t), browser(t)
	aliceToken := tokenOf(t, get(t, alice, evURL))
	malloryToken := tokenOf(t, get(t, mallory, evURL))
	if aliceToken == malloryToken {
		t.Fatal("two sessions got the same token")
	}
	noCookies := &http.Client{Timeout: 10 * time.Second, CheckRedirect: alice.CheckRedirect}

	terminate := url.Values{"token": {aliceToken}, "grace": {"0"}}
	for _, tc := range []struct {
		name   string
		c      *http.Client
		form   url.Values
		header []string
	}{
		{"the token without the session cookie", noCookies, terminate, nil},
		{"the cookie without the token", alice, url.Values{"grace": {"0"}}, nil},
		{"the cookie with another session's token", alice, url.Values{"token": {malloryToken}}, nil},
		{"another session's cookie with this token", mallory, terminate, nil},
		{"a forged token", alice, url.Values{"token": {strings.Repeat("A", len(aliceToken))}}, nil},
		{"cookie and token from another origin", alice, terminate, []string{"Origin", "http://evil.example"}},
		{"cookie and token from another site", alice, terminate, []string{"Sec-Fetch-Site", "cross-site"}},
		{"the token in a header from another origin", alice, url.Values{}, []string{"X-Console-Token", aliceToken, "Origin", "http://evil.example"}},
	} {
		p := post(t, tc.c, evURL+"/terminate", tc.form, tc.header...)
		if p.status != http.StatusForbidden {
			t.Errorf("terminate with %s answered %d, want 403:\n%s", tc.name, p.status, p.body)
		}
		inv := post(t, tc.c, base+"f/fn-ok/invoke", url.Values{"token": tc.form["token"], "payload": {`{}`}}, tc.header...)
		if inv.status != http.StatusForbidden {
			t.Errorf("invoke with %s answered %d, want 403", tc.name, inv.status)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if st := statusOf(t, em, id); st != event.Running {
		t.Fatalf("a refused terminate changed the event: %s", st)
	}
	if _, n, err := em.Engine.Events(t.Context(), store.EventQuery{Function: "fn-ok"}); err != nil || n != 0 {
		t.Fatalf("a refused invoke started %d event(s) (%v)", n, err)
	}

	// The page's own form, with its cookie and token, terminates.
	p := post(t, alice, evURL+"/terminate", terminate, "Origin", em.URL)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/f/fn-long/e/"+id+"?terminated=1" {
		t.Fatalf("terminate answered %d %v:\n%s", p.status, p.header, p.body)
	}
	waitStatus(t, em, id, event.Terminated)
	// A script may send the token as a header instead.
	id2 := em.InvokeAsync(t, "fn-long", `{}`)
	waitStatus(t, em, id2, event.Running)
	if p := post(t, alice, base+"f/fn-long/e/"+id2+"/terminate", url.Values{}, "X-Console-Token", aliceToken); p.status != http.StatusSeeOther {
		t.Fatalf("terminate with the header token answered %d: %s", p.status, p.body)
	}
	waitStatus(t, em, id2, event.Terminated)
}

func TestInvokeFromTheConsole(t *testing.T) {
	em := start(t)
	c := browser(t)
	base := em.URL + "/console/"
	token := tokenOf(t, get(t, c, base+"f/fn-ok"))
	p := post(t, c, base+"f/fn-ok/invoke", url.Values{"token": {token}, "payload": {`{"title": ` + jsonString(evil) + `}`}})
	loc := p.header.Get("Location")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/f/fn-ok/e/") || !strings.HasSuffix(loc, "?invoked=1") {
		t.Fatalf("invoke answered %d, Location %q:\n%s", p.status, loc, p.body)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(loc, "/console/f/fn-ok/e/"), "?invoked=1")
	em.Wait(t, id)
	shown := get(t, c, em.URL+loc)
	if !strings.Contains(shown.body, "Invoked asynchronously. RequestId: "+id) || !strings.Contains(shown.body, "&lt;img src=x") {
		t.Errorf("the page after invoke:\n%s", shown.body)
	}
	if bad := post(t, c, base+"f/fn-ok/invoke", url.Values{"token": {token}, "payload": {`{"a": `}}); bad.status != 400 || !strings.Contains(bad.body, "payload: not JSON") {
		t.Errorf("a payload that is not JSON answered %d:\n%s", bad.status, bad.body)
	}
	// Over Lambda's 1 MB async limit: the emulator refuses it, and the console says so.
	over := `{"a": "` + strings.Repeat("x", 1<<20) + `"}`
	if p := post(t, c, base+"f/fn-ok/invoke", url.Values{"token": {token}, "payload": {over}}); p.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a payload over the async limit answered %d:\n%.500s", p.status, p.body)
	}
	// Terminating an event that has ended is a conflict, not a gateway error.
	if p := post(t, c, base+"f/fn-ok/e/"+id+"/terminate", url.Values{"token": {token}}); p.status != http.StatusConflict {
		t.Errorf("terminating an ended event answered %d:\n%.500s", p.status, p.body)
	}
	big := strings.Repeat("x", 4<<20)
	if p := post(t, c, base+"f/fn-ok/invoke", url.Values{"payload": {big}, "token": {token}}); p.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a 4 MB invoke answered %d", p.status)
	}
	// Without a session no body is read: refused as such, not as too large.
	if p := post(t, &http.Client{Timeout: 10 * time.Second}, base+"f/fn-ok/invoke", url.Values{"payload": {big}, "token": {token}}); p.status != http.StatusForbidden {
		t.Errorf("a 4 MB invoke without a session answered %d", p.status)
	}
	if p := post(t, c, base+"f/fn-ok/e/"+id+"/terminate", url.Values{"token": {token}, "grace": {"-3"}}); p.status != 400 || !strings.Contains(p.body, "grace &#34;-3&#34;") {
		t.Errorf("a negative grace answered %d:\n%s", p.status, p.body)
	}
	if p := post(t, c, base+"f/nope/invoke", url.Values{"token": {token}}); p.status != 404 {
		t.Errorf("invoking an unknown function answered %d", p.status)
	}
}

func TestTheEmulatorsCredentialsGuardTheConsole(t *testing.T) {
	em := start(t, asyncfntest.WithCredentials("AKID", "sekrit"))
	c := browser(t)
	base := em.URL + "/console/"
	for _, u := range []string{base, base + "f/fn-ok", base + "static/console.js", base + "api/f/fn-ok/events"} {
		p := get(t, c, u)
		if p.status != http.StatusUnauthorized || !strings.HasPrefix(p.header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("GET %s without credentials answered %d %v", u, p.status, p.header)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, base, nil)
	req.SetBasicAuth("AKID", "wrong")
	if p := do(t, c, req); p.status != http.StatusUnauthorized {
		t.Errorf("a wrong key answered %d", p.status)
	}
	req, _ = http.NewRequest(http.MethodGet, base, nil)
	req.SetBasicAuth("AKID", "sekrit")
	if p := do(t, c, req); p.status != 200 || !strings.Contains(p.body, "fn-ok") {
		t.Errorf("with the credentials the console answered %d:\n%s", p.status, p.body)
	}
}

func TestForeignHostsAndOriginsAreRefused(t *testing.T) {
	em := start(t)
	c := browser(t)
	base := em.URL + "/console/"
	if p := get(t, c, em.URL+"/console"); p.status/100 != 3 || p.header.Get("Location") != "/console/" {
		t.Errorf("GET /console answered %d %q, want a redirect to /console/", p.status, p.header.Get("Location"))
	}
	if p := get(t, c, base, "Origin", "http://evil.example"); p.status != http.StatusForbidden {
		t.Errorf("a cross-origin GET answered %d", p.status)
	}
	req, _ := http.NewRequest(http.MethodGet, base, nil)
	req.Host = "evil.example"
	if p := do(t, c, req); p.status != http.StatusForbidden {
		t.Errorf("a foreign Host (DNS rebinding) answered %d", p.status)
	}
}

func TestLogStreamFollowsARunningEventUntilItEnds(t *testing.T) {
	em := start(t)
	id := em.InvokeAsync(t, "fn-long", `{}`)
	waitStatus(t, em, id, event.Running)
	resp, err := http.Get(em.URL + "/console/api/f/fn-long/e/" + id + "/log")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	readUntil := func(want string) string {
		t.Helper()
		var got strings.Builder
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			line, err := rd.ReadString('\n')
			got.WriteString(line)
			if strings.Contains(got.String(), want) {
				return got.String()
			}
			if err != nil {
				break
			}
		}
		t.Fatalf("the log stream never sent %q:\n%s", want, got.String())
		return ""
	}
	readUntil("long job started")
	if _, err := em.Engine.Terminate(t.Context(), "fn-long", id, time.Second); err != nil {
		t.Fatal(err)
	}
	rest := readUntil("event: end\ndata: TERMINATED\n")
	if !strings.Contains(rest, "got SIGTERM, saving checkpoint") {
		t.Errorf("the stream ended without the SIGTERM handler's line:\n%s", rest)
	}
	if tail, err := io.ReadAll(rd); err != nil || strings.TrimSpace(string(tail)) != "" {
		t.Errorf("the stream went on after its end event: %q (%v)", tail, err)
	}
}

// firstID is the id of the first line of an event's log stream that
// carries the function's own output (after START).
func firstID(t *testing.T, stream string) string {
	t.Helper()
	for _, block := range strings.Split(stream, "\n\n") {
		if strings.Contains(block, "working on") {
			for _, l := range strings.Split(block, "\n") {
				if id, ok := strings.CutPrefix(l, "id: "); ok {
					return id
				}
			}
		}
	}
	t.Fatalf("no line with an id in:\n%s", stream)
	return ""
}
