package sqlite

import (
	"context"
	"fmt"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
	"github.com/vigilhq/vigil/scheduler/store/internal/sqlcol"
)

// GetTaskInstance returns a task instance, or scheduler.ErrNotFound.
func (s *Store) GetTaskInstance(ctx context.Context, key scheduler.TaskKey) (scheduler.TaskInstance, error) {
	ctx, cancel := s.call(ctx, "GetTaskInstance")
	defer cancel()
	ti, spec, err := sqlcol.ScanInstance(s.read.QueryRowContext(ctx, `SELECT `+sqlcol.InstanceColumns+` FROM task_instances
		WHERE dag_id = ? AND run_id = ? AND task_id = ?`, key.DAGID, key.RunID, key.TaskID))
	if err == nil {
		ti.Spec, err = dag.DecodeSpec(spec)
	}
	if err != nil {
		return scheduler.TaskInstance{}, fmt.Errorf("get task %s: %w", key, notFound(err))
	}
	return ti, nil
}

// ListTaskInstances returns the instances f selects, ordered by DAG, run
// and task.
func (s *Store) ListTaskInstances(ctx context.Context, f scheduler.TaskFilter) ([]scheduler.TaskInstance, error) {
	ctx, cancel := s.call(ctx, "ListTaskInstances")
	defer cancel()
	var where []string
	var args []any
	if f.DAGID != "" {
		where, args = append(where, "dag_id = ?"), append(args, f.DAGID)
	}
	if f.RunID != "" {
		where, args = append(where, "run_id = ?"), append(args, f.RunID)
	}
	if len(f.States) > 0 {
		where = append(where, "state IN ("+placeholders(len(f.States))+")")
		for _, st := range f.States {
			args = append(args, st)
		}
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+sqlcol.InstanceColumns+` FROM task_instances`+
		whereClause(where)+` ORDER BY dag_id, run_id, task_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	defer rows.Close()
	var tis []scheduler.TaskInstance
	for rows.Next() {
		ti, spec, err := sqlcol.ScanInstance(rows)
		if err == nil {
			ti.Spec, err = dag.DecodeSpec(spec)
		}
		if err != nil {
			return nil, fmt.Errorf("list tasks: %s: %w", ti.TaskKey, err)
		}
		tis = append(tis, ti)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	return tis, nil
}

// History returns a task instance's transitions, oldest first, or
// scheduler.ErrNotFound if there is no such instance.
func (s *Store) History(ctx context.Context, key scheduler.TaskKey) ([]scheduler.Transition, error) {
	ctx, cancel := s.call(ctx, "History")
	defer cancel()
	rows, err := s.read.QueryContext(ctx, `
		SELECT `+sqlcol.TransitionColumns+`
		FROM transitions WHERE dag_id = ? AND run_id = ? AND task_id = ? ORDER BY seq`,
		key.DAGID, key.RunID, key.TaskID)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", key, err)
	}
	defer rows.Close()
	var recs []scheduler.Transition
	for rows.Next() {
		rec, err := sqlcol.ScanTransition(rows, key)
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", key, err)
		}
		recs = append(recs, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history of %s: %w", key, err)
	}
	if len(recs) == 0 {
		// Every instance has a creation record, so no history means no
		// instance; ask to be sure.
		var one int
		err := s.read.QueryRowContext(ctx, `SELECT 1 FROM task_instances WHERE dag_id = ? AND run_id = ? AND task_id = ?`,
			key.DAGID, key.RunID, key.TaskID).Scan(&one)
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", key, notFound(err))
		}
	}
	return recs, nil
}

const insertTransition = `
	INSERT INTO transitions (dag_id, run_id, task_id, try, from_state, to_state, at,
		actor_component, actor_instance, reason, external_id, exit_code, manual)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// transitionArgs are the arguments of insertTransition for rec.
func transitionArgs(rec scheduler.Transition) []any {
	return []any{rec.Key.DAGID, rec.Key.RunID, rec.Key.TaskID, rec.Try, rec.From, rec.To, sqlcol.TimeArg(rec.At),
		rec.Actor.Component, rec.Actor.Instance, rec.Reason, rec.ExternalID, sqlcol.IntPtrArg(rec.ExitCode), rec.Manual}
}
