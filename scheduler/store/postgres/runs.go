package postgres

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

// runColumns are the columns scanRun reads: the shared ones and the owner.
const runColumns = sqlcol.RunColumns + `, owner`

func scanRun(r sqlcol.Row) (scheduler.Run, error) {
	var owner sql.NullString
	run, err := sqlcol.ScanRun(r, &owner)
	run.Owner = owner.String
	return run, err
}

// CreateRun inserts a run, its task instances and one transition record
// ("" → scheduled) for each, in one transaction. Only the key and spec of
// each given instance are used: it is stored in state scheduled, try 0,
// Version 0, updated at the run's CreatedAt, as scheduler.NewRun builds it;
// the records are stamped with the run's CreatedAt and CreatedBy. It
// returns created=false, and changes nothing, if the run exists (also when
// another process created it a moment before), and scheduler.ErrNotFound
// if its DAG does not. A run.Owner makes that scheduler the run's owner.
func (s *Store) CreateRun(ctx context.Context, run scheduler.Run, tasks []scheduler.TaskInstance, reason string) (bool, error) {
	ctx, cancel := s.call(ctx, "CreateRun")
	defer cancel()
	wrap := func(err error) error { return fmt.Errorf("create run %s/%s: %w", run.DAGID, run.RunID, err) }
	if reason == "" {
		return false, wrap(errors.New("a reason is required"))
	}
	ids := make([]string, len(tasks))
	specs := make([][]byte, len(tasks))
	for i, ti := range tasks {
		if ti.DAGID != run.DAGID || ti.RunID != run.RunID {
			return false, wrap(fmt.Errorf("task %s does not belong to this run", ti.TaskKey))
		}
		b, err := dag.EncodeSpec(ti.Spec)
		if err != nil {
			return false, wrap(fmt.Errorf("task %s: %w", ti.TaskID, err))
		}
		ids[i], specs[i] = ti.TaskID, b
	}
	var created bool
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM dags WHERE id = $1`, run.DAGID).Scan(&one)
		if err != nil {
			return fmt.Errorf("dag %s: %w", run.DAGID, notFound(err))
		}
		// A concurrent insert of the same run waits here for the other
		// transaction, then does nothing if it committed.
		conf, params := sqlcol.RunValues(run)
		res, err := tx.ExecContext(ctx, `
			INSERT INTO runs (dag_id, run_id, logical_date, manual, state, created_at, ended_at,
				created_by_component, created_by_instance, owner, owner_since, conf, params)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULLIF($10, ''), CASE WHEN $10 = '' THEN NULL ELSE now() END, $11, $12)
			ON CONFLICT (dag_id, run_id) DO NOTHING`,
			run.DAGID, run.RunID, sqlcol.TimeArg(run.LogicalDate), run.Manual, string(run.State),
			sqlcol.TimeArg(run.CreatedAt), sqlcol.TimeArg(run.EndedAt), run.CreatedBy.Component, run.CreatedBy.Instance, run.Owner,
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
		if err := insertInstances(ctx, tx, run, ids, specs, reason); err != nil {
			return err
		}
		return setInstancePools(ctx, tx, run, tasks)
	})
	if err != nil {
		return false, wrap(err)
	}
	return created, nil
}

// insertInstances inserts a new run's instances and their creation
// records, each in one statement whatever the number of tasks: a round
// trip to the server costs more than the rows.
func insertInstances(ctx context.Context, tx *sql.Tx, run scheduler.Run, ids []string, specs [][]byte, reason string) error {
	if len(ids) == 0 {
		return nil
	}
	created := sqlcol.TimeArg(run.CreatedAt)
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO task_instances (dag_id, run_id, task_id, state, try, spec, external_id, updated_at, version)
		SELECT $1, $2, t.task_id, $3, 0, t.spec, '', $4, 0
		FROM unnest($5::text[], $6::bytea[]) AS t (task_id, spec)`,
		run.DAGID, run.RunID, string(scheduler.StateScheduled), created, ids, specs); err != nil {
		return fmt.Errorf("insert tasks: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO transitions (dag_id, run_id, task_id, try, from_state, to_state, at,
			actor_component, actor_instance, reason, external_id)
		SELECT $1, $2, t.task_id, 0, '', $3, $4, $5, $6, $7, ''
		FROM unnest($8::text[]) WITH ORDINALITY AS t (task_id, n) ORDER BY t.n`,
		run.DAGID, run.RunID, string(scheduler.StateScheduled), created,
		run.CreatedBy.Component, run.CreatedBy.Instance, reason, ids); err != nil {
		return fmt.Errorf("record tasks' creation: %w", err)
	}
	return nil
}

// GetRun returns a run, or scheduler.ErrNotFound.
func (s *Store) GetRun(ctx context.Context, dagID, runID string) (scheduler.Run, error) {
	ctx, cancel := s.call(ctx, "GetRun")
	defer cancel()
	run, err := scanRun(s.db.QueryRowContext(ctx,
		`SELECT `+runColumns+` FROM runs WHERE dag_id = $1 AND run_id = $2`, dagID, runID))
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
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	var runs []scheduler.Run
	for rows.Next() {
		run, err := scanRun(rows)
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

// listRunsQuery is ListRuns' query. Its order is that of the index
// runs_by_date (or runs_by_dag, runs_by_state with an equal DAG or state),
// so a page reads only its own rows; a cursor's condition is on the
// index's columns.
func listRunsQuery(f scheduler.RunFilter) (string, []any, error) {
	var w where
	if f.DAGID != "" {
		w.add("dag_id = $%d", f.DAGID)
	}
	w.states(stateStrings(f.States))
	if f.Owner != "" {
		w.add("owner = $%d", f.Owner)
	}
	if f.After != "" {
		logical, dagID, runID, err := scheduler.ParseRunCursor(f.After)
		if err != nil {
			return "", nil, err
		}
		if logical.IsZero() {
			w.addN("logical_date IS NULL AND (dag_id, run_id) > ($%d, $%d)", dagID, runID)
		} else {
			w.addN("(logical_date < $%[1]d OR logical_date IS NULL OR (logical_date = $%[1]d AND (dag_id, run_id) > ($%d, $%d)))",
				sqlcol.TimeArg(logical), dagID, runID)
		}
	}
	q := `SELECT ` + runColumns + ` FROM runs` + w.clause() + ` ORDER BY logical_date DESC NULLS LAST, dag_id, run_id`
	if f.Limit > 0 {
		w.args = append(w.args, f.Limit)
		q += fmt.Sprintf(` LIMIT $%d`, len(w.args))
	}
	return q, w.args, nil
}

// LatestScheduledRun returns the DAG's non-manual run with the latest
// logical date, or scheduler.ErrNotFound.
func (s *Store) LatestScheduledRun(ctx context.Context, dagID string) (scheduler.Run, error) {
	ctx, cancel := s.call(ctx, "LatestScheduledRun")
	defer cancel()
	run, err := scanRun(s.db.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs
		WHERE dag_id = $1 AND NOT manual ORDER BY logical_date DESC NULLS LAST, run_id DESC LIMIT 1`, dagID))
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
	res, err := s.db.ExecContext(ctx, `UPDATE runs SET state = $1, ended_at = $2 WHERE dag_id = $3 AND run_id = $4`,
		string(state), sqlcol.TimeArg(ended), dagID, runID)
	if err == nil {
		err = mustAffect(res)
	}
	if err != nil {
		return fmt.Errorf("set run %s/%s %s: %w", dagID, runID, state, err)
	}
	return nil
}

