-- A scheduler that stops cleanly marks its last heartbeat, so `vigil status`
-- can tell a stopped scheduler from a stuck one.
ALTER TABLE heartbeats ADD COLUMN stopped_at INTEGER;
