// Package pool opens the SQLite backend's files.
package pool

import (
	"database/sql"

	"sqlcontext/backends/wrap"

	_ "modernc.org/sqlite"
)

func Open(path string) (*wrap.DB, error) {
	db, err := sql.Open("sqlite", path)
	return &wrap.DB{SQL: db}, err
}
