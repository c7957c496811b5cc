package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
)

const sqlInsertLog = `INSERT INTO logs (seq, function, request_id, attempt, time, stream, text)
	VALUES (?, ?, ?, ?, ?, ?, ?)`

const sqlUpsertLogSpan = `INSERT INTO log_spans (function, level, bucket, min_seq, max_seq, lines)
	VALUES (?, ?, ?, ?, ?, ?)
	ON CONFLICT (function, level, bucket) DO UPDATE SET min_seq = min(min_seq, excluded.min_seq),
	max_seq = max(max_seq, excluded.max_seq), lines = lines + excluded.lines`

// spanKey is one log_spans bucket.
type spanKey struct {
	function string
	level    int
	bucket   int64
}

type span struct{ min, max, lines int64 }

// floorDiv is a / b rounded toward minus infinity (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

func minuteOf(nanos int64) int64 { return floorDiv(nanos, logMinute) }

func hourOf(minute int64) int64 { return floorDiv(minute, 60) }

// logSpans aggregates lines into their log_spans rows.
func logSpans(lines []LogLine) map[spanKey]span {
	spans := map[spanKey]span{}
	for i := range lines {
		l := &lines[i]
		if l.Time.IsZero() {
			continue
		}
		m := minuteOf(l.Time.UnixNano())
		for _, k := range []spanKey{{l.Function, levelMinute, m}, {l.Function, levelHour, hourOf(m)}} {
			sp, ok := spans[k]
			if !ok {
				sp = span{min: l.Seq, max: l.Seq}
			}
			spans[k] = span{min(sp.min, l.Seq), max(sp.max, l.Seq), sp.lines + 1}
		}
	}
	return spans
}

// AppendLogs stores lines in one write (Seq is the caller's) and returns once
// committed. A Seq already stored fails the whole call with an error wrapping
// ErrDuplicate and stores none of lines.
func (s *Store) AppendLogs(ctx context.Context, lines []LogLine) error {
	if len(lines) == 0 {
		return nil
	}
	// The log_spans rows of the batch, aggregated here: a batch of the log
	// hub is mostly one function's lines of one minute, so two upserts.
	spans := logSpans(lines)
	return s.write(ctx, func(w *writer) error {
		for i := range lines {
			l := &lines[i]
			if _, err := w.stmts.insertLog.Exec(l.Seq, l.Function, l.RequestID, l.Attempt, timeArg(l.Time),
				l.Stream, l.Text); err != nil {
				if isConstraintUnique(err) {
					return fmt.Errorf("store: append log line %d: %w: %v", l.Seq, ErrDuplicate, err)
				}
				return dbErr(s.path, fmt.Sprintf("append log line %d", l.Seq), err)
			}
		}
		for k, sp := range spans {
			if _, err := w.stmts.upsertLogSpan.Exec(k.function, k.level, k.bucket, sp.min, sp.max, sp.lines); err != nil {
				return dbErr(s.path, "append log lines: log spans", err)
			}
		}
		return nil
	})
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// seqRange is an inclusive range of Seq.
type seqRange struct{ lo, hi int64 }

func (r seqRange) empty() bool { return r.lo > r.hi }

// functions is the set of functions q selects: nil for any, empty (not
// nil) for none (Function and Functions disagree).
func (q LogQuery) functions() []string {
	switch {
	case q.Function == "" && len(q.Functions) == 0:
		return nil
	case q.Function == "":
		out := slices.Clone(q.Functions)
		slices.Sort(out)
		return slices.Compact(out)
	case len(q.Functions) == 0 || slices.Contains(q.Functions, q.Function):
		return []string{q.Function}
	}
	return []string{}
}

// jsonArg passes a list as one parameter, read with json_each: a list of
// any length costs one bound variable (SQLite caps their number).
func jsonArg(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // strings and ints only
	}
	return string(b)
}

