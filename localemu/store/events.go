package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/asyncfn/asyncfn/event"
)

const eventCols = `request_id, function, version, qualifier, invoke_type, status, attempts,
	created_at, started_at, ended_at, next_attempt, duration_ms, max_memory_mb,
	error_type, error_message, durable_name, payload, result`

// eventColumns is eventCols with the omitted blobs read as NULL (scanEvent
// reads the same number of columns either way).
func eventColumns(omit Blobs) string {
	c := eventCols
	if omit&PayloadBlob != 0 {
		c = strings.Replace(c, "payload", "NULL", 1)
	}
	if omit&ResultBlob != 0 {
		c = strings.Replace(c, "result", "NULL", 1)
	}
	return c
}

const sqlInsertEvent = `INSERT INTO events (` + eventCols + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

const sqlUpdateEvent = `UPDATE events SET status = ?, attempts = ?, started_at = ?, ended_at = ?,
	next_attempt = ?, duration_ms = ?, max_memory_mb = ?, error_type = ?, error_message = ?,
	result = ? WHERE request_id = ?`

// sqlUpsertAttempt takes the attempt's function from its event (the last
// argument is the RequestID again); for an unknown event it is empty and
// the foreign key fails.
const sqlUpsertAttempt = `INSERT INTO attempts (request_id, n, started_at, ended_at, status,
	error_type, error_message, duration_ms, max_memory_mb, function) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,
	coalesce((SELECT function FROM events WHERE request_id = ?), ''))
	ON CONFLICT (request_id, n) DO UPDATE SET started_at = excluded.started_at,
	ended_at = excluded.ended_at, status = excluded.status, error_type = excluded.error_type,
	error_message = excluded.error_message, duration_ms = excluded.duration_ms,
	max_memory_mb = excluded.max_memory_mb`

