package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/store/internal/sqlcol"
)

var _ scheduler.DAGHistoryStore = (*Store)(nil)

// PauseDAG sets a DAG's paused flag and records who did it and why, in
// one transaction.
func (s *Store) PauseDAG(ctx context.Context, c scheduler.DAGChange) error {
	if err := sqlcol.CheckDAGChange(c); err != nil {
		return err
	}
	ctx, cancel := s.call(ctx, "PauseDAG")
	defer cancel()
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE dags SET paused = ? WHERE id = ?`, c.Action == scheduler.DAGPause, c.DAGID)
		if err == nil {
			err = mustAffect(res)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO dag_changes (dag_id, at, actor_component, actor_instance, action, reason)
			VALUES (?, ?, ?, ?, ?, ?)`, c.DAGID, sqlcol.TimeArg(c.At), c.Actor.Component, c.Actor.Instance, c.Action, c.Reason)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s dag %s: %w", c.Action, c.DAGID, err)
	}
	return nil
}

// DAGHistory returns a page of a DAG's pauses and unpauses, newest first.
func (s *Store) DAGHistory(ctx context.Context, dagID string, limit int, after string) ([]scheduler.DAGChange, error) {
	q, args, err := dagHistoryQuery(dagID, limit, after)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.call(ctx, "DAGHistory")
	defer cancel()
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("dag %s history: %w", dagID, err)
	}
	defer rows.Close()
	var out []scheduler.DAGChange
	for rows.Next() {
		c, err := sqlcol.ScanDAGChange(rows)
		if err != nil {
			return nil, fmt.Errorf("dag %s history: %w", dagID, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dag %s history: %w", dagID, err)
	}
	return out, nil
}

// dagHistoryQuery is DAGHistory's query: a DAG's changes newest first,
// before the cursor's, through dag_changes_by_dag.
func dagHistoryQuery(dagID string, limit int, after string) (string, []any, error) {
	q := `SELECT ` + sqlcol.DAGChangeColumns + ` FROM dag_changes WHERE dag_id = ?`
	args := []any{dagID}
	if after != "" {
		seq, err := scheduler.ParseDAGChangeCursor(after)
		if err != nil {
			return "", nil, err
		}
		q, args = q+` AND seq < ?`, append(args, seq)
	}
	q += ` ORDER BY seq DESC`
	if limit > 0 {
		q, args = q+` LIMIT `+`?`, append(args, limit)
	}
	return q, args, nil
}
