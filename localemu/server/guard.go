package server

// What a web page must not be able to do: the emulator runs code on request,
// and without --credentials nothing but its loopback address stands between
// it and any page a browser on this machine opens. A page can send a "simple"
// cross-origin request (POST with Content-Type: text/plain, no preflight) to
// http://127.0.0.1:9770, and through DNS rebinding it can even read the
// answers under a name of its own. So before any front reads a body the
// server refuses a Host that is not this emulator's (rebinding), and any
// request a browser marks as coming from another origin (Origin,
// Sec-Fetch-Site) — preflights included, so no CORS is ever granted. The one
// foreign Host answered is a COS bucket's on a COS-signed request (package
// cos, Addressing): no web page can rebind a myqcloud.com name.

import (
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/asyncfn/asyncfn/localemu/front"
	"github.com/asyncfn/asyncfn/localemu/front/aws"
	"github.com/asyncfn/asyncfn/localemu/front/cos"
	"github.com/asyncfn/asyncfn/localemu/front/scf"
)

// hostGuard decides which Host headers the server answers.
type hostGuard struct {
	mu    sync.RWMutex    // Serve adds the bound name while another Serve may be answering
	names map[string]bool // allowed host names and addresses, any port
	exact map[string]bool // allowed host:port pairs
}

// newHostGuard allows the loopback names and addresses, the connection's
// own local address, and the given names: "NAME" (any port) or "NAME:PORT".
func newHostGuard(allowed []string) *hostGuard {
	g := &hostGuard{names: map[string]bool{}, exact: map[string]bool{}}
	for _, a := range allowed {
		g.allow(a)
	}
	return g
}

// allow adds "NAME" or "NAME:PORT" (an IPv6 address in brackets).
func (g *hostGuard) allow(a string) {
	a = strings.TrimSpace(a)
	if a == "" {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if h, p, err := net.SplitHostPort(a); err == nil && p != "" {
		g.exact[net.JoinHostPort(normalHost(h), p)] = true
		return
	}
	g.names[normalHost(a)] = true
}

// normalHost lowercases a host name, drops a DNS root dot and the brackets
// of an IPv6 literal, and writes an IP address in its canonical form.
func normalHost(h string) string {
	h = strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), "."))
	if ip := net.ParseIP(h); ip != nil {
		return ip.String()
	}
	return h
}

// splitHost splits a Host header into its normalized host and its port
// (empty when it names none).
func splitHost(hostport string) (host, port string) {
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		return normalHost(h), p
	}
	return normalHost(hostport), ""
}

// allows reports whether r's Host header is one the emulator answers: a
// loopback name or address, the local address the request arrived on (the
// address the emulator is bound to, or the interface's under a wildcard
// bind: an IP literal cannot be rebound to another machine), or an allowed
// host.
func (g *hostGuard) allows(r *http.Request) bool {
	host, port := splitHost(r.Host)
	if host == "" {
		return false
	}
	g.mu.RLock()
	listed := g.names[host] || (port != "" && g.exact[net.JoinHostPort(host, port)])
	g.mu.RUnlock()
	if host == "localhost" || listed {
		return true
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if ta, ok := a.(*net.TCPAddr); ok && ta.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// crossOrigin says why a browser request comes from another origin than
// the emulator's own (http or https://Host, the Host being one the guard
// allows), or "" when it does not: no Origin header (not a browser, or a
// same-origin GET) or the emulator's own, and no Sec-Fetch-Site but
// same-origin or none (typed in the address bar).
func crossOrigin(r *http.Request) string {
	switch site := strings.ToLower(strings.TrimSpace(r.Header.Get("Sec-Fetch-Site"))); site {
	case "cross-site", "same-site":
		return fmt.Sprintf("the request comes from another site (Sec-Fetch-Site: %s)", site)
	}
	for _, origin := range r.Header.Values("Origin") {
		u, err := url.Parse(strings.TrimSpace(origin))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !strings.EqualFold(u.Host, r.Host) ||
			u.Path != "" || u.User != nil {
			return fmt.Sprintf("the request comes from another origin (Origin: %q, this server is http://%s)", origin, r.Host)
		}
	}
	return ""
}

// guard refuses, in the claiming front's shape, a request the emulator
// must not answer: a foreign Host or a cross-origin browser request. It
// reports whether it refused.
func (s *Server) guard(w http.ResponseWriter, r *http.Request) bool {
	why, msg, refused := s.hosts.check(r, "emulator", "--allow-host NAME")
	if refused && why == front.ForbiddenHost && cos.Admits(r) {
		// A COS bucket host on a COS-signed request (package cos,
		// Addressing): answered, unless a browser sent it from elsewhere.
		why, msg = front.CrossOrigin, crossOrigin(r)
		refused = msg != ""
	}
	if refused {
		s.claimant(r).Refuse(w, r, why, msg)
	}
	return refused
}

// check says why r must be refused, if it must: a Host that g does not
// allow, or a cross-origin browser request. what names the listener
// ("emulator") and allowFlag the flag that allows another Host.
func (g *hostGuard) check(r *http.Request, what, allowFlag string) (front.Refusal, string, bool) {
	if !g.allows(r) {
		return front.ForbiddenHost, fmt.Sprintf(
			"the Host %q is not this %s's: it answers loopback names and addresses (localhost, 127.0.0.1, [::1]) "+
				"and the address it is bound to; start it with %s to answer another name", r.Host, what, allowFlag), true
	}
	if why := crossOrigin(r); why != "" {
		return front.CrossOrigin, why + ": the " + what + " runs code on request and answers no web page but its own", true
	}
	return 0, "", false
}

// mediaTypeOf is the media type of a Content-Type header, lowercased ("" if
// there is none or it does not parse).
func mediaTypeOf(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	return strings.ToLower(mt)
}

// requiredMediaType is the media type the API at POST / that f serves
// requires, or "" for none: SCF API 3.0 takes its JSON (TC3-signed) as
// application/json, and the JSON 1.1 AWS APIs (CloudWatch Logs) take
// application/x-amz-json-1.1. Neither is a type a web page may send without
// a CORS preflight.
func requiredMediaType(f front.Front) string {
	switch f.(type) {
	case *scf.Front:
		return "application/json"
	case *aws.Front:
		return "application/x-amz-json-1.1"
	}
	return ""
}
