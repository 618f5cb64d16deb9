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

var _ scheduler.PoolStore = (*Store)(nil)

// lockPools fills the ledger Apply admits its changes by (see
// scheduler.PoolLedger). The write transaction already excludes every
// other writer, so the counts hold until it commits.
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
	in := strings.TrimSuffix(strings.Repeat("?, ", len(names)), ", ")
	args := make([]any, len(names))
	for i, n := range names {
		args[i] = n
	}
	slots, err := namedCounts(ctx, tx, `SELECT name, slots FROM pools WHERE name IN (`+in+`)`, args)
	if err != nil {
		return nil, err
	}
	var limited []any
	for name, n := range slots {
		if n == scheduler.UnlimitedSlots {
			ledger.Set(name, n, 0)
		} else {
			limited = append(limited, name)
		}
	}
	if len(limited) == 0 {
		return ledger, nil // nothing to count: the default pool, unless set
	}
	in = strings.TrimSuffix(strings.Repeat("?, ", len(limited)), ", ")
	used, err := namedCounts(ctx, tx, `SELECT pool, SUM(pool_slots) FROM task_instances
		WHERE pool IN (`+in+`) AND state IN ('queued', 'running') GROUP BY pool`, limited)
	if err != nil {
		return nil, err
	}
	for _, name := range limited {
		ledger.Set(name.(string), slots[name.(string)], used[name.(string)])
	}
	return ledger, nil
}

// namedCounts runs a query of (name, number) rows.
func namedCounts(ctx context.Context, tx *sql.Tx, query string, args []any) (map[string]int, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
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
	for i, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE task_instances SET pool = ?, pool_slots = ?
			WHERE dag_id = ? AND run_id = ? AND task_id = ?`, pools[i], slots[i], run.DAGID, run.RunID, id); err != nil {
			return fmt.Errorf("record the pool of task %s: %w", id, err)
		}
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
		err := tx.QueryRowContext(ctx, `SELECT slots FROM pools WHERE name = ?`, p.Name).Scan(&prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO pools (name, slots, description, updated_at, updated_by_component, updated_by_instance)
			VALUES (?, ?, ?, ?, ?, ?)
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
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.Name, sqlcol.TimeArg(p.UpdatedAt), p.UpdatedBy.Component, p.UpdatedBy.Instance, action, p.Slots, prev, p.Description, p.Reason)
	if err != nil {
		return fmt.Errorf("record the change: %w", err)
	}
	return nil
}

// DeletePool deletes a pool no queued or running task holds slots of.
func (s *Store) DeletePool(ctx context.Context, name string, by scheduler.Actor, at time.Time, reason string) error {
	ctx, cancel := s.call(ctx, "DeletePool")
	defer cancel()
	if name == dag.DefaultPool {
		return fmt.Errorf("delete pool %s: it is the pool of every task that names none and cannot be deleted; set its slots to %d for no limit", name, scheduler.UnlimitedSlots)
	}
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var p scheduler.Pool
		err := tx.QueryRowContext(ctx, `SELECT slots, description FROM pools WHERE name = ?`, name).Scan(&p.Slots, &p.Description)
		if err != nil {
			return notFound(err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT dag_id, run_id, task_id, COUNT(*) OVER () FROM task_instances
			WHERE pool = ? AND state IN ('queued', 'running') ORDER BY dag_id, run_id, task_id LIMIT 5`, name)
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
		if _, err := tx.ExecContext(ctx, `DELETE FROM pools WHERE name = ?`, name); err != nil {
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
	// One read transaction, so the pools and the counts are of one moment.
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("list pools: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+sqlcol.PoolColumns+` FROM pools ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list pools: %w", err)
	}
	var pools []scheduler.Pool
	for rows.Next() {
		p, err := sqlcol.ScanPool(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list pools: %w", err)
		}
		pools = append(pools, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list pools: %w", err)
	}
	counts, err := tx.QueryContext(ctx, sqlcol.PoolCounts)
	if err != nil {
		return nil, fmt.Errorf("list pools: %w", err)
	}
	defer counts.Close()
	out, err := sqlcol.PoolStatus(pools, counts)
	if err != nil {
		return nil, fmt.Errorf("list pools: %w", err)
	}
	return out, nil
}

// PoolHistory returns the recorded changes of one pool, or of all.
func (s *Store) PoolHistory(ctx context.Context, name string) ([]scheduler.PoolChange, error) {
	ctx, cancel := s.call(ctx, "PoolHistory")
	defer cancel()
	rows, err := s.read.QueryContext(ctx, `SELECT `+sqlcol.PoolChangeColumns+` FROM pool_changes
		WHERE ? = '' OR pool = ? ORDER BY seq`, name, name)
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
