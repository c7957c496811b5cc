package aws

// CloudWatch Logs StartLiveTail (JSON 1.1, X-Amz-Target:
// Logs_20140328.StartLiveTail): a response event stream
// (application/vnd.amazon.eventstream) fed by the engine's live log
// subscription.
//
// The stream is framed as CloudWatch Logs frames it, message by message with
// the SDK's event-stream encoder:
//
//   - ":message-type: event", ":event-type: initial-response": the (empty)
//     operation output. The awsJson protocols open every output event stream
//     with it; the SDKs read it before the first event.
//   - ":event-type: sessionStart": one LiveTailSessionStart.
//   - ":event-type: sessionUpdate": every second, a LiveTailSessionUpdate with
//     the lines gathered since the last one (an empty array when there were
//     none), at most 500 (more are sampled: the newest 500 are kept and
//     sessionMetadata.sampled is true).
//   - ":message-type: exception", ":exception-type: SessionTimeoutException"
//     after three hours (the service's session limit), or
//     "SessionStreamingException" when the emulator shuts down; the stream
//     ends after it.
//
// Every event payload is JSON (":content-type: application/json"). Errors
// found before the stream starts (an unknown log group, a bad parameter) are
// ordinary JSON 1.1 error responses, as the service answers them. Messages are
// formatted as FilterLogEvents formats the same lines, and the filter pattern
// is FilterLogEvents' matcher.
//
// This is the front's one streaming answer. cwStartLiveTail is a handler as
// every other route's is: it checks the request, returning its errors to be
// answered in the JSON 1.1 shape, subscribes to the log, and returns
// streamAnswer(st). awsHandler hands st to serveEventStream, which sends
// the event-stream headers and runs it — the session — for as long as it
// lasts; st's subscription is closed when serveEventStream returns.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/google/uuid"

	"github.com/asyncfn/asyncfn/localemu"
	"github.com/asyncfn/asyncfn/localemu/store"
)

// The session's pace and limits; variables so that tests can shorten them.
var (
	cwLiveTailInterval   = time.Second   // one sessionUpdate per interval
	cwLiveTailMaxSession = 3 * time.Hour // then SessionTimeoutException
	cwLiveTailMaxResults = 500           // lines per sessionUpdate
	cwLiveTailMaxGroups  = 10            // logGroupIdentifiers
	// cwLiveTailAnswerDelay: see cwStartLiveTail.
	cwLiveTailAnswerDelay = 20 * time.Millisecond
)

const cwEventStreamType = "application/vnd.amazon.eventstream"

// liveTailEvent is a LiveTailSessionLogEvent on the wire.
type liveTailEvent struct {
	LogStreamName      string `json:"logStreamName"`
	LogGroupIdentifier string `json:"logGroupIdentifier"`
	Message            string `json:"message"`
	Timestamp          int64  `json:"timestamp"`
	IngestionTime      int64  `json:"ingestionTime"`
}

type liveTailUpdate struct {
	SessionMetadata struct {
		Sampled bool `json:"sampled"`
	} `json:"sessionMetadata"`
	SessionResults []liveTailEvent `json:"sessionResults"`
}

// eventStream is a streaming answer (StartLiveTail's): what serveEventStream
// runs after the event-stream headers.
type eventStream struct {
	// run writes the stream's messages until it ends or the client goes
	// (ctx ends).
	run func(ctx context.Context, w *liveTailWriter)
	// close releases what the stream holds; serveEventStream calls it
	// whether run was called or not.
	close func()
}

// streamAnswer answers with an event stream.
func streamAnswer(st *eventStream) answer { return answer{status: http.StatusOK, stream: st} }

// serveEventStream writes a streaming answer: 200 with the event-stream
// headers, then the stream.
func serveEventStream(w http.ResponseWriter, r *http.Request, st *eventStream, requestID string) {
	defer st.close()
	// A pause before answering, as the network gives one. aws-sdk-go-v2
	// closes the request body as soon as the response headers arrive, and
	// net/http may still be checking that body for bytes past its
	// Content-Length; a body closed under that check fails the request write,
	// and net/http then closes the connection and with it the event stream.
	// Only an answer within microseconds (a loopback server) races it.
	select {
	case <-time.After(cwLiveTailAnswerDelay):
	case <-r.Context().Done():
		return
	}
	lw := &liveTailWriter{w: w, rc: http.NewResponseController(w), enc: eventstream.NewEncoder()}
	w.Header().Set("Content-Type", cwEventStreamType)
	w.Header().Set("X-Amzn-RequestId", requestID)
	w.WriteHeader(http.StatusOK)
	st.run(r.Context(), lw) // ctx ends when the client goes away
}

