package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// migrations()[i] takes the schema from version i to version i+1. The version
// is PRAGMA user_version. Append, never edit: a released database holds the
// version it reached. (A function, not a var: the package keeps no mutable
// state.)
func migrations() []string { return []string{schemaV1, schemaV2, schemaV3} }

// SchemaVersion is the schema version this package writes: len(migrations()).
const SchemaVersion = 3

// The buckets of log_spans: a line of time t (unix nanoseconds) is in the
// minute floor(t / logMinute) and in the hour floor(minute / 60), in Go
// (floorDiv) and in SQLite (schemaV2's migration) alike.
const (
	logMinute   = int64(60 * time.Second)
	levelMinute = 0
	levelHour   = 1
)

const (
	// schemaV1 is the initial schema. Times are unix nanoseconds (UTC), NULL for the zero
	// time. events.seq is the rowid: it gives the insertion order that breaks
	// created_at ties, and it is implicitly the last column of every index,
	// so "ORDER BY created_at, seq" is served by the indexes below.
	schemaV1 = `
CREATE TABLE functions (
	name        TEXT    NOT NULL,
	version     INTEGER NOT NULL,
	config      BLOB,
	code_sha256 TEXT    NOT NULL DEFAULT '',
	code_size   INTEGER NOT NULL DEFAULT 0,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	PRIMARY KEY (name, version)
);

CREATE TABLE events (
	seq           INTEGER PRIMARY KEY,
	request_id    TEXT    NOT NULL UNIQUE,
	function      TEXT    NOT NULL,
	version       INTEGER NOT NULL DEFAULT 0,
	qualifier     TEXT    NOT NULL DEFAULT '',
	invoke_type   TEXT    NOT NULL DEFAULT '',
	status        TEXT    NOT NULL,
	attempts      INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL,
	started_at    INTEGER,
	ended_at      INTEGER,
	next_attempt  INTEGER,
	duration_ms   INTEGER NOT NULL DEFAULT 0,
	max_memory_mb INTEGER NOT NULL DEFAULT 0,
	error_type    TEXT    NOT NULL DEFAULT '',
	error_message TEXT    NOT NULL DEFAULT '',
	durable_name  TEXT,
	payload       BLOB,
	result        BLOB
);
CREATE INDEX events_fn_created        ON events (function, created_at);
CREATE INDEX events_fn_status_created ON events (function, status, created_at);
CREATE INDEX events_status_created    ON events (status, created_at);
CREATE INDEX events_created           ON events (created_at);
CREATE UNIQUE INDEX events_durable    ON events (function, durable_name) WHERE durable_name IS NOT NULL;

CREATE TABLE attempts (
	request_id    TEXT    NOT NULL REFERENCES events (request_id) ON DELETE CASCADE,
	n             INTEGER NOT NULL,
	started_at    INTEGER,
	ended_at      INTEGER,
	status        TEXT    NOT NULL DEFAULT '',
	error_type    TEXT    NOT NULL DEFAULT '',
	error_message TEXT    NOT NULL DEFAULT '',
	duration_ms   INTEGER NOT NULL DEFAULT 0,
	max_memory_mb INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (request_id, n)
) WITHOUT ROWID;

CREATE TABLE logs (
	seq        INTEGER PRIMARY KEY,
	function   TEXT    NOT NULL DEFAULT '',
	request_id TEXT    NOT NULL DEFAULT '',
	attempt    INTEGER NOT NULL DEFAULT 0,
	time       INTEGER,
	stream     TEXT    NOT NULL DEFAULT '',
	text       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX logs_request ON logs (request_id, seq);
CREATE INDEX logs_function ON logs (function, seq);
`

	// schemaV2 makes the handlers' windows bounded.
	//
	// attempts.function (the event's, filled from events) with the index
	// (function, started_at) serves "the attempts of a function that
	// started in a window" (SCF GetFunctionLogs) as an index range; the
	// primary key (request_id, n) is the index's tail, so ordering by
	// (started_at, request_id, n) needs no sort.
	//
	// log_spans summarises the logs per function and bucket of the
	// lines' time — per minute (level 0) and per hour (level 1): the lowest
	// and highest seq and the number of lines. Logs are read in seq order
	// while a window is a time range, and a line's time is only nearly
	// increasing in seq (it is when the line was completed, the seq when it
	// was numbered). The buckets covering a window give the exact range of
	// seq its lines can have, so a window's query walks (function, seq)
	// inside that range and stops at its LIMIT, instead of walking past the
	// window to the function's first or last line. A window is covered by
	// its whole hours and at most 2 × 59 minutes at its edges (a window
	// shorter than 3 hours by its minutes), so the bounds cost at most a
	// few hundred small rows, plus one per hour of a long window. AppendLogs maintains the table
	// in the same transaction as the lines; a line without a time is in no
	// bucket and in no window.
	schemaV2 = `
ALTER TABLE attempts ADD COLUMN function TEXT NOT NULL DEFAULT '';
UPDATE attempts SET function = coalesce((SELECT e.function FROM events e WHERE e.request_id = attempts.request_id), '');
CREATE INDEX attempts_fn_started ON attempts (function, started_at);

CREATE TABLE log_spans (
	function TEXT    NOT NULL,
	level    INTEGER NOT NULL,
	bucket   INTEGER NOT NULL,
	min_seq  INTEGER NOT NULL,
	max_seq  INTEGER NOT NULL,
	lines    INTEGER NOT NULL,
	PRIMARY KEY (function, level, bucket)
) WITHOUT ROWID;
CREATE INDEX log_spans_bucket ON log_spans (level, bucket);
INSERT INTO log_spans (function, level, bucket, min_seq, max_seq, lines)
	SELECT function, 0, (time - ((time % 60000000000) + 60000000000) % 60000000000) / 60000000000 AS minute,
		min(seq), max(seq), count(*)
	FROM logs WHERE time IS NOT NULL GROUP BY function, minute;
INSERT INTO log_spans (function, level, bucket, min_seq, max_seq, lines)
	SELECT function, 1, (bucket - ((bucket % 60) + 60) % 60) / 60 AS hour, min(min_seq), max(max_seq), sum(lines)
	FROM log_spans WHERE level = 0 GROUP BY function, hour;
`

	// schemaV3 adds the object store and the layer versions (objects.go),
	// and the layers a function version runs with (Function.LayersSHA256).
	// An object's bytes are a file under the state directory (file is its
	// name there), never a blob: objects are up to gigabytes. Keys sort as
	// S3 and COS list them, by their UTF-8 bytes (SQLite's BINARY collation).
	// layer_names keeps the last version ever published, so that a version
	// number is never reused after a delete, as on both clouds.
	schemaV3 = `
CREATE TABLE buckets (
	name       TEXT    NOT NULL PRIMARY KEY,
	created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE objects (
	bucket       TEXT    NOT NULL,
	key          TEXT    NOT NULL,
	file         TEXT    NOT NULL,
	size         INTEGER NOT NULL,
	etag         TEXT    NOT NULL,
	content_type TEXT    NOT NULL DEFAULT '',
	modified     INTEGER NOT NULL,
	PRIMARY KEY (bucket, key)
) WITHOUT ROWID;

CREATE TABLE uploads (
	id           TEXT    NOT NULL PRIMARY KEY,
	bucket       TEXT    NOT NULL,
	key          TEXT    NOT NULL,
	content_type TEXT    NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE upload_parts (
	upload_id TEXT    NOT NULL,
	n         INTEGER NOT NULL,
	file      TEXT    NOT NULL,
	size      INTEGER NOT NULL,
	etag      TEXT    NOT NULL,
	PRIMARY KEY (upload_id, n)
) WITHOUT ROWID;

CREATE TABLE layer_names (
	name         TEXT    NOT NULL PRIMARY KEY,
	last_version INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE layers (
	name          TEXT    NOT NULL,
	version       INTEGER NOT NULL,
	description   TEXT    NOT NULL DEFAULT '',
	runtimes      TEXT    NOT NULL DEFAULT '',
	code_sha256   TEXT    NOT NULL,
	code_size     INTEGER NOT NULL,
	unzipped_size INTEGER NOT NULL,
	created_at    INTEGER NOT NULL,
	PRIMARY KEY (name, version)
) WITHOUT ROWID;
CREATE INDEX layers_sha ON layers (code_sha256);

ALTER TABLE functions ADD COLUMN layers_sha256 TEXT NOT NULL DEFAULT '';
`
)

// migrate brings the database to SchemaVersion in one transaction. A database
// from a newer asyncfn is refused rather than guessed at.
func migrate(ctx context.Context, c *sql.Conn) (err error) {
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			c.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	var v int
	if err := c.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v > SchemaVersion {
		return fmt.Errorf("schema version %d is newer than this asyncfn supports (%d); use a newer asyncfn or another --state-dir", v, SchemaVersion)
	}
	m := migrations()
	if len(m) != SchemaVersion {
		return fmt.Errorf("internal error: %d migrations for schema version %d", len(m), SchemaVersion)
	}
	for ; v < SchemaVersion; v++ {
		if _, err := c.ExecContext(ctx, m[v]); err != nil {
			return fmt.Errorf("migration to version %d: %w", v+1, err)
		}
		// PRAGMA does not take bound parameters.
		if _, err := c.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
			return err
		}
	}
	_, err = c.ExecContext(ctx, "COMMIT")
	return err
}
