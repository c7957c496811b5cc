package native

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/front"
	"github.com/asyncfn/asyncfn/nativeapi"
)

// Every native route but one is a handler: it reads the request and returns
// what to answer — a status and a JSON body — or an error, and serve turns
// either into the HTTP answer, so no handler writes to the connection. Errors
// are answered in the native error shape, {"error":{"code","message"}}, by
// writeNativeError: a *requestError with the status and code it carries, any
// other error (the engine's) by its kind through wireError.
//
// The one exception is the live log tail, GET /v1/logs/stream, which writes
// Server-Sent Events for as long as its client stays. It is a streamHandler,
// served by serveStream: it checks the request as a handler does (its errors
// are answered the same way, before anything is streamed) and returns the
// stream, which serveStream runs after sending the event-stream headers.

// answer is what a handler sends: a status and a body encoded as JSON, or
// the status alone when body is nil (204 No Content).
type answer struct {
	status int
	body   any
}

// ok answers 200 with body.
func ok(body any) answer { return answer{status: http.StatusOK, body: body} }

// handler is the shape of every native route but the log tail.
type handler func(ctx context.Context, r *http.Request) (answer, error)

// requestError is an answer the native API gives before, or instead of,
// asking the engine: a malformed request, a missing route or credentials.
type requestError struct {
	status int
	code   string
	msg    string
}

func (e *requestError) Error() string { return e.code + ": " + e.msg }

// badRequest is a 400 requestError.
func badRequest(code, format string, args ...any) *requestError {
	return &requestError{status: http.StatusBadRequest, code: code, msg: fmt.Sprintf(format, args...)}
}

// serve adapts a handler to HTTP. No request body is read past
// localemu.MaxDeployBody, the largest the native API takes (a deploy's
// code); a read past it fails and the connection closes after the answer.
func serve(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, localemu.MaxDeployBody)
		a, err := h(r.Context(), r)
		if err != nil {
			writeNativeError(w, err)
			return
		}
		if a.body == nil {
			w.WriteHeader(a.status)
			return
		}
		front.WriteJSON(w, a.status, a.body)
	}
}

// stream writes a live answer after its headers: it returns when the client
// has gone (a write fails or ctx ends). flush sends what was written so far.
type stream func(ctx context.Context, w io.Writer, flush func())

// streamHandler is the shape of the one route that answers incrementally:
// it checks the request and returns the stream to answer it with, or an error
// answered as a handler's is.
type streamHandler func(ctx context.Context, r *http.Request) (stream, error)

// serveStream adapts a streamHandler to HTTP: 200 with the Server-Sent
// Events headers, then the stream.
func serveStream(h streamHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st, err := h(r.Context(), r)
		if err != nil {
			writeNativeError(w, err)
			return
		}
		flusher, ok := w.(http.Flusher)
		if !ok {
			writeNativeError(w, errors.New("streaming is not supported by this connection"))
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		st(r.Context(), w, flusher.Flush)
	}
}

// writeNativeError answers err in the native error shape: a *requestError
// as it says, any other error by its kind (wireError).
func writeNativeError(w http.ResponseWriter, err error) {
	var re *requestError
	if !errors.As(err, &re) {
		status, code := wireError(localemu.KindOf(err))
		re = &requestError{status: status, code: code, msg: err.Error()}
	}
	front.WriteJSON(w, re.status, nativeapi.ErrorBody{Error: nativeapi.APIError{Code: re.code, Message: re.msg}})
}
