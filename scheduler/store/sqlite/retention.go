package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/store/internal/sqlcol"
)

var _ scheduler.PurgeStore = (*Store)(nil)

// purgeCandidates selects the runs PurgeRuns may delete (see
// scheduler.PurgeStore): ended before ?1, no open operation, not the
// latest scheduled run of their DAG. The index runs_by_ended_at serves
// the range, oldest first.
const purgeCandidates = `SELECT r.dag_id, r.run_id FROM runs r` + purgeWhere

// purgeWhere is purgeCandidates' condition and order. The + on r.state
// keeps SQLite off runs_by_state, which would read every ended run and
// sort them; runs_by_ended_at reads the batch's range in order.
const purgeWhere = `
	WHERE r.ended_at < ?1 AND +r.state IN ('success', 'failed', 'cancelled')
	AND NOT EXISTS (SELECT 1 FROM ops o WHERE o.dag_id = r.dag_id AND o.run_id = r.run_id AND o.state IN ('pending', 'stopping'))
	AND (r.manual = 1 OR r.run_id <> (SELECT l.run_id FROM runs l WHERE l.dag_id = r.dag_id AND l.manual = 0
		ORDER BY l.logical_date DESC, l.run_id DESC LIMIT 1))
	ORDER BY r.ended_at, r.dag_id, r.run_id`

// PurgeRuns deletes up to limit old ended runs with their instances,
// transitions and closed operations, in one write transaction.
func (s *Store) PurgeRuns(ctx context.Context, before time.Time, lim scheduler.PurgeLimit) ([]scheduler.RunRef, scheduler.PurgeCount, error) {
	ctx, cancel := s.call(ctx, "PurgeRuns")
	defer cancel()
	if lim.Runs <= 0 {
		return nil, scheduler.PurgeCount{}, fmt.Errorf("purge runs: limit of %d runs must be more than zero", lim.Runs)
	}
	var runs []scheduler.RunRef
	var n scheduler.PurgeCount
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		runs, n = nil, scheduler.PurgeCount{}
		var taken int64 // the instances of the runs taken
		rows, err := tx.QueryContext(ctx, `SELECT r.dag_id, r.run_id,
			(SELECT COUNT(*) FROM task_instances t WHERE t.dag_id = r.dag_id AND t.run_id = r.run_id)
			FROM runs r`+purgeWhere+` LIMIT ?2`, sqlcol.TimeArg(before), lim.Runs)
		if err != nil {
			return err
		}
		for rows.Next() {
			var r scheduler.RunRef
			var tasks int64
			if err := rows.Scan(&r.DAGID, &r.RunID, &tasks); err != nil {
				rows.Close()
				return err
			}
			if !lim.Take(len(runs), taken, tasks) {
				break
			}
			taken += tasks
			runs = append(runs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// Children first: transitions name instances, instances name runs.
		for _, r := range runs {
			for _, d := range []struct {
				q string
				n *int64
			}{
				{`DELETE FROM transitions WHERE dag_id = ? AND run_id = ?`, &n.Transitions},
				{`DELETE FROM notifications WHERE dag_id = ? AND run_id = ?`, new(int64)},
				{`DELETE FROM task_instances WHERE dag_id = ? AND run_id = ?`, &n.Instances},
				{`DELETE FROM ops WHERE dag_id = ? AND run_id = ? AND state NOT IN ('pending', 'stopping')`, &n.Ops},
				{`DELETE FROM runs WHERE dag_id = ? AND run_id = ? AND state <> 'running'`, &n.Runs},
			} {
				res, err := tx.ExecContext(ctx, d.q, r.DAGID, r.RunID)
				if err != nil {
					return err
				}
				k, err := res.RowsAffected()
				if err != nil {
					return err
				}
				*d.n += k
			}
		}
		return nil
	})
	if err != nil {
		return nil, scheduler.PurgeCount{}, fmt.Errorf("purge runs ended before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return runs, n, nil
}

// CountPurge counts what PurgeRuns would delete, on a read connection.
func (s *Store) CountPurge(ctx context.Context, before time.Time) (scheduler.PurgeCount, error) {
	ctx, cancel := s.call(ctx, "CountPurge")
	defer cancel()
	var n scheduler.PurgeCount
	err := s.read.QueryRowContext(ctx, `WITH c AS (`+purgeCandidates+`)
		SELECT (SELECT COUNT(*) FROM c),
			(SELECT COUNT(*) FROM task_instances t JOIN c ON t.dag_id = c.dag_id AND t.run_id = c.run_id),
			(SELECT COUNT(*) FROM transitions x JOIN c ON x.dag_id = c.dag_id AND x.run_id = c.run_id),
			(SELECT COUNT(*) FROM ops o JOIN c ON o.dag_id = c.dag_id AND o.run_id = c.run_id
				WHERE o.state NOT IN ('pending', 'stopping'))`,
		sqlcol.TimeArg(before)).Scan(&n.Runs, &n.Instances, &n.Transitions, &n.Ops)
	if err != nil {
		return n, fmt.Errorf("count runs ended before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return n, nil
}
