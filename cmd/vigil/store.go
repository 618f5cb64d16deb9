package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/diag/redact"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/store/postgres"
	"github.com/vigilhq/vigil/scheduler/store/sqlite"
)

// dbTarget is what --db names: a PostgreSQL database or a SQLite file.
type dbTarget struct {
	postgres bool
	// conn is the PostgreSQL URL or keyword/value string, or the SQLite
	// file's path.
	conn string
}

var (
	// schemeRE matches what reads as a URL scheme or a driver prefix
	// ("mysql://", "sqlite:", "Postgres://"), not a file path.
	schemeRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*):`)
	// keywordDSNRE matches a libpq keyword/value string such as
	// "host=db.internal dbname=vigil", which pgx parses.
	keywordDSNRE = regexp.MustCompile(`^\s*(host|hostaddr|port|dbname|user|password|passfile|sslmode|service|application_name|connect_timeout|options|target_session_attrs)\s*=`)
)

// parseDB checks --db before anything is opened or created: a path, a
// postgres:// or postgresql:// URL, or a libpq keyword/value string. Any
// other scheme is refused rather than taken for a file name (which once
// made `--db mysql://host/db` a SQLite file in a folder "mysql:").
func parseDB(db string) (dbTarget, error) {
	const help = "use a SQLite file path (vigil.db, /var/lib/vigil/vigil.db), a PostgreSQL URL (postgres://USER:PASSWORD@HOST:5432/DB) or libpq key=value pairs (host=HOST dbname=DB)"
	if strings.TrimSpace(db) == "" {
		return dbTarget{}, &usageError{fmt.Errorf("--db is empty: %s", help)}
	}
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") || keywordDSNRE.MatchString(db) {
		// A malformed one is a mistake to fix, not a database to wait for.
		if _, err := pgx.ParseConfig(db); err != nil {
			return dbTarget{}, &usageError{fmt.Errorf("--db: %w", err)} // pgx masks the password
		}
		return dbTarget{postgres: true, conn: db}, nil
	}
	m := schemeRE.FindStringSubmatch(db)
	if m == nil {
		return dbTarget{conn: db}, nil
	}
	scheme, rest := m[1], db[len(m[0]):]
	shown := redact.URL(db)
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		// pgx, like libpq, recognises only the lower-case schemes.
		return dbTarget{}, &usageError{fmt.Errorf("--db %q: the scheme must be lower case: did you mean %q?",
			shown, redact.URL(strings.ToLower(scheme)+":"+rest))}
	case "sqlite", "sqlite3", "file":
		path := strings.TrimPrefix(rest, "//")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		return dbTarget{}, &usageError{fmt.Errorf("--db %q: give a SQLite database as a plain file path: did you mean %q?", shown, path)}
	}
	return dbTarget{}, &usageError{fmt.Errorf("--db %q: %q databases are not supported; %s (a file whose name has a colon: write ./%s)",
		shown, scheme, help, shown)}
}

// storeOptions say how openStore opens the database.
type storeOptions struct {
	inflight *inflight.Registry
	// create makes a missing SQLite file and its folder: `vigil run` and
	// `vigil db migrate` do, the admin commands only open an existing one.
	create bool
	// daemon takes the SQLite file's lock: one `vigil run` per file.
	daemon bool
}

// openStore opens the store db names: a PostgreSQL database, or a SQLite
// file.
func openStore(ctx context.Context, db string, opts storeOptions) (scheduler.Store, error) {
	target, err := parseDB(db)
	if err != nil {
		return nil, err
	}
	if target.postgres {
		return postgres.Open(ctx, target.conn, postgres.Options{Inflight: opts.inflight})
	}
	if opts.create {
		if dir := filepath.Dir(db); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("create database folder: %w", err)
			}
		}
	} else if _, err := os.Stat(db); err != nil {
		return nil, fmt.Errorf("database %s: %w; start the scheduler with 'vigil run' first, or pass --db", db, err)
	}
	return sqlite.Open(ctx, db, sqlite.Options{Inflight: opts.inflight, Exclusive: opts.daemon})
}
