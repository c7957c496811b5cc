package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// DBFile is the name of the database file inside the state directory. SQLite
// keeps DBFile+"-wal" and DBFile+"-shm" beside it (created 0600 like it).
const DBFile = "state.db"

// ErrDuplicate is returned (wrapped) when InsertEvent is given a RequestID, or a
// (Function, DurableName) pair, that is already stored, or AppendLogs a Seq
// that is already stored.
var ErrDuplicate = errors.New("already exists")

// ErrClosed is returned by every method once Close has been called.
var ErrClosed = errors.New("store is closed")

// Synchronous is the SQLite synchronous level used by the writer connection.
type Synchronous string

const (
	// SyncNormal writes the WAL on every commit but fsyncs it only at
	// checkpoints (every Options.CheckpointInterval): a committed change
	// survives SIGKILL of the process (the bytes are in the kernel's page
	// cache); power loss or a kernel crash can lose the commits of the last
	// checkpoint interval. The default; see the package documentation.
	SyncNormal Synchronous = "NORMAL"
	// SyncFull also fsyncs the WAL on every commit: a committed change
	// survives power loss too, for one fsync per batch.
	SyncFull Synchronous = "FULL"
)

// Options tune OpenWith. The zero value is what Open uses.
type Options struct {
	// Synchronous is SyncNormal (default when empty) or SyncFull.
	Synchronous Synchronous
	// MaxBatch caps how many queued writes one transaction commits
	// (default 1024).
	MaxBatch int
	// Readers is the size of the read connection pool (default
	// max(4, GOMAXPROCS)).
	Readers int
	// BusyTimeout is how long a connection waits for a lock held by another
	// process or by a checkpoint (default 10s).
	BusyTimeout time.Duration
	// CheckpointInterval is how often a background connection copies the
	// WAL into the database file (PRAGMA wal_checkpoint(PASSIVE)); default
	// 500ms. SQLite's automatic checkpoint is off: it would run inside the
	// commit of whichever write crossed the threshold and add its fsync of
	// the database file to that batch's latency.
	CheckpointInterval time.Duration
	// Now is the clock used for Function.CreatedAt/UpdatedAt (default
	// time.Now).
	Now func() time.Time
}

// Store is the emulator's state database. It is safe for concurrent use.
type Store struct {
	dir  string
	path string
	opts Options

	wdb *sql.DB   // one connection, owned by the writer goroutine
	wc  *sql.Conn // that connection
	rdb *sql.DB   // read pool (query_only)
	cdb *sql.DB   // checkpointer's connection

	stopCkpt chan struct{} // closed by Close to stop the checkpointer
	ckptDone chan struct{} // closed when the checkpointer has exited

	stmts writerStmts

	// mu guards closed and the send side of ops: senders hold it shared
	// while sending, Close takes it exclusively before closing ops.
	mu     sync.RWMutex
	closed bool
	ops    chan *op
	done   chan struct{} // closed when the writer goroutine has exited
}

// op is one write. fn runs inside the writer's transaction (inside its own
// savepoint when the batch holds several ops) and must not retain w.
type op struct {
	ctx  context.Context
	fn   func(w *writer) error
	errc chan error
}

// writer is what an op's fn gets: the writer connection and its prepared
// statements. Only the writer goroutine uses it.
type writer struct {
	ctx   context.Context
	c     *sql.Conn
	stmts *writerStmts
}

func (w *writer) exec(q string, args ...any) (sql.Result, error) {
	return w.c.ExecContext(w.ctx, q, args...)
}

type writerStmts struct {
	insertEvent, updateEvent, upsertAttempt, insertLog *sql.Stmt
	upsertLogSpan                                      *sql.Stmt
	begin, commit, rollback                            *sql.Stmt
	savepoint, release, rollbackTo                     *sql.Stmt
}

// Open opens (creating if needed) the store in dir with the default Options.
func Open(dir string) (*Store, error) { return OpenWith(dir, Options{}) }