func (s *Front) cwStartLiveTail(ctx context.Context, c *awsCall) (answer, error) {
	var in struct {
		LogGroupIdentifiers   []string `json:"logGroupIdentifiers"`
		LogStreamNames        []string `json:"logStreamNames"`
		LogStreamNamePrefixes []string `json:"logStreamNamePrefixes"`
		LogEventFilterPattern *string  `json:"logEventFilterPattern"`
	}
	if err := c.decode(&in); err != nil {
		return answer{}, err
	}
	switch {
	case len(in.LogGroupIdentifiers) == 0 || len(in.LogGroupIdentifiers) > cwLiveTailMaxGroups:
		return answer{}, invalidParameter("logGroupIdentifiers must name 1 to %d log groups", cwLiveTailMaxGroups)
	case len(in.LogStreamNames) > 0 && len(in.LogStreamNamePrefixes) > 0:
		return answer{}, invalidParameter("logStreamNames and logStreamNamePrefixes cannot both be given")
	case (len(in.LogStreamNames) > 0 || len(in.LogStreamNamePrefixes) > 0) && len(in.LogGroupIdentifiers) > 1:
		return answer{}, invalidParameter("logStreamNames and logStreamNamePrefixes need exactly one log group")
	}
	pattern := ""
	if in.LogEventFilterPattern != nil {
		pattern = *in.LogEventFilterPattern
	}
	pat, err := parseCWPattern(pattern)
	if err != nil {
		return answer{}, invalidParameter("logEventFilterPattern %q: %v", pattern, err)
	}
	groupOf := map[string]string{} // function -> the identifier the client gave
	var fns []string
	for _, id := range in.LogGroupIdentifiers {
		if strings.HasPrefix(id, "arn:") && strings.HasSuffix(id, "*") {
			return answer{}, invalidParameter("log group ARN %q must not end with an asterisk", id)
		}
		f, err := s.cwFunction(ctx, "", id)
		if err != nil {
			return answer{}, err // ResourceNotFoundException
		}
		if _, dup := groupOf[f.Name]; !dup {
			groupOf[f.Name] = id
			fns = append(fns, f.Name)
		}
	}
	streams := map[string]bool{}
	for _, n := range in.LogStreamNames {
		streams[n] = true
	}
	wanted := func(stream string) bool {
		if len(streams) > 0 {
			return streams[stream]
		}
		for _, p := range in.LogStreamNamePrefixes {
			if strings.HasPrefix(stream, p) {
				return true
			}
		}
		return len(in.LogStreamNamePrefixes) == 0
	}

	// Subscribe before the session starts: every line written after the
	// sessionStart event reaches the client.
	sub := s.engine.SubscribeLogs(localemu.LogFilter{Functions: fns, RequestID: pat.requestID}, -1)
	start := struct {
		RequestID             string   `json:"requestId"`
		SessionID             string   `json:"sessionId"`
		LogGroupIdentifiers   []string `json:"logGroupIdentifiers"`
		LogStreamNames        []string `json:"logStreamNames,omitempty"`
		LogStreamNamePrefixes []string `json:"logStreamNamePrefixes,omitempty"`
		LogEventFilterPattern *string  `json:"logEventFilterPattern,omitempty"`
	}{c.requestID, uuid.NewString(), in.LogGroupIdentifiers, in.LogStreamNames, in.LogStreamNamePrefixes, in.LogEventFilterPattern}
	session := func(ctx context.Context, w *liveTailWriter) {
		if w.event("initial-response", struct{}{}) != nil || w.event("sessionStart", start) != nil {
			return
		}
		liveTailSession(ctx, w, sub, func(l store.LogLine) (liveTailEvent, bool) {
			ev := cwEventOf(l, true)
			if !wanted(ev.LogStreamName) || !pat.match(ev.Message) {
				return liveTailEvent{}, false
			}
			return liveTailEvent{LogStreamName: ev.LogStreamName, LogGroupIdentifier: groupOf[l.Function],
				Message: ev.Message, Timestamp: ev.Timestamp, IngestionTime: ev.IngestionTime}, true
		})
	}
	return streamAnswer(&eventStream{run: session, close: sub.Close}), nil
}

