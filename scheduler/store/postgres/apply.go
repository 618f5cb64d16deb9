package postgres

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
	"github.com/vigilhq/vigil/scheduler/store/internal/sqlcol"
)

// Apply performs a batch of changes in one transaction. Each change is
// checked by scheduler.Apply against the instance as it stands after the
// changes before it in the batch, so one batch may move an instance more
// than once. An illegal, conflicting or unknown change gets its own error
// in the results; err is for a failing store, and then nothing was applied.
//
// A change with an Owner is applied only while that scheduler owns the
// instance's run (scheduler.ErrNotOwner otherwise), checked under a lock
// that keeps the run from changing hands before the commit.
//
// A change into queued takes slots of its task's pool, or fails with
// scheduler.ErrPoolFull or ErrNoPool (see lockPools).
//
// The batch locks its instances before it reads them, so a change is
// checked against the instance as other processes left it: of two
// schedulers moving one instance from the same state, the second waits
// for the first and then fails with scheduler.ErrStateConflict.
func (s *Store) Apply(ctx context.Context, changes []scheduler.Change) ([]scheduler.ChangeResult, error) {
	ctx, cancel := s.call(ctx, "Apply")
	defer cancel()
	results := make([]scheduler.ChangeResult, len(changes))
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return applyIn(ctx, tx, changes, results)
	})
	if err != nil {
		return nil, fmt.Errorf("apply %d changes: %w", len(changes), err)
	}
	return results, nil
}

// applyIn is Apply's work in transaction tx, results[i] for changes[i].
func applyIn(ctx context.Context, tx *sql.Tx, changes []scheduler.Change, results []scheduler.ChangeResult) error {
	owners, err := lockOwners(ctx, tx, changes)
	if err != nil {
		return fmt.Errorf("read run owners: %w", err)
	}
	current, err := loadAll(ctx, tx, changes)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	pools, err := lockPools(ctx, tx, changes, current)
	if err != nil {
		return err
	}
	for i, c := range changes {
		if c.Owner != "" && owners[runOf(c.Key)] != c.Owner {
			results[i] = scheduler.ChangeResult{Err: fmt.Errorf("task %s: %w (%s, not %s)", c.Key, scheduler.ErrNotOwner, orNone(owners[runOf(c.Key)]), c.Owner)}
			continue
		}
		if results[i], err = apply(ctx, tx, current, pools, c); err != nil {
			return fmt.Errorf("%s: %w", c.Key, err)
		}
	}
	return nil
}

type runID struct{ dag, run string }

func runOf(k scheduler.TaskKey) runID { return runID{k.DAGID, k.RunID} }

func orNone(owner string) string {
	if owner == "" {
		return "no owner"
	}
	return "owner " + owner
}