// OpenWith opens (creating if needed) the store in dir: the directory is
// created 0700 and the database file 0600, the schema is created or migrated
// to the current version, and the writer goroutine is started.
func OpenWith(dir string, o Options) (*Store, error) {
	if o.Synchronous == "" {
		o.Synchronous = SyncNormal
	}
	if o.Synchronous != SyncFull && o.Synchronous != SyncNormal {
		return nil, fmt.Errorf("store: unknown synchronous mode %q (want FULL or NORMAL)", o.Synchronous)
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 1024
	}
	if o.Readers <= 0 {
		o.Readers = max(4, runtime.GOMAXPROCS(0))
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 10 * time.Second
	}
	if o.CheckpointInterval <= 0 {
		o.CheckpointInterval = 500 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if dir == "" {
		return nil, errors.New("store: no state directory given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("state directory %s: %w", dir, err)
	}
	if err := prepareDir(abs); err != nil {
		return nil, err
	}
	path := filepath.Join(abs, DBFile)
	if err := prepareFile(path); err != nil {
		return nil, err
	}

	s := &Store{dir: abs, path: path, opts: o, ops: make(chan *op, 4*o.MaxBatch), done: make(chan struct{}),
		stopCkpt: make(chan struct{}), ckptDone: make(chan struct{})}
	if err := s.openWriter(); err != nil {
		s.closeDBs()
		return nil, err
	}
	if err := s.openReaders(); err != nil {
		s.closeDBs()
		return nil, err
	}
	cdb, err := sql.Open("sqlite", dsn(s.path,
		fmt.Sprintf("busy_timeout(%d)", s.opts.BusyTimeout.Milliseconds()),
		"synchronous("+string(s.opts.Synchronous)+")"))
	if err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("state database %s: %w", s.path, err)
	}
	cdb.SetMaxOpenConns(1)
	cdb.SetMaxIdleConns(1)
	cdb.SetConnMaxIdleTime(0)
	cdb.SetConnMaxLifetime(0)
	s.cdb = cdb
	go s.run()
	go s.checkpointer()
	return s, nil
}

// walLimit is the size past which the WAL is emptied by force.
const walLimit = 64 << 20

// checkpointer copies the WAL back into the database file every
// CheckpointInterval. PASSIVE never blocks the writer or readers; once the
// WAL is fully copied and no reader uses it, the writer's next commit starts
// the WAL file over, so it stays about one interval's worth of writes.
func (s *Store) checkpointer() {
	defer close(s.ckptDone)
	t := time.NewTicker(s.opts.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stopCkpt:
			return
		case <-t.C:
			s.checkpoint()
		}
	}
}

// checkpoint copies the WAL into the database without blocking anyone
// (PASSIVE; errors such as busy are retried at the next tick). Under steady
// reads and writes a passive checkpoint may never find the moment the WAL
// can start over, and the WAL grows by every write (seen: 550 MB in a
// minute of heavy logging). So past walLimit, once a passive checkpoint has
// copied every frame, a TRUNCATE checkpoint empties the file: it holds
// writers back only while it waits for readers of older snapshots, and it
// waits at most truncateWait — never the seconds a TRUNCATE that still had
// frames to copy, or waited out the busy timeout, would stall accepts for
// (seen: 11 s).
func (s *Store) checkpoint() {
	var busy, frames, copied int
	if err := s.cdb.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil || frames != copied {
		return
	}
	if fi, err := os.Stat(s.path + "-wal"); err != nil || fi.Size() <= walLimit {
		return
	}
	s.cdb.Exec(fmt.Sprintf("PRAGMA busy_timeout=%d", truncateWait.Milliseconds()))
	s.cdb.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	s.cdb.Exec(fmt.Sprintf("PRAGMA busy_timeout=%d", s.opts.BusyTimeout.Milliseconds()))
}

