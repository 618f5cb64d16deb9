package postgres

import (
	"context"
	"database/sql"
	"errors"
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
	var id int64
	err = s.db.QueryRowContext(ctx, `INSERT INTO ops (kind, dag_id, run_id, task_id, args,
		actor_component, actor_instance, reason, created_at, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		RETURNING id`,
		string(op.Kind), op.DAGID, op.RunID, op.TaskID, args, op.Actor.Component, op.Actor.Instance, op.Reason,
		sqlcol.TimeArg(op.CreatedAt), string(scheduler.OpPending)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("submit operation: %w", err)
	}
	return id, nil
}

// GetOp returns an operation, or scheduler.ErrNotFound.
func (s *Store) GetOp(ctx context.Context, id int64) (scheduler.Op, error) {
	ctx, cancel := s.call(ctx, "GetOp")
	defer cancel()
	op, err := sqlcol.ScanOp(s.db.QueryRowContext(ctx, `SELECT `+sqlcol.OpColumns+` FROM ops WHERE id = $1`, id))
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
	rows, err := s.db.QueryContext(ctx, q, args...)
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
	var w where
	w.states(stateStrings(f.States))
	if f.DAGID != "" {
		w.add("dag_id = $%d", f.DAGID)
	}
	if f.RunID != "" {
		w.add("run_id = $%d", f.RunID)
	}
	if f.After != "" {
		id, err := scheduler.ParseOpCursor(f.After)
		if err != nil {
			return "", nil, err
		}
		w.add("id < $%d", id)
	}
	q := `SELECT ` + sqlcol.OpColumns + ` FROM ops` + w.clause() + ` ORDER BY id DESC`
	if f.Limit > 0 {
		w.args = append(w.args, f.Limit)
		q += fmt.Sprintf(` LIMIT $%d`, len(w.args))
	}
	return q, w.args, nil
}

// ApplyOp records an operation's progress and stores its changes in one
// transaction; see scheduler.Store. Reopening a run takes it FOR UPDATE,
// like a claim, so it cannot change hands before the commit.
func (s *Store) ApplyOp(ctx context.Context, u scheduler.OpUpdate, changes []scheduler.Change) ([]scheduler.ChangeResult, error) {
	ctx, cancel := s.call(ctx, "ApplyOp")
	defer cancel()
	results := make([]scheduler.ChangeResult, len(changes))
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var dagID, runID string
		err := tx.QueryRowContext(ctx, `UPDATE ops SET state = $1, result = $2, done_by = $3, done_at = $4
			WHERE id = $5 AND state IN ($6, $7) RETURNING dag_id, run_id`,
			string(u.State), u.Result, u.By, sqlcol.TimeArg(u.At), u.ID, string(scheduler.OpPending), string(scheduler.OpStopping)).Scan(&dagID, &runID)
		if err != nil {
			return opClosed(ctx, tx, u.ID, err)
		}
		if u.Reopen || u.RunState != "" {
			var res sql.Result
			if u.Reopen {
				res, err = tx.ExecContext(ctx, `UPDATE runs SET state = $1, ended_at = NULL,
					owner = NULLIF($2, ''), owner_since = CASE WHEN $2 <> '' THEN now() END
					WHERE dag_id = $3 AND run_id = $4 AND state <> $1`,
					string(scheduler.RunRunning), u.Owner, dagID, runID)
			} else {
				res, err = tx.ExecContext(ctx, `UPDATE runs SET state = $1 WHERE dag_id = $2 AND run_id = $3 AND state <> $4`,
					string(u.RunState), dagID, runID, string(scheduler.RunRunning))
			}
			if err != nil {
				return err
			}
			if err := mustAffect(res); err != nil {
				return fmt.Errorf("%w: run %s/%s is running, or gone", scheduler.ErrStateConflict, dagID, runID)
			}
		}
		if err := applyIn(ctx, tx, changes, results); err != nil {
			return err
		}
		return sqlcol.FirstChangeErr(changes, results)
	})
	if err != nil {
		return nil, fmt.Errorf("apply operation %d: %w", u.ID, err)
	}
	return results, nil
}

// opClosed explains why an operation's update changed no row (err).
func opClosed(ctx context.Context, tx *sql.Tx, id int64, err error) error {
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	var state string
	if qerr := tx.QueryRowContext(ctx, `SELECT state FROM ops WHERE id = $1`, id).Scan(&state); qerr != nil {
		return notFound(qerr)
	}
	return fmt.Errorf("%w: it is %s", scheduler.ErrOpClosed, state)
}