// lockOwners reads the owners of the runs of the fenced changes (those
// with an Owner) and holds them with FOR KEY SHARE until the transaction
// ends. A claim takes FOR UPDATE on the run and so cannot move it to
// another scheduler between this check and the commit; it skips the run
// instead (SKIP LOCKED) and takes it at its next try. KEY SHARE does not
// conflict with the run's other updates (its state), nor with another
// Apply's.
func lockOwners(ctx context.Context, tx *sql.Tx, changes []scheduler.Change) (map[runID]string, error) {
	var keys []runID
	seen := map[runID]bool{}
	for _, c := range changes {
		if k := runOf(c.Key); c.Owner != "" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	slices.SortFunc(keys, func(a, b runID) int { return cmp.Or(cmp.Compare(a.dag, b.dag), cmp.Compare(a.run, b.run)) })
	dags, runs := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		dags[i], runs[i] = k.dag, k.run
	}
	rows, err := tx.QueryContext(ctx, `SELECT dag_id, run_id, COALESCE(owner, '') FROM runs
		WHERE (dag_id, run_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
		ORDER BY dag_id, run_id FOR KEY SHARE`, dags, runs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	owners := make(map[runID]string, len(keys))
	for rows.Next() {
		var k runID
		var owner string
		if err := rows.Scan(&k.dag, &k.run, &owner); err != nil {
			return nil, err
		}
		owners[k] = owner
	}
	return owners, rows.Err()
}

// loadChunk is the most instances one query loads. A batch loads its
// instances in a few queries instead of one per change: each is a round
// trip to the server.
const loadChunk = 1000

// loaded is an instance as it stands in the transaction, or the error
// that fails every change to it (a spec this build cannot read).
type loaded struct {
	ti  scheduler.TaskInstance
	err error
}

// loadAll reads and locks every instance the changes name, each once. An
// instance that does not exist is absent from the map.
//
// Rows are locked in key order (byte order, the "C" collation of the key
// columns): the keys are sorted before they are cut into chunks, and each
// query sorts below its FOR UPDATE. Two batches that share instances thus
// take their locks in the same order and one waits for the other instead
// of deadlocking.
func loadAll(ctx context.Context, tx *sql.Tx, changes []scheduler.Change) (map[scheduler.TaskKey]*loaded, error) {
	var keys []scheduler.TaskKey
	seen := make(map[scheduler.TaskKey]bool, len(changes))
	for _, c := range changes {
		if !seen[c.Key] {
			seen[c.Key] = true
			keys = append(keys, c.Key)
		}
	}
	slices.SortFunc(keys, func(a, b scheduler.TaskKey) int {
		return cmp.Or(cmp.Compare(a.DAGID, b.DAGID), cmp.Compare(a.RunID, b.RunID), cmp.Compare(a.TaskID, b.TaskID))
	})
	current := make(map[scheduler.TaskKey]*loaded, len(keys))
	for chunk := range slices.Chunk(keys, loadChunk) {
		dags, runs, tasks := make([]string, len(chunk)), make([]string, len(chunk)), make([]string, len(chunk))
		for i, k := range chunk {
			dags[i], runs[i], tasks[i] = k.DAGID, k.RunID, k.TaskID
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+sqlcol.InstanceColumns+` FROM task_instances
			WHERE (dag_id, run_id, task_id) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))
			ORDER BY dag_id, run_id, task_id FOR UPDATE`, dags, runs, tasks)
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

// updateAndRecord updates an instance if its version is still the one
// read ($14), a compare-and-swap, and records the transition only if it
// did: one round trip, and rows affected tells which happened. The lock
// loadAll took already keeps other writers out; the version check keeps
// the update correct without relying on that.
const updateAndRecord = `
	WITH updated AS (
		UPDATE task_instances SET state = $1, try = $2, external_id = $3, exit_code = $4,
			queued_at = $5, started_at = $6, ended_at = $7, retry_at = $8, updated_at = $9, version = $10, evictions = $24, try_base = $25
		WHERE dag_id = $11 AND run_id = $12 AND task_id = $13 AND version = $14
		RETURNING 1
	)
	INSERT INTO transitions (dag_id, run_id, task_id, try, from_state, to_state, at,
		actor_component, actor_instance, reason, external_id, exit_code, manual)
	SELECT $11, $12, $13, $15, $16, $17, $18, $19, $20, $21, $22, $23, $26 FROM updated`

// updateAndBump is updateAndRecord for a transition that repeats record
// $16 (see repeated): the update, then one more occurrence of the record,
// last at $15.
const updateAndBump = `
	WITH updated AS (
		UPDATE task_instances SET state = $1, try = $2, external_id = $3, exit_code = $4,
			queued_at = $5, started_at = $6, ended_at = $7, retry_at = $8, updated_at = $9, version = $10, evictions = $17, try_base = $18
		WHERE dag_id = $11 AND run_id = $12 AND task_id = $13 AND version = $14
		RETURNING 1
	)
	UPDATE transitions SET repeats = repeats + 1, last_at = $15
	WHERE seq = $16 AND EXISTS (SELECT 1 FROM updated)`

// repeated returns the seq of the record rec repeats (scheduler.Collapse),
// or 0 if rec is to be inserted. Only a transition that may repeat one
// costs the extra read.
func repeated(ctx context.Context, tx *sql.Tx, ti scheduler.TaskInstance, rec scheduler.Transition) (int64, error) {
	if !scheduler.MayRepeat(ti, rec) {
		return 0, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+sqlcol.TransitionColumns+` FROM transitions
		WHERE dag_id = $1 AND run_id = $2 AND task_id = $3 ORDER BY seq DESC LIMIT 2`, rec.Key.DAGID, rec.Key.RunID, rec.Key.TaskID)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var last []scheduler.Transition
	for rows.Next() {
		r, err := sqlcol.ScanTransition(rows, rec.Key)
		if err != nil {
			return 0, err
		}
		last = append(last, r)
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	slices.Reverse(last)
	if i, ok := scheduler.Collapse(last, rec); ok {
		return last[i].Seq, nil
	}
	return 0, nil
}

// apply performs one change on the instance as current holds it, and
// keeps current up to date for the changes after it. A returned error is
// the store's; the change's own failure is in the result.
func apply(ctx context.Context, tx *sql.Tx, current map[scheduler.TaskKey]*loaded, pools *scheduler.PoolLedger, c scheduler.Change) (scheduler.ChangeResult, error) {
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
	update := []any{string(next.State), next.Try, next.ExternalID, sqlcol.IntPtrArg(next.ExitCode),
		sqlcol.TimeArg(next.QueuedAt), sqlcol.TimeArg(next.StartedAt), sqlcol.TimeArg(next.EndedAt), sqlcol.TimeArg(next.RetryAt),
		sqlcol.TimeArg(next.UpdatedAt), next.Version,
		c.Key.DAGID, c.Key.RunID, c.Key.TaskID, ti.Version}
	var res sql.Result
	bump, err := repeated(ctx, tx, ti, rec)
	if err != nil {
		return scheduler.ChangeResult{}, fmt.Errorf("read last transitions: %w", err)
	}
	if bump != 0 {
		res, err = tx.ExecContext(ctx, updateAndBump, append(update, sqlcol.TimeArg(rec.At), bump, next.Evictions, next.TryBase)...)
	} else {
		res, err = tx.ExecContext(ctx, updateAndRecord, append(update,
			rec.Try, string(rec.From), string(rec.To), sqlcol.TimeArg(rec.At),
			rec.Actor.Component, rec.Actor.Instance, rec.Reason, rec.ExternalID, sqlcol.IntPtrArg(rec.ExitCode),
			next.Evictions, next.TryBase, rec.Manual)...)
	}
	if err != nil {
		return scheduler.ChangeResult{}, fmt.Errorf("update: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return scheduler.ChangeResult{}, fmt.Errorf("update: %w", err)
	} else if n == 0 {
		err := fmt.Errorf("%w: task %s changed after it was read (version %d)", scheduler.ErrStateConflict, c.Key, ti.Version)
		return scheduler.ChangeResult{Instance: ti, Err: err}, nil
	}
	// In the transition's transaction: a notification due is never lost
	// to a crash between the two (issue 20).
	for _, n := range scheduler.Due(next, rec) {
		if _, err := tx.ExecContext(ctx, insertNotification, sqlcol.NotificationArgs(n)...); err != nil {
			return scheduler.ChangeResult{}, fmt.Errorf("store notification: %w", err)
		}
	}
	l.ti = next
	return scheduler.ChangeResult{Instance: next}, nil
}
