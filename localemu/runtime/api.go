package runtime

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The Runtime API as the function's process sees it, on its instance's own
// listener. Two dialects share one invocation state:
//
// Lambda Runtime API (2018-06-01), answers 202 {"status":"OK"} like Lambda:
//
//	GET  /2018-06-01/runtime/invocation/next
//	POST /2018-06-01/runtime/invocation/{id}/response
//	POST /2018-06-01/runtime/invocation/{id}/error
//	POST /2018-06-01/runtime/init/error
//
// SCF Custom Runtime API (SCF_RUNTIME_API:SCF_RUNTIME_API_PORT), answers 200;
// the invocation in flight is implied, and /next carries the headers
// request_id, memory_limit_in_mb and time_limit_in_ms (sent in exactly that
// case — shell bootstraps often grep for them) besides Lambda's:
//
//	POST /runtime/init/ready
//	GET  /runtime/invocation/next
//	POST /runtime/invocation/response
//	POST /runtime/invocation/error
//	POST /runtime/init/error   (an emulator extension: SCF documents no such call)
//
// Errors are JSON {"errorType","errorMessage"}: 400 for a request id that is not
// in flight, 403 for an init error after the first invocation, 404 for an
// unknown path, 413 for a response over 6 MB.
//
// Every JSON body ends with a newline. Lambda's runtime API does so (its
// emulator, aws-lambda-runtime-interface-emulator, renders bodies with
// json.Encoder). SCF documents no body for init/ready or invocation/response;
// its own bash example prints them with curl -s, and without the newline the
// handler's next echo would be glued to {"status":"OK"}.
const (
	headerRequestID  = "Lambda-Runtime-Aws-Request-Id"
	headerDeadline   = "Lambda-Runtime-Deadline-Ms"
	headerARN        = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID    = "Lambda-Runtime-Trace-Id"
	headerErrorType  = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody = "Lambda-Runtime-Function-Error-Body"
)

func (i *Instance) routes() http.Handler { return runtimeAPI{i} }

// runtimeAPI is the Runtime API as one switch on method and path rather than
// an http.ServeMux: every instance serves its own listener, and a thousand
// live instances would each hold a mux's parsed patterns (8 MB in all).
type runtimeAPI struct{ i *Instance }

const lambdaInvocation = "/2018-06-01/runtime/invocation/"

func (a runtimeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i, p := a.i, r.URL.Path
	switch r.Method {
	case http.MethodGet:
		if p == lambdaInvocation+"next" || p == "/runtime/invocation/next" {
			i.handleNext(w, r)
			return
		}
	case http.MethodPost:
		switch p {
		case "/2018-06-01/runtime/init/error":
			i.handleInitError(w, r, false)
			return
		case "/runtime/init/ready":
			_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
			i.mu.Lock()
			i.scfReady = true
			i.mu.Unlock()
			writeJSON(w, http.StatusOK, map[string]string{"status": "OK"})
			return
		case "/runtime/invocation/response":
			i.handleResponse(w, r, "", true)
			return
		case "/runtime/invocation/error":
			i.handleError(w, r, "", true)
			return
		case "/runtime/init/error":
			i.handleInitError(w, r, true)
			return
		}
		// /2018-06-01/runtime/invocation/{id}/response and .../{id}/error.
		if rest, ok := strings.CutPrefix(p, lambdaInvocation); ok {
			id, action, ok := strings.Cut(rest, "/")
			if ok && id != "" {
				switch action {
				case "response":
					i.handleResponse(w, r, id, false)
					return
				case "error":
					i.handleError(w, r, id, false)
					return
				}
			}
		}
	}
	writeAPIError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("no runtime API at %s %s", r.Method, p))
}

