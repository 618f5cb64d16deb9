-- Who paused and unpaused which DAG, when and why (issue 19): the DAGs'
-- audit trail, read newest first a page at a time.
CREATE TABLE dag_changes (
	seq             INTEGER PRIMARY KEY AUTOINCREMENT,
	dag_id          TEXT NOT NULL,
	at              INTEGER,
	actor_component TEXT NOT NULL,
	actor_instance  TEXT NOT NULL,
	action          TEXT NOT NULL,
	reason          TEXT NOT NULL DEFAULT ''
);

CREATE INDEX dag_changes_by_dag ON dag_changes (dag_id, seq);

-- Why a pool was set or deleted, as its operator said (issue 19).
ALTER TABLE pool_changes ADD COLUMN reason TEXT NOT NULL DEFAULT '';
