-- Several schedulers on one database (issue 7): each scheduler beats in
-- schedulers by the database's clock, and owns the runs it works on.
CREATE TABLE schedulers (
	instance   TEXT COLLATE "C" PRIMARY KEY,
	last_beat  TIMESTAMPTZ NOT NULL,
	started_at TIMESTAMPTZ NOT NULL
);

ALTER TABLE runs ADD COLUMN owner TEXT COLLATE "C";
ALTER TABLE runs ADD COLUMN owner_since TIMESTAMPTZ;

-- ClaimRuns looks for running runs by owner.
CREATE INDEX runs_running_by_owner ON runs (owner) WHERE state = 'running';
