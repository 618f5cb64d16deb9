-- The first schema of the Vigil store.
--
-- Times are integer unix nanoseconds in UTC, NULL for "not set", so that a
-- value reads back exactly as it was written. Task specs are the JSON of
-- dag.EncodeSpec, readable in a database shell.

CREATE TABLE dags (
	id         TEXT PRIMARY KEY,
	file       TEXT NOT NULL,
	source     BLOB NOT NULL,
	-- A JSON object: task id -> dag.EncodeSpec.
	specs      TEXT NOT NULL,
	paused     INTEGER NOT NULL DEFAULT 0,
	missing    INTEGER NOT NULL DEFAULT 0,
	updated_at INTEGER
) STRICT;

CREATE TABLE load_errors (
	file    TEXT PRIMARY KEY,
	message TEXT NOT NULL,
	since   INTEGER
) STRICT;

CREATE TABLE runs (
	dag_id               TEXT NOT NULL REFERENCES dags (id),
	run_id               TEXT NOT NULL,
	logical_date         INTEGER,
	manual               INTEGER NOT NULL,
	state                TEXT NOT NULL,
	created_at           INTEGER,
	ended_at             INTEGER,
	created_by_component TEXT NOT NULL,
	created_by_instance  TEXT NOT NULL,
	PRIMARY KEY (dag_id, run_id)
) STRICT;

-- LatestScheduledRun and ListRuns read runs newest first.
CREATE INDEX runs_by_logical_date ON runs (dag_id, logical_date);

CREATE TABLE task_instances (
	dag_id      TEXT NOT NULL,
	run_id      TEXT NOT NULL,
	task_id     TEXT NOT NULL,
	state       TEXT NOT NULL,
	try         INTEGER NOT NULL,
	spec        TEXT NOT NULL,
	external_id TEXT NOT NULL,
	exit_code   INTEGER,
	queued_at   INTEGER,
	started_at  INTEGER,
	ended_at    INTEGER,
	retry_at    INTEGER,
	updated_at  INTEGER,
	version     INTEGER NOT NULL,
	PRIMARY KEY (dag_id, run_id, task_id),
	FOREIGN KEY (dag_id, run_id) REFERENCES runs (dag_id, run_id)
) STRICT;

-- The scheduler's loop asks for every instance in a few states (scheduled,
-- queued, running) on every tick.
CREATE INDEX task_instances_by_state ON task_instances (state);

CREATE TABLE transitions (
	seq             INTEGER PRIMARY KEY AUTOINCREMENT,
	dag_id          TEXT NOT NULL,
	run_id          TEXT NOT NULL,
	task_id         TEXT NOT NULL,
	try             INTEGER NOT NULL,
	from_state      TEXT NOT NULL,
	to_state        TEXT NOT NULL,
	at              INTEGER,
	actor_component TEXT NOT NULL,
	actor_instance  TEXT NOT NULL,
	reason          TEXT NOT NULL,
	external_id     TEXT NOT NULL,
	exit_code       INTEGER,
	FOREIGN KEY (dag_id, run_id, task_id) REFERENCES task_instances (dag_id, run_id, task_id)
) STRICT;

CREATE INDEX transitions_by_task ON transitions (dag_id, run_id, task_id, seq);

CREATE TABLE heartbeats (
	component  TEXT NOT NULL,
	instance   TEXT NOT NULL,
	host       TEXT NOT NULL,
	pid        INTEGER NOT NULL,
	period     INTEGER NOT NULL,
	last_beat  INTEGER,
	started_at INTEGER,
	PRIMARY KEY (component, instance)
) STRICT;
