package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/asyncfn/asyncfn/event"
)

// What bounds the store: an attempt's long output elided to its head and
// tail (ElideLogs), finished events deleted after their retention or past a
// disk budget (PruneEvents, OldestFinished), and the space they held given
// back to the file system (Reclaim). Every write here is small — at most
// deleteBatch log rows or a few hundred events per transaction — so that
// the writer keeps serving accepts between them.
const (
	// deleteBatch is the most log rows one transaction deletes.
	deleteBatch = 5000
	// reclaimPages is the most free pages one transaction returns to the
	// file system (1 MiB at SQLite's default 4 KiB pages).
	reclaimPages = 256
)

// Elision replaces a stretch of one attempt's stored output with one marker
// line: the line at Marker becomes the marker (stream "platform", Text), and
// the attempt's other lines after it up to Through are deleted. Lines of
// other events numbered in between are untouched.
type Elision struct {
	RequestID string
	Attempt   int
	Marker    int64 // the seq of the first elided line, which holds the marker
	Through   int64 // the last seq elided (inclusive)
	Text      string
}

// ElideLogs applies el in transactions of at most deleteBatch deleted rows;
// applying it again, or with a larger Through, elides what is left.
func (s *Store) ElideLogs(ctx context.Context, el Elision) error {
	if err := s.write(ctx, func(w *writer) error {
		_, err := w.exec(`UPDATE logs SET stream = 'platform', text = ? WHERE seq = ?`, el.Text, el.Marker)
		return err
	}); err != nil {
		return dbErr(s.path, "elide log lines: marker", err)
	}
	for {
		var n int64
		err := s.write(ctx, func(w *writer) error {
			res, err := w.exec(`DELETE FROM logs WHERE seq IN (SELECT seq FROM logs
				WHERE request_id = ? AND seq > ? AND seq <= ? AND attempt = ? ORDER BY seq LIMIT ?)`,
				el.RequestID, el.Marker, el.Through, el.Attempt, deleteBatch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return dbErr(s.path, "elide log lines", err)
		}
		if n < deleteBatch {
			return nil
		}
	}
}

// Stretch is the part of one attempt's stored output between its first
// head and its last tail bytes (platform lines not counted): the lines
// From…Through, Lines of them, Bytes long (each line counted with its
// newline). Lines is 0 when the output fits.
type Stretch struct {
	From, Through int64
	Lines, Bytes  int64
}

// Middle finds the stretch of an attempt's stored output beyond its first
// head and before its last tail bytes: what the log hub elides as it goes,
// found afresh for an attempt whose bookkeeping was lost (the emulator
// stopped while it ran).
func (s *Store) Middle(ctx context.Context, requestID string, attempt int, head, tail int64) (Stretch, error) {
	var m Stretch
	var from, through, lines, bytes sql.NullInt64
	err := s.rdb.QueryRowContext(ctx, `WITH o AS (
			SELECT seq, length(CAST(text AS BLOB)) + 1 AS n,
				sum(length(CAST(text AS BLOB)) + 1) OVER (ORDER BY seq) AS upto
			FROM logs WHERE request_id = ? AND attempt = ? AND stream != 'platform'),
		t AS (SELECT max(upto) AS total FROM o)
		SELECT min(seq), max(seq), count(*), sum(n) FROM o, t
		WHERE o.upto > ? AND o.upto - o.n < t.total - ?`,
		requestID, attempt, head, tail).Scan(&from, &through, &lines, &bytes)
	if err != nil {
		return m, dbErr(s.path, "measure an attempt's output", err)
	}
	if lines.Int64 > 0 {
		m = Stretch{From: from.Int64, Through: through.Int64, Lines: lines.Int64, Bytes: bytes.Int64}
	}
	return m, nil
}

// Finished is an event that PruneEvents may delete.
type Finished struct {
	RequestID string
	Function  string
	EndedAt   time.Time
}

// terminalIn is the SQL list of the terminal statuses.
func terminalIn() string {
	var q []string
	for _, st := range event.All {
		if st.Terminal() {
			q = append(q, "'"+string(st)+"'")
		}
	}
	return "(" + strings.Join(q, ",") + ")"
}

// ExpiredEvents returns up to limit events of fn that ended before cutoff,
// oldest first. An event that has not ended (QUEUED, RUNNING) never is one,
// however old.
func (s *Store) ExpiredEvents(ctx context.Context, fn string, cutoff time.Time, limit int) ([]Finished, error) {
	// created_at < cutoff lets the (function, status, created_at) index bound
	// the walk: an event ends after it is created.
	return s.finished(ctx, `SELECT request_id, function, ended_at FROM events
		WHERE function = ? AND status IN `+terminalIn()+` AND created_at < ? AND ended_at < ?
		ORDER BY ended_at LIMIT ?`, fn, cutoff.UnixNano(), cutoff.UnixNano(), limit)
}

// OldestFinished returns up to limit finished events of any function, the
// earliest created first: what goes first when the store is over its budget.
func (s *Store) OldestFinished(ctx context.Context, limit int) ([]Finished, error) {
	return s.finished(ctx, `SELECT request_id, function, ended_at FROM events INDEXED BY events_status_created
		WHERE status IN `+terminalIn()+` ORDER BY created_at LIMIT ?`, limit)
}

// EventCount is the number of stored events.
func (s *Store) EventCount(ctx context.Context) (int, error) {
	var n int
	if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
		return 0, dbErr(s.path, "count events", err)
	}
	return n, nil
}

// EventFunctions are the names of the functions that have stored events,
// deployed or not.
func (s *Store) EventFunctions(ctx context.Context) ([]string, error) {
	// A skip scan of events_fn_created: one probe per function.
	rows, err := s.rdb.QueryContext(ctx, `SELECT DISTINCT function FROM events`)
	if err != nil {
		return nil, dbErr(s.path, "list functions with events", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var fn string
		if err := rows.Scan(&fn); err != nil {
			return nil, dbErr(s.path, "list functions with events", err)
		}
		out = append(out, fn)
	}
	return out, rows.Err()
}

func (s *Store) finished(ctx context.Context, q string, args ...any) ([]Finished, error) {
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, dbErr(s.path, "list finished events", err)
	}
	defer rows.Close()
	var out []Finished
	for rows.Next() {
		var f Finished
		var ended sql.NullInt64
		if err := rows.Scan(&f.RequestID, &f.Function, &ended); err != nil {
			return nil, dbErr(s.path, "list finished events", err)
		}
		f.EndedAt = timeOf(ended)
		out = append(out, f)
	}
	return out, rows.Err()
}

// PruneEvents deletes the events named, with their attempts and log lines,
// if they are still terminal (an event is re-checked in the transaction that
// deletes it). It returns how many events it deleted.
func (s *Store) PruneEvents(ctx context.Context, requestIDs []string) (int, error) {
	if len(requestIDs) == 0 {
		return 0, nil
	}
	ids := jsonArg(requestIDs)
	// The log lines first, in small transactions; the event row goes last,
	// so that an interrupted prune leaves the event to be pruned again.
	for {
		var n int64
		err := s.write(ctx, func(w *writer) error {
			res, err := w.exec(`DELETE FROM logs WHERE seq IN (SELECT l.seq FROM json_each(?) j
				JOIN events e ON e.request_id = j.value AND e.status IN `+terminalIn()+`
				JOIN logs l ON l.request_id = j.value LIMIT ?)`, ids, deleteBatch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return 0, dbErr(s.path, "prune events: log lines", err)
		}
		if n < deleteBatch {
			break
		}
	}
	var deleted int64
	err := s.write(ctx, func(w *writer) error {
		if _, err := w.exec(`DELETE FROM attempts WHERE request_id IN (SELECT e.request_id FROM json_each(?) j
			JOIN events e ON e.request_id = j.value AND e.status IN `+terminalIn()+`)`, ids); err != nil {
			return err
		}
		res, err := w.exec(`DELETE FROM events WHERE request_id IN (SELECT value FROM json_each(?)) AND status IN `+terminalIn(), ids)
		if err != nil {
			return err
		}
		deleted, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, dbErr(s.path, "prune events", err)
	}
	return int(deleted), nil
}

// PruneLogs deletes the lines that belong to no event (a function's output
// outside any invocation) written before cutoff, and the log_spans buckets
// before cutoff that no longer cover a stored line. It returns the number of
// lines deleted.
func (s *Store) PruneLogs(ctx context.Context, cutoff time.Time) (int, error) {
	var total int
	for {
		var n int64
		err := s.write(ctx, func(w *writer) error {
			res, err := w.exec(`DELETE FROM logs WHERE seq IN (SELECT seq FROM logs
				WHERE request_id = '' AND time < ? LIMIT ?)`, cutoff.UnixNano(), deleteBatch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, dbErr(s.path, "prune log lines", err)
		}
		total += int(n)
		if n < deleteBatch {
			break
		}
	}
	minute := minuteOf(cutoff.UnixNano())
	err := s.write(ctx, func(w *writer) error {
		_, err := w.exec(`DELETE FROM log_spans WHERE ((level = ? AND bucket < ?) OR (level = ? AND bucket < ?))
			AND NOT EXISTS (SELECT 1 FROM logs l WHERE l.function = log_spans.function AND l.seq BETWEEN log_spans.min_seq AND log_spans.max_seq)`,
			levelMinute, minute, levelHour, hourOf(minute))
		return err
	})
	if err != nil {
		return total, dbErr(s.path, "prune log spans", err)
	}
	return total, nil
}

// Size is the size of the database: its pages, whether they are in the
// file yet or still in the write-ahead log beside it (which is emptied past
// walLimit). Reclaim and the next checkpoint bring the file to this size.
func (s *Store) Size(ctx context.Context) (int64, error) {
	var pages, pageSize int64
	if err := s.rdb.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return 0, dbErr(s.path, "size", err)
	}
	if err := s.rdb.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		return 0, dbErr(s.path, "size", err)
	}
	return pages * pageSize, nil
}

// Reclaim gives the database's free pages back to the file system, at most
// reclaimPages per transaction, and returns how many it gave back
// (incremental vacuum: the database is in auto_vacuum=INCREMENTAL mode).
func (s *Store) Reclaim(ctx context.Context) (int64, error) {
	var total int64
	for {
		var free int64
		if err := s.rdb.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&free); err != nil {
			return total, dbErr(s.path, "free pages", err)
		}
		if free == 0 {
			return total, nil
		}
		step := min(free, reclaimPages)
		if err := s.write(ctx, func(w *writer) error {
			// incremental_vacuum returns a row per page; the rows must be read
			// for the pages to be freed.
			rows, err := w.c.QueryContext(w.ctx, fmt.Sprintf("PRAGMA incremental_vacuum(%d)", step))
			if err != nil {
				return err
			}
			for rows.Next() {
			}
			rows.Close()
			return rows.Err()
		}); err != nil {
			return total, dbErr(s.path, "reclaim free pages", err)
		}
		total += step
		if step < reclaimPages {
			return total, nil
		}
	}
}
