// Package localquote opens only SQLite and imports lib/pq by name for
// its quoting helper: no database it opens is on a network.
package localquote

import (
	"database/sql"

	"github.com/lib/pq"
	_ "modernc.org/sqlite"
)

func open(path string) (*sql.DB, error) { return sql.Open("sqlite", path) }

func create(path, table string) error {
	db, err := open(path)
	if err != nil {
		return err
	}
	_, err = db.Exec("CREATE TABLE " + pq.QuoteIdentifier(table) + " (id int)")
	return err
}
