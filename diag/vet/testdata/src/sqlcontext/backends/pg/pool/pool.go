// Package pool opens the PostgreSQL backend's connections.
package pool

import (
	"database/sql"

	"sqlcontext/backends/wrap"

	_ "github.com/lib/pq"
)

func Open(dsn string) (*wrap.DB, error) {
	db, err := sql.Open("postgres", dsn)
	return &wrap.DB{SQL: db}, err
}
