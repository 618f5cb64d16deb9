// Package store runs queries under its callers' contexts.
package store

import (
	"context"
	"database/sql"
)

func Count(ctx context.Context, db *sql.DB) (n int, err error) {
	err = db.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n)
	return n, err
}

// Bounded sets its own deadline.
func Bounded(ctx context.Context, db *sql.DB) error {
	ctx, cancel := context.WithTimeout(ctx, 1)
	defer cancel()
	_, err := db.ExecContext(ctx, "DELETE FROM t")
	return err
}
