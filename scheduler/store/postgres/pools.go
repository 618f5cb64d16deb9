package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
	"github.com/vigilhq/vigil/scheduler/store/internal/sqlcol"
)

var _ scheduler.PoolStore = (*Store)(nil)

// lockPools fills the ledger Apply admits its changes by (see
// scheduler.PoolLedger). A pool with a limit is locked (FOR UPDATE) until
// the transaction ends before its instances are counted: two schedulers
// queueing into one pool count one after the other, and the second sees
// the slots the first took once it committed (each statement of a READ
// COMMITTED transaction reads what was committed when it starts). A pool
// without a limit is not locked, so tasks of the default pool never wait
// on each other's transactions. The price: a batch that read a pool as
// unlimited just before `vigil pools set` gave it a limit (or deleted it)
// still queues into it; the limit holds from the next batch on.
func lockPools(ctx context.Context, tx *sql.Tx, changes []scheduler.Change, current map[scheduler.TaskKey]*loaded) (*scheduler.PoolLedger, error) {
	ledger := scheduler.NewPoolLedger()
	names := scheduler.PoolsTouched(changes, func(k scheduler.TaskKey) (dag.TaskSpec, bool) {
		l, ok := current[k]
		if !ok || l.err != nil {
			return dag.TaskSpec{}, false
		}
		return l.ti.Spec, true
	})
	if len(names) == 0 {
		return ledger, nil
	}
	slots, err := poolSlots(ctx, tx, `SELECT name, slots FROM pools WHERE name = ANY($1)`, names)
	if err != nil {
		return nil, err
	}
	var limited []string
	for name, n := range slots {
		if n == scheduler.UnlimitedSlots {
			ledger.Set(name, n, 0)
		} else {
			limited = append(limited, name)
		}
	}
	if len(limited) == 0 {
		return ledger, nil
	}
	// Read again under the lock: the limit may have changed meanwhile.
	slots, err = poolSlots(ctx, tx, `SELECT name, slots FROM pools WHERE name = ANY($1) ORDER BY name FOR UPDATE`, limited)
	if err != nil {
		return nil, err
	}
	used, err := poolSlots(ctx, tx, `SELECT pool, SUM(pool_slots) FROM task_instances
		WHERE pool = ANY($1) AND state IN ('queued', 'running') GROUP BY pool`, limited)
	if err != nil {
		return nil, err
	}
	for name, n := range slots {
		ledger.Set(name, n, used[name])
	}
	return ledger, nil
}

// poolSlots runs a query of (name, number) rows with the names as $1.
func poolSlots(ctx context.Context, tx *sql.Tx, query string, names []string) (map[string]int, error) {
	rows, err := tx.QueryContext(ctx, query, names)
	if err != nil {
		return nil, fmt.Errorf("pools: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			return nil, fmt.Errorf("pools: %w", err)
		}
		out[name] = n
	}
	return out, rows.Err()
}

