// Package namedpq imports lib/pq by name beside SQLite, and opens
// PostgreSQL with it: its calls can wait on a network.
package namedpq

import (
	"database/sql"

	"github.com/lib/pq"
	_ "modernc.org/sqlite"
)

func open(dsn string, local bool) (*sql.DB, error) {
	if local {
		return sql.Open("sqlite", dsn)
	}
	return sql.Open("postgres", dsn)
}

func create(db *sql.DB, table string) error {
	_, err := db.Exec("CREATE TABLE " + pq.QuoteIdentifier(table) + " (id int)") // want `\(\*sql.DB\).Exec has no context`
	return err
}
