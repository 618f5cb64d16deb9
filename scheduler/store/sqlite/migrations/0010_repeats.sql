-- Collapsed history (issue 18): a transition that repeats the instance's
-- last record (or the one before, in a two-record cycle such as a failing
-- submit's requeue) counts one more occurrence of that record instead of
-- adding a row. repeats is how many more times it happened after at, the
-- last time at last_at (NULL while it happened once).
ALTER TABLE transitions ADD COLUMN repeats INTEGER NOT NULL DEFAULT 0;
ALTER TABLE transitions ADD COLUMN last_at INTEGER;
