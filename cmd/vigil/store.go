package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/store/postgres"
	"github.com/vigilhq/vigil/scheduler/store/sqlite"
)

// isPostgres reports whether db names a PostgreSQL database
// (postgres://… or postgresql://…) rather than a SQLite file.
func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// openStore opens the store db names: a PostgreSQL URL, or the path of a
// SQLite file (its folder is created when create is set: `vigil run`
// makes the file, the admin commands only open an existing one).
func openStore(ctx context.Context, db string, reg *inflight.Registry, create bool) (scheduler.Store, error) {
	if isPostgres(db) {
		return postgres.Open(ctx, db, postgres.Options{Inflight: reg})
	}
	if create {
		if dir := filepath.Dir(db); dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("create database folder: %w", err)
			}
		}
	} else if _, err := os.Stat(db); err != nil {
		return nil, fmt.Errorf("database %s: %w; start the scheduler with 'vigil run' first, or pass --db", db, err)
	}
	return sqlite.Open(ctx, db, sqlite.Options{Inflight: reg})
}
