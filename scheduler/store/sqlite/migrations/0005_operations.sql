-- Operations an operator asks for (clear, mark, cancel; issue 17): a
-- command stores the request, and the scheduler that owns the run applies
-- it, recording its changes as manual transitions.

-- The try number an instance had when it was last cleared: the tries
-- before it do not count against its retries.
ALTER TABLE task_instances ADD COLUMN try_base INTEGER NOT NULL DEFAULT 0;

-- A transition an operator asked for.
ALTER TABLE transitions ADD COLUMN manual INTEGER NOT NULL DEFAULT 0;

CREATE TABLE ops (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	kind            TEXT NOT NULL,
	dag_id          TEXT NOT NULL,
	run_id          TEXT NOT NULL,
	task_id         TEXT NOT NULL,
	-- A JSON object: scheduler.OpArgs.
	args            TEXT NOT NULL,
	actor_component TEXT NOT NULL,
	actor_instance  TEXT NOT NULL,
	reason          TEXT NOT NULL,
	created_at      INTEGER,
	state           TEXT NOT NULL,
	result          TEXT NOT NULL DEFAULT '',
	done_by         TEXT NOT NULL DEFAULT '',
	done_at         INTEGER
) STRICT;

-- The loop asks for the open operations at every sync.
CREATE INDEX ops_by_state ON ops (state, id);
CREATE INDEX ops_by_run ON ops (dag_id, run_id, id);