// where builds a WHERE clause with numbered parameters.
type where struct {
	conds []string
	args  []any
}

// add appends a condition; cond has one %d, for its parameter's number.
func (w *where) add(cond string, arg any) {
	w.args = append(w.args, arg)
	w.conds = append(w.conds, fmt.Sprintf(cond, len(w.args)))
}

// addN appends a condition with several parameters; cond has a %d for
// each, numbered in order (or %[1]d for the first again).
func (w *where) addN(cond string, args ...any) {
	nums := make([]any, len(args))
	for i := range args {
		nums[i] = len(w.args) + i + 1
	}
	w.args = append(w.args, args...)
	w.conds = append(w.conds, fmt.Sprintf(cond, nums...))
}

// states selects rows in one of states: with one, by equality, which
// reads an index on (state, ...) in its order.
func (w *where) states(states []string) {
	switch len(states) {
	case 0:
	case 1:
		w.add("state = $%d", states[0])
	default:
		w.add("state = ANY($%d::text[])", states)
	}
}

func (w *where) clause() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// stateStrings converts states, of a string type pgx does not map to
// text[] by itself, for an array parameter.
func stateStrings[S ~string](states []S) []string {
	out := make([]string, len(states))
	for i, st := range states {
		out[i] = string(st)
	}
	return out
}
