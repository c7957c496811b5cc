package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The console in a real browser: headless Chromium, driven over the
// DevTools protocol (chromedp), against the console the emulator binary
// serves at /console/ for the example service.

const exampleTranscode = "asyncfn-example-dev-transcode"

// chromiumPath finds Debian's chromium (.ci/run installs it), or
// ASYNCFN_CHROMIUM, or skips.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ASYNCFN_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium: install Debian's chromium (apt-get install chromium, as .ci/run does) or set ASYNCFN_CHROMIUM to run the console's browser test")
	return ""
}

// newBrowser starts headless Chromium with a fresh profile; the returned
// context is a tab, closed (and the browser with it) when the test ends.
func newBrowser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 768), // a laptop screen
		// The network is closed: without these Chromium waits on services it cannot reach.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(func() { bcancel(); acancel(); cancel() })
	// Start the browser and its tab before anything listens to it.
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start %s: %v", chromiumPath(t), err)
	}
	return bctx
}

// screenshots is where the test saves a picture of each view:
// $ASYNCFN_SCREENSHOTS, or a temporary directory.
func screenshots(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ASYNCFN_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func shoot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// eval runs JavaScript in the page and returns its value.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitJS waits up to d for a JavaScript expression to be truthy, across
// navigations (an evaluation during one fails, and is tried again).
func waitJS(t *testing.T, ctx context.Context, what, js string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	var err error
	for time.Now().Before(deadline) {
		var ok bool
		if ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+js+")")); err == nil && ok {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	where, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText.slice(0, 3000)`))
	t.Fatalf("waiting %s for %s (last error: %v); the page:\n%s", d, what, err, where)
}

func browse(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// The payload that would run script if it were ever rendered as HTML.
const xssSource = `<img src=x onerror="window.__pwned=1;document.title='pwned'">`

func TestConsoleInABrowser(t *testing.T) {
	needNode(t)
	ctx := newBrowser(t, 90*time.Second)
	shots := screenshots(t)
	// Every uncaught exception of the pages' script fails the test.
	var excMu sync.Mutex
	var exceptions []string
	go func() {
		for ev, err := range chromedp.Events(ctx, cdpruntime.ExceptionThrown) {
			if err != nil {
				return
			}
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			excMu.Lock()
			exceptions = append(exceptions, fmt.Sprintf("%s (%s:%d)", msg, d.URL, d.LineNumber))
			excMu.Unlock()
		}
	}()
	t.Cleanup(func() {
		excMu.Lock()
		defer excMu.Unlock()
		for _, e := range exceptions {
			t.Errorf("the page threw: %s", e)
		}
	})
	em := startLocal(t, freePort(t), t.TempDir())
	mustCLI(t, em.url, "deploy")
	start := time.Now()
	base := em.url + "/console/"

	// A function's events, and a new event that appears without a reload.
	browse(t, ctx, "open the events view", chromedp.Navigate(base+"f/"+exampleTranscode), chromedp.WaitVisible(chromedp.CSS("#events-rows")))
	eval[chromedp.Void](t, ctx, `window.__sameDocument = 42`)
	id := invokeAsync(t, em.url, "transcode", `{"frames": 30, "delayMs": 200, "source": `+jsonQuote(xssSource)+`}`)
	invoked := time.Now()
	waitJS(t, ctx, "the new event's row RUNNING",
		fmt.Sprintf(`(document.querySelector('tr[data-request-id="%s"] .status') || {}).textContent === "RUNNING"`, id), 5*time.Second)
	shown := time.Since(invoked)
	t.Logf("the new event showed RUNNING %s after its invoke returned", shown.Round(time.Millisecond))
	if shown > time.Second {
		t.Errorf("the new event showed RUNNING %s after its invoke, want within a second", shown)
	}
	if v := eval[int](t, ctx, `window.__sameDocument || 0`); v != 42 {
		t.Fatalf("the events view reloaded to show the new event")
	}
	shoot(t, ctx, shots, "console-events")
	// Updates leave an unchanged row's link alone: it keeps the keyboard focus.
	link := fmt.Sprintf(`document.querySelector('tr[data-request-id="%s"] a')`, id)
	eval[chromedp.Void](t, ctx, link+`.focus()`)
	time.Sleep(1200 * time.Millisecond) // several polls, and a new duration ("1s+")
	if !eval[bool](t, ctx, `document.activeElement === `+link) {
		t.Errorf("the row's link lost the focus to the live updates")
	}

	// The event: its log streams line by line as the function prints it.
	browse(t, ctx, "open the event", chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr[data-request-id="%s"] a`, id))), chromedp.WaitVisible(chromedp.CSS("#log")))
	waitJS(t, ctx, "the first frame in the log", `document.getElementById('log').textContent.includes('transcode: frame 2/30')`, 10*time.Second)
	eval[chromedp.Void](t, ctx, `window.__eventPage = 1`)
	first := eval[string](t, ctx, `document.getElementById('log').textContent`)
	if st := eval[string](t, ctx, `document.getElementById('ev-status').textContent`); st != "RUNNING" {
		t.Errorf("status while the log streams = %s, want RUNNING", st)
	}
	next := strings.Count(first, "transcode: frame ") + 2
	if next > 30 {
		t.Fatalf("the event was nearly done before its page showed its log:\n%s", first)
	}
	waitJS(t, ctx, "later frames in the log", fmt.Sprintf(`document.getElementById('log').textContent.includes('transcode: frame %d/30')`, next), 10*time.Second)
	later := eval[string](t, ctx, `document.getElementById('log').textContent`)
	if !strings.HasPrefix(later, first) || len(later) <= len(first) || eval[int](t, ctx, `window.__eventPage || 0`) != 1 {
		t.Errorf("the log did not grow in place:\nfirst:\n%s\nlater:\n%s", first, later)
	}
	if !strings.Contains(later, "START RequestId: "+id) || strings.Index(later, "frame 3/30") > strings.Index(later, "frame 4/30") {
		t.Errorf("the log is not as printed:\n%s", later)
	}

	// Nothing from the payload, the result or the log is HTML.
	if n := eval[int](t, ctx, `document.querySelectorAll('main img').length`); n != 0 {
		t.Errorf("the event view holds %d img element(s): a payload was rendered as HTML", n)
	}
	if !strings.Contains(eval[string](t, ctx, `document.getElementById('ev-payload').textContent`), `"source": "<img src=x onerror=`) {
		t.Errorf("the payload is not shown as its text")
	}
	if !strings.Contains(later, "transcode: "+xssSource) {
		t.Errorf("the log does not show the payload's line as text:\n%s", later)
	}
	if eval[bool](t, ctx, `window.__pwned === 1 || document.title === 'pwned'`) {
		t.Fatal("a handler from the payload ran")
	}
	shoot(t, ctx, shots, "console-event-running")

	// Terminate, after its confirmation: the event ends TERMINATED.
	browse(t, ctx, "ask to terminate", chromedp.Click(chromedp.CSS("#terminate summary")), chromedp.WaitVisible(chromedp.CSS("#grace")),
		chromedp.SetValue(chromedp.CSS("#grace"), "3"))
	if st := eval[string](t, ctx, `document.getElementById('ev-status').textContent`); st != "RUNNING" {
		t.Fatalf("opening the confirmation changed the event: %s", st)
	}
	browse(t, ctx, "confirm terminate", chromedp.Click(chromedp.CSS("#terminate button[type=submit]")))
	waitJS(t, ctx, "TERMINATED", `location.search === '?terminated=1' && document.getElementById('ev-status').textContent === 'TERMINATED'`, 15*time.Second)
	waitJS(t, ctx, "the end of the log", `document.getElementById('log').dataset.complete === 'true'`, 15*time.Second)
	final := eval[string](t, ctx, `document.getElementById('log').textContent`)
	if !strings.Contains(final, "SIGTERM received, saving checkpoint") || !strings.Contains(eval[string](t, ctx, `document.getElementById('log-state').textContent`), "TERMINATED") {
		t.Errorf("the log of the terminated event:\n%s", final)
	}
	if !eval[bool](t, ctx, `document.getElementById('terminate').hidden`) {
		t.Errorf("the ended event still offers to terminate it")
	}
	if got := getEvent(t, em.url, "transcode", id); got.Status != "TERMINATED" {
		t.Errorf("the CLI sees %s, want TERMINATED", got.Status)
	}
	shoot(t, ctx, shots, "console-event-terminated")

	// Invoke from the console: the new RequestId is shown.
	browse(t, ctx, "invoke from the console", chromedp.Navigate(base+"f/"+exampleTranscode), chromedp.WaitVisible(chromedp.CSS("#payload")),
		chromedp.SetValue(chromedp.CSS("#payload"), `{"frames": 2, "delayMs": 10}`), chromedp.Click(chromedp.CSS(".invoke button[type=submit]")))
	waitJS(t, ctx, "the invoked event's page", `location.search === '?invoked=1' && document.querySelector('.notice') !== null`, 10*time.Second)
	notice := eval[string](t, ctx, `document.querySelector('.notice').textContent`)
	newID := strings.TrimPrefix(notice, "Invoked asynchronously. RequestId: ")
	if len(newID) != 36 {
		t.Fatalf("the notice after invoke = %q", notice)
	}
	if ev := waitEvent(t, em.url, "transcode", newID, nil); ev.Status != "SUCCEEDED" {
		t.Errorf("the event invoked from the console ended %s", ev.Status)
	}
	waitJS(t, ctx, "SUCCEEDED", `document.getElementById('ev-status').textContent === 'SUCCEEDED'`, 10*time.Second)

	// Statistics: four charts, drawn on the server.
	browse(t, ctx, "open the statistics", chromedp.Navigate(base+"f/"+exampleTranscode+"/stats"), chromedp.WaitVisible(chromedp.CSS("#chart-time")))
	for _, chart := range []string{"chart-status", "chart-pct", "chart-hist", "chart-time"} {
		if n := eval[int](t, ctx, fmt.Sprintf(`document.querySelectorAll('#%s rect.bar').length`, chart)); n == 0 {
			t.Errorf("the chart %s has no bars", chart)
		}
		if w := eval[float64](t, ctx, fmt.Sprintf(`document.getElementById('%s').getBoundingClientRect().width`, chart)); w < 200 {
			t.Errorf("the chart %s is %v px wide", chart, w)
		}
	}
	if got := eval[string](t, ctx, `document.querySelector('#chart-status title').textContent`); got != "Events per status" {
		t.Errorf("the status chart's title = %q", got)
	}
	shoot(t, ctx, shots, "console-stats")

	// The functions, with their async settings and counts.
	browse(t, ctx, "open the functions", chromedp.Navigate(base), chromedp.WaitVisible(chromedp.CSS(".cards")))
	if n := eval[int](t, ctx, `document.querySelectorAll('.card').length`); n != 3 {
		t.Errorf("the functions view shows %d functions, want 3", n)
	}
	if got := eval[string](t, ctx, `document.querySelector('#fn-`+exampleTranscode+`').closest('.card').querySelector('[data-status=TERMINATED]').textContent`); got != "1" {
		t.Errorf("TERMINATED count of transcode = %q, want 1", got)
	}
	shoot(t, ctx, shots, "console-functions")
	// Its counts follow new events without a reload.
	eval[chromedp.Void](t, ctx, `window.__functionsPage = 1`)
	total := eval[string](t, ctx, `document.querySelector('[data-fn="`+exampleTranscode+`"] .total').textContent`)
	invokeAsync(t, em.url, "transcode", `{"frames": 1, "delayMs": 0}`)
	waitJS(t, ctx, "the new event counted", `document.querySelector('[data-fn="`+exampleTranscode+`"] .total').textContent !== "`+total+`"`, 5*time.Second)
	if eval[int](t, ctx, `window.__functionsPage || 0`) != 1 {
		t.Errorf("the functions view reloaded to count the new event")
	}

	// Keyboard: the skip link is the first stop and leads to the content.
	browse(t, ctx, "tab to the skip link", chromedp.KeyEvent("\t"))
	if got := eval[string](t, ctx, `document.activeElement.textContent`); got != "Skip to content" {
		t.Errorf("the first Tab stop is %q", got)
	}
	t.Logf("the browser test took %s after the deploy", time.Since(start).Round(time.Millisecond))
}

func jsonQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// TestConsoleCommand runs `asyncfn console` for the example service on the
// emulator: it serves the service's functions on loopback, refuses another
// Host or origin, and asks for the emulator's credentials when it has them.
func TestConsoleCommand(t *testing.T) {
	needNode(t)
	em := startLocal(t, freePort(t), t.TempDir(), "--credentials", "AKID:sekrit")
	env := []string{"ASYNCFN_CREDENTIALS=AKID:sekrit"}
	if r := cliEnv(t, em.url, env, "deploy"); r.code != 0 {
		t.Fatalf("deploy: %s", r.stderr)
	}
	root, _ := filepath.Abs("..")
	addr := freePort(t)
	cmd := exec.Command(binary, "-c", filepath.Join(root, "serverless.yml.example"), "--local", "console", "--addr", addr)
	cmd.Env = append(os.Environ(), "ASYNCFN_LOCAL_URL="+em.url, "ASYNCFN_CREDENTIALS=AKID:sekrit")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "http://"+addr+"/" {
		t.Fatalf("asyncfn console printed %q (%v), want its URL", line, err)
	}
	get := func(host string, auth bool, hdr ...string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
		if host != "" {
			req.Host = host
		}
		if auth {
			req.SetBasicAuth("AKID", "sekrit")
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
		return resp.StatusCode, b.String()
	}
	if code, body := get("", true); code != 200 || !strings.Contains(body, exampleTranscode) || !strings.Contains(body, "(transcode)") ||
		!strings.Contains(body, "asyncfn-example (local emulator)") {
		t.Fatalf("GET / = %d:\n%s", code, body)
	}
	if code, _ := get("", false); code != http.StatusUnauthorized {
		t.Errorf("without the emulator's credentials the console answered %d", code)
	}
	if code, _ := get("rebound.example:80", true); code != http.StatusForbidden {
		t.Errorf("a foreign Host answered %d", code)
	}
	if code, _ := get("", true, "Origin", "http://evil.example"); code != http.StatusForbidden {
		t.Errorf("another origin answered %d", code)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("asyncfn console exited with %v on SIGTERM", err)
	}

	r := cliEnv(t, em.url, env, "console", "--addr", "0.0.0.0:0")
	if r.code != 2 || !strings.Contains(r.stderr, "not a loopback address") {
		t.Errorf("console --addr 0.0.0.0:0: exit %d, %s", r.code, r.stderr)
	}
}

// startConsole runs `asyncfn console` with args and env until the test
// ends, and returns its URL.
func startConsole(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, append(args, "console", "--addr", freePort(t), "--refresh", "300ms")...)
	cmd.Env = env
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "http://127.0.0.1:") {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		t.Fatalf("asyncfn console printed %q (%v); stderr:\n%s", line, err, stderr.String())
	}
	return strings.TrimSpace(line)
}