// Logs returns the lines matching q ordered by Seq (descending with q.Desc),
// at most q.Limit of them (0 = all). Since is inclusive, Until exclusive;
// Contains is a case-sensitive substring match.
//
// Paging: forward, pass the last Seq returned as AfterSeq; backward (Desc),
// pass the last Seq returned as BeforeSeq. Either way a page reads about
// Limit lines from the index: a time window is first turned into the range
// of Seq its lines can have (see log_spans in schema.go), so that the walk
// stops at the window's edge instead of running on to the function's first
// or last line. With several Functions and a Limit, each function's index
// gives at most Limit lines and those are merged.
func (s *Store) Logs(ctx context.Context, q LogQuery) ([]LogLine, error) {
	fns := q.functions()
	if fns != nil && len(fns) == 0 {
		return []LogLine{}, nil
	}
	r := seqRange{lo: math.MinInt64, hi: math.MaxInt64}
	if q.AfterSeq == math.MaxInt64 {
		return []LogLine{}, nil
	}
	if q.AfterSeq > 0 {
		r.lo = q.AfterSeq + 1
	}
	if q.BeforeSeq > 0 {
		r.hi = q.BeforeSeq - 1
	}
	if r.empty() {
		return []LogLine{}, nil
	}
	var db querier = s.rdb
	if !q.Since.IsZero() || !q.Until.IsZero() {
		// The bounds and the lines come from one snapshot.
		tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return nil, dbErr(s.path, "logs", err)
		}
		defer tx.Rollback()
		db = tx
		w, err := s.windowSeqs(ctx, tx, q, fns)
		if err != nil {
			return nil, err
		}
		r.lo, r.hi = max(r.lo, w.lo), min(r.hi, w.hi)
		if r.empty() {
			return []LogLine{}, nil
		}
	}
	query, args := logsSQL(q, fns, r)
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, dbErr(s.path, "logs", err)
	}
	defer rows.Close()
	out := []LogLine{}
	for rows.Next() {
		var l LogLine
		var t sql.NullInt64
		if err := rows.Scan(&l.Seq, &l.Function, &l.RequestID, &l.Attempt, &t, &l.Stream, &l.Text); err != nil {
			return nil, dbErr(s.path, "logs", err)
		}
		l.Time = timeOf(t)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(s.path, "logs", err)
	}
	return out, nil
}

// windowSeqs is the range of Seq of the lines of fns (nil: every function)
// whose time can be in [q.Since, q.Until): from the lowest min_seq to the
// highest max_seq of the log_spans buckets covering the window (its whole
// hours, and minutes at its edges). An empty range when no line is in them.
func (s *Store) windowSeqs(ctx context.Context, db querier, q LogQuery, fns []string) (seqRange, error) {
	query, args := windowSQL(q, fns)
	var lo, hi sql.NullInt64
	if err := db.QueryRowContext(ctx, query, args...).Scan(&lo, &hi); err != nil {
		return seqRange{}, dbErr(s.path, "logs: window", err)
	}
	if !lo.Valid {
		return seqRange{lo: 1, hi: 0}, nil
	}
	return seqRange{lo: lo.Int64, hi: hi.Int64}, nil
}

// bucketRange is a range of one level's buckets; nil bounds are open.
type bucketRange struct {
	level  int
	lo, hi *int64
}

// windowBuckets covers the minutes [m1, m2] (nil: open) with whole hours
// and the minutes left at either edge.
func windowBuckets(m1, m2 *int64) []bucketRange {
	p := func(v int64) *int64 { return &v }
	if m1 != nil && m2 != nil && *m2-*m1 < 3*60 {
		return []bucketRange{{levelMinute, m1, m2}}
	}
	var out []bucketRange
	hours := bucketRange{level: levelHour}
	if m1 != nil {
		h := hourOf(*m1 + 59) // the first hour that starts at or after m1
		hours.lo = p(h)
		if h*60 > *m1 {
			out = append(out, bucketRange{levelMinute, m1, p(h*60 - 1)})
		}
	}
	if m2 != nil {
		h := hourOf(*m2+1) - 1 // the last hour that ends at or before m2
		hours.hi = p(h)
		if (h+1)*60 <= *m2 {
			out = append(out, bucketRange{levelMinute, p((h + 1) * 60), m2})
		}
	}
	return append(out, hours)
}

// windowSQL is windowSeqs' query.
func windowSQL(q LogQuery, fns []string) (string, []any) {
	var m1, m2 *int64
	if !q.Since.IsZero() {
		m := minuteOf(q.Since.UnixNano())
		m1 = &m
	}
	if !q.Until.IsZero() {
		m := minuteOf(q.Until.UnixNano() - 1) // the window's last nanosecond
		m2 = &m
	}
	var parts []string
	var args []any
	for _, r := range windowBuckets(m1, m2) {
		conds := []string{"level = ?"}
		a := []any{r.level}
		switch len(fns) {
		case 0:
		case 1:
			conds, a = append(conds, "function = ?"), append(a, fns[0])
		default:
			conds, a = append(conds, "function IN (SELECT value FROM json_each(?))"), append(a, jsonArg(fns))
		}
		if r.lo != nil {
			conds, a = append(conds, "bucket >= ?"), append(a, *r.lo)
		}
		if r.hi != nil {
			conds, a = append(conds, "bucket <= ?"), append(a, *r.hi)
		}
		parts = append(parts, `SELECT min_seq, max_seq FROM log_spans WHERE `+strings.Join(conds, " AND "))
		args = append(args, a...)
	}
	return `SELECT min(min_seq), max(max_seq) FROM (` + strings.Join(parts, " UNION ALL ") + `)`, args
}

