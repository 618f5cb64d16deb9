// Package meta queries the SQLite backend's files through the shared
// wrapper: it imports no driver, but its databases come from a package of
// the module that opens only SQLite.
package meta

import (
	"context"

	"sqlcontext/backends/sqlite/pool"
	"sqlcontext/backends/wrap"
)

func Load(path string) (*wrap.DB, error) {
	db, err := pool.Open(path)
	if err != nil {
		return nil, err
	}
	_, err = db.Query(context.Background(), "SELECT name FROM collections")
	return db, err
}
