package localemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/event"
	"github.com/asyncfn/asyncfn/localemu/store"
	"github.com/asyncfn/asyncfn/nativeapi"
)

// oldEvent stores an event of fn in status st, created ago and (if
// terminal) ended ago minus a minute, with one attempt and lines of output
// of lineBytes bytes each.
func oldEvent(t *testing.T, e *Engine, fn string, st event.Status, ago time.Duration, lines, lineBytes int) string {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	ev := store.Event{RequestID: fmt.Sprintf("%s-%s-%d", fn, strings.ToLower(string(st)), now.UnixNano()), Function: fn,
		InvokeType: event.InvokeEvent, Status: st, CreatedAt: now.Add(-ago), Attempts: 1, StartedAt: now.Add(-ago)}
	if st.Terminal() {
		ev.EndedAt = now.Add(-ago + time.Minute)
	}
	// The output first: the event must not be pruned before all of it is stored.
	text := strings.Repeat("y", lineBytes)
	for i := range lines {
		e.logs.append(store.LogLine{Function: fn, RequestID: ev.RequestID, Attempt: 1, Time: ev.StartedAt, Stream: "stdout",
			Text: fmt.Sprintf("%06d %s", i, text)})
	}
	e.logs.flush()
	if err := e.store.InsertEvent(ctx, &ev); err != nil {
		t.Fatal(err)
	}
	a := store.Attempt{RequestID: ev.RequestID, N: 1, StartedAt: ev.StartedAt, EndedAt: ev.EndedAt, Status: st}
	if err := e.store.PutAttempt(ctx, a); err != nil {
		t.Fatal(err)
	}
	return ev.RequestID
}

// gone reports whether the event, its attempts and its log lines are all
// deleted, or all still there; anything between fails the test.
func gone(t *testing.T, e *Engine, id string) bool {
	t.Helper()
	ctx := context.Background()
	_, err := e.store.GetEvent(ctx, id)
	attempts, aerr := e.store.Attempts(ctx, id)
	lines, lerr := e.store.Logs(ctx, store.LogQuery{RequestID: id})
	if (aerr != nil && !errors.Is(aerr, store.ErrNotFound)) || lerr != nil {
		t.Fatal(aerr, lerr)
	}
	switch {
	case err != nil && len(attempts) == 0 && len(lines) == 0:
		return true
	case err == nil && len(attempts) > 0 && len(lines) > 0:
		return false
	}
	t.Fatalf("%s half deleted: event err %v, %d attempts, %d lines", id, err, len(attempts), len(lines))
	return false
}

// Retention deletes a finished event with its attempts and logs once it
// ended longer ago than the function's retention — the emulator's, or the
// function's own shorter rule (SCF: 3 days; a durable function: its
// retentionPeriodInDays) — and never an event that has not ended, however
// old.
func TestRetentionDeletesFinishedEventsOnly(t *testing.T) {
	e := newEngine(t, t.TempDir(), Options{Retention: 7 * 24 * time.Hour, PruneInterval: time.Hour})
	defer closeEngine(t, e)
	deploy(t, e, "scf", "ok", nil) // tencent: 3 days
	deploy(t, e, "lambda", "ok", func(c *FunctionConfig) { c.Provider = "aws"; c.Runtime = "nodejs18.x" })
	deploy(t, e, "durable", "ok", func(c *FunctionConfig) {
		c.Provider, c.Runtime = "aws", "nodejs18.x"
		c.Async.Durable = &nativeapi.DurableConfig{ExecutionTimeout: 3600, RetentionPeriodInDays: 1}
	})
	day := 24 * time.Hour
	cases := []struct {
		fn     string
		status event.Status
		ago    time.Duration
		pruned bool
	}{
		{"scf", event.Succeeded, 4 * day, true},     // past SCF's 3 days
		{"scf", event.Failed, 2 * day, false},       // within them
		{"lambda", event.TimedOut, 4 * day, false},  // within the emulator's 7 days
		{"lambda", event.Terminated, 8 * day, true}, // past them
		{"durable", event.Succeeded, 2 * day, true}, // past its 1 day
		{"durable", event.Failed, time.Hour, false},
		{"lambda", event.Running, 30 * day, false}, // not ended: never
		{"scf", event.Queued, 30 * day, false},
		{"gone", event.Succeeded, 8 * day, true}, // a removed function: the emulator's retention
		{"gone", event.Succeeded, 6 * day, false},
	}
	ids := make([]string, len(cases))
	for i, c := range cases {
		ids[i] = oldEvent(t, e, c.fn, c.status, c.ago, 10, 20)
	}
	if err := e.prune(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		if got := gone(t, e, ids[i]); got != c.pruned {
			t.Errorf("%s %s %s ago: deleted %v, want %v", c.fn, c.status, c.ago, got, c.pruned)
		}
	}
}

// "never" keeps everything, the functions' own rules included.
func TestRetentionNeverKeepsEverything(t *testing.T) {
	e := newEngine(t, t.TempDir(), Options{Retention: -1, PruneInterval: time.Hour})
	defer closeEngine(t, e)
	deploy(t, e, "scf", "ok", nil) // tencent: 3 days, but not with never
	id := oldEvent(t, e, "scf", event.Succeeded, 400*24*time.Hour, 3, 20)
	if err := e.prune(context.Background()); err != nil {
		t.Fatal(err)
	}
	if gone(t, e, id) {
		t.Fatal("retention never deleted a finished event")
	}
}

