// Package local keeps its data in a SQLite file: no call can wait on a
// network, and without a busy timeout a held lock fails at once.
package local

import (
	"context"
	"database/sql"

	_ "modernc.org/sqlite"
)

func store(db *sql.DB) {
	db.Exec("INSERT INTO t VALUES (1)")
	db.QueryContext(context.Background(), "SELECT 1")
}
