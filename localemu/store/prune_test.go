package store

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/event"
)

// ElideLogs turns the first elided line into the marker and deletes the
// attempt's other lines up to Through, and no line of another event or
// attempt numbered in between.
func TestElideLogsTouchesOnlyItsAttempt(t *testing.T) {
	s := openT(t, t.TempDir())
	var lines []LogLine
	for seq := int64(1); seq <= 30; seq++ {
		l := LogLine{Seq: seq, Function: "f", RequestID: "a", Attempt: 1, Time: time.Now(), Stream: "stdout", Text: fmt.Sprint(seq)}
		switch seq % 3 {
		case 1:
			l.RequestID = "b" // another event, numbered in between
		case 2:
			l.Attempt = 2 // another attempt of the same event
		}
		lines = append(lines, l)
	}
	if err := s.AppendLogs(ctx, lines); err != nil {
		t.Fatal(err)
	}
	// Attempt 1 of a has seqs 3, 6, …, 30; elide 6 … 24, the marker at 6.
	if err := s.ElideLogs(ctx, Elision{RequestID: "a", Attempt: 1, Marker: 6, Through: 24, Text: "elided"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Logs(ctx, LogQuery{RequestID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	var a1 []string
	a2 := 0
	for _, l := range got {
		if l.Attempt == 1 {
			a1 = append(a1, fmt.Sprintf("%d:%s:%s", l.Seq, l.Stream, l.Text))
		} else {
			a2++
		}
	}
	if want := []string{"3:stdout:3", "6:platform:elided", "27:stdout:27", "30:stdout:30"}; fmt.Sprint(a1) != fmt.Sprint(want) {
		t.Fatalf("attempt 1 after eliding: %v, want %v", a1, want)
	}
	b, err := s.Logs(ctx, LogQuery{RequestID: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if a2 != 10 || len(b) != 10 {
		t.Fatalf("attempt 2 has %d lines, event b %d: want 10 each, untouched", a2, len(b))
	}
}

// PruneEvents deletes only events that are still terminal when it runs.
func TestPruneEventsSparesUnfinished(t *testing.T) {
	s := openT(t, t.TempDir())
	old := time.Now().Add(-time.Hour)
	for id, st := range map[string]event.Status{"done": event.Succeeded, "running": event.Running, "queued": event.Queued} {
		e := &Event{RequestID: id, Function: "f", Status: st, CreatedAt: old}
		if st.Terminal() {
			e.EndedAt = old
		}
		if err := s.InsertEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PruneEvents(ctx, []string{"done", "running", "queued", "unknown"})
	if err != nil || n != 1 {
		t.Fatalf("PruneEvents: %d, %v; want 1 deleted", n, err)
	}
	for id, want := range map[string]bool{"done": false, "running": true, "queued": true} {
		if _, err := s.GetEvent(ctx, id); (err == nil) != want {
			t.Errorf("%s: still stored %v, want %v", id, err == nil, want)
		}
	}
}

// A state directory written before the store used incremental vacuum is
// converted once, when it is opened, and keeps its data.
func TestOpenConvertsToIncrementalVacuum(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	if err := s.InsertEvent(ctx, &Event{RequestID: "kept", Function: "f", Status: event.Succeeded, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", filepath.Join(dir, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"PRAGMA auto_vacuum=NONE", "VACUUM"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	var mode int
	db.QueryRow("PRAGMA auto_vacuum").Scan(&mode)
	db.Close()
	if mode != 0 {
		t.Fatalf("setup: auto_vacuum is %d, want 0 (none)", mode)
	}
	s = openT(t, dir)
	if err := s.rdb.QueryRow("PRAGMA auto_vacuum").Scan(&mode); err != nil || mode != 2 {
		t.Fatalf("after open: auto_vacuum %d (%v), want 2 (incremental)", mode, err)
	}
	if _, err := s.GetEvent(ctx, "kept"); err != nil {
		t.Fatalf("the event did not survive the conversion: %v", err)
	}
}
