package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/vigilhq/vigil/scheduler/store/internal/sqlcol"
)

// migrations holds the schema, one file per version: NNNN_what.sql. A file
// is never edited once released; a change to the schema is a new file.
//
//go:embed migrations/*.sql
var migrations embed.FS

// ErrSchemaTooNew is returned (wrapped) by Open for a file whose schema was
// written by a newer Vigil than this one.
var ErrSchemaTooNew = errors.New("store schema is newer than this vigil")

// migrate applies the migrations in fsys that db has not had yet, in order,
// in one transaction. The transaction holds the write lock from its start,
// so two processes opening a new file at once migrate it once.
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS, now func() time.Time) error {
	ms, err := sqlcol.LoadMigrations(fsys)
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	latest := 0
	if len(ms) > 0 {
		latest = ms[len(ms)-1].Version
	}
	return inTx(ctx, db, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at INTEGER NOT NULL
		) STRICT`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var have int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if have > latest {
			return fmt.Errorf("%w: the file has schema version %d and this binary knows versions up to %d; upgrade vigil to open it",
				ErrSchemaTooNew, have, latest)
		}
		for _, m := range ms {
			if m.Version <= have {
				continue
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("apply migration %s: %w", m.Name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, now().UnixNano()); err != nil {
				return fmt.Errorf("record migration %s: %w", m.Name, err)
			}
		}
		return nil
	})
}