// truncateWait bounds how long a TRUNCATE checkpoint may hold writers back.
const truncateWait = 50 * time.Millisecond

// prepareDir creates dir 0700 if missing and checks that it is a writable
// directory, so that the error names the real cause instead of SQLite's
// "unable to open database file".
func prepareDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case err == nil && !fi.IsDir():
		return fmt.Errorf("state directory %s: exists and is not a directory", dir)
	case err == nil:
	default:
		// Missing, or a parent is missing or not a directory: MkdirAll
		// creates it or tells which part is wrong.
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("state directory %s: cannot create: %w", dir, err)
		}
	}
	// SQLite must be able to create the -wal and -shm files beside the
	// database: probe that the directory is writable.
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return fmt.Errorf("state directory %s: not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("state directory %s: not writable: %w", dir, err)
	}
	return nil
}

// prepareFile creates the database file 0600 if missing (SQLite would use
// 0644 and gives its -wal/-shm files the database file's mode).
func prepareFile(path string) error {
	fi, err := os.Stat(path)
	if err == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("state database %s: not a regular file", path)
		}
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("state database %s: cannot open for writing: %w", path, err)
		}
		return f.Close()
	}
	if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("state database %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("state database %s: cannot create: %w", path, err)
	}
	return f.Close()
}

// dsn is a SQLite URI for path; the query holds modernc.org/sqlite's _pragma
// parameters, applied to every new connection.
func dsn(path string, pragmas ...string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	var b strings.Builder
	b.WriteString("file:")
	b.WriteString(r.Replace(filepath.ToSlash(path)))
	for i, p := range pragmas {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString("_pragma=")
		b.WriteString(p)
	}
	return b.String()
}

