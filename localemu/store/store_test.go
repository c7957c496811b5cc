package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asyncfn/asyncfn/event"
)

func openT(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var ctx = context.Background()

func TestOpenCreatesDirAndFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", ".asyncfn")
	s := openT(t, dir)
	if err := s.InsertEvent(ctx, &Event{RequestID: "r1", Function: "f"}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o700 {
		t.Errorf("dir mode %o, want 700", got)
	}
	for _, name := range []string{DBFile, DBFile + "-wal", DBFile + "-shm"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s mode %o, want 600", name, got)
		}
	}
	if s.Path() != filepath.Join(dir, DBFile) {
		t.Errorf("Path %q", s.Path())
	}
	var mode string
	if err := s.rdb.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q %v", mode, err)
	}
	var fk int
	if err := s.wc.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys %d %v", fk, err)
	}
	var sync int
	if err := s.wc.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil || sync != 1 {
		t.Errorf("synchronous %d %v, want 1 (NORMAL, the default)", sync, err)
	}
	full, err := OpenWith(t.TempDir(), Options{Synchronous: SyncFull})
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	if err := full.wc.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil || sync != 2 {
		t.Errorf("synchronous %d %v, want 2 (FULL)", sync, err)
	}
}

func TestSchemaVersion(t *testing.T) {
	if len(migrations()) != SchemaVersion {
		t.Fatalf("%d migrations, SchemaVersion %d", len(migrations()), SchemaVersion)
	}
	dir := t.TempDir()
	s := openT(t, dir)
	v, err := s.SchemaVersion(ctx)
	if err != nil || v != SchemaVersion {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, SchemaVersion)
	}
	// Reopening does not migrate again.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir)
	if v, _ := s.SchemaVersion(ctx); v != SchemaVersion {
		t.Fatalf("after reopen: %d", v)
	}
	// A database from the future is refused with a clear error.
	if _, err := s.wc.ExecContext(ctx, "PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(dir)
	if err == nil || !strings.Contains(err.Error(), "newer") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Open of a newer schema: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Run("dir is a regular file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "state")
		os.WriteFile(file, []byte("x"), 0o600)
		_, err := Open(file)
		if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "not a directory") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("dir not creatable", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		os.WriteFile(file, []byte("x"), 0o600)
		dir := filepath.Join(file, "sub")
		_, err := Open(dir)
		if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "cannot create") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("db file is a directory", func(t *testing.T) {
		dir := t.TempDir()
		os.Mkdir(filepath.Join(dir, DBFile), 0o700)
		_, err := Open(dir)
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, DBFile)) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("db corrupt", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, DBFile)
		os.WriteFile(path, []byte(strings.Repeat("this is not a database ", 500)), 0o600)
		_, err := Open(dir)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "corrupt") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("dir read-only", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "ro")
		os.Mkdir(dir, 0o700)
		os.Chmod(dir, 0o500)
		defer os.Chmod(dir, 0o700)
		if f, err := os.Create(filepath.Join(dir, "probe")); err == nil {
			f.Close()
			t.Skip("chmod does not stop this user (root): read-only directory cannot be simulated")
		}
		_, err := Open(dir)
		if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "not writable") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("bad options", func(t *testing.T) {
		if _, err := OpenWith(t.TempDir(), Options{Synchronous: "OFF"}); err == nil {
			t.Fatal("synchronous=OFF accepted")
		}
		if _, err := Open(""); err == nil {
			t.Fatal("empty dir accepted")
		}
	})
}