// The prune loop runs by itself, and the space deleted rows held goes back
// to the file system.
func TestRetentionRunsInTheBackgroundAndReclaimsSpace(t *testing.T) {
	e := newEngine(t, t.TempDir(), Options{Retention: time.Hour, PruneInterval: 100 * time.Millisecond, LogKeep: -1})
	defer closeEngine(t, e)
	var ids []string
	for range 8 {
		ids = append(ids, oldEvent(t, e, "big", event.Succeeded, 2*time.Hour, 2000, 1000)) // 2 MB of output each
	}
	running := oldEvent(t, e, "big", event.Running, 2*time.Hour, 10, 1000)
	deadline := time.Now().Add(20 * time.Second)
	var size int64
	for {
		var err error
		if size, err = e.store.Size(context.Background()); err != nil {
			t.Fatal(err)
		}
		// A prune in progress has deleted some of the events' lines, not yet
		// the events: wait for the event rows, then check everything.
		_, err = e.store.GetEvent(context.Background(), ids[len(ids)-1])
		deleted := errors.Is(err, store.ErrNotFound)
		if deleted && size < 4<<20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s: event deleted %v, database %d bytes (held 16 MB of output)", deleted, size)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, id := range ids {
		if !gone(t, e, id) {
			t.Errorf("%s not deleted", id)
		}
	}
	if gone(t, e, running) {
		t.Error("a RUNNING event older than the retention was deleted")
	}
	t.Logf("database after pruning 16 MB of output: %d bytes", size)
}

// syncBuffer is a bytes.Buffer safe for the logger's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Past its disk budget the store deletes the oldest finished events first,
// says so in the emulator's log, keeps what has not ended, and still
// accepts.
func TestDiskBudgetDeletesOldestFinishedFirst(t *testing.T) {
	var logBuf syncBuffer
	e, err := New(Options{StateDir: t.TempDir(), Retention: -1, MaxStoreSize: 8 << 20, PruneInterval: time.Hour, LogKeep: -1,
		Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer closeEngine(t, e)
	deploy(t, e, "fn", "ok", nil)
	var ids []string
	for i := range 20 {
		// 1 MB each, the oldest first; all within the retention (none).
		ids = append(ids, oldEvent(t, e, "fn", event.Succeeded, time.Duration(40-i)*time.Minute, 1000, 1000))
	}
	running := oldEvent(t, e, "fn", event.Running, 24*time.Hour, 2000, 1000) // the oldest of all, 2 MB
	before, _ := e.store.Size(context.Background())
	if err := e.prune(context.Background()); err != nil {
		t.Fatal(err)
	}
	after, _ := e.store.Size(context.Background())
	if after > 8<<20 {
		t.Fatalf("database %d bytes after pruning, budget %d (was %d)", after, 8<<20, before)
	}
	deleted := 0
	for i, id := range ids {
		if gone(t, e, id) {
			if i != deleted {
				t.Fatalf("event %d deleted while event %d, older, is kept", i, deleted)
			}
			deleted++
		}
	}
	if deleted == 0 || deleted == len(ids) {
		t.Fatalf("%d of %d finished events deleted", deleted, len(ids))
	}
	if gone(t, e, running) {
		t.Fatal("the budget deleted a RUNNING event")
	}
	if !strings.Contains(logBuf.String(), "the store was over its budget") {
		t.Fatalf("the emulator's log does not say it pruned for the budget:\n%s", logBuf.String())
	}
	// Still accepting.
	ev := invokeAsync(t, e, "fn", `{}`)
	if ev.RequestID == "" {
		t.Fatal("no accept after pruning")
	}
	t.Logf("database %d → %d bytes; %d oldest of %d finished events deleted", before, after, deleted, len(ids))
}

// An attempt the emulator was stopped in the middle of keeps, after the
// restart, what a finished one keeps: its head, a marker, its tail.
func TestRestartBoundsAnInterruptedAttemptsOutput(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	started := time.Now().Add(-time.Minute).UTC()
	ev := store.Event{RequestID: "0d9e4a52-7c51-4f0e-9a57-3c2b1f0e0a02", Function: "f", InvokeType: event.InvokeEvent, Payload: []byte(`{}`),
		Status: event.Running, Attempts: 1, CreatedAt: started, StartedAt: started}
	if err := st.InsertEvent(ctx, &ev); err != nil {
		t.Fatal(err)
	}
	const lines = 10000 // 100 bytes each with the newline: 1,000,000 bytes
	var out []store.LogLine
	for i := range lines {
		out = append(out, store.LogLine{Seq: int64(i + 1), Function: "f", RequestID: ev.RequestID, Attempt: 1, Time: started,
			Stream: "stdout", Text: fmt.Sprintf("%06d %s", i, strings.Repeat("z", 92))})
	}
	if err := st.AppendLogs(ctx, out); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, dir, Options{LogKeep: 20000}) // the first and the last 10,000 bytes: 100 lines each
	defer closeEngine(t, e)
	kept, err := e.Logs(ctx, store.LogQuery{RequestID: ev.RequestID})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range kept {
		if l.Stream == "stdout" {
			got = append(got, l.Text[:6])
		} else if strings.Contains(l.Text, "elided here") {
			got = append(got, "marker")
			if !strings.Contains(l.Text, "9,800 lines") {
				t.Errorf("marker %q: want 9,800 lines elided", l.Text)
			}
		}
	}
	if len(got) != 201 || got[0] != "000000" || got[99] != "000099" || got[100] != "marker" || got[101] != "009900" || got[200] != "009999" {
		t.Fatalf("kept %d lines: %v … %v", len(got), got[:min(3, len(got))], got[max(0, len(got)-3):])
	}
}
