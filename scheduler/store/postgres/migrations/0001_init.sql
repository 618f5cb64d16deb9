-- The first schema of Vigil's PostgreSQL store.
--
-- Times are BIGINT unix nanoseconds in UTC, NULL for "not set", so that a
-- value reads back exactly as it was written (timestamptz keeps only
-- microseconds). Task specs are the JSON of dag.EncodeSpec, as BYTEA.
--
-- Keys and the columns lists are sorted by are in the "C" collation: byte
-- order, the same in every database whatever its locale, and the order Go
-- and the SQLite store sort strings in.

CREATE TABLE dags (
	id         TEXT COLLATE "C" PRIMARY KEY,
	file       TEXT NOT NULL,
	source     BYTEA NOT NULL,
	-- A JSON object: task id -> dag.EncodeSpec.
	specs      BYTEA NOT NULL,
	paused     BOOLEAN NOT NULL DEFAULT false,
	missing    BOOLEAN NOT NULL DEFAULT false,
	updated_at BIGINT
);

CREATE TABLE load_errors (
	file    TEXT COLLATE "C" PRIMARY KEY,
	message TEXT NOT NULL,
	since   BIGINT
);

CREATE TABLE runs (
	dag_id               TEXT COLLATE "C" NOT NULL REFERENCES dags (id),
	run_id               TEXT COLLATE "C" NOT NULL,
	logical_date         BIGINT,
	manual               BOOLEAN NOT NULL,
	state                TEXT NOT NULL,
	created_at           BIGINT,
	ended_at             BIGINT,
	created_by_component TEXT NOT NULL,
	created_by_instance  TEXT NOT NULL,
	PRIMARY KEY (dag_id, run_id)
);

-- LatestScheduledRun and ListRuns read runs newest first.
CREATE INDEX runs_by_logical_date ON runs (dag_id, logical_date);

CREATE TABLE task_instances (
	dag_id      TEXT COLLATE "C" NOT NULL,
	run_id      TEXT COLLATE "C" NOT NULL,
	task_id     TEXT COLLATE "C" NOT NULL,
	state       TEXT NOT NULL,
	try         INTEGER NOT NULL,
	spec        BYTEA NOT NULL,
	external_id TEXT NOT NULL,
	exit_code   INTEGER,
	queued_at   BIGINT,
	started_at  BIGINT,
	ended_at    BIGINT,
	retry_at    BIGINT,
	updated_at  BIGINT,
	version     BIGINT NOT NULL,
	PRIMARY KEY (dag_id, run_id, task_id),
	FOREIGN KEY (dag_id, run_id) REFERENCES runs (dag_id, run_id)
);

-- The scheduler's loop asks for every instance in a few states (scheduled,
-- queued, running) on every tick.
CREATE INDEX task_instances_by_state ON task_instances (state);

CREATE TABLE transitions (
	seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	dag_id          TEXT COLLATE "C" NOT NULL,
	run_id          TEXT COLLATE "C" NOT NULL,
	task_id         TEXT COLLATE "C" NOT NULL,
	try             INTEGER NOT NULL,
	from_state      TEXT NOT NULL,
	to_state        TEXT NOT NULL,
	at              BIGINT,
	actor_component TEXT NOT NULL,
	actor_instance  TEXT NOT NULL,
	reason          TEXT NOT NULL,
	external_id     TEXT NOT NULL,
	exit_code       INTEGER,
	FOREIGN KEY (dag_id, run_id, task_id) REFERENCES task_instances (dag_id, run_id, task_id)
);

CREATE INDEX transitions_by_task ON transitions (dag_id, run_id, task_id, seq);

CREATE TABLE heartbeats (
	component  TEXT COLLATE "C" NOT NULL,
	instance   TEXT COLLATE "C" NOT NULL,
	host       TEXT NOT NULL,
	pid        INTEGER NOT NULL,
	period     BIGINT NOT NULL,
	last_beat  BIGINT,
	started_at BIGINT,
	-- Set by the last beat of a scheduler that stopped cleanly, so `vigil
	-- status` can tell a stopped scheduler from a stuck one.
	stopped_at BIGINT,
	PRIMARY KEY (component, instance)
);
