// Package console is asyncfn's web console: the async events of a service's
// functions in a browser — functions with their async settings and counts
// per status, a function's events (filtered, paged, updated live), their
// statistics as charts, one event with its attempts, payload, result and
// live log, and the two actions, terminate and async invoke. It reaches
// every provider through adapters.Provider, so one pane serves the
// emulator, SCF and Lambda: `asyncfn console` serves it for serverless.yml,
// and the emulator serves it at /console/ for everything deployed to it.
//
// It is server-rendered HTML (html/template) with one small script for the
// live parts (polling JSON, a Server-Sent Events log stream), CSS, and
// charts drawn as SVG on the server, all embedded: no build step, no
// network but its own.
//
// What it guards against, beyond the Host and Origin checks of the listener
// in front of it (localemu/server): a page of another origin driving it. So
// every state-changing request (terminate, invoke) must carry the token of
// the browser session that loaded the page — an HMAC of the session's
// cookie (SameSite=Strict, HttpOnly) under a key of this process — and a
// request replayed without that cookie, or with it but without the token,
// changes nothing. With credentials (an emulator started with them) every
// request needs them as HTTP Basic authentication, checked before anything
// is read. Payloads, results and log lines are only ever text: html/template
// escapes them, the script writes them with textContent, and the
// Content-Security-Policy allows no inline script at all.
package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/asyncfn/asyncfn/adapters"
	"github.com/asyncfn/asyncfn/localemu/front"
	"github.com/asyncfn/asyncfn/nativeapi"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Function is one function the console shows.
type Function struct {
	Name   string // deployed name: what the provider and the console's URLs use
	Label  string // its key under functions: in serverless.yml, when known
	Config nativeapi.FunctionConfig
}

// Source is what a console shows: functions and the provider that reaches
// their events.
type Source interface {
	Functions(ctx context.Context) ([]Function, error)
	Provider() adapters.Provider
}

// Options configure a Console.
type Options struct {
	// Prefix is the path the console is served under, "/" or "/console/".
	Prefix string
	// Title names what is shown (a service and its provider).
	Title string
	// Source is what a request is answered from.
	Source func(r *http.Request) (Source, error)
	// Credentials, when set, are required as HTTP Basic authentication on
	// every request.
	Credentials *front.Credentials
	// PollInterval is how often pages ask for new events and statuses
	// (default DefaultPollInterval: a new event shows well within a second).
	PollInterval time.Duration
	// Linger is how long an event's log stream stays open after the event
	// ended, for its last lines (default adapters.LingerLocal).
	Linger time.Duration
	// Logger receives errors of the provider; nil discards them.
	Logger *slog.Logger
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Console serves the console's pages under Options.Prefix.
type Console struct {
	opts   Options
	key    []byte // HMAC key of the session tokens, new in each process
	pages  map[string]*template.Template
	static http.Handler
	mux    *http.ServeMux
}

var _ http.Handler = (*Console)(nil)

// DefaultPollInterval is how often pages poll by default.
const DefaultPollInterval = 250 * time.Millisecond

// New returns a console.
func New(opts Options) (*Console, error) {
	if opts.Prefix == "" {
		opts.Prefix = "/"
	}
	if !strings.HasPrefix(opts.Prefix, "/") || !strings.HasSuffix(opts.Prefix, "/") {
		return nil, fmt.Errorf("console prefix %q must start and end with /", opts.Prefix)
	}
	if opts.Source == nil {
		return nil, errors.New("console: no source")
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.Linger <= 0 {
		opts.Linger = adapters.LingerLocal
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Console{opts: opts, key: make([]byte, 32), pages: map[string]*template.Template{}, mux: http.NewServeMux()}
	if _, err := rand.Read(c.key); err != nil {
		return nil, err
	}
	for _, name := range []string{"functions", "events", "stats", "event", "error"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", name, err)
		}
		c.pages[name] = t
	}
	static, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, err
	}
	c.static = http.StripPrefix(opts.Prefix+"static/", http.FileServerFS(static))
	c.routes()
	return c, nil
}

// routes registers the console's paths below the prefix.
func (c *Console) routes() {
	p := c.opts.Prefix
	c.mux.HandleFunc("GET "+p+"{$}", c.page(c.functions))
	c.mux.HandleFunc("GET "+p+"f/{fn}", c.page(c.events))
	c.mux.HandleFunc("GET "+p+"f/{fn}/stats", c.page(c.stats))
	c.mux.HandleFunc("GET "+p+"f/{fn}/e/{id}", c.page(c.event))
	c.mux.HandleFunc("POST "+p+"f/{fn}/invoke", c.action(c.invoke))
	c.mux.HandleFunc("POST "+p+"f/{fn}/e/{id}/terminate", c.action(c.terminate))
	c.mux.HandleFunc("GET "+p+"api/functions", c.api(c.apiFunctions))
	c.mux.HandleFunc("GET "+p+"api/f/{fn}/events", c.api(c.apiEvents))
	c.mux.HandleFunc("GET "+p+"api/f/{fn}/e/{id}", c.api(c.apiEvent))
	c.mux.HandleFunc("GET "+p+"api/f/{fn}/e/{id}/log", c.logStream)
	c.mux.Handle("GET "+p+"static/", c.static)
	c.mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, &httpError{status: http.StatusNotFound, msg: fmt.Sprintf("nothing is served at %s %s", r.Method, r.URL.Path)})
	})
}

