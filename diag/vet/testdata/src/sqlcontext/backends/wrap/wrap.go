// Package wrap is a thin wrapper over database/sql shared by a SQLite
// and a PostgreSQL backend; it imports no driver.
package wrap

import (
	"context"
	"database/sql"
)

type DB struct{ SQL *sql.DB }

func (db *DB) Query(ctx context.Context, q string) (*sql.Rows, error) {
	return db.SQL.QueryContext(ctx, q)
}
