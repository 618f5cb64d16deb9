package postgres

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
	"github.com/vigilhq/vigil/scheduler/store/internal/sqlcol"
	"github.com/vigilhq/vigil/scheduler/store/postgres/pgtest"
	"github.com/vigilhq/vigil/scheduler/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) scheduler.Store {
		return open(t, freshDatabase(t), Options{})
	})
}

func open(t testing.TB, url string, opts Options) *Store {
	t.Helper()
	s, err := Open(t.Context(), url, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// freshDatabase creates an empty database for t (see pgtest).
func freshDatabase(t testing.TB) string { return pgtest.FreshDatabase(t) }

func TestConcurrentOpenMigratesOnce(t *testing.T) {
	url := freshDatabase(t)
	const n = 4
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), url, Options{}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
			continue
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	if t.Failed() {
		return
	}
	ms, err := sqlcol.LoadMigrations(migrations)
	if err != nil {
		t.Fatal(err)
	}
	var rows, versions int
	if err := stores[0].db.QueryRowContext(t.Context(),
		`SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &versions); err != nil {
		t.Fatal(err)
	}
	if rows != len(ms) || versions != len(ms) {
		t.Errorf("schema_migrations has %d rows of %d versions; want each of the %d migrations once", rows, versions, len(ms))
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	url := freshDatabase(t)
	s := open(t, url, Options{})
	if _, err := s.db.ExecContext(t.Context(),
		`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(t.Context(), url, Options{})
	if err == nil {
		s2.Close()
		t.Fatal("Open succeeded on a database with schema version 9999; want ErrSchemaTooNew")
	}
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("Open = %v; want ErrSchemaTooNew", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	url := freshDatabase(t)
	s := open(t, url, Options{})
	rec := scheduler.DAGRecord{ID: "etl", File: "etl.yaml", Source: []byte("id: etl")}
	if err := s.SaveDAG(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	id := s.ID()
	s.Close()
	s = open(t, url, Options{})
	if _, err := s.GetDAG(t.Context(), "etl"); err != nil {
		t.Errorf("GetDAG after reopening: %v", err)
	}
	if s.ID() != id {
		t.Errorf("ID after reopening = %q, want %q", s.ID(), id)
	}
}

func TestInflightTarget(t *testing.T) {
	dbURL := freshDatabase(t)
	s := open(t, dbURL, Options{})
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if want := "postgres:" + u.Hostname() + u.Path; s.target != want {
		t.Errorf("target = %q; want %q", s.target, want)
	}
}

func TestMigrationFailureRollsBack(t *testing.T) {
	url := freshDatabase(t)
	s := open(t, url, Options{})
	var before int
	if err := s.db.QueryRowContext(t.Context(), `SELECT max(version) FROM schema_migrations`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	// Two new migrations after the real ones; the second fails, so
	// neither may stay.
	fsys := fstest.MapFS{
		"migrations/9001_a.sql": {Data: []byte("CREATE TABLE a (x INTEGER)")},
		"migrations/9002_b.sql": {Data: []byte("CREATE TABLE b (x INTEGER); SELECT nonsense FROM nowhere;")},
	}
	err := migrate(t.Context(), s.db, fsys, time.Now)
	if err == nil || !strings.Contains(err.Error(), "9002_b.sql") {
		t.Fatalf("migrate = %v; want an error naming 9002_b.sql", err)
	}
	var n int
	if err := s.db.QueryRowContext(t.Context(), `SELECT count(*) FROM pg_tables WHERE tablename IN ('a', 'b')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Error("a failed migration left tables behind")
	}
	var have int
	if err := s.db.QueryRowContext(t.Context(), `SELECT max(version) FROM schema_migrations`).Scan(&have); err != nil {
		t.Fatal(err)
	}
	if have != before {
		t.Errorf("schema version %d after a failed migration; want %d", have, before)
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

// TestApplyOppositeOrderNoDeadlock has two schedulers move the same two
// instances at once, naming them in opposite orders. Updating rows in the
// order given would deadlock (PostgreSQL then aborts one transaction with
// a store error); Apply locks them in key order, so one batch waits for
// the other and its changes fail as state conflicts.
func TestApplyOppositeOrderNoDeadlock(t *testing.T) {
	s := open(t, freshDatabase(t), Options{})
	ctx := t.Context()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	rec := scheduler.DAGRecord{ID: "etl", File: "etl.yaml", Source: []byte("id: etl"),
		Specs: map[string]dag.TaskSpec{"a": {Command: []string{"true"}}, "b": {Command: []string{"true"}}}}
	if err := s.SaveDAG(ctx, rec); err != nil {
		t.Fatal(err)
	}
	const runs = 20
	for i := range runs {
		run, tasks, err := scheduler.NewRun(rec, fmt.Sprint("r", i), t0, false, scheduler.Actor{Component: "scheduler", Instance: "0"}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateRun(ctx, run, tasks, "scheduled run"); err != nil {
			t.Fatal(err)
		}
	}
	queue := func(runID, taskID, by string) scheduler.Change {
		return scheduler.Change{Key: scheduler.TaskKey{DAGID: "etl", RunID: runID, TaskID: taskID},
			From: scheduler.StateScheduled, To: scheduler.StateQueued, At: t0, Reason: "queue",
			Actor: scheduler.Actor{Component: "scheduler", Instance: by}}
	}
	for i := range runs {
		runID := fmt.Sprint("r", i)
		var wg sync.WaitGroup
		var won [2]int
		for g, order := range [][2]string{{"a", "b"}, {"b", "a"}} {
			wg.Go(func() {
				results, err := s.Apply(ctx, []scheduler.Change{queue(runID, order[0], fmt.Sprint(g)), queue(runID, order[1], fmt.Sprint(g))})
				if err != nil {
					t.Errorf("run %s, scheduler %d: %v", runID, g, err)
					return
				}
				for _, r := range results {
					switch {
					case r.Err == nil:
						won[g]++
					case !errors.Is(r.Err, scheduler.ErrStateConflict):
						t.Errorf("run %s, scheduler %d: %v; want success or a state conflict", runID, g, r.Err)
					}
				}
			})
		}
		wg.Wait()
		if won[0]+won[1] != 2 {
			t.Errorf("run %s: %d instances queued; want 2, each once", runID, won[0]+won[1])
		}
	}
}
