-- Indexes for every query the scheduler loop and the admin commands make,
-- so that neither slows as history grows (issue 18). Each list is read in
-- the order of an index, so a page (LIMIT, a keyset cursor) reads its own
-- rows only. The queries they serve are listed in plan_test.go.

-- The loop lists running runs every sync; `vigil runs list --state`.
CREATE INDEX runs_by_state ON runs (state, logical_date DESC, dag_id, run_id);
-- `vigil runs list`: newest first.
CREATE INDEX runs_by_date ON runs (logical_date DESC, dag_id, run_id);
-- `vigil runs list --dag`, LatestScheduledRun: replaces (dag_id, logical_date).
CREATE INDEX runs_by_dag ON runs (dag_id, logical_date DESC, run_id);
DROP INDEX runs_by_logical_date;

-- Live instances (audit, pool counts every turn) and `vigil tasks list
-- --state`, in the list's order.
DROP INDEX task_instances_by_state;
CREATE INDEX task_instances_by_state ON task_instances (state, dag_id, run_id, task_id);
