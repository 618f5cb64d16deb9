-- A scheduler that stops cleanly says so, and the others take its runs at
-- once instead of waiting for its beat to go stale.
ALTER TABLE schedulers ADD COLUMN stopped_at TIMESTAMPTZ;
