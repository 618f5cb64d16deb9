// Package mixed opens SQLite or PostgreSQL: on the second a call can
// wait forever.
package mixed

import (
	"database/sql"

	_ "github.com/lib/pq"
	_ "modernc.org/sqlite"
)

func store(db *sql.DB) {
	db.Exec("INSERT INTO t VALUES (1)") // want `\(\*sql.DB\).Exec has no context`
}