// consoleClient is a browser's part in HTTP: a cookie jar, no redirects followed.
type consoleClient struct {
	t    *testing.T
	http *http.Client
	base string
}

func newConsoleClient(t *testing.T, base string) *consoleClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &consoleClient{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *consoleClient) send(method, path string, form url.Values) (int, http.Header, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, strings.TrimSuffix(c.base, "/")+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

var consoleTokenRE = regexp.MustCompile(`name="token" value="([^"]+)"`)

// invoke submits a function's invoke form and returns the new RequestId.
func (c *consoleClient) invoke(fn, payload string) string {
	c.t.Helper()
	_, _, page := c.send(http.MethodGet, "/f/"+fn, nil)
	m := consoleTokenRE.FindStringSubmatch(page)
	if m == nil {
		c.t.Fatalf("the events view of %s has no invoke form:\n%s", fn, page)
	}
	code, hdr, body := c.send(http.MethodPost, "/f/"+fn+"/invoke", url.Values{"token": {m[1]}, "payload": {payload}})
	loc := hdr.Get("Location")
	if code != http.StatusSeeOther || !strings.HasSuffix(loc, "?invoked=1") {
		c.t.Fatalf("invoke of %s answered %d %q:\n%s", fn, code, loc, body)
	}
	return strings.TrimSuffix(loc[strings.LastIndex(loc, "/")+1:], "?invoked=1")
}

// waitStatus polls the event's JSON, as its page does, until want.
func (c *consoleClient) waitStatus(fn, id, want string) {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var body string
	for time.Now().Before(deadline) {
		var code int
		code, _, body = c.send(http.MethodGet, "/api/f/"+fn+"/e/"+id, nil)
		if code == 200 && strings.Contains(body, `"status":"`+want+`"`) {
			return
		}
		time.Sleep(150 * time.Millisecond)
	}
	c.t.Fatalf("event %s of %s never showed %s: %s", id, fn, want, body)
}

// TestConsoleThroughTheCloudAdapters serves `asyncfn console` through the
// Lambda adapter (AWS SDK) and the SCF adapter (Tencent Cloud SDK), each
// pointed with --endpoint at the emulator's cloud front: the same views and
// actions as on the emulator, and a cloud's refusal shown as such.
func TestConsoleThroughTheCloudAdapters(t *testing.T) {
	needNode(t)
	emu := startEmulator(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	env := awsEnv("TENCENTCLOUD_SECRET_ID=x", "TENCENTCLOUD_SECRET_KEY=x")
	for _, tc := range []struct {
		provider, file, title string
		settings              []string
	}{
		{"aws", filepath.Join(root, "example", "aws", "serverless.yml"), "asyncfn-example-aws (aws)", []string{"<dt>Retries</dt><dd>1</dd>", "<dt>On success</dt><dd>asyncfn-example-aws-dev-notify</dd>"}},
		{"tencent", filepath.Join(root, "serverless.yml.example"), "asyncfn-example (tencent)", []string{"<dt>Async mode</dt><dd>on</dd>", "<dt>Retries</dt><dd>0</dd>"}},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			args := []string{"-c", tc.file, "--endpoint", emu}
			mustRun(t, env, append(args, "deploy")...)
			c := newConsoleClient(t, startConsole(t, env, args...))
			fn := map[string]string{"aws": "asyncfn-example-aws-dev-transcode", "tencent": exampleTranscode}[tc.provider]

			_, _, fns := c.send(http.MethodGet, "/", nil)
			for _, want := range append(tc.settings, tc.title, fn, "(transcode)") {
				if !strings.Contains(fns, want) {
					t.Errorf("the functions view lacks %q", want)
				}
			}
			id := c.invoke(fn, `{"frames": 2, "delayMs": 10}`)
			c.waitStatus(fn, id, "SUCCEEDED")
			code, hdr, log := c.send(http.MethodGet, "/api/f/"+fn+"/e/"+id+"/log", nil)
			if code != 200 || hdr.Get("Content-Type") != "text/event-stream" || !strings.Contains(log, "transcode: frame 2/2") ||
				!strings.Contains(log, "event: end\ndata: SUCCEEDED") {
				t.Errorf("the event's log stream (%d):\n%s", code, log)
			}
			// SCF reports an async event's result; Lambda does not (its
			// destinations get it).
			if _, _, ev := c.send(http.MethodGet, "/f/"+fn+"/e/"+id, nil); !strings.Contains(ev, "SUCCEEDED") || (tc.provider == "tencent") != strings.Contains(ev, "1080p.mp4") {
				t.Errorf("the event view lacks its status, or shows a result Lambda does not report:\n%s", ev)
			}
			if _, _, st := c.send(http.MethodGet, "/f/"+fn+"/stats", nil); strings.Count(st, `<svg class="chart"`) != 4 || !strings.Contains(st, "<title>SUCCEEDED: 1</title>") {
				t.Errorf("the statistics view:\n%s", st)
			}

			long := c.invoke(fn, `{"frames": 300, "delayMs": 100}`)
			c.waitStatus(fn, long, "RUNNING")
			_, _, page := c.send(http.MethodGet, "/f/"+fn+"/e/"+long, nil)
			m := consoleTokenRE.FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("the running event's view offers no terminate form:\n%s", page)
			}
			code, _, body := c.send(http.MethodPost, "/f/"+fn+"/e/"+long+"/terminate", url.Values{"token": {m[1]}, "grace": {"1"}})
			switch tc.provider {
			case "aws":
				// No Lambda API stops a plain async invoke: the console
				// says so, as events terminate does.
				if code != http.StatusNotImplemented || !strings.Contains(body, "durableConfig") {
					t.Errorf("terminate on Lambda answered %d:\n%s", code, body)
				}
			case "tencent":
				if code != http.StatusSeeOther {
					t.Fatalf("terminate on SCF answered %d:\n%s", code, body)
				}
				c.waitStatus(fn, long, "TERMINATED")
			}
		})
	}
}