const logCols = `seq, function, request_id, attempt, time, stream, text`

// logsSQL is Logs' query for the lines of fns (nil: any) in r.
func logsSQL(q LogQuery, fns []string, r seqRange) (string, []any) {
	var conds []string
	var args []any
	add := func(c string, a ...any) { conds = append(conds, c); args = append(args, a...) }
	var with string
	var withArgs []any
	if q.RequestID != "" {
		add("request_id = ?", q.RequestID)
	}
	if len(q.Requests) > 0 {
		type ref struct {
			R string `json:"r"`
			A int    `json:"a"`
		}
		refs := make([]ref, len(q.Requests))
		some := false
		for i, x := range q.Requests {
			refs[i] = ref{x.RequestID, x.Attempt}
			some = some || x.Attempt != 0
		}
		with = `WITH refs(rid, att) AS (SELECT json_extract(value, '$.r'), json_extract(value, '$.a') FROM json_each(?)) `
		withArgs = []any{jsonArg(refs)}
		add("request_id IN (SELECT rid FROM refs)")
		if some {
			add("EXISTS (SELECT 1 FROM refs WHERE rid = logs.request_id AND att IN (0, logs.attempt))")
		}
	}
	if q.Attempt != 0 {
		add("attempt = ?", q.Attempt)
	}
	if q.Stream != "" {
		add("stream = ?", q.Stream)
	}
	if r.lo != math.MinInt64 {
		add("seq >= ?", r.lo)
	}
	if r.hi != math.MaxInt64 {
		add("seq <= ?", r.hi)
	}
	if !q.Since.IsZero() {
		add("time >= ?", q.Since.UnixNano())
	}
	if !q.Until.IsZero() {
		add("time < ?", q.Until.UnixNano())
	}
	if q.Contains != "" {
		add("instr(text, ?) > 0", q.Contains)
	}
	order := " ORDER BY seq"
	if q.Desc {
		order += " DESC"
	}
	byRequest := q.RequestID != "" || len(q.Requests) > 0
	where := func(fn string, fnArgs []any) (string, []any) {
		c := conds
		if fn != "" && byRequest {
			// The request index holds fewer lines than the function's
			// (a unary + keeps SQLite from walking the function's).
			fn = "+" + fn
		}
		if fn != "" {
			c = append([]string{fn}, conds...)
		}
		if len(c) == 0 {
			return "", nil
		}
		return " WHERE " + strings.Join(c, " AND "), append(fnArgs, args...)
	}
	var query string
	qargs := withArgs
	switch {
	case len(fns) > 1 && q.Limit > 0:
		// function IN (...) cannot walk (function, seq) in seq order, so
		// SQLite would sort every line of the functions to keep Limit:
		// take Limit from each function's index range and merge those.
		parts := make([]string, 0, len(fns))
		for _, fn := range fns {
			w, a := where("function = ?", []any{fn})
			parts = append(parts, `SELECT * FROM (SELECT `+logCols+` FROM logs`+w+order+` LIMIT ?)`)
			qargs = append(append(qargs, a...), q.Limit)
		}
		query = `SELECT ` + logCols + ` FROM (` + strings.Join(parts, " UNION ALL ") + `)` + order + ` LIMIT ?`
		qargs = append(qargs, q.Limit)
	default:
		var w string
		var a []any
		switch len(fns) {
		case 0:
			w, a = where("", nil)
		case 1:
			w, a = where("function = ?", []any{fns[0]})
		default:
			w, a = where("function IN (SELECT value FROM json_each(?))", []any{jsonArg(fns)})
		}
		query = `SELECT ` + logCols + ` FROM logs` + w + order
		qargs = append(qargs, a...)
		if q.Limit > 0 {
			query += " LIMIT ?"
			qargs = append(qargs, q.Limit)
		}
	}
	return with + query, qargs
}

// MaxLogSeq is the highest stored Seq, 0 if there is no line.
func (s *Store) MaxLogSeq(ctx context.Context) (int64, error) {
	var n int64
	if err := s.rdb.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM logs`).Scan(&n); err != nil {
		return 0, dbErr(s.path, "max log seq", err)
	}
	return n, nil
}
