package localemu

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// DefaultAddr is the emulator's default listen address: one loopback port
// for every API front.
const DefaultAddr = "127.0.0.1:9770"

// Server exposes an Engine over HTTP: the native API under /v1/ and the
// cloud-compatible fronts on the same port.
type Server struct {
	engine  *Engine
	handler http.Handler
	log     *slog.Logger
	creds   *Credentials
}

// Credentials are the one key pair the cloud fronts accept. With none set,
// any well-formed request is accepted (the emulator listens on loopback).
type Credentials struct {
	ID  string // SecretId / access key id
	Key string // SecretKey / secret access key
}

// ParseCredentials reads "ID:KEY".
func ParseCredentials(s string) (*Credentials, error) {
	id, key, ok := strings.Cut(s, ":")
	if !ok || id == "" || key == "" {
		return nil, fmt.Errorf("credentials %q: use ID:KEY", s)
	}
	return &Credentials{ID: id, Key: key}, nil
}

// ServerOptions configure the HTTP fronts.
type ServerOptions struct {
	// Credentials, when set, make the cloud fronts verify every signature.
	Credentials *Credentials
}

// NewServer wires the API fronts onto one handler.
func NewServer(e *Engine, opts ServerOptions) *Server {
	s := &Server{engine: e, log: e.log, creds: opts.Credentials}
	mux := http.NewServeMux()
	s.registerNative(mux)
	s.registerSCF(mux)
	s.registerLambda(mux)
	mux.HandleFunc("/", s.notFound)
	s.handler = s.withAWSRoot(mux)
	return s
}

// Engine returns the engine behind the server.
func (s *Server) Engine() *Engine { return s.engine }

// maxHeaderBytes bounds a request's headers. The HTTP server reads up to
// 1 MiB of them so that an oversize request still reaches ServeHTTP and is
// answered in the shape its client parses, not with a bare 431.
const (
	maxHeaderBytes       = 64 << 10
	serverMaxHeaderBytes = 1 << 20
)

func headerBytes(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// rejectOversizeHeaders answers a request whose headers exceed maxHeaderBytes
// as the front it was meant for answers errors.
func (s *Server) rejectOversizeHeaders(w http.ResponseWriter, r *http.Request) {
	msg := fmt.Sprintf("the request headers exceed %d bytes", maxHeaderBytes)
	id := uuid.NewString()
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		awsJSONError(w, http.StatusBadRequest, "InvalidParameterException", msg, id)
	case len(r.URL.Path) > 5 && r.URL.Path[1:3] == "20":
		awsRESTError(w, http.StatusBadRequest, "InvalidRequestContentException", msg, id)
	case r.URL.Path == "/" && r.Method == http.MethodPost:
		writeSCF(w, map[string]any{"Error": map[string]string{"Code": "InvalidParameter", "Message": msg}, "RequestId": id})
	default:
		writeNativeError(w, http.StatusRequestHeaderFieldsTooLarge, "HeadersTooLarge", msg)
	}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if headerBytes(r) > maxHeaderBytes {
		s.rejectOversizeHeaders(w, r)
		return
	}
	if s.creds != nil && strings.HasPrefix(r.URL.Path, "/v1/") && r.URL.Path != "/v1/health" && !s.nativeAuthorized(r) {
		// The native API runs code on request: with credentials set, it takes
		// the same pair as HTTP Basic authentication (http://ID:KEY@host/).
		w.Header().Set("WWW-Authenticate", `Basic realm="asyncfn"`)
		writeNativeError(w, http.StatusUnauthorized, "Unauthorized", "the emulator requires credentials: use http://ID:KEY@host:port or ASYNCFN_CREDENTIALS=ID:KEY")
		return
	}
	s.handler.ServeHTTP(w, r)
}

func (s *Server) nativeAuthorized(r *http.Request) bool {
	id, key, ok := r.BasicAuth()
	return ok && subtle.ConstantTimeCompare([]byte(id), []byte(s.creds.ID)) == 1 &&
		subtle.ConstantTimeCompare([]byte(key), []byte(s.creds.Key)) == 1
}

// Serve answers on ln until ctx ends, then stops accepting connections and
// returns; the caller closes the engine (which drains running events).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: serverMaxHeaderBytes}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	hs.Close() // ends long-lived log streams
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Listen opens addr, refusing a non-loopback address (the emulator runs code
// on request, so it is for this machine only unless explicitly exposed).
func Listen(addr string, allowRemote bool) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	if !allowRemote {
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("listen address %q is not a loopback address: the emulator runs code on request; pass --credentials to expose it beyond this machine", addr)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// notFound answers a request no front serves in the shape its client parses:
// Lambda's error for a versioned REST path (an unknown API version or
// operation), the native shape otherwise.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.Path) > 5 && r.URL.Path[1:3] == "20" {
		awsRESTError(w, http.StatusNotFound, "UnknownOperationException",
			fmt.Sprintf("the emulator serves no Lambda operation %s %s (API versions: 2015-03-31, 2017-10-31, 2019-09-25, 2019-09-30, 2025-12-01)", r.Method, r.URL.Path), uuid.NewString())
		return
	}
	writeNativeError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("nothing is served at %s %s (native API under /v1/, SCF at POST /, Lambda under /2015-03-31/)", r.Method, r.URL.Path))
}
