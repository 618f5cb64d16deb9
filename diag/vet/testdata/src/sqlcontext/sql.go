package sqlcontext

import (
	"context"
	"database/sql"
	"time"
)

func noContext(db *sql.DB, tx *sql.Tx, st *sql.Stmt) {
	db.Query("SELECT 1")     // want `\(\*sql.DB\).Query has no context: a dead database connection, a held lock or a full connection pool blocks it forever; use QueryContext with a context that has a deadline`
	db.QueryRow("SELECT 1")  // want `\(\*sql.DB\).QueryRow has no context`
	db.Exec("DELETE FROM t") // want `\(\*sql.DB\).Exec has no context`
	db.Begin()               // want `\(\*sql.DB\).Begin has no context: .*; use BeginTx`
	db.Prepare("SELECT 1")   // want `\(\*sql.DB\).Prepare has no context`
	db.Ping()                // want `\(\*sql.DB\).Ping has no context`
	tx.Exec("x")             // want `\(\*sql.Tx\).Exec has no context`
	st.Query()               // want `\(\*sql.Stmt\).Query has no context`
}

func withContext(ctx context.Context, db *sql.DB, conn *sql.Conn) {
	db.QueryContext(context.Background(), "SELECT 1") // want `\(\*sql.DB\).QueryContext with context.Background\(\)`
	db.QueryContext(ctx, "SELECT 1")
	tctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	db.ExecContext(tctx, "x")
	conn.PingContext(context.TODO())      // want `\(\*sql.Conn\).PingContext with context.TODO\(\)`
	db.BeginTx(context.Background(), nil) // want `\(\*sql.DB\).BeginTx with context.Background`
	db.Conn(context.Background())         // want `\(\*sql.DB\).Conn with`
}

func store(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, "INSERT")
	return err
}

func save(db *sql.DB) {
	store(context.Background(), db) // want `context.Background\(\) passed to store reaches \(\*sql.DB\).ExecContext`
}

func suppressed(db *sql.DB) {
	//diag:ignore migrations run before the server starts, under the process's own timeout
	db.Exec("CREATE TABLE t (x)")
}

// txn is a transaction begun under a context, with context-free forms of
// its statements (unexported, so that no fact is exported).
type txn struct {
	ctx context.Context
	tx  *sql.Tx
}

func (tx txn) execContext(ctx context.Context, query string) (sql.Result, error) {
	return tx.tx.ExecContext(ctx, query)
}

// exec has the transaction's context to hand and passes context.TODO().
func (tx txn) exec(query string) (sql.Result, error) {
	return tx.execContext(context.TODO(), query) // want `context.TODO\(\) passed to txn.execContext reaches`
}

// repo has no context of its own: its exec is a context-free form, and
// the finding belongs to its callers.
type repo struct{ db *sql.DB }

func (s *repo) execContext(ctx context.Context, query string) (sql.Result, error) {
	return s.db.ExecContext(ctx, query)
}

func (s *repo) exec(query string) (sql.Result, error) {
	return s.execContext(context.Background(), query)
}

// hooks decorate the context a statement runs under.
type hooks struct{ db *sql.DB }

func (h *hooks) beforeQuery(ctx context.Context, query string) (context.Context, int) {
	return context.WithValue(ctx, hookKey{}, query), 1
}

func (h *hooks) withDeadline(ctx context.Context) context.Context {
	ctx, _ = context.WithTimeout(ctx, time.Second) //nolint
	return ctx
}

type hookKey struct{}

func (h *hooks) execContext(ctx context.Context, query string) error {
	ctx, _ = h.beforeQuery(ctx, query)
	_, err := h.db.ExecContext(ctx, query)
	return err
}

func (h *hooks) run() {
	h.execContext(context.Background(), "VACUUM") // want `context.Background\(\) passed to hooks.execContext reaches`
	h.db.ExecContext(h.withDeadline(context.Background()), "VACUUM")
}
