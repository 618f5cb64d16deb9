-- The database's identity (issue 16): a random id made once, with the
-- schema. State kept outside the database records it (the local
-- executor's data folder, the pods' labels), so that state left by
-- another database is never taken for this one's: a fresh database with
-- an old data folder once recorded tries as run without running them.
-- A copy or a restored backup of the file is the same database and keeps
-- the id.
CREATE TABLE store_identity (
	one INTEGER PRIMARY KEY CHECK (one = 1),
	id  TEXT NOT NULL
) STRICT;

INSERT INTO store_identity (one, id) VALUES (1, lower(hex(randomblob(16))));
