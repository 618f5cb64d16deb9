-- Pools: named concurrency limits the scheduler enforces (issue 17).
-- Slots -1 is no limit; default_pool, the pool of the tasks that name
-- none, has none until someone sets one.
CREATE TABLE pools (
	name                 TEXT PRIMARY KEY,
	slots                INTEGER NOT NULL,
	description          TEXT NOT NULL DEFAULT '',
	updated_at           INTEGER,
	updated_by_component TEXT NOT NULL DEFAULT '',
	updated_by_instance  TEXT NOT NULL DEFAULT ''
);

INSERT INTO pools (name, slots, description) VALUES ('default_pool', -1, 'tasks that name no pool');

-- Who set or deleted which pool, and when: the pools' audit trail.
CREATE TABLE pool_changes (
	seq             INTEGER PRIMARY KEY AUTOINCREMENT,
	pool            TEXT NOT NULL,
	at              INTEGER,
	actor_component TEXT NOT NULL,
	actor_instance  TEXT NOT NULL,
	action          TEXT NOT NULL,
	slots           INTEGER NOT NULL,
	prev_slots      INTEGER,
	description     TEXT NOT NULL
);

CREATE INDEX pool_changes_by_pool ON pool_changes (pool, seq);

-- Each instance's pool and the slots it takes, from its spec when its run
-- is created: Apply counts a pool's queued and running instances by them.
ALTER TABLE task_instances ADD COLUMN pool TEXT NOT NULL DEFAULT 'default_pool';
ALTER TABLE task_instances ADD COLUMN pool_slots INTEGER NOT NULL DEFAULT 1;
CREATE INDEX task_instances_by_pool ON task_instances (pool, state);