func (s *Store) openWriter() error {
	ctx := context.Background()
	wdb, err := sql.Open("sqlite", dsn(s.path,
		fmt.Sprintf("busy_timeout(%d)", s.opts.BusyTimeout.Milliseconds()),
		"foreign_keys(1)"))
	if err != nil {
		return fmt.Errorf("state database %s: %w", s.path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	s.wdb = wdb
	c, err := wdb.Conn(ctx)
	if err != nil {
		return fmt.Errorf("state database %s: %w", s.path, err)
	}
	s.wc = c
	if err := incrementalVacuum(ctx, c); err != nil {
		return dbErr(s.path, "set auto_vacuum", err)
	}
	var mode string
	if err := c.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode); err != nil {
		return dbErr(s.path, "set WAL mode", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("state database %s: cannot use WAL mode (journal_mode is %q)", s.path, mode)
	}
	// Checkpoints run on their own connection (see checkpointer), not
	// inside the commit of whichever write crosses the WAL threshold.
	if _, err := c.ExecContext(ctx, "PRAGMA wal_autocheckpoint=0"); err != nil {
		return dbErr(s.path, "set wal_autocheckpoint", err)
	}
	// After a checkpoint the WAL file is cut back to this size: a large
	// prune must not leave a WAL as large as what it deleted.
	if _, err := c.ExecContext(ctx, fmt.Sprintf("PRAGMA journal_size_limit=%d", walLimit)); err != nil {
		return dbErr(s.path, "set journal_size_limit", err)
	}
	if _, err := c.ExecContext(ctx, "PRAGMA synchronous="+string(s.opts.Synchronous)); err != nil {
		return dbErr(s.path, "set synchronous", err)
	}
	if err := migrate(ctx, c); err != nil {
		return dbErr(s.path, "schema", err)
	}
	prep := func(dst **sql.Stmt, q string) {
		if err != nil {
			return
		}
		*dst, err = c.PrepareContext(ctx, q)
	}
	st := &s.stmts
	prep(&st.insertEvent, sqlInsertEvent)
	prep(&st.updateEvent, sqlUpdateEvent)
	prep(&st.upsertAttempt, sqlUpsertAttempt)
	prep(&st.insertLog, sqlInsertLog)
	prep(&st.upsertLogSpan, sqlUpsertLogSpan)
	prep(&st.begin, "BEGIN IMMEDIATE")
	prep(&st.commit, "COMMIT")
	prep(&st.rollback, "ROLLBACK")
	prep(&st.savepoint, "SAVEPOINT op")
	prep(&st.release, "RELEASE op")
	prep(&st.rollbackTo, "ROLLBACK TO op")
	if err != nil {
		return dbErr(s.path, "prepare", err)
	}
	return nil
}

// incrementalVacuum puts the database in auto_vacuum=INCREMENTAL mode, so
// that Reclaim can give deleted rows' pages back to the file system in small
// steps. A new database takes the mode before its first table; one written
// by an earlier asyncfn (mode NONE) is rewritten once by VACUUM, the only way
// SQLite changes the mode of a database that has tables
// (https://sqlite.org/pragma.html#pragma_auto_vacuum).
func incrementalVacuum(ctx context.Context, c *sql.Conn) error {
	const incremental = 2
	var mode int
	if err := c.QueryRowContext(ctx, "PRAGMA auto_vacuum").Scan(&mode); err != nil {
		return err
	}
	if mode == incremental {
		return nil
	}
	if _, err := c.ExecContext(ctx, "PRAGMA auto_vacuum=INCREMENTAL"); err != nil {
		return err
	}
	var tables int
	if err := c.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
		return err
	}
	if tables == 0 {
		return nil
	}
	_, err := c.ExecContext(ctx, "VACUUM")
	return err
}

func (s *Store) openReaders() error {
	rdb, err := sql.Open("sqlite", dsn(s.path,
		fmt.Sprintf("busy_timeout(%d)", s.opts.BusyTimeout.Milliseconds()),
		"query_only(1)"))
	if err != nil {
		return fmt.Errorf("state database %s: %w", s.path, err)
	}
	rdb.SetMaxOpenConns(s.opts.Readers)
	rdb.SetMaxIdleConns(s.opts.Readers)
	rdb.SetConnMaxIdleTime(0)
	rdb.SetConnMaxLifetime(0)
	s.rdb = rdb
	if err := rdb.PingContext(context.Background()); err != nil {
		return dbErr(s.path, "open read connection", err)
	}
	return nil
}

// dbErr names the database file and, for SQLite's corruption codes, says so
// plainly.
func dbErr(path, what string, err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
			return fmt.Errorf("state database %s is corrupt or not a SQLite database (%s): %w", path, what, err)
		case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM:
			return fmt.Errorf("state database %s cannot be written (%s): %w", path, what, err)
		case sqlite3.SQLITE_FULL:
			return fmt.Errorf("state database %s: disk full (%s): %w", path, what, err)
		}
	}
	return fmt.Errorf("state database %s: %s: %w", path, what, err)
}

func isConstraintUnique(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	c := se.Code()
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// Dir is the state directory (absolute).
func (s *Store) Dir() string { return s.dir }

// Path is the database file (absolute).
func (s *Store) Path() string { return s.path }

// SchemaVersion is the schema version recorded in the database
// (PRAGMA user_version).
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.rdb.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, dbErr(s.path, "schema version", err)
	}
	return v, nil
}

// Close stops accepting writes, commits every write already queued, waits
// for the writer and closes the database. It is safe to call more than once.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.done
		return nil
	}
	s.closed = true
	close(s.ops)
	s.mu.Unlock()
	<-s.done
	close(s.stopCkpt)
	<-s.ckptDone
	return s.closeDBs()
}

