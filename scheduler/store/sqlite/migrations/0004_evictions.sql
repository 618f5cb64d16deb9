-- Tries ended by their platform through no fault of the task (evicted,
-- preempted, lost with their node) are run again without counting against
-- the task's retries: the instance counts them (issue 16).
ALTER TABLE task_instances ADD COLUMN evictions INTEGER NOT NULL DEFAULT 0;
