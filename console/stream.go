package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/asyncfn/asyncfn/adapters"
)

// logStream sends an event's log as Server-Sent Events, from its first line
// (or after Last-Event-ID, when the browser reconnects), as the provider's
// live tail yields it, and ends once the event has ended — when the
// provider's stream ends (the emulator's, with the event's last line) or
// after adapters.StopWhenFinished's linger for the last lines (a cloud's) —
// with an "end" event carrying its status. Lines are JSON in "line" events; the page
// writes their text as text.
func (c *Console) logStream(w http.ResponseWriter, r *http.Request) {
	src, err := c.opts.Source(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	fn, err := c.function(r.Context(), src, r.PathValue("fn"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p, id := src.Provider(), r.PathValue("id")
	if _, err := p.Event(r.Context(), fn.Name, id); err != nil {
		c.fail(w, r, err)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stream, err := p.Logs(ctx, adapters.LogQuery{Function: fn.Name, RequestID: id, Tail: true, Cursor: r.Header.Get("Last-Event-ID")})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	defer stream.Close()
	finished := make(chan struct{})
	go func() {
		adapters.StopWhenFinished(ctx, func() { close(finished) }, p, fn.Name, id, c.opts.Linger)
	}()
	lines := make(chan adapters.LogLine)
	errc := make(chan error, 1)
	go func() {
		for {
			l, err := stream.Next(ctx)
			if err != nil {
				errc <- err
				return
			}
			select {
			case lines <- l:
			case <-ctx.Done():
				return
			}
		}
	}()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	send := func(format string, args ...any) bool {
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send(": log of %s\nretry: 1000\n\n", id) {
		return
	}
	end := func() {
		ev, err := p.Event(r.Context(), fn.Name, id)
		status := "ENDED"
		if err == nil {
			status = string(ev.Status)
		}
		send("event: end\ndata: %s\n\n", status)
	}
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	sendLine := func(l adapters.LogLine) bool {
		b, _ := json.Marshal(struct {
			Time   string `json:"time"`
			Stream string `json:"stream,omitempty"`
			Text   string `json:"text"`
		}{l.Time.UTC().Format(timeLayout + ".000"), l.Stream, l.Text})
		return send("id: %s\nevent: line\ndata: %s\n\n", oneField(l.Cursor), b)
	}
	for {
		select {
		case l := <-lines:
			if !sendLine(l) {
				return
			}
		case <-finished:
			// A line read just as the linger ran out is still sent.
			for drained := false; !drained; {
				select {
				case l := <-lines:
					if !sendLine(l) {
						return
					}
				case <-time.After(50 * time.Millisecond):
					drained = true
				}
			}
			end()
			return
		case err := <-errc:
			if errors.Is(err, io.EOF) {
				// A FollowEnder's stream (the emulator's) ends once the
				// event has ended and every line of it was sent.
				end()
				return
			}
			if ctx.Err() == nil {
				c.opts.Logger.Warn("console log stream", "function", fn.Name, "requestId", id, "error", err)
				send("event: failed\ndata: %s\n\n", oneField(err.Error()))
			}
			return
		case <-keepAlive.C:
			if !send(": keep-alive\n\n") {
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// oneField keeps a value on one SSE line.
func oneField(s string) string {
	return oneLine(s, 1<<20)
}
