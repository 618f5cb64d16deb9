package postgres

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
	ti, spec, err := sqlcol.ScanInstance(s.db.QueryRowContext(ctx, `SELECT `+sqlcol.InstanceColumns+` FROM task_instances
		WHERE dag_id = $1 AND run_id = $2 AND task_id = $3`, key.DAGID, key.RunID, key.TaskID))
	if err == nil {
		ti.Spec, err = dag.DecodeSpec(spec)
	}
	if err != nil {
		return scheduler.TaskInstance{}, fmt.Errorf("get task %s: %w", key, notFound(err))
	}
	return ti, nil
}

// ListTaskInstances returns the instances f selects, ordered by DAG, run
// and task, a page of them with f.Limit and f.After.
func (s *Store) ListTaskInstances(ctx context.Context, f scheduler.TaskFilter) ([]scheduler.TaskInstance, error) {
	ctx, cancel := s.call(ctx, "ListTaskInstances")
	defer cancel()
	q, args, err := listTasksQuery(f)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
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
	recs, err := s.history(ctx, key, 0, "")
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		// Every instance has a creation record, so no history means no
		// instance; ask to be sure.
		var one int
		err := s.db.QueryRowContext(ctx, `SELECT 1 FROM task_instances WHERE dag_id = $1 AND run_id = $2 AND task_id = $3`,
			key.DAGID, key.RunID, key.TaskID).Scan(&one)
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", key, notFound(err))
		}
	}
	return recs, nil
}

// HistoryPage returns up to limit (all if 0) of a task instance's
// transitions after the TransitionCursor after, oldest first.
func (s *Store) HistoryPage(ctx context.Context, key scheduler.TaskKey, limit int, after string) ([]scheduler.Transition, error) {
	ctx, cancel := s.call(ctx, "HistoryPage")
	defer cancel()
	return s.history(ctx, key, limit, after)
}

func (s *Store) history(ctx context.Context, key scheduler.TaskKey, limit int, after string) ([]scheduler.Transition, error) {
	q, args, err := historyQuery(key, limit, after)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", key, err)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
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
	return recs, nil
}

// historyQuery is History's query, on the index transitions_by_task.
func historyQuery(key scheduler.TaskKey, limit int, after string) (string, []any, error) {
	var w where
	w.add("dag_id = $%d", key.DAGID)
	w.add("run_id = $%d", key.RunID)
	w.add("task_id = $%d", key.TaskID)
	if after != "" {
		seq, err := scheduler.ParseTransitionCursor(after)
		if err != nil {
			return "", nil, err
		}
		w.add("seq > $%d", seq)
	}
	q := `SELECT ` + sqlcol.TransitionColumns + `
		FROM transitions` + w.clause() + ` ORDER BY seq`
	if limit > 0 {
		w.args = append(w.args, limit)
		q += fmt.Sprintf(` LIMIT $%d`, len(w.args))
	}
	return q, w.args, nil
}

// listTasksQuery is ListTaskInstances' query, in the order of the primary
// key (or of task_instances_by_state with one state).
func listTasksQuery(f scheduler.TaskFilter) (string, []any, error) {
	var w where
	if f.DAGID != "" {
		w.add("dag_id = $%d", f.DAGID)
	}
	if f.RunID != "" {
		w.add("run_id = $%d", f.RunID)
	}
	w.states(stateStrings(f.States))
	if f.After != "" {
		k, err := scheduler.ParseTaskCursor(f.After)
		if err != nil {
			return "", nil, err
		}
		w.addN("(dag_id, run_id, task_id) > ($%d, $%d, $%d)", k.DAGID, k.RunID, k.TaskID)
	}
	q := `SELECT ` + sqlcol.InstanceColumns + ` FROM task_instances` + w.clause() + ` ORDER BY dag_id, run_id, task_id`
	if f.Limit > 0 {
		w.args = append(w.args, f.Limit)
		q += fmt.Sprintf(` LIMIT $%d`, len(w.args))
	}
	return q, w.args, nil
}
