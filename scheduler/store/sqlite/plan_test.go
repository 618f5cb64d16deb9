package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/store/internal/sqlcol"
	"github.com/vigilhq/vigil/scheduler/store/internal/sqlplan"
)

// plans are the queries the scheduler loop and the admin commands make on
// the history tables, the one place they are listed (issue 18): each must
// read through an index, and a paged list in its index's order (no sort
// of every match before the LIMIT). TestQueryPlansListed fails for a query
// in the package's source that is not here.
func plans(t *testing.T) []sqlplan.Query {
	k := scheduler.TaskKey{DAGID: "d", RunID: "r", TaskID: "t"}
	cursor := func(v string, err error) string {
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	runAfter := scheduler.RunCursor(scheduler.Run{DAGID: "d", RunID: "r", LogicalDate: t0()})
	taskAfter := scheduler.TaskCursor(scheduler.TaskInstance{TaskKey: k})
	opAfter := scheduler.OpCursor(scheduler.Op{ID: 7})
	histAfter := scheduler.TransitionCursor(scheduler.Transition{Seq: 7})
	running := []scheduler.RunState{scheduler.RunRunning}
	built := func(name string, paged bool, q string, args []any, err error) sqlplan.Query {
		return sqlplan.Query{Name: name, SQL: cursor(q, err), Args: args, Paged: paged}
	}
	listRuns := func(name string, paged bool, f scheduler.RunFilter) sqlplan.Query {
		q, args, err := listRunsQuery(f)
		return built(name, paged, q, args, err)
	}
	listTasks := func(name string, paged bool, f scheduler.TaskFilter) sqlplan.Query {
		q, args, err := listTasksQuery(f)
		return built(name, paged, q, args, err)
	}
	listOps := func(name string, paged bool, f scheduler.OpFilter) sqlplan.Query {
		q, args, err := listOpsQuery(f)
		return built(name, paged, q, args, err)
	}
	history := func(name string, paged bool, limit int, after string) sqlplan.Query {
		q, args, err := historyQuery(k, limit, after)
		return built(name, paged, q, args, err)
	}
	dagHistory := func(name string, limit int, after string) sqlplan.Query {
		q, args, err := dagHistoryQuery("d", limit, after)
		return built(name, true, q, args, err)
	}
	key := []any{"d", "r", "t"}
	return []sqlplan.Query{
		// The loop, every sync and on start-up.
		listRuns("loop: running runs", false, scheduler.RunFilter{States: running}),
		listTasks("loop: a run's instances", false, scheduler.TaskFilter{DAGID: "d", RunID: "r"}),
		listOps("loop: open operations", false, scheduler.OpFilter{States: []scheduler.OpState{scheduler.OpPending, scheduler.OpStopping}, Limit: 100}),
		listTasks("audit: live instances", false, scheduler.TaskFilter{States: []scheduler.State{scheduler.StateQueued, scheduler.StateRunning}}),
		history("audit, tasks history: a task's history", false, 0, ""),
		{Name: "pools: live counts", SQL: sqlcol.PoolCounts},
		{Name: "pools: Apply's ledger", SQL: `SELECT pool, SUM(pool_slots) FROM task_instances
		WHERE pool IN (?, ?) AND state IN ('queued', 'running') GROUP BY pool`, Args: []any{"p", "q"}},
		{Name: "pools: CreateRun", SQL: `UPDATE task_instances SET pool = ?, pool_slots = ? WHERE dag_id = ? AND run_id = ? AND task_id = ?`,
			Args: []any{"p", 1, "d", "r", "t"}},
		{Name: "pools: DeletePool in use", SQL: `SELECT dag_id, run_id, task_id, COUNT(*) OVER () FROM task_instances
			WHERE pool = ? AND state IN ('queued', 'running') ORDER BY dag_id, run_id, task_id LIMIT 5`, Args: []any{"p"}},
		// The CLI's lists, first and later pages.
		listRuns("runs list", true, scheduler.RunFilter{Limit: 101}),
		listRuns("runs list, page 2", true, scheduler.RunFilter{Limit: 101, After: runAfter}),
		listRuns("runs list --dag", true, scheduler.RunFilter{DAGID: "d", Limit: 101, After: runAfter}),
		listRuns("runs list --state", true, scheduler.RunFilter{States: running, Limit: 101, After: runAfter}),
		listRuns("runs list --dag --state", false, scheduler.RunFilter{DAGID: "d", States: running, Limit: 101}),
		listRuns("backfill: a DAG's runs", false, scheduler.RunFilter{DAGID: "d"}),
		listTasks("tasks list", true, scheduler.TaskFilter{Limit: 101, After: taskAfter}),
		listTasks("tasks list --dag", true, scheduler.TaskFilter{DAGID: "d", Limit: 101, After: taskAfter}),
		listTasks("tasks list --dag --run", true, scheduler.TaskFilter{DAGID: "d", RunID: "r", Limit: 101, After: taskAfter}),
		listTasks("tasks list --state", true, scheduler.TaskFilter{States: []scheduler.State{scheduler.StateFailed}, Limit: 101, After: taskAfter}),
		listTasks("tasks list --dag --state", true, scheduler.TaskFilter{DAGID: "d", States: []scheduler.State{scheduler.StateFailed}, Limit: 101}),
		history("tasks history, page 2", true, 101, histAfter),
		dagHistory("api: a DAG's pause history", 101, ""),
		dagHistory("api: a DAG's pause history, page 2", 101, scheduler.DAGChangeCursor(scheduler.DAGChange{Seq: 7})),
		listOps("ops list", true, scheduler.OpFilter{Limit: 101, After: opAfter}),
		listOps("ops list --state", true, scheduler.OpFilter{States: []scheduler.OpState{scheduler.OpDone}, Limit: 101, After: opAfter}),
		listOps("ops list --dag --run", true, scheduler.OpFilter{DAGID: "d", RunID: "r", Limit: 101}),
		// Single rows.
		{Name: "GetRun", SQL: `SELECT ` + sqlcol.RunColumns + ` FROM runs WHERE dag_id = ? AND run_id = ?`, Args: []any{"d", "r"}},
		{Name: "LatestScheduledRun", SQL: `SELECT ` + sqlcol.RunColumns + ` FROM runs
		WHERE dag_id = ? AND manual = 0 ORDER BY logical_date DESC, run_id DESC LIMIT 1`, Args: []any{"d"}, Paged: true},
		{Name: "SetRunState", SQL: `UPDATE runs SET state = ?, ended_at = ? WHERE dag_id = ? AND run_id = ?`, Args: []any{"success", 1, "d", "r"}},
		{Name: "GetTaskInstance", SQL: `SELECT ` + sqlcol.InstanceColumns + ` FROM task_instances
		WHERE dag_id = ? AND run_id = ? AND task_id = ?`, Args: key},
		{Name: "History: instance exists", SQL: `SELECT 1 FROM task_instances WHERE dag_id = ? AND run_id = ? AND task_id = ?`, Args: key},
		{Name: "Apply: load", SQL: `SELECT ` + sqlcol.InstanceColumns + ` FROM task_instances WHERE dag_id = ? AND run_id = ? AND task_id = ?`, Args: key},
		{Name: "Apply: load many", SQL: `SELECT ` + sqlcol.InstanceColumns + ` FROM task_instances WHERE (dag_id, run_id, task_id) IN (VALUES (?, ?, ?), (?, ?, ?))`,
			Args: []any{"d", "r", "t", "d", "r", "u"}},
		{Name: "Apply: update", SQL: `UPDATE task_instances SET state = ?, try = ?, external_id = ?, exit_code = ?,
			queued_at = ?, started_at = ?, ended_at = ?, retry_at = ?, updated_at = ?, version = ?, evictions = ?, try_base = ?
			WHERE dag_id = ? AND run_id = ? AND task_id = ? AND version = ?`,
			Args: []any{"queued", 1, "", nil, 1, nil, nil, nil, 1, 1, 0, 0, "d", "r", "t", 0}},
		{Name: "Apply: last two records", SQL: `SELECT ` + sqlcol.TransitionColumns + ` FROM transitions
			WHERE dag_id = ? AND run_id = ? AND task_id = ? ORDER BY seq DESC LIMIT 2`, Args: key, Paged: true},
		{Name: "Apply: count a repeat", SQL: `UPDATE transitions SET repeats = repeats + 1, last_at = ? WHERE seq = ?`, Args: []any{1, 7}},
		{Name: "GetOp", SQL: `SELECT ` + sqlcol.OpColumns + ` FROM ops WHERE id = ?`, Args: []any{7}},
		{Name: "ApplyOp: close", SQL: `UPDATE ops SET state = ?, result = ?, done_by = ?, done_at = ?
			WHERE id = ? AND state IN (?, ?)`, Args: []any{"done", "", "", 1, 7, "pending", "stopping"}},
		{Name: "ApplyOp: run", SQL: `SELECT dag_id, run_id FROM ops WHERE id = ?`, Args: []any{7}},
		{Name: "ApplyOp: state", SQL: `SELECT state FROM ops WHERE id = ?`, Args: []any{7}},
		{Name: "ApplyOp: reopen", SQL: `UPDATE runs SET state = ?, ended_at = NULL WHERE dag_id = ? AND run_id = ? AND state != ?`,
			Args: []any{"running", "d", "r", "running"}},
		// Retention (PurgeRuns, CountPurge).
		{Name: "retention: a batch", SQL: `SELECT r.dag_id, r.run_id,
			(SELECT COUNT(*) FROM task_instances t WHERE t.dag_id = r.dag_id AND t.run_id = r.run_id)
			FROM runs r` + purgeWhere + ` LIMIT ?2`, Args: []any{1, 100}, Paged: true},
		{Name: "retention: count", SQL: `WITH c AS (` + purgeCandidates + `)
		SELECT (SELECT COUNT(*) FROM c),
			(SELECT COUNT(*) FROM task_instances t JOIN c ON t.dag_id = c.dag_id AND t.run_id = c.run_id),
			(SELECT COUNT(*) FROM transitions x JOIN c ON x.dag_id = c.dag_id AND x.run_id = c.run_id),
			(SELECT COUNT(*) FROM ops o JOIN c ON o.dag_id = c.dag_id AND o.run_id = c.run_id
				WHERE o.state NOT IN ('pending', 'stopping'))`, Args: []any{1}},
		{Name: "retention: transitions", SQL: `DELETE FROM transitions WHERE dag_id = ? AND run_id = ?`, Args: []any{"d", "r"}},
		{Name: "retention: instances", SQL: `DELETE FROM task_instances WHERE dag_id = ? AND run_id = ?`, Args: []any{"d", "r"}},
		{Name: "retention: notifications", SQL: `DELETE FROM notifications WHERE dag_id = ? AND run_id = ?`, Args: []any{"d", "r"}},
		// Notifications (the outbox grows with history).
		{Name: "notifications: due", SQL: `SELECT id FROM notifications
			WHERE state = 'pending' AND next_at <= ? AND (claim_until IS NULL OR claim_until < ?)
			ORDER BY next_at, id LIMIT ?`, Args: []any{"2026-01-01", "2026-01-01", 10}},
		{Name: "notifications: claim one", SQL: `UPDATE notifications SET claimed_by = ?, claim_until = ? WHERE id = ?`, Args: []any{"me", "2026-01-01", 1}},
		{Name: "notifications: finish an attempt", SQL: `UPDATE notifications SET state = ?, attempts = ?, next_at = ?, status_code = ?,
		error = ?, updated_at = ?, claimed_by = '', claim_until = NULL
		WHERE id = ? AND claimed_by = ? AND state = 'pending'`, Args: []any{"sent", 1, "2026-01-01", 200, "", "2026-01-01", 1, "me"}},
		{Name: "notifications of a task", SQL: `SELECT id FROM notifications
			WHERE dag_id = ? AND run_id = ? AND task_id = ? ORDER BY id`, Args: []any{"d", "r", "t"}},
		{Name: "notifications pending", SQL: `SELECT COUNT(*) FROM notifications WHERE state = 'pending'`,
			Partial: "notifications_pending: only pending notifications"},
		{Name: "retention: ops", SQL: `DELETE FROM ops WHERE dag_id = ? AND run_id = ? AND state NOT IN ('pending', 'stopping')`, Args: []any{"d", "r"}},
		{Name: "retention: run", SQL: `DELETE FROM runs WHERE dag_id = ? AND run_id = ? AND state <> 'running'`, Args: []any{"d", "r"}},
		{Name: "ApplyOp: end", SQL: `UPDATE runs SET state = ? WHERE dag_id = ? AND run_id = ? AND state != ?`,
			Args: []any{"failed", "d", "r", "running"}},
	}
}

func t0() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }

func TestQueryPlans(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "vigil.db"), Options{})
	for _, q := range plans(t) {
		t.Run(q.Name, func(t *testing.T) {
			rows, err := s.read.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+q.SQL, q.Args...)
			if err != nil {
				t.Fatalf("explain: %v\n%s", err, q.SQL)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, notused int
				var detail string
				if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			t.Logf("plan: %s", strings.Join(plan, "; "))
			if bad := sqlplan.BadSQLite(q, plan); bad != "" {
				t.Errorf("%s\nplan:\n  %s\nquery: %s", bad, strings.Join(plan, "\n  "), q.SQL)
			}
		})
	}
}

func TestQueryPlansListed(t *testing.T) {
	sqlplan.CheckListed(t, ".", plans(t))
}
