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

// StopWhenFinished calls cancel once event requestID of fn has reached a
// terminal status and linger more has passed, leaving time for its last log
// lines to arrive; it returns early when ctx ends. It is how a live tail of
// one event (logs --tail --request-id, the console's event log) ends.
func StopWhenFinished(ctx context.Context, cancel context.CancelFunc, p Provider, fn, requestID string, linger time.Duration) {
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
