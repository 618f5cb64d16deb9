package sqlite

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/vigilhq/vigil/scheduler/store/internal/sqlcol"
)

func TestMigrateInOrder(t *testing.T) {
	db, err := sql.Open("sqlite", dsn(filepath.Join(t.TempDir(), "m.db"), false))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := func() time.Time { return time.Unix(0, 0) }
	fsys := fstest.MapFS{
		"migrations/0001_a.sql": {Data: []byte(`CREATE TABLE a (x INTEGER);`)},
		// Version 2 is numbered 0002 but sorts after 0010 as text.
		"migrations/0010_c.sql": {Data: []byte(`INSERT INTO a VALUES (10); INSERT INTO a VALUES (11);`)},
		"migrations/0002_b.sql": {Data: []byte(`INSERT INTO a VALUES (2);`)},
	}
	if err := migrate(t.Context(), db, fstest.MapFS{"migrations/0001_a.sql": fsys["migrations/0001_a.sql"]}, now); err != nil {
		t.Fatalf("migrate to 1: %v", err)
	}
	if err := migrate(t.Context(), db, fsys, now); err != nil {
		t.Fatalf("migrate to 10: %v", err)
	}
	if err := migrate(t.Context(), db, fsys, now); err != nil {
		t.Fatalf("migrate again: %v", err)
	}
	var got []string
	rows, err := db.QueryContext(t.Context(), `SELECT x FROM a ORDER BY rowid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var x string
		if err := rows.Scan(&x); err != nil {
			t.Fatal(err)
		}
		got = append(got, x)
	}
	if strings.Join(got, ",") != "2,10,11" {
		t.Errorf("rows = %v; want 2,10,11: each migration once, in version order", got)
	}
}

func TestMigrateBadNames(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"no version": {"migrations/init.sql": {}},
		"duplicate":  {"migrations/0001_a.sql": {}, "migrations/01_b.sql": {}},
	} {
		if _, err := sqlcol.LoadMigrations(fsys); err == nil {
			t.Errorf("%s: loadMigrations succeeded; want an error", name)
		}
	}
}

// TestMigrateFailureRollsBack checks that a failing migration leaves the
// file at the version it had.
func TestMigrateFailureRollsBack(t *testing.T) {
	db, err := sql.Open("sqlite", dsn(filepath.Join(t.TempDir(), "m.db"), false))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := func() time.Time { return time.Unix(0, 0) }
	fsys := fstest.MapFS{
		"migrations/0001_a.sql": {Data: []byte(`CREATE TABLE a (x INTEGER);`)},
		"migrations/0002_b.sql": {Data: []byte(`CREATE TABLE b (x INTEGER); SELECT nonsense FROM nowhere;`)},
	}
	if err := migrate(t.Context(), db, fsys, now); err == nil || !strings.Contains(err.Error(), "0002_b.sql") {
		t.Fatalf("migrate = %v; want an error naming 0002_b.sql", err)
	}
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM sqlite_master WHERE name IN ('a', 'b', 'schema_migrations')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d tables left by a failed migration; want none", n)
	}
}
