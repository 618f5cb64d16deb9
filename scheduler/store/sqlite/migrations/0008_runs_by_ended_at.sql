-- Retention (issue 18) deletes the runs that ended before a cutoff,
-- oldest first, a batch at a time: each batch reads this index's range
-- instead of every run. A running run has no ended_at.
CREATE INDEX runs_by_ended_at ON runs (ended_at) WHERE ended_at IS NOT NULL;
