// Package postgres is Vigil's shared store: a scheduler.Store in a
// PostgreSQL database, through pgx (github.com/jackc/pgx/v5) and its
// database/sql adapter.
//
// Open the database once per process and share the *Store:
//
//	st, err := postgres.Open(ctx, "postgres://vigil@db.internal/vigil", postgres.Options{})
//	if err != nil {
//		return err
//	}
//	defer st.Close()
//
// The URL is anything pgx.ParseConfig accepts: a postgres:// URL or
// key=value pairs, with the usual PG* environment variables as defaults.
//
// Several processes may use one database at once. Every write is a
// transaction in PostgreSQL's default isolation (read committed); Apply
// locks the instances it changes (SELECT … FOR UPDATE, always in key
// order, so two batches never deadlock) and updates each one only if its
// version is still the one it read, a compare-and-swap. CreateRun inserts
// a run once however many callers race to create it; the others get
// created=false.
//
// Every call is bounded: a context without a deadline gets
// Options.DefaultTimeout, and when the context ends pgx cancels the
// statement on the server and the transaction is rolled back. With
// Options.Inflight set, every call shows in the in-flight registry (kind
// "db", target "postgres:HOST/DATABASE", op the method's name) while it
// runs.
//
// Open applies the schema migrations embedded in the binary, in order, in
// one transaction under an advisory lock, so processes opening a new
// database at once apply each version once; it refuses (ErrSchemaTooNew)
// a database migrated by a newer Vigil.
//
// Times are kept as UTC unix nanoseconds (BIGINT): they read back in UTC,
// equal to what was written to the nanosecond, and must lie between the
// years 1678 and 2262. A zero time.Time is stored as NULL and reads back
// as zero.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/scheduler"
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
	// MaxConns caps the store's connections to the database; 10 if zero.
	MaxConns int
}

// Store is a scheduler.Store in a PostgreSQL database. It is safe for
// concurrent use.
type Store struct {
	// db serves every call. pgx prepares each statement on first use on a
	// connection and keeps it, so the store holds no prepared statements
	// of its own.
	db *sql.DB
	// cfg is the parsed URL, for the lock report's connection of its own.
	cfg *pgx.ConnConfig

	timeout  time.Duration
	now      func() time.Time
	inflight *inflight.Registry
	id       string // see ID
	target   string // "postgres:HOST/DATABASE", shown as the in-flight target
}

// Open connects to the database at url and brings its schema up to date.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx's error repeats the URL with its password masked.
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{cfg: cfg, timeout: opts.DefaultTimeout, now: opts.Now, inflight: opts.Inflight,
		target: "postgres:" + cfg.Host + "/" + cfg.Database}
	if s.timeout <= 0 {
		s.timeout = 10 * time.Second
	}
	if s.now == nil {
		s.now = time.Now
	}
	conns := opts.MaxConns
	if conns <= 0 {
		conns = 10
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()

	s.db = stdlib.OpenDB(*cfg)
	s.db.SetMaxOpenConns(conns)
	s.db.SetMaxIdleConns(conns)
	// A server or proxy may drop idle connections; replacing them now and
	// then spares a call a dead one.
	s.db.SetConnMaxIdleTime(5 * time.Minute)
	if err := migrate(ctx, s.db, migrations, s.now); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("open store %s: %w", s.target, err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT id FROM store_identity`).Scan(&s.id); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("open store %s: read the database's id: %w", s.target, err)
	}
	return s, nil
}

// ID is the database's id, made once with its schema (scheduler.Store).
func (s *Store) ID() string { return s.id }

// Close closes the store's connections.
func (s *Store) Close() error {
	return s.db.Close()
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

// inTx runs f in a transaction and commits it if f returns nil.
func (s *Store) inTx(ctx context.Context, f func(ctx context.Context, tx *sql.Tx) error) error {
	return inTx(ctx, s.db, f)
}

// inTx begins the transaction and runs f's statements under ctx. Unlike
// the SQLite store's, f keeps ctx's cancellation: a statement here can
// wait on a row another process has locked, and ending ctx is what stops
// the wait (pgx sends the server a cancel request).
func inTx(ctx context.Context, db *sql.DB, f func(ctx context.Context, tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := f(ctx, tx); err != nil {
		// f's error is the one worth reporting; a failed rollback has
		// committed nothing either, and database/sql discards the
		// connection.
		_ = tx.Rollback()
		return txErr(ctx, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", txErr(ctx, err))
	}
	return nil
}

// txErr reports a statement failing because ctx ended (database/sql rolled
// the transaction back, or pgx cancelled the statement) as ctx's error.
func txErr(ctx context.Context, err error) error {
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("%w (the transaction was rolled back: %v)", ctx.Err(), err)
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
