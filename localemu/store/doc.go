// Package store is the emulator's durable state: functions, events, attempts
// and log lines in an embedded SQLite database (modernc.org/sqlite, WAL mode)
// in the state directory: DBFile (0600) in a 0700 directory, with a schema
// versioned by PRAGMA user_version (see SchemaVersion).
//
// # Promise
//
// A write method (InsertEvent, UpdateEvent, PutFunction, DeleteFunction,
// PutAttempt, AppendLogs) returns nil only after its change is committed.
// The emulator hands out a RequestId only after InsertEvent returned, so an
// id a client holds is never lost, even if the process is SIGKILLed the next
// instant.
//
// # Group commit
//
// Every write goes through one writer goroutine that owns the only write
// connection. A caller queues its operation and waits. The writer takes
// every operation already queued (up to Options.MaxBatch), runs them in one
// BEGIN IMMEDIATE transaction, commits once and wakes every caller with its
// own result. While it commits (and fsyncs), new callers queue up and form
// the next batch, so under load one fsync covers hundreds of accepts and
// throughput is bounded by CPU, not by the disk's sync latency; an idle
// store commits a lone write at once (no timer, no added latency).
//
// Why one writer: SQLite allows one writer at a time anyway. Letting N
// goroutines each run their own transaction makes them contend on the
// database lock (busy_timeout sleeps and retries) and pay one fsync each;
// funnelling them through one goroutine turns contention into batching.
//
// Isolation inside a batch: when a batch holds more than one operation, each
// runs inside its own SAVEPOINT; an operation that fails (a duplicate
// RequestID, an unknown event) is rolled back to its savepoint alone and
// only its caller sees the error. Only an error that aborts the whole
// transaction (I/O error, disk full) or a failed COMMIT fails the batch, and
// then every caller of the batch gets that error: nobody is told "committed"
// for a change that is not.
//
// Once queued, an operation is waited for even if the caller's context ends,
// so the answer is always the truth about the disk; an operation whose
// context has ended before the writer reaches it is skipped.
//
// Reads (Get*, List*, Stats, Logs, ...) use a separate pool of read-only
// connections (query_only). WAL lets them run concurrently with the writer
// and with each other, each on a consistent snapshot; a read that starts after
// a write returned sees it.
//
// # Durability: synchronous=FULL
//
// The writer uses PRAGMA synchronous=FULL by default: every commit fsyncs the
// WAL, so a committed change survives SIGKILL, kernel crashes and power
// loss. Group commit makes the cost one fsync per batch rather than per
// event (≈0.2 ms on the reference machine's disk), which is why the default
// can afford it. Options.Synchronous = SyncNormal is available: in WAL mode
// NORMAL still writes every commit to the WAL file before COMMIT returns, so
// it survives SIGKILL of the process (the data is in the kernel's page
// cache), but not power loss or a kernel crash, because the WAL is fsynced
// only at checkpoints. The emulator's stated requirement is surviving
// SIGKILL, which both satisfy; FULL is kept as the default because its
// measured cost is small (see BenchmarkInsertEventParallel, which runs both).
//
// # Times and indexes
//
// Times are stored as INTEGER unix nanoseconds (the zero time as NULL) and
// come back in UTC with nanosecond precision. Events are indexed by
// (function, created_at), (function, status, created_at), (status,
// created_at) and (created_at); the rowid (insertion order) is the implicit
// last column of each, so "ORDER BY created_at, seq" walks an index and a
// LIMIT stops early. A filter on several statuses is answered by merging the
// first Offset+Limit rows of each status's index range, so a page costs
// O(statuses × (offset+limit)) whatever the table size; the total count
// still visits every matching index entry.
package store