// handleNext blocks until Invoke hands over a request (or the runtime goes away).
func (i *Instance) handleNext(w http.ResponseWriter, r *http.Request) {
	i.mu.Lock()
	stale := i.current
	if i.firstNext.IsZero() {
		i.firstNext = time.Now() // the init phase ends
	}
	i.mu.Unlock()
	if stale != nil {
		// Asking for more work without answering: the invocation cannot succeed.
		i.deliver(stale, answer{err: &FunctionError{Type: "Runtime.NoResponse",
			Message: "the runtime asked for the next invocation without answering this one"}, at: time.Now()})
	}
	var inv *invocation
	select {
	case inv = <-i.nextCh:
	case <-r.Context().Done():
		return
	}
	req := inv.req
	// The deadline starts now: the init phase does not count against it.
	now := time.Now()
	if inv.deadline.IsZero() {
		inv.deadline = now.Add(inv.timeout)
	}
	inv.handedAt = now
	i.mu.Lock()
	i.current = inv
	i.handedAny = true
	i.setLogID(req.RequestID)
	i.mu.Unlock()
	close(inv.handed)
	if req.OnHandoff != nil {
		req.OnHandoff(now)
	}

	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set(headerRequestID, req.RequestID)
	h.Set(headerDeadline, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	if i.cfg.ARN != "" {
		h.Set(headerARN, i.cfg.ARN)
	}
	if req.TraceID != "" {
		h.Set(headerTraceID, req.TraceID)
	}
	limit := inv.timeout
	if limit <= 0 {
		limit = i.cfg.Timeout
	}
	if limit <= 0 {
		limit = time.Until(inv.deadline)
	}
	// Set directly to keep the lower-case names SCF uses.
	h["request_id"] = []string{req.RequestID}
	h["memory_limit_in_mb"] = []string{strconv.Itoa(i.cfg.MemoryMB)}
	h["time_limit_in_ms"] = []string{strconv.FormatInt(limit.Milliseconds(), 10)}
	payload := req.Payload
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	h.Set("Content-Length", strconv.Itoa(len(payload)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(payload)
}

// inFlight returns the invocation an answer names, or writes the API error.
func (i *Instance) inFlight(w http.ResponseWriter, id string, scf bool) *invocation {
	i.mu.Lock()
	inv := i.current
	i.mu.Unlock()
	switch {
	case inv == nil && scf:
		writeAPIError(w, http.StatusBadRequest, "InvalidStateTransition", "no invocation is in progress")
		return nil
	case !scf && (inv == nil || inv.req.RequestID != id):
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", fmt.Sprintf("request id %q is not the invocation in progress", id))
		return nil
	}
	return inv
}

func (i *Instance) handleResponse(w http.ResponseWriter, r *http.Request, id string, scf bool) {
	inv := i.inFlight(w, id, scf)
	if inv == nil {
		return
	}
	body, tooLarge, err := readBody(r)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequest", "reading the response body: "+err.Error())
		return
	}
	at := time.Now()
	if tooLarge {
		msg := fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", maxResponseBytes)
		i.deliver(inv, answer{err: &FunctionError{Type: "Function.ResponseSizeTooLarge", Message: msg}, at: at})
		w.Header().Set("Connection", "close")
		writeAPIError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", msg)
		return
	}
	// aws-lambda-go reports a failure while streaming the body in trailers.
	if et := r.Trailer.Get(headerErrorType); et != "" {
		fe := &FunctionError{Type: et, Message: "the function failed while sending its response"}
		if raw, err := base64.StdEncoding.DecodeString(r.Trailer.Get(trailerErrorBody)); err == nil {
			if parsed := parseFunctionError(raw, et); parsed.Message != "" {
				fe = parsed
			}
		}
		i.deliver(inv, answer{err: fe, at: at})
	} else {
		i.deliver(inv, answer{payload: body, at: at})
	}
	writeOK(w, scf)
}

func (i *Instance) handleError(w http.ResponseWriter, r *http.Request, id string, scf bool) {
	inv := i.inFlight(w, id, scf)
	if inv == nil {
		return
	}
	body, _, err := readBody(r)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequest", "reading the error body: "+err.Error())
		return
	}
	i.deliver(inv, answer{err: parseFunctionError(body, r.Header.Get(headerErrorType)), at: time.Now()})
	writeOK(w, scf)
}

func (i *Instance) handleInitError(w http.ResponseWriter, r *http.Request, scf bool) {
	body, _, err := readBody(r)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequest", "reading the error body: "+err.Error())
		return
	}
	fe := parseFunctionError(body, r.Header.Get(headerErrorType))
	i.mu.Lock()
	if i.current != nil {
		i.mu.Unlock()
		writeAPIError(w, http.StatusForbidden, "InvalidStateTransition", "init error reported while an invocation is in progress")
		return
	}
	first := i.initErr == nil
	if first {
		i.initErr = fe
	}
	i.mu.Unlock()
	if first {
		close(i.initFailed)
	}
	writeOK(w, scf)
}

// deliver hands the runtime's answer to the waiting Invoke. Output written
// before the answer is attributed to the invocation first: every line it
// wrote is delivered before Invoke returns.
func (i *Instance) deliver(inv *invocation, a answer) {
	inv.answering.Store(true)
	i.syncLogs()
	i.mu.Lock()
	if i.current == inv {
		i.current = nil
		i.setLogID("")
		i.streams[1].resetTail() // ExitError quotes what came after this answer
	}
	i.mu.Unlock()
	select {
	case inv.result <- a:
	default: // already answered
	}
}

// readBody reads at most maxResponseBytes; tooLarge reports a longer body.
func readBody(r *http.Request) (body []byte, tooLarge bool, err error) {
	body, err = io.ReadAll(io.LimitReader(r.Body, maxResponseBytes+1))
	if err != nil {
		return nil, false, err
	}
	if len(body) > maxResponseBytes {
		return nil, true, nil
	}
	return body, false, nil
}

// parseFunctionError decodes {errorType, errorMessage, stackTrace}; a body that
// is not that JSON becomes the message, typed by the header or "Unhandled".
func parseFunctionError(body []byte, headerType string) *FunctionError {
	var raw struct {
		Type    string          `json:"errorType"`
		Message string          `json:"errorMessage"`
		Trace   json.RawMessage `json:"stackTrace"`
	}
	fe := &FunctionError{}
	if err := json.Unmarshal(body, &raw); err == nil && (raw.Type != "" || raw.Message != "") {
		fe.Type, fe.Message = raw.Type, raw.Message
		var lines []string
		var text string
		if json.Unmarshal(raw.Trace, &lines) == nil {
			fe.Trace = lines
		} else if json.Unmarshal(raw.Trace, &text) == nil && text != "" {
			fe.Trace = strings.Split(strings.TrimRight(text, "\n"), "\n")
		} else if len(raw.Trace) > 0 && string(raw.Trace) != "null" {
			fe.Trace = []string{string(raw.Trace)}
		}
	} else {
		fe.Message = strings.TrimSpace(string(body))
		if len(fe.Message) > 64<<10 {
			fe.Message = fe.Message[:64<<10]
		}
	}
	if fe.Type == "" {
		fe.Type = headerType
	}
	if fe.Type == "" {
		fe.Type = "Unhandled"
	}
	return fe
}

func writeOK(w http.ResponseWriter, scf bool) {
	code := http.StatusAccepted
	if scf {
		code = http.StatusOK
	}
	writeJSON(w, code, map[string]string{"status": "OK"})
}

func writeAPIError(w http.ResponseWriter, code int, typ, msg string) {
	writeJSON(w, code, map[string]string{"errorType": typ, "errorMessage": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, _ := json.Marshal(v)
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
