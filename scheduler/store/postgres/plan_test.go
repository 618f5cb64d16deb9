package postgres

import (
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
	must := func(q string, err error) string {
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	runAfter := scheduler.RunCursor(scheduler.Run{DAGID: "d", RunID: "r", LogicalDate: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)})
	taskAfter := scheduler.TaskCursor(scheduler.TaskInstance{TaskKey: k})
	opAfter := scheduler.OpCursor(scheduler.Op{ID: 7})
	histAfter := scheduler.TransitionCursor(scheduler.Transition{Seq: 7})
	running := []scheduler.RunState{scheduler.RunRunning}
	built := func(name string, paged bool, q string, args []any, err error) sqlplan.Query {
		return sqlplan.Query{Name: name, SQL: must(q, err), Args: args, Paged: paged}
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
		listRuns("loop: own running runs", false, scheduler.RunFilter{States: running, Owner: "me"}),
		listTasks("loop: a run's instances", false, scheduler.TaskFilter{DAGID: "d", RunID: "r"}),
		listOps("loop: open operations", false, scheduler.OpFilter{States: []scheduler.OpState{scheduler.OpPending, scheduler.OpStopping}, Limit: 100}),
		listTasks("audit: live instances", false, scheduler.TaskFilter{States: []scheduler.State{scheduler.StateQueued, scheduler.StateRunning}}),
		history("audit, tasks history: a task's history", false, 0, ""),
		{Name: "pools: live counts", SQL: sqlcol.PoolCounts},
		// The CLI's lists, first and later pages.
		listRuns("runs list", true, scheduler.RunFilter{Limit: 101}),
		listRuns("runs list, page 2", true, scheduler.RunFilter{Limit: 101, After: runAfter}),
		listRuns("runs list --dag", true, scheduler.RunFilter{DAGID: "d1", Limit: 101, After: runAfter}),
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
		{Name: "GetRun", SQL: `SELECT ` + runColumns + ` FROM runs WHERE dag_id = $1 AND run_id = $2`, Args: []any{"d", "r"}},
		{Name: "LatestScheduledRun", SQL: `SELECT ` + runColumns + ` FROM runs
		WHERE dag_id = $1 AND NOT manual ORDER BY logical_date DESC NULLS LAST, run_id DESC LIMIT 1`, Args: []any{"d"}, Paged: true},
		{Name: "SetRunState", SQL: `UPDATE runs SET state = $1, ended_at = $2 WHERE dag_id = $3 AND run_id = $4`, Args: []any{"success", 1, "d", "r"}},
		{Name: "GetTaskInstance", SQL: `SELECT ` + sqlcol.InstanceColumns + ` FROM task_instances
		WHERE dag_id = $1 AND run_id = $2 AND task_id = $3`, Args: key},
		{Name: "History: instance exists", SQL: `SELECT 1 FROM task_instances WHERE dag_id = $1 AND run_id = $2 AND task_id = $3`, Args: key},
		{Name: "GetOp", SQL: `SELECT ` + sqlcol.OpColumns + ` FROM ops WHERE id = $1`, Args: []any{7}},
		{Name: "ApplyOp: state", SQL: `SELECT state FROM ops WHERE id = $1`, Args: []any{7}},
		{Name: "ApplyOp: close", SQL: `UPDATE ops SET state = $1, result = $2, done_by = $3, done_at = $4
			WHERE id = $5 AND state IN ($6, $7) RETURNING dag_id, run_id`, Args: []any{"done", "", "", 1, 7, "pending", "stopping"}},
		{Name: "ApplyOp: reopen", SQL: `UPDATE runs SET state = $1, ended_at = NULL,
					owner = NULLIF($2, ''), owner_since = CASE WHEN $2 <> '' THEN now() END
					WHERE dag_id = $3 AND run_id = $4 AND state <> $1`, Args: []any{"running", "me", "d", "r"}},
		{Name: "ApplyOp: end", SQL: `UPDATE runs SET state = $1 WHERE dag_id = $2 AND run_id = $3 AND state <> $4`,
			Args: []any{"failed", "d", "r", "running"}},
		// Retention (PurgeRuns, CountPurge).
		// Not judged as a page: ordered by ended_at alone, a batch can walk
		// runs_by_ended_at and stop at its limit, but on the seeded history
		// (an open operation on most runs) the planner expects one row and
		// sorts after an anti-join with ops instead.
		{Name: "retention: a batch", SQL: `SELECT r.dag_id, r.run_id,
			(SELECT COUNT(*) FROM task_instances t WHERE t.dag_id = r.dag_id AND t.run_id = r.run_id)
			FROM runs r` + purgeWhere + ` LIMIT $2 FOR UPDATE OF r SKIP LOCKED`, Args: []any{int64(1000e9), 100}},
		{Name: "retention: count", SQL: `WITH c AS (` + purgeCandidates + `)
		SELECT (SELECT COUNT(*) FROM c),
			(SELECT COUNT(*) FROM task_instances t JOIN c ON t.dag_id = c.dag_id AND t.run_id = c.run_id),
			(SELECT COUNT(*) FROM transitions x JOIN c ON x.dag_id = c.dag_id AND x.run_id = c.run_id),
			(SELECT COUNT(*) FROM ops o JOIN c ON o.dag_id = c.dag_id AND o.run_id = c.run_id
				WHERE o.state NOT IN ('pending', 'stopping'))`, Args: []any{1}},
		{Name: "retention: transitions", SQL: `DELETE FROM transitions WHERE ` + purgeKeys, Args: purgeArgs},
		{Name: "retention: instances", SQL: `DELETE FROM task_instances WHERE ` + purgeKeys, Args: purgeArgs},
		{Name: "retention: ops", SQL: `DELETE FROM ops WHERE ` + purgeKeys + ` AND state NOT IN ('pending', 'stopping')`, Args: purgeArgs},
		{Name: "retention: runs", SQL: `DELETE FROM runs WHERE ` + purgeKeys + ` AND state <> 'running'`, Args: purgeArgs},
		// Apply.
		{Name: "Apply: owners", SQL: `SELECT dag_id, run_id, COALESCE(owner, '') FROM runs
		WHERE (dag_id, run_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
		ORDER BY dag_id, run_id FOR KEY SHARE`, Args: []any{[]string{"d"}, []string{"r"}}},
		{Name: "Apply: load", SQL: `SELECT ` + sqlcol.InstanceColumns + ` FROM task_instances
			WHERE (dag_id, run_id, task_id) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))
			ORDER BY dag_id, run_id, task_id FOR UPDATE`, Args: []any{[]string{"d"}, []string{"r"}, []string{"t"}}},
		{Name: "Apply: update and record", SQL: updateAndRecord,
			Args: []any{"queued", 1, "", nil, 1, nil, nil, nil, 1, 1, "d", "r", "t", 0, 1, "scheduled", "queued", 1, "scheduler", "me", "ready", "", nil, 0, 0, false}},
		{Name: "Apply: update and count a repeat", SQL: updateAndBump,
			Args: []any{"queued", 1, "", nil, 1, nil, nil, nil, 1, 1, "d", "r", "t", 0, 1, 7, 0, 0}},
		{Name: "Apply: last two records", SQL: `SELECT ` + sqlcol.TransitionColumns + ` FROM transitions
		WHERE dag_id = $1 AND run_id = $2 AND task_id = $3 ORDER BY seq DESC LIMIT 2`, Args: key, Paged: true},
		// Pools.
		{Name: "pools: Apply's ledger", SQL: `SELECT pool, SUM(pool_slots) FROM task_instances
		WHERE pool = ANY($1) AND state IN ('queued', 'running') GROUP BY pool`, Args: []any{[]string{"p"}}},
		{Name: "pools: CreateRun", SQL: `UPDATE task_instances ti SET pool = t.pool, pool_slots = t.slots
		FROM unnest($3::text[], $4::text[], $5::int[]) AS t (task_id, pool, slots)
		WHERE ti.dag_id = $1 AND ti.run_id = $2 AND ti.task_id = t.task_id`,
			Args: []any{"d", "r", []string{"t"}, []string{"p"}, []int32{1}}},
		{Name: "pools: DeletePool in use", SQL: `SELECT dag_id, run_id, task_id, COUNT(*) OVER () FROM task_instances
			WHERE pool = $1 AND state IN ('queued', 'running') ORDER BY dag_id, run_id, task_id LIMIT 5`, Args: []any{"p"}},
		// Several schedulers.
		{Name: "ClaimRuns: lock candidates", SQL: `
			SELECT r.dag_id, r.run_id FROM runs r
			WHERE r.state = 'running' AND (
					(r.owner IS NULL AND NOT $4) OR
					(r.owner <> $1 AND NOT EXISTS (
						SELECT 1 FROM schedulers sc
						WHERE sc.instance = r.owner AND sc.stopped_at IS NULL
							AND sc.last_beat >= now() - make_interval(secs => $2))))
			ORDER BY r.owner IS NULL, r.dag_id, r.run_id
			LIMIT $3
			FOR UPDATE OF r SKIP LOCKED`, Args: []any{"me", 30.0, 100, false}},
		{Name: "ClaimRuns: claim the locked", SQL: `
			WITH candidates AS (
				SELECT r.dag_id, r.run_id, r.owner,
					COALESCE((SELECT EXTRACT(EPOCH FROM (now() - sc.last_beat)) FROM schedulers sc WHERE sc.instance = r.owner), -1) AS stale_s,
					COALESCE((SELECT sc.stopped_at IS NOT NULL FROM schedulers sc WHERE sc.instance = r.owner), false) AS stopped
				FROM runs r
				WHERE (r.dag_id, r.run_id) IN (SELECT * FROM unnest($5::text[], $6::text[]))
					AND r.state = 'running' AND (
					(r.owner IS NULL AND NOT $4) OR
					(r.owner <> $1 AND NOT EXISTS (
						SELECT 1 FROM schedulers sc
						WHERE sc.instance = r.owner AND sc.stopped_at IS NULL
							AND sc.last_beat >= now() - make_interval(secs => $2))))
				LIMIT $3
			)
			UPDATE runs r SET owner = $1, owner_since = now()
			FROM candidates c WHERE r.dag_id = c.dag_id AND r.run_id = c.run_id
			RETURNING r.dag_id, r.run_id, COALESCE(c.owner, ''), c.stale_s, c.stopped`, Args: []any{"me", 30.0, 100, false, []string{"d"}, []string{"r"}}},
		{Name: "owner of a run", SQL: `SELECT owner FROM runs WHERE dag_id = $1 AND run_id = $2`, Args: []any{"d", "r"}},
		// Notifications (the outbox grows with history; retention deletes it).
		{Name: "notifications: claim due", SQL: `
		UPDATE notifications SET claimed_by = $1, claim_until = $2
		WHERE id IN (
			SELECT id FROM notifications
			WHERE state = 'pending' AND next_at <= $3 AND (claim_until IS NULL OR claim_until < $3)
			ORDER BY next_at, id LIMIT $4
			FOR UPDATE SKIP LOCKED)
		AND state = 'pending' AND (claim_until IS NULL OR claim_until < $3)
		RETURNING id`, Args: []any{"me", int64(2000e9), int64(1000e9), 10}},
		{Name: "notifications: finish an attempt", SQL: `UPDATE notifications SET state = $1, attempts = $2, next_at = $3, status_code = $4,
		error = $5, updated_at = $6, claimed_by = '', claim_until = NULL
		WHERE id = $7 AND claimed_by = $8 AND state = 'pending'`, Args: []any{"sent", 1, int64(1000e9), 200, "", int64(1000e9), int64(1), "me"}},
		{Name: "notifications of a task", SQL: `SELECT id FROM notifications
		WHERE dag_id = $1 AND run_id = $2 AND task_id = $3 ORDER BY id`, Args: []any{"d", "r", "t"}},
		{Name: "notifications pending", SQL: `SELECT COUNT(*) FROM notifications WHERE state = 'pending'`},
		{Name: "retention: notifications", SQL: `DELETE FROM notifications WHERE ` + purgeKeys, Args: purgeArgs},
	}
}

