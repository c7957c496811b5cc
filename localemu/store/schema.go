package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations()[i] takes the schema from version i to version i+1. The version
// is PRAGMA user_version. Append, never edit: a released database holds the
// version it reached. (A function, not a var: the package keeps no mutable
// state.)
func migrations() []string { return []string{schemaV1} }

// SchemaVersion is the schema version this package writes: len(migrations()).
const SchemaVersion = 1

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
