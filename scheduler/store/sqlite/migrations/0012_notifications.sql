-- Task notifications (issue 20): the outbox. A row is written in the same
-- transaction as the transition that makes it due, and a sender claims it
-- (claimed_by until claim_until), tries it and records the attempt.
CREATE TABLE notifications (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	dag_id      TEXT NOT NULL,
	run_id      TEXT NOT NULL,
	task_id     TEXT NOT NULL,
	try         INTEGER NOT NULL,
	event       TEXT NOT NULL,
	receiver    TEXT NOT NULL,
	to_state    TEXT NOT NULL,
	reason      TEXT NOT NULL,
	at          INTEGER,
	state       TEXT NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	next_at     INTEGER,
	status_code INTEGER NOT NULL DEFAULT 0,
	error       TEXT NOT NULL DEFAULT '',
	updated_at  INTEGER,
	claimed_by  TEXT NOT NULL DEFAULT '',
	claim_until INTEGER
);

CREATE INDEX notifications_by_task ON notifications (dag_id, run_id, task_id, id);
CREATE INDEX notifications_pending ON notifications (next_at) WHERE state = 'pending';
-- One SLA miss per instance and receiver, however many schedulers see it.
CREATE UNIQUE INDEX notifications_sla_once ON notifications (dag_id, run_id, task_id, receiver) WHERE event = 'sla_miss';
