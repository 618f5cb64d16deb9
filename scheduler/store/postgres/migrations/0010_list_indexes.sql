-- Indexes for every query the scheduler loop and the admin commands make,
-- so that neither slows as history grows (issue 18). Each list is read in
-- the order of an index, so a page (LIMIT, a keyset cursor) reads its own
-- rows only. The queries they serve are listed in plan_test.go. On a large
-- existing database this migration takes a while: CREATE INDEX locks the
-- table's writes while it builds.

-- `vigil runs list --state`; the loop's running runs (also served by
-- runs_running_by_owner when it asks for its own).
CREATE INDEX runs_by_state ON runs (state, logical_date DESC NULLS LAST, dag_id, run_id);
-- `vigil runs list`: newest first.
CREATE INDEX runs_by_date ON runs (logical_date DESC NULLS LAST, dag_id, run_id);
-- `vigil runs list --dag`: replaces (dag_id, logical_date).
CREATE INDEX runs_by_dag ON runs (dag_id, logical_date DESC NULLS LAST, run_id);
-- LatestScheduledRun, and retention's check for it, in their order.
CREATE INDEX runs_latest_scheduled ON runs (dag_id, logical_date DESC NULLS LAST, run_id DESC) WHERE NOT manual;
DROP INDEX runs_by_logical_date;

-- Live instances (audit, pool counts) and `vigil tasks list --state`, in
-- the list's order.
DROP INDEX task_instances_by_state;
CREATE INDEX task_instances_by_state ON task_instances (state, dag_id, run_id, task_id);
