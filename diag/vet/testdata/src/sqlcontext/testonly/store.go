// Package testonly's tests run on SQLite; the program's database is
// chosen elsewhere, so its calls are checked.
package testonly

import "database/sql"

func store(db *sql.DB) {
	db.Exec("INSERT INTO t VALUES (1)") // want `\(\*sql.DB\).Exec has no context`
}
