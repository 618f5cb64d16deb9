package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
	"github.com/vigilhq/vigil/scheduler/store/internal/sqlcol"
)

// Apply performs a batch of changes in one transaction. Each change is
// checked by scheduler.Apply against the instance as it stands after the
// changes before it in the batch, so one batch may move an instance more
// than once. An illegal, conflicting or unknown change gets its own error
// in the results; err is for a failing store, and then nothing was applied.
// A change into queued takes slots of its task's pool, or fails with
// scheduler.ErrPoolFull or ErrNoPool (see lockPools).
func (s *Store) Apply(ctx context.Context, changes []scheduler.Change) ([]scheduler.ChangeResult, error) {
	ctx, cancel := s.call(ctx, "Apply")
	defer cancel()
	results := make([]scheduler.ChangeResult, len(changes))
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return s.applyIn(ctx, tx, changes, results)
	})
	if err != nil {
		return nil, fmt.Errorf("apply %d changes: %w", len(changes), err)
	}
	return results, nil
}

// applyIn is Apply's work in transaction tx, results[i] for changes[i].
func (s *Store) applyIn(ctx context.Context, tx *sql.Tx, changes []scheduler.Change, results []scheduler.ChangeResult) error {
	a := s.applier.in(ctx, tx)
	defer a.close()
	current, err := a.loadAll(ctx, changes)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	pools, err := lockPools(ctx, tx, changes, current)
	if err != nil {
		return err
	}
	for i, c := range changes {
		if results[i], err = a.apply(ctx, current, pools, c); err != nil {
			return fmt.Errorf("%s: %w", c.Key, err)
		}
	}
	return nil
}

// loadChunk is how many instances one prepared load reads. A batch loads
// its instances chunk by chunk instead of one query per change: each
// query on a transaction starts a watcher goroutine in database/sql.
const loadChunk = 32

// applier holds Apply's statements. They are prepared once, on the write
// connection, and bound to each transaction: preparing them in every call
// was a quarter of the cost of a one-change Apply.
type applier struct {
	load, loadMany, update, record, last, bump, notify *sql.Stmt
}

// loaded is an instance as it stands in the transaction, or the error
// that fails every change to it (a spec this build cannot read).
type loaded struct {
	ti  scheduler.TaskInstance
	err error
}

func prepareApplier(ctx context.Context, db *sql.DB) (*applier, error) {
	a := &applier{}
	keys := strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", loadChunk), ", ")
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&a.load, `SELECT ` + sqlcol.InstanceColumns + ` FROM task_instances WHERE dag_id = ? AND run_id = ? AND task_id = ?`},
		{&a.loadMany, `SELECT ` + sqlcol.InstanceColumns + ` FROM task_instances WHERE (dag_id, run_id, task_id) IN (VALUES ` + keys + `)`},
		// The version check makes the update a compare-and-swap. The
		// immediate transaction already excludes other writers; the check
		// keeps the update correct without relying on that.
		{&a.update, `UPDATE task_instances SET state = ?, try = ?, external_id = ?, exit_code = ?,
			queued_at = ?, started_at = ?, ended_at = ?, retry_at = ?, updated_at = ?, version = ?, evictions = ?, try_base = ?
			WHERE dag_id = ? AND run_id = ? AND task_id = ? AND version = ?`},
		{&a.record, insertTransition},
		{&a.last, `SELECT ` + sqlcol.TransitionColumns + ` FROM transitions
			WHERE dag_id = ? AND run_id = ? AND task_id = ? ORDER BY seq DESC LIMIT 2`},
		{&a.bump, `UPDATE transitions SET repeats = repeats + 1, last_at = ? WHERE seq = ?`},
		{&a.notify, insertNotification},
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
	return &applier{
		load: tx.StmtContext(ctx, a.load), loadMany: tx.StmtContext(ctx, a.loadMany),
		update: tx.StmtContext(ctx, a.update), record: tx.StmtContext(ctx, a.record),
		last: tx.StmtContext(ctx, a.last), bump: tx.StmtContext(ctx, a.bump),
		notify: tx.StmtContext(ctx, a.notify),
	}
}

func (a *applier) close() error {
	var errs []error
	for _, stmt := range []*sql.Stmt{a.load, a.loadMany, a.update, a.record, a.last, a.bump, a.notify} {
		if stmt != nil {
			errs = append(errs, stmt.Close())
		}
	}
	return errors.Join(errs...)
}