func (s *Store) closeDBs() error {
	var errs []error
	if s.cdb != nil {
		errs = append(errs, s.cdb.Close())
	}
	if s.rdb != nil {
		errs = append(errs, s.rdb.Close())
	}
	if s.wc != nil {
		// A last checkpoint leaves an empty -wal file for the next open;
		// failure is harmless (the next open replays the WAL).
		s.wc.ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)")
		for _, st := range []*sql.Stmt{s.stmts.insertEvent, s.stmts.updateEvent, s.stmts.upsertAttempt,
			s.stmts.insertLog, s.stmts.upsertLogSpan, s.stmts.begin, s.stmts.commit, s.stmts.rollback, s.stmts.savepoint,
			s.stmts.release, s.stmts.rollbackTo} {
			if st != nil {
				st.Close()
			}
		}
		errs = append(errs, s.wc.Close())
	}
	if s.wdb != nil {
		errs = append(errs, s.wdb.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("state database %s: close: %w", s.path, err)
	}
	return nil
}

// write queues fn for the writer goroutine and waits until the transaction
// holding it has committed (nil) or fn or the commit failed. Once queued,
// the op is waited for even if ctx ends, so that a nil-or-error answer always
// tells the truth about what is on disk.
func (s *Store) write(ctx context.Context, fn func(w *writer) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o := &op{ctx: ctx, fn: fn, errc: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	select {
	case s.ops <- o:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
	return <-o.errc
}

// run is the writer goroutine: it takes every op already queued (up to
// MaxBatch), runs them in one transaction and commits once. While it commits
// (fsync), new callers queue up and form the next batch, so the number of
// fsyncs per second stays bounded by the disk, not by the number of callers.
func (s *Store) run() {
	defer close(s.done)
	batch := make([]*op, 0, s.opts.MaxBatch)
	for {
		first, ok := <-s.ops
		if !ok {
			return
		}
		batch = append(batch[:0], first)
	drain:
		for len(batch) < s.opts.MaxBatch {
			select {
			case o, ok := <-s.ops:
				if !ok {
					break drain
				}
				batch = append(batch, o)
			default:
				break drain
			}
		}
		s.commit(batch)
	}
}

// commit runs batch in one transaction. With more than one op, each runs
// inside its own SAVEPOINT so that a failing op is rolled back alone and the
// others still commit. Every op's caller gets its own error: fn's error, or
// the transaction's if BEGIN/COMMIT failed.
func (s *Store) commit(batch []*op) {
	ctx := context.Background()
	st := &s.stmts
	errs := make([]error, len(batch))
	fail := func(err error) {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	defer func() {
		for i, o := range batch {
			o.errc <- errs[i]
		}
	}()
	if _, err := st.begin.ExecContext(ctx); err != nil {
		fail(dbErr(s.path, "begin", err))
		return
	}
	w := &writer{ctx: ctx, c: s.wc, stmts: st}
	single := len(batch) == 1
	ran := 0
	for i, o := range batch {
		if err := o.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if single {
			if err := o.fn(w); err != nil {
				errs[i] = err
				st.rollback.ExecContext(ctx)
				return
			}
			ran++
			continue
		}
		if _, err := st.savepoint.ExecContext(ctx); err != nil {
			fail(dbErr(s.path, "savepoint", err))
			st.rollback.ExecContext(ctx)
			return
		}
		if err := o.fn(w); err != nil {
			errs[i] = err
			if _, rerr := st.rollbackTo.ExecContext(ctx); rerr != nil {
				// SQLite rolled the whole transaction back (e.g. disk
				// full): every op of the batch is lost.
				fail(fmt.Errorf("transaction aborted by another write's error: %w", err))
				st.rollback.ExecContext(ctx)
				return
			}
		} else {
			ran++
		}
		if _, err := st.release.ExecContext(ctx); err != nil {
			fail(dbErr(s.path, "release savepoint", err))
			st.rollback.ExecContext(ctx)
			return
		}
	}
	if ran == 0 {
		st.rollback.ExecContext(ctx)
		return
	}
	if _, err := st.commit.ExecContext(ctx); err != nil {
		fail(dbErr(s.path, "commit", err))
		st.rollback.ExecContext(ctx)
		return
	}
}