// timeArg stores t as unix nanoseconds, the zero time as NULL.
func timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// timeOf is timeArg's inverse; times come back in UTC.
func timeOf(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.Unix(0, v.Int64).UTC()
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func blobArg(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// InsertEvent stores a new event and returns once it is committed (the WAL
// record is written, and fsynced under SyncFull): from then on it survives
// SIGKILL of the process. A zero CreatedAt is set to now and an empty Status
// to QUEUED, in e as well. A RequestID or a (Function, DurableName) already
// stored is an error wrapping ErrDuplicate.
func (s *Store) InsertEvent(ctx context.Context, e *Event) error {
	if e == nil || e.RequestID == "" {
		return errors.New("store: insert event: empty RequestID")
	}
	if e.Function == "" {
		return fmt.Errorf("store: insert event %s: empty Function", e.RequestID)
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.opts.Now()
	}
	if e.Status == "" {
		e.Status = event.Queued
	}
	args := []any{e.RequestID, e.Function, e.Version, e.Qualifier, e.InvokeType, string(e.Status), e.Attempts,
		e.CreatedAt.UnixNano(), timeArg(e.StartedAt), timeArg(e.EndedAt), timeArg(e.NextAttempt),
		e.DurationMs, e.MaxMemoryMB, e.ErrorType, e.ErrorMessage, nullString(e.DurableName),
		blobArg(e.Payload), blobArg(e.Result)}
	id := e.RequestID
	return s.write(ctx, func(w *writer) error {
		if _, err := w.stmts.insertEvent.Exec(args...); err != nil {
			if isConstraintUnique(err) {
				return fmt.Errorf("store: insert event %s: %w (request id or durable name): %v", id, ErrDuplicate, err)
			}
			return dbErr(s.path, "insert event "+id, err)
		}
		return nil
	})
}

// UpdateEvent replaces the mutable fields of the stored event with e's, by
// RequestID: Status, Result, ErrorType, ErrorMessage, Attempts, StartedAt,
// EndedAt, NextAttempt, DurationMs, MaxMemoryMB. The other fields are
// immutable and ignored. An unknown RequestID is an error wrapping
// ErrNotFound. It returns once committed.
func (s *Store) UpdateEvent(ctx context.Context, e *Event) error {
	if e == nil || e.RequestID == "" {
		return errors.New("store: update event: empty RequestID")
	}
	args := []any{string(e.Status), e.Attempts, timeArg(e.StartedAt), timeArg(e.EndedAt), timeArg(e.NextAttempt),
		e.DurationMs, e.MaxMemoryMB, e.ErrorType, e.ErrorMessage, blobArg(e.Result), e.RequestID}
	id := e.RequestID
	return s.write(ctx, func(w *writer) error {
		res, err := w.stmts.updateEvent.Exec(args...)
		if err != nil {
			return dbErr(s.path, "update event "+id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("event %s: %w", id, ErrNotFound)
		}
		return nil
	})
}

type scanner interface{ Scan(dest ...any) error }

func scanEvent(r scanner) (Event, error) {
	var (
		e                    Event
		status               string
		started, ended, next sql.NullInt64
		created              int64
		durable              sql.NullString
		payload, result      []byte
	)
	err := r.Scan(&e.RequestID, &e.Function, &e.Version, &e.Qualifier, &e.InvokeType, &status, &e.Attempts,
		&created, &started, &ended, &next, &e.DurationMs, &e.MaxMemoryMB,
		&e.ErrorType, &e.ErrorMessage, &durable, &payload, &result)
	if err != nil {
		return Event{}, err
	}
	e.Status = event.Status(status)
	e.CreatedAt = time.Unix(0, created).UTC()
	e.StartedAt, e.EndedAt, e.NextAttempt = timeOf(started), timeOf(ended), timeOf(next)
	e.DurableName = durable.String
	e.Payload, e.Result = payload, result
	return e, nil
}

// GetEvent returns the event with requestID, or an error wrapping ErrNotFound.
func (s *Store) GetEvent(ctx context.Context, requestID string) (Event, error) {
	e, err := scanEvent(s.rdb.QueryRowContext(ctx, `SELECT `+eventCols+` FROM events WHERE request_id = ?`, requestID))
	if errors.Is(err, sql.ErrNoRows) {
		return Event{}, fmt.Errorf("event %s: %w", requestID, ErrNotFound)
	}
	if err != nil {
		return Event{}, dbErr(s.path, "get event "+requestID, err)
	}
	return e, nil
}

// FindEventByDurableName returns the event of function started with the
// durable execution name, or an error wrapping ErrNotFound.
func (s *Store) FindEventByDurableName(ctx context.Context, function, name string) (Event, error) {
	if name == "" {
		return Event{}, fmt.Errorf("function %s: empty durable execution name: %w", function, ErrNotFound)
	}
	e, err := scanEvent(s.rdb.QueryRowContext(ctx, `SELECT `+eventCols+` FROM events
		WHERE function = ? AND durable_name = ?`, function, name))
	if errors.Is(err, sql.ErrNoRows) {
		return Event{}, fmt.Errorf("function %s: durable execution %s: %w", function, name, ErrNotFound)
	}
	if err != nil {
		return Event{}, dbErr(s.path, "find durable execution "+name, err)
	}
	return e, nil
}

// where builds the WHERE clause of an EventQuery (without Offset, Limit and
// order). statuses, when not nil, replaces q.Statuses.
func (q EventQuery) where(statuses []event.Status) (string, []any) {
	var conds []string
	var args []any
	add := func(c string, a ...any) { conds = append(conds, c); args = append(args, a...) }
	if q.Function != "" {
		add("function = ?", q.Function)
	}
	if statuses == nil {
		statuses = q.Statuses
	}
	switch len(statuses) {
	case 0:
	case 1:
		add("status = ?", string(statuses[0]))
	default:
		ph := strings.Repeat("?, ", len(statuses))
		c := "status IN (" + ph[:len(ph)-2] + ")"
		for _, st := range statuses {
			args = append(args, string(st))
		}
		conds = append(conds, c)
	}
	if q.InvokeType != "" {
		add("invoke_type = ?", q.InvokeType)
	}
	if q.Qualifier != "" {
		add("qualifier = ?", q.Qualifier)
	}
	if q.RequestID != "" {
		add("request_id = ?", q.RequestID)
	}
	if len(q.RequestIDs) > 0 {
		add("request_id IN (SELECT value FROM json_each(?))", jsonArg(q.RequestIDs))
	}
	if q.DurableName != "" {
		add("durable_name = ?", q.DurableName)
	}
	if !q.CreatedAfter.IsZero() {
		add("created_at >= ?", q.CreatedAfter.UnixNano())
	}
	if !q.CreatedBefore.IsZero() {
		add("created_at < ?", q.CreatedBefore.UnixNano())
	}
	if !q.EndedAfter.IsZero() {
		add("ended_at >= ?", q.EndedAfter.UnixNano())
	}
	if !q.EndedBefore.IsZero() {
		add("ended_at < ?", q.EndedBefore.UnixNano())
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// dedupStatuses drops repeated statuses (a repeated status would count its
// events twice in the per-status page query).
func dedupStatuses(in []event.Status) []event.Status {
	if len(in) < 2 {
		return in
	}
	out := make([]event.Status, 0, len(in))
	for _, st := range in {
		if !slices.Contains(out, st) {
			out = append(out, st)
		}
	}
	return out
}

// ListEvents returns the page of events matching q (Offset, Limit; Limit 0 =
// all) ordered by CreatedAt ascending (descending with q.Desc), ties in
// insertion order (reversed with Desc), or by EndedAt (q.OrderBy), and the
// number of events matching q regardless of Offset and Limit. Both come
// from one consistent snapshot. q.Omit leaves the payload and/or result out.
//
// CreatedAfter and EndedAfter are inclusive, CreatedBefore and EndedBefore
// exclusive; an event that has not ended never matches an Ended bound.
func (s *Store) ListEvents(ctx context.Context, q EventQuery) ([]Event, int, error) {
	if q.Offset < 0 || q.Limit < 0 {
		return nil, 0, fmt.Errorf("store: list events: negative offset or limit")
	}
	q.Statuses = dedupStatuses(q.Statuses)
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, dbErr(s.path, "list events", err)
	}
	defer tx.Rollback()

	where, args := q.where(nil)
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM events`+where, args...).Scan(&total); err != nil {
		return nil, 0, dbErr(s.path, "count events", err)
	}
	if total == 0 || q.Offset >= total {
		return []Event{}, total, nil
	}
	dir := ""
	if q.Desc {
		dir = " DESC"
	}
	order := " ORDER BY created_at" + dir + ", seq" + dir
	cols := eventColumns(q.Omit)
	var query string
	var qargs []any
	switch {
	case q.OrderBy == ByEnded:
		// No index gives this order: sort the matching rows' keys (not
		// their blobs) and read the page's rows.
		order = " ORDER BY ended_at IS NULL" + dir + ", ended_at" + dir + ", created_at" + dir + ", seq" + dir
		limit := q.Limit
		if limit == 0 {
			limit = -1
		}
		query = `SELECT ` + cols + ` FROM events WHERE seq IN (SELECT seq FROM events` + where + order +
			` LIMIT ? OFFSET ?)` + order
		qargs = append(append(qargs, args...), limit, q.Offset)
	case q.OrderBy != ByCreated:
		return nil, 0, fmt.Errorf("store: list events: unknown order %d", q.OrderBy)
	case len(q.Statuses) > 1 && q.Limit > 0:
		// status IN (a, b) cannot walk an index in created_at order, so
		// SQLite would sort every matching row to keep 100. Instead take
		// the first Offset+Limit of each status from the
		// (function, status, created_at) or (status, created_at) index,
		// in order, and merge those: the work is bounded by
		// len(Statuses)*(Offset+Limit) rows.
		n := q.Offset + q.Limit
		parts := make([]string, 0, len(q.Statuses))
		for _, st := range q.Statuses {
			w, a := q.where([]event.Status{st})
			parts = append(parts, `SELECT * FROM (SELECT seq, created_at FROM events`+w+order+` LIMIT ?)`)
			qargs = append(append(qargs, a...), n)
		}
		query = `SELECT ` + cols + ` FROM events WHERE seq IN (SELECT seq FROM (` +
			strings.Join(parts, " UNION ALL ") + `)` + order + ` LIMIT ? OFFSET ?)` + order
		qargs = append(qargs, q.Limit, q.Offset)
	default:
		limit := q.Limit
		if limit == 0 {
			limit = -1
		}
		query = `SELECT ` + cols + ` FROM events` + where + order + ` LIMIT ? OFFSET ?`
		qargs = append(append(qargs, args...), limit, q.Offset)
	}
	rows, err := tx.QueryContext(ctx, query, qargs...)
	if err != nil {
		return nil, 0, dbErr(s.path, "list events", err)
	}
	defer rows.Close()
	out := make([]Event, 0, min(max(q.Limit, 0)+1, total, 1024))
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, 0, dbErr(s.path, "list events", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, dbErr(s.path, "list events", err)
	}
	return out, total, nil
}

// Stats counts the events matching q per status (every status of event.All
// is a key, 0 when none) and gives the nearest-rank p50, p95 and the maximum
// of their durations. The duration of an event is its DurationMs, the one
// ListEvents and GetEvent report: the handler's duration of its last attempt
// (see package event), not EndedAt − StartedAt, which would count earlier
// attempts and the backoff between them. Only the events event.Timed
// accepts count: terminal, with at least one attempt. Offset, Limit and Desc
// are ignored.
//
// Percentiles are nearest rank, as on every provider (event.Summarize).
func (s *Store) Stats(ctx context.Context, q EventQuery) (Stats, error) {
	q.Statuses = dedupStatuses(q.Statuses)
	st := Stats{ByStatus: make(map[event.Status]int, len(event.All))}
	for _, x := range event.All {
		st.ByStatus[x] = 0
	}
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Stats{}, dbErr(s.path, "stats", err)
	}
	defer tx.Rollback()
	where, args := q.where(nil)
	rows, err := tx.QueryContext(ctx, `SELECT status, count(*) FROM events`+where+` GROUP BY status`, args...)
	if err != nil {
		return Stats{}, dbErr(s.path, "stats", err)
	}
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			rows.Close()
			return Stats{}, dbErr(s.path, "stats", err)
		}
		st.ByStatus[event.Status(status)] += n
		st.Total += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Stats{}, dbErr(s.path, "stats", err)
	}

	var terminal []event.Status
	for _, x := range event.All {
		if x.Terminal() && (len(q.Statuses) == 0 || slices.Contains(q.Statuses, x)) {
			terminal = append(terminal, x)
		}
	}
	if len(terminal) == 0 {
		return st, nil
	}
	where, args = q.where(terminal)
	// event.Timed: terminal (where) and attempts > 0.
	rows, err = tx.QueryContext(ctx, `SELECT duration_ms FROM events`+where+` AND attempts > 0 ORDER BY duration_ms`, args...)
	if err != nil {
		return Stats{}, dbErr(s.path, "stats durations", err)
	}
	defer rows.Close()
	var ds []int64
	for rows.Next() {
		var d int64
		if err := rows.Scan(&d); err != nil {
			return Stats{}, dbErr(s.path, "stats durations", err)
		}
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return Stats{}, dbErr(s.path, "stats durations", err)
	}
	st.P50Ms, st.P95Ms, st.MaxMs = event.Summarize(ds) // ds is sorted: no copy
	return st, nil
}

// PutAttempt inserts or replaces attempt (RequestID, N). The event must
// exist (an error wrapping ErrNotFound otherwise). It returns once committed.
func (s *Store) PutAttempt(ctx context.Context, a Attempt) error {
	if a.RequestID == "" {
		return errors.New("store: put attempt: empty RequestID")
	}
	args := []any{a.RequestID, a.N, timeArg(a.StartedAt), timeArg(a.EndedAt), string(a.Status),
		a.ErrorType, a.ErrorMessage, a.DurationMs, a.MaxMemoryMB, a.RequestID}
	return s.write(ctx, func(w *writer) error {
		if _, err := w.stmts.upsertAttempt.Exec(args...); err != nil {
			var se *sqlite.Error
			if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
				return fmt.Errorf("attempt %d of event %s: event %w", a.N, a.RequestID, ErrNotFound)
			}
			return dbErr(s.path, fmt.Sprintf("put attempt %d of %s", a.N, a.RequestID), err)
		}
		return nil
	})
}

// UpdateEventWithAttempt updates an event (as UpdateEvent) and upserts one of
// its attempts (as PutAttempt) in one operation: both are committed or neither
// is, so a restart never finds an attempt's end without its event's, and an
// attempt costs the writer one operation instead of two.
func (s *Store) UpdateEventWithAttempt(ctx context.Context, e *Event, a Attempt) error {
	if e == nil || e.RequestID == "" || a.RequestID != e.RequestID {
		return errors.New("store: update event with attempt: the attempt must belong to the event")
	}
	eargs := []any{string(e.Status), e.Attempts, timeArg(e.StartedAt), timeArg(e.EndedAt), timeArg(e.NextAttempt),
		e.DurationMs, e.MaxMemoryMB, e.ErrorType, e.ErrorMessage, blobArg(e.Result), e.RequestID}
	aargs := []any{a.RequestID, a.N, timeArg(a.StartedAt), timeArg(a.EndedAt), string(a.Status),
		a.ErrorType, a.ErrorMessage, a.DurationMs, a.MaxMemoryMB, a.RequestID}
	id := e.RequestID
	return s.write(ctx, func(w *writer) error {
		res, err := w.stmts.updateEvent.Exec(eargs...)
		if err != nil {
			return dbErr(s.path, "update event "+id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("event %s: %w", id, ErrNotFound)
		}
		if _, err := w.stmts.upsertAttempt.Exec(aargs...); err != nil {
			return dbErr(s.path, fmt.Sprintf("put attempt %d of %s", a.N, id), err)
		}
		return nil
	})
}

// Attempts returns the attempts of the event, by N. An unknown event is an
// error wrapping ErrNotFound; an event with no attempt yet gives none.
func (s *Store) Attempts(ctx context.Context, requestID string) ([]Attempt, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+attemptCols+` FROM attempts WHERE request_id = ? ORDER BY n`, requestID)
	if err != nil {
		return nil, dbErr(s.path, "attempts of "+requestID, err)
	}
	defer rows.Close()
	out := []Attempt{}
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, dbErr(s.path, "attempts of "+requestID, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(s.path, "attempts of "+requestID, err)
	}
	if len(out) == 0 {
		var one int
		err := s.rdb.QueryRowContext(ctx, `SELECT 1 FROM events WHERE request_id = ?`, requestID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("event %s: %w", requestID, ErrNotFound)
		}
		if err != nil {
			return nil, dbErr(s.path, "attempts of "+requestID, err)
		}
	}
	return out, nil
}

// GetEvents returns the events with these request ids, by id, with the
// omitted blobs left out: one query for a page of ids instead of a GetEvent
// each. An unknown id has no entry (no error).
func (s *Store) GetEvents(ctx context.Context, requestIDs []string, omit Blobs) (map[string]Event, error) {
	out := make(map[string]Event, len(requestIDs))
	if len(requestIDs) == 0 {
		return out, nil
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+eventColumns(omit)+` FROM events
		WHERE request_id IN (SELECT value FROM json_each(?))`, jsonArg(requestIDs))
	if err != nil {
		return nil, dbErr(s.path, "get events", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, dbErr(s.path, "get events", err)
		}
		out[e.RequestID] = e
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(s.path, "get events", err)
	}
	return out, nil
}

const attemptCols = `request_id, n, started_at, ended_at, status, error_type, error_message,
	duration_ms, max_memory_mb`

func scanAttempt(r scanner) (Attempt, error) {
	var a Attempt
	var started, ended sql.NullInt64
	var status string
	if err := r.Scan(&a.RequestID, &a.N, &started, &ended, &status, &a.ErrorType, &a.ErrorMessage,
		&a.DurationMs, &a.MaxMemoryMB); err != nil {
		return Attempt{}, err
	}
	a.StartedAt, a.EndedAt, a.Status = timeOf(started), timeOf(ended), event.Status(status)
	return a, nil
}

// AttemptsFor returns the attempts of these events, by request id and then
// by N, in one query: for a list of events, instead of Attempts per event.
// An event with no attempt, or unknown, has no entry.
func (s *Store) AttemptsFor(ctx context.Context, requestIDs []string) (map[string][]Attempt, error) {
	out := make(map[string][]Attempt, len(requestIDs))
	if len(requestIDs) == 0 {
		return out, nil
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+attemptCols+` FROM attempts
		WHERE request_id IN (SELECT value FROM json_each(?)) ORDER BY request_id, n`, jsonArg(requestIDs))
	if err != nil {
		return nil, dbErr(s.path, "attempts", err)
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, dbErr(s.path, "attempts", err)
		}
		out[a.RequestID] = append(out[a.RequestID], a)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(s.path, "attempts", err)
	}
	return out, nil
}

// where builds the WHERE clause of an AttemptQuery.
func (q AttemptQuery) where() (string, []any) {
	var conds []string
	var args []any
	add := func(c string, a ...any) { conds = append(conds, c); args = append(args, a...) }
	if q.Function != "" {
		add("function = ?", q.Function)
	}
	if q.RequestID != "" {
		add("request_id = ?", q.RequestID)
	}
	if !q.StartedAfter.IsZero() {
		add("started_at >= ?", q.StartedAfter.UnixNano())
	}
	if !q.StartedBefore.IsZero() {
		add("started_at < ?", q.StartedBefore.UnixNano())
	}
	if len(q.Statuses) > 0 {
		sts := make([]string, len(q.Statuses))
		for i, st := range q.Statuses {
			sts[i] = string(st)
		}
		add("status IN (SELECT value FROM json_each(?))", jsonArg(sts))
	}
	if q.Ended {
		add("ended_at IS NOT NULL")
	}
	if len(q.ErrorTypes) > 0 {
		add("error_type IN (SELECT value FROM json_each(?))", jsonArg(q.ErrorTypes))
	}
	for _, p := range q.NotErrorTypePrefixes {
		if p == "" {
			add("0") // every error type starts with ""
			continue
		}
		add("instr(error_type, ?) != 1", p)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// ListAttempts returns the page of attempts matching q (Offset, Limit;
// Limit 0 = all) in q.OrderBy's order, and the number of attempts matching
// q regardless of Offset and Limit, from one snapshot. With Function set,
// a Started window is a range of the (function, started_at) index, and in
// ByStart order the page is read from it without sorting.
func (s *Store) ListAttempts(ctx context.Context, q AttemptQuery) ([]Attempt, int, error) {
	if q.Offset < 0 || q.Limit < 0 {
		return nil, 0, fmt.Errorf("store: list attempts: negative offset or limit")
	}
	var key string
	switch q.OrderBy {
	case ByStart:
		key = "started_at"
	case ByDuration:
		key = "duration_ms"
	case ByMaxMemory:
		key = "max_memory_mb"
	default:
		return nil, 0, fmt.Errorf("store: list attempts: unknown order %d", q.OrderBy)
	}
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, dbErr(s.path, "list attempts", err)
	}
	defer tx.Rollback()
	where, args := q.where()
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM attempts`+where, args...).Scan(&total); err != nil {
		return nil, 0, dbErr(s.path, "count attempts", err)
	}
	if total == 0 || q.Offset >= total {
		return []Attempt{}, total, nil
	}
	dir := ""
	if q.Desc {
		dir = " DESC"
	}
	limit := q.Limit
	if limit == 0 {
		limit = -1
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+attemptCols+` FROM attempts`+where+
		` ORDER BY `+key+dir+`, request_id`+dir+`, n`+dir+` LIMIT ? OFFSET ?`, append(args, limit, q.Offset)...)
	if err != nil {
		return nil, 0, dbErr(s.path, "list attempts", err)
	}
	defer rows.Close()
	out := make([]Attempt, 0, min(max(q.Limit, 0)+1, total, 1024))
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, 0, dbErr(s.path, "list attempts", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, dbErr(s.path, "list attempts", err)
	}
	return out, total, nil
}