// loadAll reads every instance the changes name, each once. An instance
// that does not exist is absent from the map.
func (a *applier) loadAll(ctx context.Context, changes []scheduler.Change) (map[scheduler.TaskKey]*loaded, error) {
	var keys []scheduler.TaskKey
	seen := make(map[scheduler.TaskKey]bool, len(changes))
	for _, c := range changes {
		if !seen[c.Key] {
			seen[c.Key] = true
			keys = append(keys, c.Key)
		}
	}
	current := make(map[scheduler.TaskKey]*loaded, len(keys))
	for len(keys) > 0 {
		var rows *sql.Rows
		var err error
		if len(keys) == 1 {
			rows, err = a.load.QueryContext(ctx, keys[0].DAGID, keys[0].RunID, keys[0].TaskID)
			keys = nil
		} else {
			chunk := keys[:min(loadChunk, len(keys))]
			keys = keys[len(chunk):]
			args := make([]any, 0, 3*loadChunk)
			for i := range loadChunk {
				k := chunk[min(i, len(chunk)-1)] // a short chunk repeats its last key
				args = append(args, k.DAGID, k.RunID, k.TaskID)
			}
			rows, err = a.loadMany.QueryContext(ctx, args...)
		}
		if err != nil {
			return nil, err
		}
		if err := scanLoaded(rows, current); err != nil {
			return nil, err
		}
	}
	return current, nil
}

func scanLoaded(rows *sql.Rows, into map[scheduler.TaskKey]*loaded) error {
	defer rows.Close()
	for rows.Next() {
		ti, spec, err := sqlcol.ScanInstance(rows)
		if err != nil {
			return err
		}
		l := &loaded{ti: ti}
		// A spec this build cannot read fails its own changes, not the batch.
		if l.ti.Spec, err = dag.DecodeSpec(spec); err != nil {
			l.err = fmt.Errorf("task %s: %w", ti.TaskKey, err)
		}
		into[ti.TaskKey] = l
	}
	return rows.Err()
}

// apply performs one change on the instance as current holds it, and
// keeps current up to date for the changes after it. A returned error is
// the store's; the change's own failure is in the result.
func (a *applier) apply(ctx context.Context, current map[scheduler.TaskKey]*loaded, pools *scheduler.PoolLedger, c scheduler.Change) (scheduler.ChangeResult, error) {
	l, ok := current[c.Key]
	if !ok {
		return scheduler.ChangeResult{Err: fmt.Errorf("task %s: %w", c.Key, scheduler.ErrNotFound)}, nil
	}
	ti := l.ti
	if l.err != nil {
		return scheduler.ChangeResult{Instance: ti, Err: l.err}, nil
	}
	next, rec, err := scheduler.Apply(ti, c)
	if err == nil {
		_, err = sqlcol.TimeArg(c.At).Value() // a time the store cannot hold is the change's fault
	}
	if err == nil {
		err = pools.Admit(ti, next) // last: an admitted change holds its slots
	}
	if err != nil {
		return scheduler.ChangeResult{Instance: ti, Err: err}, nil
	}
	res, err := a.update.ExecContext(ctx,
		next.State, next.Try, next.ExternalID, sqlcol.IntPtrArg(next.ExitCode),
		sqlcol.TimeArg(next.QueuedAt), sqlcol.TimeArg(next.StartedAt), sqlcol.TimeArg(next.EndedAt), sqlcol.TimeArg(next.RetryAt),
		sqlcol.TimeArg(next.UpdatedAt), next.Version, next.Evictions, next.TryBase,
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
	if err := a.recordTransition(ctx, ti, rec); err != nil {
		return scheduler.ChangeResult{}, fmt.Errorf("record transition: %w", err)
	}
	// In the transition's transaction: a notification due is never lost
	// to a crash between the two (issue 20).
	for _, n := range scheduler.Due(next, rec) {
		if _, err := a.notify.ExecContext(ctx, sqlcol.NotificationArgs(n)...); err != nil {
			return scheduler.ChangeResult{}, fmt.Errorf("store notification: %w", err)
		}
	}
	l.ti = next
	return scheduler.ChangeResult{Instance: next}, nil
}

// recordTransition stores rec, the transition of instance ti: as one more
// occurrence of an earlier record when it repeats one (scheduler.Collapse),
// as a new record otherwise.
func (a *applier) recordTransition(ctx context.Context, ti scheduler.TaskInstance, rec scheduler.Transition) error {
	if scheduler.MayRepeat(ti, rec) {
		last, err := a.lastTwo(ctx, rec.Key)
		if err != nil {
			return err
		}
		if i, ok := scheduler.Collapse(last, rec); ok {
			_, err := a.bump.ExecContext(ctx, sqlcol.TimeArg(rec.At), last[i].Seq)
			return err
		}
	}
	_, err := a.record.ExecContext(ctx, transitionArgs(rec)...)
	return err
}

// lastTwo reads an instance's last two records, oldest first.
func (a *applier) lastTwo(ctx context.Context, k scheduler.TaskKey) ([]scheduler.Transition, error) {
	rows, err := a.last.QueryContext(ctx, k.DAGID, k.RunID, k.TaskID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var last []scheduler.Transition
	for rows.Next() {
		rec, err := sqlcol.ScanTransition(rows, k)
		if err != nil {
			return nil, err
		}
		last = append(last, rec)
	}
	slices.Reverse(last)
	return last, rows.Err()
}