func TestQueryPlans(t *testing.T) {
	s := open(t, freshDatabase(t), Options{})
	conn, err := s.db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A history large enough, and analyzed, for the planner to weigh
	// indexes as it would in production; and no sequential scan, so the
	// plan shows whether an index can serve the query at all.
	for _, q := range planSeed {
		if _, err := conn.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("seed: %v\n%s", err, q)
		}
	}
	for _, q := range plans(t) {
		t.Run(q.Name, func(t *testing.T) {
			rows, err := conn.QueryContext(t.Context(), `EXPLAIN `+q.SQL, q.Args...)
			if err != nil {
				t.Fatalf("explain: %v\n%s", err, q.SQL)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, line)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			t.Logf("plan:\n%s", strings.Join(plan, "\n"))
			if bad := sqlplan.BadPostgres(plan, q.Paged); bad != "" {
				t.Errorf("%s\nplan:\n%s\nquery: %s", bad, strings.Join(plan, "\n"), q.SQL)
			}
		})
	}
}

// purgeKeys is PurgeRuns' condition for its runs' rows.
const purgeKeys = `(dag_id, run_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`

var purgeArgs = []any{[]string{"d"}, []string{"r"}}

// planSeed fills the history tables: 2 DAGs, 2,000 runs (a few
// running), 20,000 task instances with two transitions each, 2,000
// operations.
var planSeed = []string{
	`INSERT INTO dags (id, file, source, specs) SELECT 'd' || g, 'd' || g || '.yaml', '', '{}' FROM generate_series(0, 1) g`,
	`INSERT INTO runs (dag_id, run_id, logical_date, manual, state, created_at, ended_at, created_by_component, created_by_instance)
		SELECT 'd' || (g % 2), 'r' || g, g::bigint * 1000000000, false, CASE WHEN g % 1000 = 0 THEN 'running' ELSE 'success' END,
			g::bigint * 1000000000, g::bigint * 1000000000 + 1, 'scheduler', 'seed'
		FROM generate_series(0, 1999) g`,
	`INSERT INTO task_instances (dag_id, run_id, task_id, state, try, spec, external_id, updated_at, version)
		SELECT r.dag_id, r.run_id, 't' || i, CASE WHEN r.state = 'running' THEN 'queued' ELSE 'success' END, 1, '{}', '', r.created_at, 2
		FROM runs r, generate_series(0, 9) i`,
	`INSERT INTO transitions (dag_id, run_id, task_id, try, from_state, to_state, at, actor_component, actor_instance, reason, external_id)
		SELECT dag_id, run_id, task_id, s, '', 'queued', updated_at, 'scheduler', 'seed', 'seed', ''
		FROM task_instances, generate_series(0, 1) s`,
	`INSERT INTO ops (kind, dag_id, run_id, task_id, args, actor_component, actor_instance, reason, created_at, state)
		SELECT 'clear_run', dag_id, run_id, '', '{}', 'cli', 'seed', 'seed', created_at, CASE WHEN g % 500 = 0 THEN 'pending' ELSE 'done' END
		FROM runs, generate_series(0, 0) g`,
	`ANALYZE`,
	`SET enable_seqscan = off`,
}

func TestQueryPlansListed(t *testing.T) {
	sqlplan.CheckListed(t, ".", plans(t))
}
