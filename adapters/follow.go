package adapters

import (
	"context"
	"time"
)

// Once a followed event has finished, its last lines may still be on the
// way: the emulator streams them within milliseconds, while a cloud delivers
// them in batches (CloudWatch's live tail about once a second; polled logs a
// poll interval later).
const (
	LingerLocal = 750 * time.Millisecond
	LingerCloud = 3 * time.Second
)

// FollowEnder is implemented by a provider whose Logs stream, given Tail and
// a RequestID, ends by itself (io.EOF) once that event has ended and every
// line of it was delivered, however far behind the reader is — the
// emulator's. Following one event on it needs no linger, which would cut
// off a reader that is behind a fast writer.
type FollowEnder interface {
	EndsFollowedEvent() bool
}

// StopWhenFinished calls cancel once event requestID of fn has reached a
// terminal status and linger more has passed, leaving time for its last log
// lines to arrive; it returns early when ctx ends. It is how a live tail of
// one event (logs --tail --request-id, the console's event log) ends on a
// cloud. On a FollowEnder it does nothing: the stream ends by itself.
func StopWhenFinished(ctx context.Context, cancel context.CancelFunc, p Provider, fn, requestID string, linger time.Duration) {
	if fe, ok := p.(FollowEnder); ok && fe.EndsFollowedEvent() {
		return
	}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		ev, err := p.Event(ctx, fn, requestID)
		if err == nil && ev.Status.Terminal() {
			select {
			case <-time.After(linger):
			case <-ctx.Done():
			}
			cancel()
			return
		}
	}
}
