// Package sqlite is Vigil's embedded default store: a scheduler.Store kept in
// one SQLite file, through the pure-Go driver modernc.org/sqlite (no cgo).
//
// Open the file once per process and share the *Store:
//
//	st, err := sqlite.Open(ctx, "/var/lib/vigil/vigil.db", sqlite.Options{})
//	if err != nil {
//		return err
//	}
//	defer st.Close()
//
// Several processes may open the same file at once: the daemon holds it for
// its whole life while `vigil dags list` or `vigil dags trigger` read and
// write beside it; only one daemon, which opens it with Options.Exclusive
// (a lock file, PATH.lock). The file is in WAL mode, so readers never wait for the
// writer; writers queue, in-process on a single write connection and across
// processes on SQLite's busy timeout, and every write transaction takes the
// write lock when it begins (BEGIN IMMEDIATE) so that two writers never
// deadlock upgrading a read lock.
//
// Every call is bounded: a context without a deadline gets
// Options.DefaultTimeout, a call waiting for another process's lock gives
// up when its context ends, and a write transaction whose context ends is
// rolled back before its next statement (see inTx).
//
// Open applies the schema migrations embedded in the binary, in order, and
// refuses (ErrSchemaTooNew) a file written by a newer Vigil.
//
// Times are kept as UTC unix nanoseconds: they read back in UTC, equal to
// what was written to the nanosecond, and must lie between the years 1678
// and 2262. A zero time.Time is stored as NULL and reads back as zero.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/scheduler"

	// The driver registers itself as "sqlite" with database/sql.
	_ "modernc.org/sqlite"
)

var _ scheduler.Store = (*Store)(nil)

// Options configure a Store. The zero value is ready to use.
type Options struct {
	// DefaultTimeout bounds any call whose context has no deadline. It is
	// 10s if zero.
	DefaultTimeout time.Duration
	// Now is the clock; time.Now if nil. The store stamps only its own
	// bookkeeping with it: the domain's times come from the caller.
	Now func() time.Time
	// Inflight, if set, registers every call while it runs, so a call
	// stuck on the database shows in the debug API and bundles.
	Inflight *inflight.Registry
	// Exclusive holds a lock file beside the database (PATH.lock) for
	// the Store's life, and Open fails with ErrLocked while another
	// process holds it: the scheduler daemon sets it, so that two never
	// run on one file; the admin commands, which open the file beside
	// the daemon, do not.
	Exclusive bool
}

// Store is a scheduler.Store in a SQLite file. It is safe for concurrent use.
type Store struct {
	// write has a single connection, so this process's writers queue in
	// database/sql (in order, watching their contexts) instead of sleeping
	// in SQLite's busy handler against each other.
	write *sql.DB
	// read serves queries; its connections are query-only.
	read *sql.DB
	// applier holds Apply's statements, prepared on write.
	applier *applier

	timeout  time.Duration
	now      func() time.Time
	inflight *inflight.Registry
	id       string   // see ID
	path     string   // the file's absolute path, for messages
	target   string   // the file's base name, shown as the in-flight target
	lock     *os.File // the held lock file with Options.Exclusive
}

// busyTimeout is how long SQLite waits for another process's lock. It is
// only a backstop: every call has a context deadline, and the driver ends
// the wait when the context ends.
const busyTimeout = 30 * time.Second

