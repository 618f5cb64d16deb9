package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/store/internal/sqlcol"
)

// SaveDAG inserts or updates a DAG. An existing DAG keeps its paused flag.
func (s *Store) SaveDAG(ctx context.Context, rec scheduler.DAGRecord) error {
	ctx, cancel := s.call(ctx, "SaveDAG")
	defer cancel()
	specs, err := sqlcol.EncodeSpecs(rec.Specs)
	if err != nil {
		return fmt.Errorf("save dag %s: %w", rec.ID, err)
	}
	source := rec.Source
	if source == nil {
		source = []byte{} // pgx binds a nil slice as NULL
	}
	_, err = s.db.ExecContext(ctx, `
		INSERT INTO dags (id, file, source, specs, paused, missing, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET
			file = excluded.file, source = excluded.source, specs = excluded.specs,
			missing = excluded.missing, updated_at = excluded.updated_at`,
		rec.ID, rec.File, source, []byte(specs), rec.Paused, rec.Missing, sqlcol.TimeArg(rec.UpdatedAt))
	if err != nil {
		return fmt.Errorf("save dag %s: %w", rec.ID, err)
	}
	return nil
}

// SetDAGMissing sets or clears the missing mark of a DAG.
func (s *Store) SetDAGMissing(ctx context.Context, id string, missing bool) error {
	return s.setDAGFlag(ctx, "missing", id, missing)
}

// SetDAGPaused pauses or unpauses a DAG.
func (s *Store) SetDAGPaused(ctx context.Context, id string, paused bool) error {
	return s.setDAGFlag(ctx, "paused", id, paused)
}

// setDAGFlag sets one boolean column of a DAG; column is one of the two
// constants above, never outside text.
func (s *Store) setDAGFlag(ctx context.Context, column, id string, v bool) error {
	ctx, cancel := s.call(ctx, "SetDAG "+column)
	defer cancel()
	res, err := s.db.ExecContext(ctx, `UPDATE dags SET `+column+` = $1 WHERE id = $2`, v, id)
	if err == nil {
		err = mustAffect(res)
	}
	if err != nil {
		return fmt.Errorf("set dag %s %s: %w", id, column, err)
	}
	return nil
}

// GetDAG returns a DAG, or scheduler.ErrNotFound.
func (s *Store) GetDAG(ctx context.Context, id string) (scheduler.DAGRecord, error) {
	ctx, cancel := s.call(ctx, "GetDAG")
	defer cancel()
	rec, err := sqlcol.ScanDAG(s.db.QueryRowContext(ctx, `SELECT `+sqlcol.DAGColumns+` FROM dags WHERE id = $1`, id))
	if err != nil {
		return scheduler.DAGRecord{}, fmt.Errorf("get dag %s: %w", id, notFound(err))
	}
	return rec, nil
}

// ListDAGs returns every DAG, ordered by id.
func (s *Store) ListDAGs(ctx context.Context) ([]scheduler.DAGRecord, error) {
	return s.listDAGs(ctx, "ListDAGs", sqlcol.DAGColumns, sqlcol.ScanDAG)
}

// ListDAGHeads returns every DAG without its Source and Specs, ordered by
// id.
func (s *Store) ListDAGHeads(ctx context.Context) ([]scheduler.DAGRecord, error) {
	return s.listDAGs(ctx, "ListDAGHeads", sqlcol.DAGHeadColumns, sqlcol.ScanDAGHead)
}

func (s *Store) listDAGs(ctx context.Context, op, columns string, scan func(sqlcol.Row) (scheduler.DAGRecord, error)) ([]scheduler.DAGRecord, error) {
	ctx, cancel := s.call(ctx, op)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, `SELECT `+columns+` FROM dags ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list dags: %w", err)
	}
	defer rows.Close()
	var recs []scheduler.DAGRecord
	for rows.Next() {
		rec, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("list dags: %w", err)
		}
		recs = append(recs, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list dags: %w", err)
	}
	return recs, nil
}

// SetLoadErrors replaces the set of files that failed to load. A file
// already in the set keeps its Since and takes the new message.
func (s *Store) SetLoadErrors(ctx context.Context, errs []scheduler.LoadError) error {
	ctx, cancel := s.call(ctx, "SetLoadErrors")
	defer cancel()
	files := make([]string, len(errs))
	for i, e := range errs {
		files[i] = e.File
	}
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM load_errors WHERE NOT (file = ANY($1::text[]))`, files); err != nil {
			return err
		}
		for _, e := range errs {
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO load_errors (file, message, since) VALUES ($1, $2, $3)
				ON CONFLICT (file) DO UPDATE SET message = excluded.message`,
				e.File, e.Message, sqlcol.TimeArg(e.Since)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set load errors: %w", err)
	}
	return nil
}

// ListLoadErrors returns the files that failed to load, ordered by file.
func (s *Store) ListLoadErrors(ctx context.Context) ([]scheduler.LoadError, error) {
	ctx, cancel := s.call(ctx, "ListLoadErrors")
	defer cancel()
	rows, err := s.db.QueryContext(ctx, `SELECT file, message, since FROM load_errors ORDER BY file`)
	if err != nil {
		return nil, fmt.Errorf("list load errors: %w", err)
	}
	defer rows.Close()
	var errs []scheduler.LoadError
	for rows.Next() {
		var e scheduler.LoadError
		if err := rows.Scan(&e.File, &e.Message, sqlcol.Time(&e.Since)); err != nil {
			return nil, fmt.Errorf("list load errors: %w", err)
		}
		errs = append(errs, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list load errors: %w", err)
	}
	return errs, nil
}
