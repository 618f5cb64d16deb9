package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
	"github.com/vigilhq/vigil/scheduler/store/internal/sqlcol"
)

// CreateRun inserts a run, its task instances and one transition record
// ("" → scheduled) for each, in one transaction. Only the key and spec of
// each given instance are used: it is stored in state scheduled, try 0,
// Version 0, updated at the run's CreatedAt, as scheduler.NewRun builds it;
// the records are stamped with the run's CreatedAt and CreatedBy. It
// returns created=false, and changes nothing, if the run exists, and
// scheduler.ErrNotFound if its DAG does not.
func (s *Store) CreateRun(ctx context.Context, run scheduler.Run, tasks []scheduler.TaskInstance, reason string) (bool, error) {
	ctx, cancel := s.call(ctx, "CreateRun")
	defer cancel()
	wrap := func(err error) error { return fmt.Errorf("create run %s/%s: %w", run.DAGID, run.RunID, err) }
	if reason == "" {
		return false, wrap(errors.New("a reason is required"))
	}
	// Encoded before the transaction, which holds the write lock.
	specs := make([]string, len(tasks))
	for i, ti := range tasks {
		if ti.DAGID != run.DAGID || ti.RunID != run.RunID {
			return false, wrap(fmt.Errorf("task %s does not belong to this run", ti.TaskKey))
		}
		b, err := dag.EncodeSpec(ti.Spec)
		if err != nil {
			return false, wrap(fmt.Errorf("task %s: %w", ti.TaskID, err))
		}
		specs[i] = string(b)
	}
	var created bool
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM dags WHERE id = ?`, run.DAGID).Scan(&one)
		if err != nil {
			return fmt.Errorf("dag %s: %w", run.DAGID, notFound(err))
		}
		conf, params := sqlcol.RunValues(run)
		res, err := tx.ExecContext(ctx, `
			INSERT INTO runs (dag_id, run_id, logical_date, manual, state, created_at, ended_at,
				created_by_component, created_by_instance, conf, params)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (dag_id, run_id) DO NOTHING`,
			run.DAGID, run.RunID, sqlcol.TimeArg(run.LogicalDate), run.Manual, run.State,
			sqlcol.TimeArg(run.CreatedAt), sqlcol.TimeArg(run.EndedAt), run.CreatedBy.Component, run.CreatedBy.Instance,
			conf, params)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return nil // the run exists: leave it and its instances alone
		}
		created = true
		if err := insertInstances(ctx, tx, run, tasks, specs, reason); err != nil {
			return err
		}
		return setInstancePools(ctx, tx, run, tasks)
	})
	if err != nil {
		return false, wrap(err)
	}
	return created, nil
}

func insertInstances(ctx context.Context, tx *sql.Tx, run scheduler.Run, tasks []scheduler.TaskInstance, specs []string, reason string) error {
	insert, err := tx.PrepareContext(ctx, `
		INSERT INTO task_instances (dag_id, run_id, task_id, state, try, spec, external_id, updated_at, version)
		VALUES (?, ?, ?, ?, 0, ?, '', ?, 0)`)
	if err != nil {
		return err
	}
	defer insert.Close()
	record, err := tx.PrepareContext(ctx, insertTransition)
	if err != nil {
		return err
	}
	defer record.Close()
	for i, ti := range tasks {
		if _, err := insert.ExecContext(ctx, run.DAGID, run.RunID, ti.TaskID, scheduler.StateScheduled,
			specs[i], sqlcol.TimeArg(run.CreatedAt)); err != nil {
			return fmt.Errorf("task %s: %w", ti.TaskID, err)
		}
		rec := scheduler.Transition{
			Key: ti.TaskKey, To: scheduler.StateScheduled,
			At: run.CreatedAt, Actor: run.CreatedBy, Reason: reason,
		}
		if _, err := record.ExecContext(ctx, transitionArgs(rec)...); err != nil {
			return fmt.Errorf("task %s: %w", ti.TaskID, err)
		}
	}
	return nil
}

// GetRun returns a run, or scheduler.ErrNotFound.
func (s *Store) GetRun(ctx context.Context, dagID, runID string) (scheduler.Run, error) {
	ctx, cancel := s.call(ctx, "GetRun")
	defer cancel()
	run, err := sqlcol.ScanRun(s.read.QueryRowContext(ctx,
		`SELECT `+sqlcol.RunColumns+` FROM runs WHERE dag_id = ? AND run_id = ?`, dagID, runID))
	if err != nil {
		return scheduler.Run{}, fmt.Errorf("get run %s/%s: %w", dagID, runID, notFound(err))
	}
	return run, nil
}

// ListRuns returns the runs f selects, newest logical date first (then by
// DAG and run id; a run without a logical date last), a page of them with
// f.Limit and f.After.
func (s *Store) ListRuns(ctx context.Context, f scheduler.RunFilter) ([]scheduler.Run, error) {
	ctx, cancel := s.call(ctx, "ListRuns")
	defer cancel()
	q, args, err := listRunsQuery(f)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	var runs []scheduler.Run
	for rows.Next() {
		run, err := sqlcol.ScanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		runs = append(runs, run)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return runs, nil
}

// LatestScheduledRun returns the DAG's non-manual run with the latest
// logical date, or scheduler.ErrNotFound.
func (s *Store) LatestScheduledRun(ctx context.Context, dagID string) (scheduler.Run, error) {
	ctx, cancel := s.call(ctx, "LatestScheduledRun")
	defer cancel()
	run, err := sqlcol.ScanRun(s.read.QueryRowContext(ctx, `SELECT `+sqlcol.RunColumns+` FROM runs
		WHERE dag_id = ? AND manual = 0 ORDER BY logical_date DESC, run_id DESC LIMIT 1`, dagID))
	if err != nil {
		return scheduler.Run{}, fmt.Errorf("latest scheduled run of %s: %w", dagID, notFound(err))
	}
	return run, nil
}

// SetRunState sets a run's state. A run that ends (any state but running)
// gets EndedAt = at; one set running again has its EndedAt cleared.
func (s *Store) SetRunState(ctx context.Context, dagID, runID string, state scheduler.RunState, at time.Time) error {
	ctx, cancel := s.call(ctx, "SetRunState")
	defer cancel()
	ended := at
	if state == scheduler.RunRunning {
		ended = time.Time{}
	}
	res, err := s.write.ExecContext(ctx, `UPDATE runs SET state = ?, ended_at = ? WHERE dag_id = ? AND run_id = ?`,
		state, sqlcol.TimeArg(ended), dagID, runID)
	if err == nil {
		err = mustAffect(res)
	}
	if err != nil {
		return fmt.Errorf("set run %s/%s %s: %w", dagID, runID, state, err)
	}
	return nil
}

// listRunsQuery is ListRuns' query. Its order is that of the index
// runs_by_date (or runs_by_dag, runs_by_state with an equal DAG or state),
// so a page reads only its own rows; a cursor's condition is on the
// index's columns.
func listRunsQuery(f scheduler.RunFilter) (string, []any, error) {
	var where []string
	var args []any
	if f.DAGID != "" {
		where, args = append(where, "dag_id = ?"), append(args, f.DAGID)
	}
	if len(f.States) > 0 {
		where = append(where, "state IN ("+placeholders(len(f.States))+")")
		for _, st := range f.States {
			args = append(args, st)
		}
	}
	if f.After != "" {
		logical, dagID, runID, err := scheduler.ParseRunCursor(f.After)
		if err != nil {
			return "", nil, err
		}
		if logical.IsZero() {
			where = append(where, "logical_date IS NULL AND (dag_id > ? OR (dag_id = ? AND run_id > ?))")
			args = append(args, dagID, dagID, runID)
		} else {
			where = append(where, "(logical_date < ? OR logical_date IS NULL OR (logical_date = ? AND (dag_id > ? OR (dag_id = ? AND run_id > ?))))")
			at := sqlcol.TimeArg(logical)
			args = append(args, at, at, dagID, dagID, runID)
		}
	}
	q := `SELECT ` + sqlcol.RunColumns + ` FROM runs` + whereClause(where) + ` ORDER BY logical_date DESC, dag_id, run_id`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	return q, args, nil
}

// placeholders returns "?, ?, …" for n arguments.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}
