package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

// Apply performs a batch of changes in one transaction. Each change is
// checked by scheduler.Apply against the instance as it stands after the
// changes before it in the batch, so one batch may move an instance more
// than once. An illegal, conflicting or unknown change gets its own error
// in the results; err is for a failing store, and then nothing was applied.
func (s *Store) Apply(ctx context.Context, changes []scheduler.Change) ([]scheduler.ChangeResult, error) {
	ctx, cancel := s.call(ctx, "Apply")
	defer cancel()
	results := make([]scheduler.ChangeResult, len(changes))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		a := s.applier.in(ctx, tx)
		defer a.close()
		var err error
		for i, c := range changes {
			if results[i], err = a.apply(ctx, c); err != nil {
				return fmt.Errorf("%s: %w", c.Key, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("apply %d changes: %w", len(changes), err)
	}
	return results, nil
}

// applier holds Apply's statements. They are prepared once, on the write
// connection, and bound to each transaction: preparing them in every call
// was a quarter of the cost of a one-change Apply.
type applier struct {
	load, update, record *sql.Stmt
}

func prepareApplier(ctx context.Context, db *sql.DB) (*applier, error) {
	a := &applier{}
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&a.load, `SELECT ` + instanceColumns + ` FROM task_instances WHERE dag_id = ? AND run_id = ? AND task_id = ?`},
		// The version check makes the update a compare-and-swap. The
		// immediate transaction already excludes other writers; the check
		// keeps the update correct without relying on that.
		{&a.update, `UPDATE task_instances SET state = ?, try = ?, external_id = ?, exit_code = ?,
			queued_at = ?, started_at = ?, ended_at = ?, retry_at = ?, updated_at = ?, version = ?
			WHERE dag_id = ? AND run_id = ? AND task_id = ? AND version = ?`},
		{&a.record, insertTransition},
	} {
		stmt, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			a.close()
			return nil, fmt.Errorf("prepare: %w", err)
		}
		*p.stmt = stmt
	}
	return a, nil
}

// in returns the statements bound to tx.
func (a *applier) in(ctx context.Context, tx *sql.Tx) *applier {
	return &applier{load: tx.StmtContext(ctx, a.load), update: tx.StmtContext(ctx, a.update), record: tx.StmtContext(ctx, a.record)}
}

func (a *applier) close() error {
	var errs []error
	for _, stmt := range []*sql.Stmt{a.load, a.update, a.record} {
		if stmt != nil {
			errs = append(errs, stmt.Close())
		}
	}
	return errors.Join(errs...)
}

// apply performs one change. A returned error is the store's; the change's
// own failure is in the result.
func (a *applier) apply(ctx context.Context, c scheduler.Change) (scheduler.ChangeResult, error) {
	ti, spec, err := scanInstance(a.load.QueryRowContext(ctx, c.Key.DAGID, c.Key.RunID, c.Key.TaskID))
	if errors.Is(err, sql.ErrNoRows) {
		return scheduler.ChangeResult{Err: fmt.Errorf("task %s: %w", c.Key, scheduler.ErrNotFound)}, nil
	}
	if err != nil {
		return scheduler.ChangeResult{}, fmt.Errorf("load: %w", err)
	}
	// A spec this build cannot read fails its own change, not the batch.
	if ti.Spec, err = dag.DecodeSpec(spec); err != nil {
		return scheduler.ChangeResult{Instance: ti, Err: fmt.Errorf("task %s: %w", c.Key, err)}, nil
	}
	next, rec, err := scheduler.Apply(ti, c)
	if err == nil {
		_, err = timeArg(c.At).Value() // a time the store cannot hold is the change's fault
	}
	if err != nil {
		return scheduler.ChangeResult{Instance: ti, Err: err}, nil
	}
	res, err := a.update.ExecContext(ctx,
		next.State, next.Try, next.ExternalID, intPtrArg(next.ExitCode),
		timeArg(next.QueuedAt), timeArg(next.StartedAt), timeArg(next.EndedAt), timeArg(next.RetryAt),
		timeArg(next.UpdatedAt), next.Version,
		c.Key.DAGID, c.Key.RunID, c.Key.TaskID, ti.Version)
	if err != nil {
		return scheduler.ChangeResult{}, fmt.Errorf("update: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return scheduler.ChangeResult{}, fmt.Errorf("update: %w", err)
	} else if n == 0 {
		err := fmt.Errorf("%w: task %s changed after it was read (version %d)", scheduler.ErrStateConflict, c.Key, ti.Version)
		return scheduler.ChangeResult{Instance: ti, Err: err}, nil
	}
	if _, err := a.record.ExecContext(ctx, transitionArgs(rec)...); err != nil {
		return scheduler.ChangeResult{}, fmt.Errorf("record transition: %w", err)
	}
	return scheduler.ChangeResult{Instance: next}, nil
}
