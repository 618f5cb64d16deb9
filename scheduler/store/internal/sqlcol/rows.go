package sqlcol

import (
	"encoding/json"
	"fmt"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

// The columns ScanDAG, ScanRun and ScanInstance read, in their order.
const (
	DAGColumns      = `id, file, source, specs, paused, missing, updated_at`
	DAGHeadColumns  = `id, file, paused, missing, updated_at`
	RunColumns      = `dag_id, run_id, logical_date, manual, state, created_at, ended_at, created_by_component, created_by_instance, conf, params`
	InstanceColumns = `dag_id, run_id, task_id, state, try, spec, external_id, exit_code,
	queued_at, started_at, ended_at, retry_at, updated_at, version, evictions, try_base`
)

// Row is a *sql.Row or *sql.Rows.
type Row interface{ Scan(dest ...any) error }

// ScanDAG reads a row of DAGColumns.
func ScanDAG(r Row) (scheduler.DAGRecord, error) {
	var rec scheduler.DAGRecord
	var specs []byte
	err := r.Scan(&rec.ID, &rec.File, &rec.Source, &specs, &rec.Paused, &rec.Missing, Time(&rec.UpdatedAt))
	if err != nil {
		return rec, err
	}
	if len(rec.Source) == 0 {
		rec.Source = nil
	}
	if rec.Specs, err = DecodeSpecs(specs); err != nil {
		return rec, fmt.Errorf("dag %s: %w", rec.ID, err)
	}
	return rec, nil
}

// ScanDAGHead reads a row of DAGHeadColumns: a DAG without its Source
// and Specs.
func ScanDAGHead(r Row) (scheduler.DAGRecord, error) {
	var rec scheduler.DAGRecord
	err := r.Scan(&rec.ID, &rec.File, &rec.Paused, &rec.Missing, Time(&rec.UpdatedAt))
	return rec, err
}

// ScanRun reads a row of RunColumns, followed by the store's own columns
// into extra.
func ScanRun(r Row, extra ...any) (scheduler.Run, error) {
	var run scheduler.Run
	var conf, params string
	dest := append([]any{&run.DAGID, &run.RunID, Time(&run.LogicalDate), &run.Manual, &run.State,
		Time(&run.CreatedAt), Time(&run.EndedAt), &run.CreatedBy.Component, &run.CreatedBy.Instance, &conf, &params}, extra...)
	if err := r.Scan(dest...); err != nil {
		return run, err
	}
	var err error
	if run.Conf, err = dag.DecodeValues(conf); err != nil {
		return run, fmt.Errorf("run %s/%s: conf: %w", run.DAGID, run.RunID, err)
	}
	if run.Params, err = dag.DecodeValues(params); err != nil {
		return run, fmt.Errorf("run %s/%s: params: %w", run.DAGID, run.RunID, err)
	}
	return run, nil
}

// RunValues returns the stored forms of a run's conf and params: JSON
// objects, "" for none (nil).
func RunValues(run scheduler.Run) (conf, params string) {
	if run.Conf != nil {
		conf = run.Conf.JSON()
	}
	if run.Params != nil {
		params = run.Params.JSON()
	}
	return conf, params
}

// ScanInstance reads a row of InstanceColumns. It leaves the spec encoded,
// so that Apply can tell an instance it cannot decode (a failed change)
// from a failing store.
func ScanInstance(r Row) (ti scheduler.TaskInstance, spec []byte, err error) {
	err = r.Scan(&ti.DAGID, &ti.RunID, &ti.TaskID, &ti.State, &ti.Try, &spec, &ti.ExternalID,
		IntPtr(&ti.ExitCode), Time(&ti.QueuedAt), Time(&ti.StartedAt), Time(&ti.EndedAt),
		Time(&ti.RetryAt), Time(&ti.UpdatedAt), &ti.Version, &ti.Evictions, &ti.TryBase)
	return ti, spec, err
}

// OpColumns are the columns ScanOp reads, in its order.
const OpColumns = `id, kind, dag_id, run_id, task_id, args, actor_component, actor_instance, reason,
	created_at, state, result, done_by, done_at`

// ScanOp reads a row of OpColumns.
func ScanOp(r Row) (scheduler.Op, error) {
	var op scheduler.Op
	var args string
	err := r.Scan(&op.ID, &op.Kind, &op.DAGID, &op.RunID, &op.TaskID, &args, &op.Actor.Component, &op.Actor.Instance,
		&op.Reason, Time(&op.CreatedAt), &op.State, &op.Result, &op.DoneBy, Time(&op.DoneAt))
	if err != nil {
		return op, err
	}
	if err := json.Unmarshal([]byte(args), &op.Args); err != nil {
		return op, fmt.Errorf("operation %d: args %q: %w", op.ID, args, err)
	}
	return op, nil
}

// OpArgs encodes an operation's args for its column.
func OpArgs(op scheduler.Op) (string, error) {
	b, err := json.Marshal(op.Args)
	return string(b), err
}

// FirstChangeErr fails an operation's transaction (Store.ApplyOp) on its
// first change that failed: an operation is stored whole or not at all.
func FirstChangeErr(changes []scheduler.Change, results []scheduler.ChangeResult) error {
	for i, r := range results {
		if r.Err != nil {
			return fmt.Errorf("%s %s → %s: %w", changes[i].Key, changes[i].From, changes[i].To, r.Err)
		}
	}
	return nil
}