// liveTailSession sends a sessionUpdate every cwLiveTailInterval with the
// lines of sub that pick keeps, until the session's time limit, the
// subscription's end or the client's (ctx).
func liveTailSession(ctx context.Context, w *liveTailWriter, sub *localemu.Subscription, pick func(store.LogLine) (liveTailEvent, bool)) {
	ends := time.Now().Add(cwLiveTailMaxSession)
	next := time.Now().Add(cwLiveTailInterval)
	for {
		if !next.Before(ends) {
			next = ends
		}
		upd := liveTailUpdate{SessionResults: []liveTailEvent{}}
		err := gatherUntil(ctx, sub, next, func(l store.LogLine) {
			ev, keep := pick(l)
			if !keep {
				return
			}
			upd.SessionResults = append(upd.SessionResults, ev)
			if n := len(upd.SessionResults); n >= 2*cwLiveTailMaxResults {
				// Sampled down: keep the newest lines, as many as one update carries.
				upd.SessionResults = append(upd.SessionResults[:0], upd.SessionResults[n-cwLiveTailMaxResults:]...)
				upd.SessionMetadata.Sampled = true
			}
		})
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, localemu.ErrShuttingDown):
			_ = w.exception("SessionStreamingException", "the emulator is shutting down")
			return
		case err != nil:
			_ = w.exception("SessionStreamingException", err.Error())
			return
		}
		if n := len(upd.SessionResults); n > cwLiveTailMaxResults {
			upd.SessionResults = upd.SessionResults[n-cwLiveTailMaxResults:]
			upd.SessionMetadata.Sampled = true
		}
		if w.event("sessionUpdate", upd) != nil {
			return
		}
		if !time.Now().Before(ends) {
			_ = w.exception("SessionTimeoutException", fmt.Sprintf("the Live Tail session has ended after %s", cwLiveTailMaxSession))
			return
		}
		next = next.Add(cwLiveTailInterval)
		if now := time.Now(); next.Before(now) {
			next = now.Add(cwLiveTailInterval) // a slow client: don't burst to catch up
		}
	}
}

// gatherUntil passes sub's lines to add until the deadline. It returns
// ctx's error when ctx ends, the subscription's error when it fails, and nil
// at the deadline.
func gatherUntil(ctx context.Context, sub *localemu.Subscription, deadline time.Time, add func(store.LogLine)) error {
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	for {
		lines, err := sub.Next(dctx, cwLiveTailMaxResults)
		for _, l := range lines {
			add(l)
		}
		if err != nil {
			if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				return nil
			}
			return err
		}
		if !time.Now().Before(deadline) {
			return nil // lines keep coming: the update is due all the same
		}
	}
}

// liveTailWriter frames messages with the event-stream encoder and flushes
// each one, so that the client sees it at once through a chunked response.
type liveTailWriter struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	enc *eventstream.Encoder
}

func (lw *liveTailWriter) write(headers eventstream.Headers, v any) error {
	payload, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := lw.enc.Encode(lw.w, eventstream.Message{Headers: headers, Payload: payload}); err != nil {
		return err
	}
	return lw.rc.Flush()
}

func (lw *liveTailWriter) event(typ string, v any) error {
	var h eventstream.Headers
	h.Set(":message-type", eventstream.StringValue("event"))
	h.Set(":event-type", eventstream.StringValue(typ))
	h.Set(":content-type", eventstream.StringValue("application/json"))
	return lw.write(h, v)
}

func (lw *liveTailWriter) exception(typ, msg string) error {
	var h eventstream.Headers
	h.Set(":message-type", eventstream.StringValue("exception"))
	h.Set(":exception-type", eventstream.StringValue(typ))
	h.Set(":content-type", eventstream.StringValue("application/json"))
	return lw.write(h, map[string]string{"message": msg})
}
