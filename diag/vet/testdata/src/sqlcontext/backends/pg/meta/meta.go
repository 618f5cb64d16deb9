// Package meta queries PostgreSQL through the same wrapper: a server
// that never answers blocks it.
package meta

import (
	"context"

	"sqlcontext/backends/pg/pool"
	"sqlcontext/backends/wrap"
)

func Load(dsn string) (*wrap.DB, error) {
	db, err := pool.Open(dsn)
	if err != nil {
		return nil, err
	}
	_, err = db.Query(context.Background(), "SELECT name FROM collections") // want `context.Background\(\) passed to wrap.DB.Query reaches`
	return db, err
}