// setInstancePools records the pool and slots of a new run's instances
// that are not in the default pool with one slot (the columns' defaults).
func setInstancePools(ctx context.Context, tx *sql.Tx, run scheduler.Run, tasks []scheduler.TaskInstance) error {
	ids, pools, slots := sqlcol.InstancePools(tasks)
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE task_instances ti SET pool = t.pool, pool_slots = t.slots
		FROM unnest($3::text[], $4::text[], $5::int[]) AS t (task_id, pool, slots)
		WHERE ti.dag_id = $1 AND ti.run_id = $2 AND ti.task_id = t.task_id`,
		run.DAGID, run.RunID, ids, pools, slots)
	if err != nil {
		return fmt.Errorf("record tasks' pools: %w", err)
	}
	return nil
}

// SetPool creates or updates a pool and records the change.
func (s *Store) SetPool(ctx context.Context, p scheduler.Pool) error {
	ctx, cancel := s.call(ctx, "SetPool")
	defer cancel()
	if err := scheduler.CheckPool(p); err != nil {
		return err
	}
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var prev sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT slots FROM pools WHERE name = $1 FOR UPDATE`, p.Name).Scan(&prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO pools (name, slots, description, updated_at, updated_by_component, updated_by_instance)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (name) DO UPDATE SET slots = excluded.slots, description = excluded.description,
				updated_at = excluded.updated_at, updated_by_component = excluded.updated_by_component,
				updated_by_instance = excluded.updated_by_instance`,
			p.Name, p.Slots, p.Description, sqlcol.TimeArg(p.UpdatedAt), p.UpdatedBy.Component, p.UpdatedBy.Instance); err != nil {
			return err
		}
		return recordPoolChange(ctx, tx, p, "set", prev)
	})
	if err != nil {
		return fmt.Errorf("set pool %s: %w", p.Name, err)
	}
	return nil
}

func recordPoolChange(ctx context.Context, tx *sql.Tx, p scheduler.Pool, action string, prev sql.NullInt64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO pool_changes (pool, at, actor_component, actor_instance, action, slots, prev_slots, description, reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		p.Name, sqlcol.TimeArg(p.UpdatedAt), p.UpdatedBy.Component, p.UpdatedBy.Instance, action, p.Slots, prev, p.Description, p.Reason)
	if err != nil {
		return fmt.Errorf("record the change: %w", err)
	}
	return nil
}

// DeletePool deletes a pool no queued or running task holds slots of.
// The pool stays locked from the check to the delete, so no task of
// another scheduler takes one of its slots in between.
func (s *Store) DeletePool(ctx context.Context, name string, by scheduler.Actor, at time.Time, reason string) error {
	ctx, cancel := s.call(ctx, "DeletePool")
	defer cancel()
	if name == dag.DefaultPool {
		return fmt.Errorf("delete pool %s: it is the pool of every task that names none and cannot be deleted; set its slots to %d for no limit", name, scheduler.UnlimitedSlots)
	}
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var p scheduler.Pool
		err := tx.QueryRowContext(ctx, `SELECT slots, description FROM pools WHERE name = $1 FOR UPDATE`, name).Scan(&p.Slots, &p.Description)
		if err != nil {
			return notFound(err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT dag_id, run_id, task_id, COUNT(*) OVER () FROM task_instances
			WHERE pool = $1 AND state IN ('queued', 'running') ORDER BY dag_id, run_id, task_id LIMIT 5`, name)
		if err != nil {
			return err
		}
		held, n, err := scanHeld(rows)
		if err != nil {
			return err
		}
		if n > 0 {
			return sqlcol.PoolInUse(name, held, n)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM pools WHERE name = $1`, name); err != nil {
			return err
		}
		p.Name, p.UpdatedAt, p.UpdatedBy, p.Reason = name, at, by, reason
		return recordPoolChange(ctx, tx, p, "delete", sql.NullInt64{Int64: int64(p.Slots), Valid: true})
	})
	if err != nil {
		return fmt.Errorf("delete pool %s: %w", name, err)
	}
	return nil
}

func scanHeld(rows *sql.Rows) ([]scheduler.TaskKey, int, error) {
	defer rows.Close()
	var held []scheduler.TaskKey
	n := 0
	for rows.Next() {
		var k scheduler.TaskKey
		if err := rows.Scan(&k.DAGID, &k.RunID, &k.TaskID, &n); err != nil {
			return nil, 0, err
		}
		held = append(held, k)
	}
	return held, n, rows.Err()
}

// ListPools returns every pool with what its tasks take of it now.
func (s *Store) ListPools(ctx context.Context) ([]scheduler.PoolStatus, error) {
	ctx, cancel := s.call(ctx, "ListPools")
	defer cancel()
	var out []scheduler.PoolStatus
	// One transaction, so the pools and the counts are of one moment.
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY`); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+sqlcol.PoolColumns+` FROM pools ORDER BY name`)
		if err != nil {
			return err
		}
		var pools []scheduler.Pool
		for rows.Next() {
			p, err := sqlcol.ScanPool(rows)
			if err != nil {
				rows.Close()
				return err
			}
			pools = append(pools, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		counts, err := tx.QueryContext(ctx, sqlcol.PoolCounts)
		if err != nil {
			return err
		}
		defer counts.Close()
		out, err = sqlcol.PoolStatus(pools, counts)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list pools: %w", err)
	}
	return out, nil
}

// PoolHistory returns the recorded changes of one pool, or of all.
func (s *Store) PoolHistory(ctx context.Context, name string) ([]scheduler.PoolChange, error) {
	ctx, cancel := s.call(ctx, "PoolHistory")
	defer cancel()
	rows, err := s.db.QueryContext(ctx, `SELECT `+sqlcol.PoolChangeColumns+` FROM pool_changes
		WHERE $1 = '' OR pool = $1 ORDER BY seq`, name)
	if err != nil {
		return nil, fmt.Errorf("pool history: %w", err)
	}
	defer rows.Close()
	var out []scheduler.PoolChange
	for rows.Next() {
		c, err := sqlcol.ScanPoolChange(rows)
		if err != nil {
			return nil, fmt.Errorf("pool history: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pool history: %w", err)
	}
	return out, nil
}
