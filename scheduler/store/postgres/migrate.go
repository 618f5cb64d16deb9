package postgres

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

// ErrSchemaTooNew is returned (wrapped) by Open for a database whose schema
// was written by a newer Vigil than this one.
var ErrSchemaTooNew = errors.New("store schema is newer than this vigil")

// migrateLock is the key of the advisory lock migrations run under: the
// first eight bytes of "vigilmig" as a big-endian integer. Any constant
// would do, as long as it stays the same across versions.
const migrateLock = 0x7669_6769_6c6d_6967

// migrate applies the migrations in fsys that db has not had yet, in
// order, in one transaction. The transaction first takes an advisory lock
// that it holds until it ends, so processes migrating a database at once
// queue and each version is applied once; PostgreSQL's DDL is
// transactional, so a failing migration leaves the schema as it was.
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
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
			return fmt.Errorf("lock schema: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at BIGINT NOT NULL
		)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var have int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if have > latest {
			return fmt.Errorf("%w: the database has schema version %d and this binary knows versions up to %d; upgrade vigil to open it",
				ErrSchemaTooNew, have, latest)
		}
		for _, m := range ms {
			if m.Version <= have {
				continue
			}
			// Without arguments pgx sends the file as one simple query, so
			// a migration may hold several statements.
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("apply migration %s: %w", m.Name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.Version, m.Name, now().UnixNano()); err != nil {
				return fmt.Errorf("record migration %s: %w", m.Name, err)
			}
		}
		return nil
	})
}
