package sqlcontext

import (
	"context"
	"database/sql"
	"time"

	"example.com/retry"
)

// A context handed to a function with a callback reaches what the
// callback waits on: the callee runs it on that context.
func retried(db *sql.DB) {
	retry.Do(context.Background(), func(ctx context.Context) error { // want `context.Background\(\) passed to retry.Do reaches \(\*sql.DB\).QueryContext at callback.go:\d+ \(through the function given to retry.Do\) with no deadline`
		_, err := db.QueryContext(ctx, "SELECT 1")
		return err
	})
	retry.Do(context.TODO(), func(context.Context) error { return nil })
	// The callee's name or parameters say it bounds the call.
	retry.WithTimeout(context.Background(), time.Second, func(ctx context.Context) error {
		_, err := db.ExecContext(ctx, "DELETE FROM t")
		return err
	})
	retry.Poll(context.Background(), time.Second, time.Minute, func(ctx context.Context) (bool, error) {
		return true, db.PingContext(ctx)
	})
	// A context with a deadline.
	tctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	retry.Do(tctx, func(ctx context.Context) error { return db.PingContext(ctx) })
}

// inTx runs fn on the context it is given: a callee of the package is
// followed into.
func inTx(ctx context.Context, db *sql.DB, fn func(ctx context.Context, tx *sql.Tx) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	return fn(ctx, tx)
}

// boundedTx gives fn a deadline of its own.
func boundedTx(ctx context.Context, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return fn(ctx)
}

func transactions(db *sql.DB) {
	inTx(context.Background(), db, func(ctx context.Context, tx *sql.Tx) error { // want `context.Background\(\) passed to inTx reaches`
		_, err := tx.ExecContext(ctx, "DELETE FROM t")
		return err
	})
	boundedTx(context.Background(), func(ctx context.Context) error {
		_, err := db.ExecContext(ctx, "DELETE FROM t")
		return err
	})
}

// The caller's context reaches the callback; the finding goes to the
// call that passes a background one.
func cleanup(ctx context.Context, db *sql.DB) error {
	return retry.Do(ctx, func(ctx context.Context) error {
		_, err := db.ExecContext(ctx, "DELETE FROM t")
		return err
	})
}

func nightly(db *sql.DB) {
	cleanup(context.Background(), db) // want `context.Background\(\) passed to cleanup reaches \(\*sql.DB\).ExecContext at callback.go:\d+ \(through the function given to retry.Do\)`
}

// runner is the package's own interface: nothing follows a call
// through it, and the function it is handed is taken to run on the
// context it is given.
type runner interface {
	Run(ctx context.Context, fn func(ctx context.Context) error) error
}

func viaInterface(r runner, db *sql.DB) {
	r.Run(context.Background(), func(ctx context.Context) error { // want `context.Background\(\) passed to sqlcontext.runner.Run reaches \(\*sql.DB\).PingContext`
		return db.PingContext(ctx)
	})
}