// contentSecurityPolicy allows the console's own script, style and images
// and nothing else: no inline script or style, no other origin, no frames.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// ServeHTTP sets the security headers, checks the credentials, and routes.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// same-origin, not no-referrer: under no-referrer a browser sends a
	// form's POST with "Origin: null", which the origin check refuses.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	if !c.authorized(r) {
		h.Set("WWW-Authenticate", `Basic realm="asyncfn console", charset="UTF-8"`)
		c.fail(w, r, &httpError{status: http.StatusUnauthorized, msg: "the console requires the emulator's credentials (ID and KEY) as user name and password"})
		return
	}
	c.mux.ServeHTTP(w, r)
}

// authorized checks HTTP Basic credentials when the console has any.
func (c *Console) authorized(r *http.Request) bool {
	if c.opts.Credentials == nil {
		return true
	}
	id, key, ok := r.BasicAuth()
	return ok && subtle.ConstantTimeCompare([]byte(id), []byte(c.opts.Credentials.ID)) == 1 &&
		subtle.ConstantTimeCompare([]byte(key), []byte(c.opts.Credentials.Key)) == 1
}

// Sessions. A browser gets a random session id in a cookie on its first
// page; the token that state-changing requests must carry is the HMAC of
// that id under the console's key, written into each page. Nothing is
// stored: a token is valid exactly with the cookie it was made for.
const (
	sessionCookie = "asyncfn_console"
	tokenField    = "token"
	tokenHeader   = "X-Console-Token"
)

// session returns the request's session id, setting a new cookie when it
// has none (or a malformed one).
func (c *Console) session(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(sessionCookie); err == nil && validSessionID(ck.Value) {
		return ck.Value
	}
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	id := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: c.opts.Prefix, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return id
}

func validSessionID(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == 18
}

// token is the session's token for state-changing requests.
func (c *Console) token(session string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(session))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// errForbidden is a state-changing request without its session's token.
var errForbidden = &httpError{status: http.StatusForbidden,
	msg: "this action needs the token of the console page it was sent from: reload the page and try again"}

// checkToken reports whether r carries its session cookie and that
// session's token (the form field, or the header for scripts).
func (c *Console) checkToken(r *http.Request) bool {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || !validSessionID(ck.Value) {
		return false
	}
	got := r.Header.Get(tokenHeader)
	if got == "" {
		got = r.PostFormValue(tokenField)
	}
	return got != "" && hmac.Equal([]byte(got), []byte(c.token(ck.Value)))
}

// httpError is an answer other than 200, with a message for people.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

// statusOf maps an error onto an HTTP status: a provider's not found is 404.
func statusOf(err error) int {
	var he *httpError
	switch {
	case errors.As(err, &he):
		return he.status
	case errors.Is(err, adapters.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	var ue *adapters.UnsupportedError
	if errors.As(err, &ue) {
		return http.StatusNotImplemented
	}
	// The provider refused the request itself (a payload over its limit,
	// an event that has already ended): its status, not a gateway error.
	var ae *adapters.APIError
	if errors.As(err, &ae) && ae.HTTPStatus >= 400 && ae.HTTPStatus < 500 && ae.HTTPStatus != http.StatusUnauthorized && ae.HTTPStatus != http.StatusForbidden {
		return ae.HTTPStatus
	}
	return http.StatusBadGateway
}

// fail answers an error: JSON for the console's scripts, a page for people.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if status >= 500 {
		c.opts.Logger.Warn("console", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	if strings.HasPrefix(r.URL.Path, c.opts.Prefix+"api/") {
		writeJSON(w, status, map[string]any{"error": map[string]string{"message": err.Error()}})
		return
	}
	c.render(w, status, "error", &pageData{Title: http.StatusText(status), Message: err.Error()}, c.opts.Prefix)
}

// Refuse answers a request that the listener in front of the console
// refused before it reached it (server.Guard): a foreign Host or origin, or
// oversize headers.
func (c *Console) Refuse(w http.ResponseWriter, r *http.Request, why front.Refusal, msg string) {
	w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(why.Status())
	fmt.Fprintln(w, why.Code()+": "+msg)
}
