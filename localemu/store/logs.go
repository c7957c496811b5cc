package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

const sqlInsertLog = `INSERT INTO logs (seq, function, request_id, attempt, time, stream, text)
	VALUES (?, ?, ?, ?, ?, ?, ?)`

// AppendLogs stores lines in one write (Seq is the caller's) and returns once
// committed. A Seq already stored fails the whole call with an error wrapping
// ErrDuplicate and stores none of lines.
func (s *Store) AppendLogs(ctx context.Context, lines []LogLine) error {
	if len(lines) == 0 {
		return nil
	}
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
		return nil
	})
}

// Logs returns the lines matching q ordered by Seq (descending with q.Desc),
// at most q.Limit of them (0 = all). Since is inclusive, Until exclusive;
// Contains is a case-sensitive substring match.
func (s *Store) Logs(ctx context.Context, q LogQuery) ([]LogLine, error) {
	var conds []string
	var args []any
	add := func(c string, a any) { conds = append(conds, c); args = append(args, a) }
	if q.Function != "" {
		add("function = ?", q.Function)
	}
	if q.RequestID != "" {
		add("request_id = ?", q.RequestID)
	}
	if q.AfterSeq > 0 {
		add("seq > ?", q.AfterSeq)
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
	query := `SELECT seq, function, request_id, attempt, time, stream, text FROM logs`
	if len(conds) > 0 {
		query += " WHERE " + strings.Join(conds, " AND ")
	}
	query += " ORDER BY seq"
	if q.Desc {
		query += " DESC"
	}
	if q.Limit > 0 {
		query += " LIMIT ?"
		args = append(args, q.Limit)
	}
	rows, err := s.rdb.QueryContext(ctx, query, args...)
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

// MaxLogSeq is the highest stored Seq, 0 if there is no line.
func (s *Store) MaxLogSeq(ctx context.Context) (int64, error) {
	var n int64
	if err := s.rdb.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM logs`).Scan(&n); err != nil {
		return 0, dbErr(s.path, "max log seq", err)
	}
	return n, nil
}