// Open opens, creating it if needed, the store in the SQLite file at path
// and brings its schema up to date. The file and its -wal and -shm are
// owner-only (0600), see ownerOnly.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open store %q: a file path is required", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	var lock *os.File
	if opts.Exclusive {
		if lock, err = lockFile(abs); err != nil {
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
	}
	if err := ownerOnly(abs); err != nil {
		if lock != nil {
			lock.Close()
		}
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{timeout: opts.DefaultTimeout, now: opts.Now, inflight: opts.Inflight, path: abs, target: "sqlite:" + filepath.Base(abs), lock: lock}
	if s.timeout <= 0 {
		s.timeout = 10 * time.Second
	}
	if s.now == nil {
		s.now = time.Now
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()

	if s.write, err = sql.Open("sqlite", dsn(abs, false)); err != nil {
		s.unlock()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.write.SetMaxOpenConns(1)
	if s.read, err = sql.Open("sqlite", dsn(abs, true)); err != nil {
		s.write.Close()
		s.unlock()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	s.read.SetMaxOpenConns(readers)
	s.read.SetMaxIdleConns(readers)

	// The write connection is opened first, by the migration, so the file
	// is in WAL mode before any reader opens it.
	// Two processes opening a new file at once (a daemon starting while
	// `vigil dags list` polls) can meet SQLITE_BUSY outside the busy
	// handler's reach: switching a fresh file to WAL needs an exclusive
	// lock. Such a clash is retried until ctx's deadline, not returned.
	for backoff := 20 * time.Millisecond; ; backoff = min(2*backoff, 500*time.Millisecond) {
		err := migrate(ctx, s.write, migrations, s.now)
		if err == nil {
			break
		}
		if isCorrupt(err) {
			s.Close()
			return nil, fmt.Errorf("open store: %w", corruptErr(abs, err))
		}
		if !isBusy(err) || ctx.Err() != nil {
			s.Close()
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			s.Close()
			return nil, fmt.Errorf("open store %s: %w", path, err)
		case <-time.After(backoff):
		}
	}
	if s.applier, err = prepareApplier(ctx, s.write); err != nil {
		s.Close()
		if isCorrupt(err) {
			return nil, fmt.Errorf("open store: %w", corruptErr(abs, err))
		}
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := s.write.QueryRowContext(ctx, `SELECT id FROM store_identity`).Scan(&s.id); err != nil {
		s.Close()
		if isCorrupt(err) {
			return nil, fmt.Errorf("open store: %w", corruptErr(abs, err))
		}
		return nil, fmt.Errorf("open store %s: read the database's id: %w", path, err)
	}
	return s, nil
}

// ID is the database's id, made once with its schema (scheduler.Store).
func (s *Store) ID() string { return s.id }

// dsn is the driver's connection string for the file at path. The driver
// applies the underscore parameters to every connection it opens; see the
// Driver documentation of modernc.org/sqlite.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(busyTimeout.Milliseconds()))
	q.Set("_foreign_keys", "on")
	if readOnly {
		q.Set("_query_only", "on")
	} else {
		q.Set("_journal_mode", "WAL")
		// In WAL mode NORMAL loses at most the last transactions on power
		// loss, never the file's integrity, and spares an fsync per commit.
		q.Set("_synchronous", "NORMAL")
		q.Set("_txlock", "immediate")
	}
	path = filepath.ToSlash(path)
	if !strings.HasPrefix(path, "/") {
		path = "/" + path // a Windows drive letter
	}
	// The file: form escapes the path, so a '?' or '%' in a directory name
	// cannot be taken for the start of the parameters.
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	return u.String()
}

// Close closes the store's connections.
func (s *Store) Close() error {
	var err error
	if s.applier != nil {
		err = s.applier.close()
	}
	err = errors.Join(err, s.write.Close(), s.read.Close())
	s.unlock()
	return err
}

// unlock releases the lock file, if held, once the connections are closed.
func (s *Store) unlock() {
	if s.lock != nil {
		s.lock.Close()
		s.lock = nil
	}
}

// bound gives ctx the store's default timeout if it has no deadline.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.timeout)
}

// call bounds ctx like bound and registers the call op as in flight
// until the returned function is called.
func (s *Store) call(ctx context.Context, op string) (context.Context, context.CancelFunc) {
	ctx, cancel := s.bound(ctx)
	end := s.inflight.Begin(ctx, inflight.Call{Kind: "db", Target: s.target, Op: op, CallerSkip: 1})
	return ctx, func() { end(); cancel() }
}

// inTx runs f in a write transaction and commits it if f returns nil.
func (s *Store) inTx(ctx context.Context, f func(ctx context.Context, tx *sql.Tx) error) error {
	return inTx(ctx, s.write, f)
}

// inTx begins and commits the transaction under ctx, and runs f's
// statements under ctx without its cancellation (the ctx f is given).
//
// BEGIN IMMEDIATE is where a writer waits for another process's lock, and
// the driver ends that wait when ctx ends. Inside the transaction the
// write lock is held, so a statement waits for nothing but the disk. For
// every statement whose context can end, the driver and database/sql each
// start a watcher goroutine; those were most of the goroutines a busy
// scheduler started, and most of the events the always-on execution
// tracer (the flight recorder) recorded. The statements stay bounded:
// database/sql rolls the transaction back as soon as ctx ends, the next
// statement fails, and inTx reports ctx's error. What is given up is
// interrupting a statement already running when ctx ends; it finishes
// first, and none of the store's statements is more than an indexed
// lookup or a write of one row.
func inTx(ctx context.Context, db *sql.DB, f func(ctx context.Context, tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := f(context.WithoutCancel(ctx), tx); err != nil {
		// f's error is the one worth reporting; a failed rollback has
		// committed nothing either, and SQLite drops the transaction when
		// the connection is reused or closed.
		_ = tx.Rollback()
		return txErr(ctx, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", txErr(ctx, err))
	}
	return nil
}

// txErr reports a statement failing because database/sql rolled the
// transaction back at the end of ctx as ctx's error.
func txErr(ctx context.Context, err error) error {
	if errors.Is(err, sql.ErrTxDone) && ctx.Err() != nil {
		return fmt.Errorf("%w (the transaction was rolled back)", ctx.Err())
	}
	return err
}

// notFound turns sql.ErrNoRows into scheduler.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return scheduler.ErrNotFound
	}
	return err
}

// mustAffect returns scheduler.ErrNotFound if res changed no row.
func mustAffect(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return scheduler.ErrNotFound
	}
	return nil
}

// isBusy reports whether err is SQLite's "database is locked" (SQLITE_BUSY
// or SQLITE_LOCKED, with any extended code).
func isBusy(err error) bool {
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		switch coded.Code() & 0xff {
		case 5, 6: // SQLITE_BUSY, SQLITE_LOCKED
			return true
		}
	}
	return false
}