func TestFunctionVersions(t *testing.T) {
	clock := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	s, err := OpenWith(t.TempDir(), Options{Now: func() time.Time { clock = clock.Add(time.Second); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 1; i <= 3; i++ {
		f, err := s.PutFunction(ctx, Function{Name: "fn", Config: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)),
			CodeSHA256: fmt.Sprint("sha", i), CodeSize: int64(i * 100), Version: 42})
		if err != nil {
			t.Fatal(err)
		}
		if f.Version != i {
			t.Fatalf("version %d, want %d", f.Version, i)
		}
		if !f.CreatedAt.Equal(time.Date(2025, 1, 2, 3, 4, 6, 6, time.UTC)) || !f.UpdatedAt.Equal(clock) {
			t.Fatalf("times %v %v", f.CreatedAt, f.UpdatedAt)
		}
		got, err := s.GetFunction(ctx, "fn")
		if err != nil || !reflect.DeepEqual(got, f) {
			t.Fatalf("GetFunction = %+v, %v; want %+v", got, err, f)
		}
	}
	if _, err := s.PutFunction(ctx, Function{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	v2, err := s.GetFunctionVersion(ctx, "fn", 2)
	if err != nil || v2.Version != 2 || string(v2.Config) != `{"i":2}` || v2.CodeSHA256 != "sha2" || v2.CodeSize != 200 {
		t.Fatalf("version 2 = %+v, %v", v2, err)
	}
	list, err := s.ListFunctions(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "a" || list[1].Name != "fn" || list[1].Version != 3 || list[0].Config != nil {
		t.Fatalf("ListFunctions = %+v, %v", list, err)
	}
	if err := s.InsertEvent(ctx, &Event{RequestID: "e1", Function: "fn", Version: 3}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteFunction(ctx, "fn"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetFunction(ctx, "fn"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if _, err := s.GetEvent(ctx, "e1"); err != nil {
		t.Fatalf("event lost with its function: %v", err)
	}
	if err := s.DeleteFunction(ctx, "fn"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	f, err := s.PutFunction(ctx, Function{Name: "fn"})
	if err != nil || f.Version != 1 {
		t.Fatalf("recreate: %+v %v", f, err)
	}
	if _, err := s.PutFunction(ctx, Function{}); err == nil {
		t.Fatal("empty name accepted")
	}
}

func TestNotFound(t *testing.T) {
	s := openT(t, t.TempDir())
	checks := map[string]error{}
	_, checks["GetFunction"] = s.GetFunction(ctx, "nope")
	_, checks["GetFunctionVersion"] = s.GetFunctionVersion(ctx, "nope", 1)
	checks["DeleteFunction"] = s.DeleteFunction(ctx, "nope")
	_, checks["GetEvent"] = s.GetEvent(ctx, "nope")
	checks["UpdateEvent"] = s.UpdateEvent(ctx, &Event{RequestID: "nope", Status: event.Running})
	_, checks["FindEventByDurableName"] = s.FindEventByDurableName(ctx, "f", "nope")
	_, checks["FindEventByDurableName empty"] = s.FindEventByDurableName(ctx, "f", "")
	checks["PutAttempt"] = s.PutAttempt(ctx, Attempt{RequestID: "nope", N: 1})
	_, checks["Attempts"] = s.Attempts(ctx, "nope")
	for name, err := range checks {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		} else if !strings.Contains(err.Error(), "nope") && !strings.Contains(name, "empty") {
			t.Errorf("%s: %v does not name what was not found", name, err)
		}
	}
}

func fullEvent() Event {
	loc := time.FixedZone("X", 3600*5+1800)
	base := time.Date(2025, 6, 7, 8, 9, 10, 123456789, loc)
	return Event{
		RequestID:    "6f1c2d3e-0000-4000-8000-000000000001",
		Function:     "transcode",
		Version:      7,
		Qualifier:    "$LATEST",
		InvokeType:   event.InvokeEvent,
		Payload:      []byte(`{"video":"a.mp4","n":[1,2,3]}` + "\x00\xff"),
		Status:       event.Failed,
		Result:       []byte(`{"ok":false}`),
		ErrorType:    "Runtime.ExitError",
		ErrorMessage: "exit status 2\nwith a newline",
		Attempts:     3,
		CreatedAt:    base,
		StartedAt:    base.Add(1500 * time.Microsecond),
		EndedAt:      base.Add(3*time.Hour + 7),
		NextAttempt:  base.Add(time.Minute),
		DurationMs:   12345,
		MaxMemoryMB:  321,
		DurableName:  "order-42",
	}
}

func sameEvent(t *testing.T, got, want Event) {
	t.Helper()
	for _, p := range []struct {
		name string
		a, b time.Time
	}{{"CreatedAt", got.CreatedAt, want.CreatedAt}, {"StartedAt", got.StartedAt, want.StartedAt},
		{"EndedAt", got.EndedAt, want.EndedAt}, {"NextAttempt", got.NextAttempt, want.NextAttempt}} {
		if !p.a.Equal(p.b) {
			t.Errorf("%s = %v, want %v", p.name, p.a, p.b)
		}
	}
	got.CreatedAt, got.StartedAt, got.EndedAt, got.NextAttempt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	want.CreatedAt, want.StartedAt, want.EndedAt, want.NextAttempt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("event\n got %+v\nwant %+v", got, want)
	}
}

func TestEventRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	want := fullEvent()
	e := want
	if err := s.InsertEvent(ctx, &e); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetEvent(ctx, want.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	sameEvent(t, got, want)
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("times come back in %v, documented UTC", got.CreatedAt.Location())
	}
	byName, err := s.FindEventByDurableName(ctx, "transcode", "order-42")
	if err != nil {
		t.Fatal(err)
	}
	sameEvent(t, byName, want)
	if _, err := s.FindEventByDurableName(ctx, "other", "order-42"); !errors.Is(err, ErrNotFound) {
		t.Errorf("durable name leaked across functions: %v", err)
	}

	// Minimal event: zero times are zero, nil blobs nil, defaults filled.
	min := Event{RequestID: "r-min", Function: "f"}
	before := time.Now()
	if err := s.InsertEvent(ctx, &min); err != nil {
		t.Fatal(err)
	}
	if min.Status != event.Queued || min.CreatedAt.Before(before) {
		t.Errorf("defaults not filled: %+v", min)
	}
	got, err = s.GetEvent(ctx, "r-min")
	if err != nil {
		t.Fatal(err)
	}
	sameEvent(t, got, min)
	if !got.StartedAt.IsZero() || got.Payload != nil || got.Result != nil {
		t.Errorf("zero values not kept: %+v", got)
	}

	// Survives reopen.
	s.Close()
	s = openT(t, dir)
	got, err = s.GetEvent(ctx, want.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	sameEvent(t, got, want)
}

func TestInsertEventErrors(t *testing.T) {
	s := openT(t, t.TempDir())
	e := fullEvent()
	if err := s.InsertEvent(ctx, &e); err != nil {
		t.Fatal(err)
	}
	dup := Event{RequestID: e.RequestID, Function: "g"}
	if err := s.InsertEvent(ctx, &dup); !errors.Is(err, ErrDuplicate) || !strings.Contains(err.Error(), e.RequestID) {
		t.Errorf("duplicate RequestID: %v", err)
	}
	dupName := Event{RequestID: "other", Function: e.Function, DurableName: e.DurableName}
	if err := s.InsertEvent(ctx, &dupName); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate durable name: %v", err)
	}
	sameName := Event{RequestID: "other2", Function: "another", DurableName: e.DurableName}
	if err := s.InsertEvent(ctx, &sameName); err != nil {
		t.Errorf("same durable name in another function: %v", err)
	}
	if err := s.InsertEvent(ctx, &Event{Function: "f"}); err == nil {
		t.Error("empty RequestID accepted")
	}
	if err := s.InsertEvent(ctx, &Event{RequestID: "x"}); err == nil {
		t.Error("empty Function accepted")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.InsertEvent(cctx, &Event{RequestID: "canceled", Function: "f"}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: %v", err)
	}
	if _, err := s.GetEvent(ctx, "canceled"); !errors.Is(err, ErrNotFound) {
		t.Errorf("canceled insert stored: %v", err)
	}
}

func TestUpdateEvent(t *testing.T) {
	s := openT(t, t.TempDir())
	orig := fullEvent()
	orig.Status, orig.Result, orig.ErrorType, orig.ErrorMessage = event.Queued, nil, "", ""
	orig.StartedAt, orig.EndedAt, orig.NextAttempt = time.Time{}, time.Time{}, time.Time{}
	orig.Attempts, orig.DurationMs, orig.MaxMemoryMB = 0, 0, 0
	e := orig
	if err := s.InsertEvent(ctx, &e); err != nil {
		t.Fatal(err)
	}
	upd := fullEvent()
	upd.Function, upd.Payload, upd.Version, upd.Qualifier, upd.DurableName = "changed", []byte("x"), 99, "q", "n"
	upd.InvokeType, upd.CreatedAt = event.InvokeRequestResponse, time.Now()
	if err := s.UpdateEvent(ctx, &upd); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetEvent(ctx, orig.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	want := fullEvent() // mutable fields from upd, immutable from orig (equal to fullEvent's)
	sameEvent(t, got, want)

	// Back to zero values.
	if err := s.UpdateEvent(ctx, &Event{RequestID: orig.RequestID, Status: event.Queued}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetEvent(ctx, orig.RequestID)
	if !got.StartedAt.IsZero() || !got.EndedAt.IsZero() || got.Result != nil || got.Attempts != 0 || got.ErrorType != "" {
		t.Errorf("fields not cleared: %+v", got)
	}
}

func TestAttempts(t *testing.T) {
	s := openT(t, t.TempDir())
	if err := s.InsertEvent(ctx, &Event{RequestID: "r", Function: "f"}); err != nil {
		t.Fatal(err)
	}
	if as, err := s.Attempts(ctx, "r"); err != nil || len(as) != 0 {
		t.Fatalf("no attempts yet: %v %v", as, err)
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 1, time.UTC)
	a2 := Attempt{RequestID: "r", N: 2, StartedAt: t0.Add(time.Second), Status: event.Running}
	a1 := Attempt{RequestID: "r", N: 1, StartedAt: t0, Status: event.Running}
	for _, a := range []Attempt{a2, a1} {
		if err := s.PutAttempt(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	a1 = Attempt{RequestID: "r", N: 1, StartedAt: t0, EndedAt: t0.Add(time.Millisecond), Status: event.Failed,
		ErrorType: "Unhandled", ErrorMessage: "boom", DurationMs: 1, MaxMemoryMB: 64}
	if err := s.PutAttempt(ctx, a1); err != nil {
		t.Fatal(err)
	}
	as, err := s.Attempts(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(as, []Attempt{a1, a2}) {
		t.Fatalf("Attempts\n got %+v\nwant %+v", as, []Attempt{a1, a2})
	}
}

func TestLogs(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	if n, err := s.MaxLogSeq(ctx); err != nil || n != 0 {
		t.Fatalf("MaxLogSeq empty = %d, %v", n, err)
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var lines []LogLine
	for i := 1; i <= 30; i++ {
		fn, rid := "a", "r1"
		if i%3 == 0 {
			fn, rid = "b", "r2"
		}
		lines = append(lines, LogLine{Seq: int64(i), Function: fn, RequestID: rid, Attempt: 1 + i%2,
			Time: t0.Add(time.Duration(i) * time.Second), Stream: "stdout", Text: fmt.Sprintf("line %d", i)})
	}
	if err := s.AppendLogs(ctx, lines[:10]); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendLogs(ctx, lines[10:]); err != nil {
		t.Fatal(err)
	}
	seqs := func(ls []LogLine) []int64 {
		out := []int64{}
		for _, l := range ls {
			out = append(out, l.Seq)
		}
		return out
	}
	all, err := s.Logs(ctx, LogQuery{})
	if err != nil || !reflect.DeepEqual(all, lines) {
		t.Fatalf("all logs: %v\n got %+v", err, all)
	}
	for _, tc := range []struct {
		q    LogQuery
		want []int64
	}{
		{LogQuery{RequestID: "r2", Limit: 3}, []int64{3, 6, 9}},
		{LogQuery{RequestID: "r2", Desc: true, Limit: 2}, []int64{30, 27}},
		{LogQuery{Function: "b", AfterSeq: 24}, []int64{27, 30}},
		{LogQuery{Function: "a", Since: t0.Add(25 * time.Second), Until: t0.Add(29 * time.Second)}, []int64{25, 26, 28}},
		{LogQuery{Contains: "line 1"}, []int64{1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}},
		{LogQuery{Contains: "LINE"}, []int64{}},
		{LogQuery{Function: "a", RequestID: "r2"}, []int64{}},
	} {
		got, err := s.Logs(ctx, tc.q)
		if err != nil || !reflect.DeepEqual(seqs(got), tc.want) {
			t.Errorf("Logs(%+v) = %v, %v; want %v", tc.q, seqs(got), err, tc.want)
		}
	}
	// A duplicate Seq fails its whole batch, and only it.
	err = s.AppendLogs(ctx, []LogLine{{Seq: 31, Text: "new"}, {Seq: 5, Text: "dup"}})
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate seq: %v", err)
	}
	if n, _ := s.MaxLogSeq(ctx); n != 30 {
		t.Fatalf("half a failed batch stored: MaxLogSeq %d", n)
	}
	s.Close()
	s = openT(t, dir)
	if n, err := s.MaxLogSeq(ctx); err != nil || n != 30 {
		t.Fatalf("MaxLogSeq after reopen = %d, %v", n, err)
	}
}

// TestBatchIsolation holds the writer on a first op so that the next ones are
// queued together and committed in one transaction; a failing op of the
// batch must fail alone.
func TestBatchIsolation(t *testing.T) {
	s := openT(t, t.TempDir())
	if err := s.InsertEvent(ctx, &Event{RequestID: "dup", Function: "f"}); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	started := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.write(ctx, func(w *writer) error { close(started); <-release; return nil })
	}()
	<-started
	const n = 20
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint("ok-", i)
			if i%4 == 0 {
				id = "dup"
			}
			errs[i] = s.InsertEvent(ctx, &Event{RequestID: id, Function: "f"})
		}()
	}
	for len(s.ops) < n {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	for i, err := range errs {
		if i%4 == 0 {
			if !errors.Is(err, ErrDuplicate) {
				t.Errorf("op %d: %v, want ErrDuplicate", i, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("op %d failed with its batch: %v", i, err)
		} else if _, err := s.GetEvent(ctx, fmt.Sprint("ok-", i)); err != nil {
			t.Errorf("op %d reported committed but: %v", i, err)
		}
	}
}

func TestConcurrentInsertReopen(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	const g, per = 50, 40
	var wg sync.WaitGroup
	errc := make(chan error, g*per)
	for i := range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range per {
				if err := s.InsertEvent(ctx, &Event{RequestID: fmt.Sprintf("r-%d-%d", i, j), Function: "f",
					Payload: []byte(`{}`)}); err != nil {
					errc <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.InsertEvent(ctx, &Event{RequestID: "late", Function: "f"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("insert after Close: %v", err)
	}
	s = openT(t, dir)
	_, total, err := s.ListEvents(ctx, EventQuery{Function: "f", Limit: 1})
	if err != nil || total != g*per {
		t.Fatalf("total after reopen %d, %v; want %d", total, err, g*per)
	}
	for i := range g {
		for j := range per {
			if _, err := s.GetEvent(ctx, fmt.Sprintf("r-%d-%d", i, j)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestStats(t *testing.T) {
	s := openT(t, t.TempDir())
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	// ins stores an event whose last attempt took durMs, after attempts
	// attempts: EndedAt − StartedAt is far longer (a first attempt, a
	// backoff), and is not the duration stats report.
	ins := func(id, fn string, st event.Status, created time.Time, durMs int64, attempts int) {
		e := Event{RequestID: id, Function: fn, Status: st, CreatedAt: created, Attempts: attempts, DurationMs: durMs}
		if attempts > 0 {
			e.StartedAt = created.Add(time.Second)
			if st.Terminal() {
				e.EndedAt = e.StartedAt.Add(time.Minute + time.Duration(durMs)*time.Millisecond)
			}
		}
		if err := s.InsertEvent(ctx, &e); err != nil {
			t.Fatal(err)
		}
	}
	// 100 terminal events of f whose last attempts took 1..100 ms.
	for i := 1; i <= 100; i++ {
		st := []event.Status{event.Terminated, event.Succeeded, event.Failed, event.TimedOut}[i%4]
		ins(fmt.Sprint("d", i), "f", st, t0.Add(time.Duration(i)*time.Minute), int64(i), 1+i%3)
	}
	ins("q", "f", event.Queued, t0, 0, 0)
	ins("run", "f", event.Running, t0, 500, 2) // a retry waiting: its last attempt's duration is no stat
	ins("term-never-started", "f", event.Terminated, t0, 0, 0)
	ins("other", "g", event.Succeeded, t0, 3600000, 1)

	st, err := s.Stats(ctx, EventQuery{Function: "f"})
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{Total: 103, ByStatus: map[event.Status]int{
		event.Queued: 1, event.Running: 1, event.Succeeded: 25, event.Failed: 25, event.TimedOut: 25, event.Terminated: 26,
	}, P50Ms: 50, P95Ms: 95, MaxMs: 100}
	if !reflect.DeepEqual(st, want) {
		t.Fatalf("Stats\n got %+v\nwant %+v", st, want)
	}
	// Time window: events 1..10 (created t0+1m .. t0+10m).
	st, err = s.Stats(ctx, EventQuery{Function: "f", CreatedAfter: t0.Add(time.Minute), CreatedBefore: t0.Add(11 * time.Minute)})
	if err != nil || st.Total != 10 || st.P50Ms != 5 || st.P95Ms != 10 || st.MaxMs != 10 {
		t.Fatalf("windowed Stats = %+v, %v", st, err)
	}
	// Status filter: durations of SUCCEEDED only (i%4==1: 1,5,...,97).
	st, err = s.Stats(ctx, EventQuery{Function: "f", Statuses: []event.Status{event.Succeeded}})
	if err != nil || st.Total != 25 || st.ByStatus[event.Failed] != 0 || len(st.ByStatus) != len(event.All) || st.MaxMs != 97 || st.P50Ms != 49 {
		t.Fatalf("SUCCEEDED Stats = %+v, %v", st, err)
	}
	// Nothing matches: every status key present, zeros.
	st, err = s.Stats(ctx, EventQuery{Function: "none"})
	if err != nil || st.Total != 0 || len(st.ByStatus) != len(event.All) || st.MaxMs != 0 {
		t.Fatalf("empty Stats = %+v, %v", st, err)
	}
	// Non-terminal status filter: no durations.
	st, err = s.Stats(ctx, EventQuery{Statuses: []event.Status{event.Running}})
	if err != nil || st.Total != 1 || st.MaxMs != 0 {
		t.Fatalf("RUNNING Stats = %+v, %v", st, err)
	}
}

func TestUpdateEventWithAttemptIsAtomic(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UTC()
	ev := Event{RequestID: "0a6c3c1e-8d0f-4c1b-9d5e-6f7a8b9c0d1e", Function: "f", InvokeType: "Event", Payload: []byte(`{}`), Status: event.Queued, CreatedAt: now}
	if err := s.InsertEvent(ctx, &ev); err != nil {
		t.Fatal(err)
	}
	ev.Status, ev.Attempts, ev.StartedAt = event.Running, 1, now
	if err := s.UpdateEventWithAttempt(ctx, &ev, Attempt{RequestID: ev.RequestID, N: 1, StartedAt: now, Status: event.Running}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetEvent(ctx, ev.RequestID)
	if err != nil || got.Status != event.Running || got.Attempts != 1 {
		t.Fatalf("event after the update: %+v (%v)", got, err)
	}
	as, err := s.Attempts(ctx, ev.RequestID)
	if err != nil || len(as) != 1 || as[0].Status != event.Running {
		t.Fatalf("attempts after the update: %+v (%v)", as, err)
	}
	// An unknown event: nothing is written, not even the attempt.
	ghost := Event{RequestID: "ffffffff-0000-4000-8000-000000000000", Status: event.Running}
	if err := s.UpdateEventWithAttempt(ctx, &ghost, Attempt{RequestID: ghost.RequestID, N: 1, StartedAt: now, Status: event.Running}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown event: %v, want ErrNotFound", err)
	}
	// A mismatched attempt is refused before anything is written.
	if err := s.UpdateEventWithAttempt(ctx, &ev, Attempt{RequestID: ghost.RequestID, N: 2}); err == nil {
		t.Fatal("an attempt of another event was accepted")
	}
}
