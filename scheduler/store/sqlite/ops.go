package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/store/internal/sqlcol"
)

// SubmitOp stores an operation as pending and returns its id.
func (s *Store) SubmitOp(ctx context.Context, op scheduler.Op) (int64, error) {
	ctx, cancel := s.call(ctx, "SubmitOp")
	defer cancel()
	args, err := sqlcol.OpArgs(op)
	if err != nil {
		return 0, fmt.Errorf("submit operation: %w", err)
	}
	res, err := s.write.ExecContext(ctx, `INSERT INTO ops (kind, dag_id, run_id, task_id, args,
		actor_component, actor_instance, reason, created_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		op.Kind, op.DAGID, op.RunID, op.TaskID, args, op.Actor.Component, op.Actor.Instance, op.Reason,
		sqlcol.TimeArg(op.CreatedAt), scheduler.OpPending)
	if err != nil {
		return 0, fmt.Errorf("submit operation: %w", err)
	}
	return res.LastInsertId()
}

// GetOp returns an operation, or scheduler.ErrNotFound.
func (s *Store) GetOp(ctx context.Context, id int64) (scheduler.Op, error) {
	ctx, cancel := s.call(ctx, "GetOp")
	defer cancel()
	op, err := sqlcol.ScanOp(s.read.QueryRowContext(ctx, `SELECT `+sqlcol.OpColumns+` FROM ops WHERE id = ?`, id))
	if err != nil {
		return op, fmt.Errorf("get operation %d: %w", id, notFound(err))
	}
	return op, nil
}

// ListOps returns the operations f selects, newest first.
func (s *Store) ListOps(ctx context.Context, f scheduler.OpFilter) ([]scheduler.Op, error) {
	ctx, cancel := s.call(ctx, "ListOps")
	defer cancel()
	q, args, err := listOpsQuery(f)
	if err != nil {
		return nil, fmt.Errorf("list operations: %w", err)
	}
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list operations: %w", err)
	}
	defer rows.Close()
	var ops []scheduler.Op
	for rows.Next() {
		op, err := sqlcol.ScanOp(rows)
		if err != nil {
			return nil, fmt.Errorf("list operations: %w", err)
		}
		ops = append(ops, op)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list operations: %w", err)
	}
	return ops, nil
}

// listOpsQuery is ListOps' query, newest first on the indexes ops_by_state
// and ops_by_run (or the primary key).
func listOpsQuery(f scheduler.OpFilter) (string, []any, error) {
	var where []string
	var args []any
	if len(f.States) > 0 {
		where = append(where, "state IN ("+placeholders(len(f.States))+")")
		for _, st := range f.States {
			args = append(args, st)
		}
	}
	if f.DAGID != "" {
		where, args = append(where, "dag_id = ?"), append(args, f.DAGID)
	}
	if f.RunID != "" {
		where, args = append(where, "run_id = ?"), append(args, f.RunID)
	}
	if f.After != "" {
		id, err := scheduler.ParseOpCursor(f.After)
		if err != nil {
			return "", nil, err
		}
		where, args = append(where, "id < ?"), append(args, id)
	}
	q := `SELECT ` + sqlcol.OpColumns + ` FROM ops` + whereClause(where) + ` ORDER BY id DESC`
	if f.Limit > 0 {
		q, args = q+` LIMIT ?`, append(args, f.Limit)
	}
	return q, args, nil
}

// ApplyOp records an operation's progress and stores its changes in one
// transaction; see scheduler.Store. The store serves one scheduler, so
// u.Owner is not kept.
func (s *Store) ApplyOp(ctx context.Context, u scheduler.OpUpdate, changes []scheduler.Change) ([]scheduler.ChangeResult, error) {
	ctx, cancel := s.call(ctx, "ApplyOp")
	defer cancel()
	results := make([]scheduler.ChangeResult, len(changes))
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE ops SET state = ?, result = ?, done_by = ?, done_at = ?
			WHERE id = ? AND state IN (?, ?)`, u.State, u.Result, u.By, sqlcol.TimeArg(u.At), u.ID, scheduler.OpPending, scheduler.OpStopping)
		if err != nil {
			return err
		}
		if err := mustAffect(res); err != nil {
			return opClosed(ctx, tx, u.ID)
		}
		if u.Reopen || u.RunState != "" {
			var dagID, runID string
			if err := tx.QueryRowContext(ctx, `SELECT dag_id, run_id FROM ops WHERE id = ?`, u.ID).Scan(&dagID, &runID); err != nil {
				return err
			}
			q, state := `UPDATE runs SET state = ? WHERE dag_id = ? AND run_id = ? AND state != ?`, u.RunState
			if u.Reopen {
				q, state = `UPDATE runs SET state = ?, ended_at = NULL WHERE dag_id = ? AND run_id = ? AND state != ?`, scheduler.RunRunning
			}
			res, err := tx.ExecContext(ctx, q, state, dagID, runID, scheduler.RunRunning)
			if err != nil {
				return err
			}
			if err := mustAffect(res); err != nil {
				return fmt.Errorf("%w: run %s/%s is running, or gone", scheduler.ErrStateConflict, dagID, runID)
			}
		}
		if err := s.applyIn(ctx, tx, changes, results); err != nil {
			return err
		}
		return sqlcol.FirstChangeErr(changes, results)
	})
	if err != nil {
		return nil, fmt.Errorf("apply operation %d: %w", u.ID, err)
	}
	return results, nil
}

// opClosed explains why an operation's update changed no row.
func opClosed(ctx context.Context, tx *sql.Tx, id int64) error {
	var state string
	if qerr := tx.QueryRowContext(ctx, `SELECT state FROM ops WHERE id = ?`, id).Scan(&state); qerr != nil {
		return notFound(qerr)
	}
	return fmt.Errorf("%w: it is %s", scheduler.ErrOpClosed, state)
}
