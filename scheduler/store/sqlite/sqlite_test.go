package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
	"github.com/vigilhq/vigil/scheduler/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) scheduler.Store {
		return open(t, filepath.Join(t.TempDir(), "vigil.db"), Options{})
	})
}

func open(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(t.Context(), path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testDAG(id string) scheduler.DAGRecord {
	return scheduler.DAGRecord{
		ID: id, File: id + ".yaml", Source: []byte("id: " + id),
		Specs: map[string]dag.TaskSpec{"t": {Command: []string{"true"}}},
	}
}

type migrationRow struct {
	version   int
	appliedAt int64
}

func appliedMigrations(t *testing.T, s *Store) []migrationRow {
	t.Helper()
	rows, err := s.read.QueryContext(t.Context(), `SELECT version, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	defer rows.Close()
	var ms []migrationRow
	for rows.Next() {
		var m migrationRow
		if err := rows.Scan(&m.version, &m.appliedAt); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	clock := func(at time.Time) func() time.Time { return func() time.Time { return at } }
	s := open(t, path, Options{Now: clock(time.Unix(1000, 0))})
	if err := s.SaveDAG(t.Context(), testDAG("etl")); err != nil {
		t.Fatal(err)
	}
	first := appliedMigrations(t, s)
	if len(first) == 0 {
		t.Fatal("no migration recorded")
	}
	id := s.ID()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, path, Options{Now: clock(time.Unix(2000, 0))})
	rec, err := s.GetDAG(t.Context(), "etl")
	if err != nil {
		t.Fatalf("GetDAG after reopen: %v", err)
	}
	if rec.File != "etl.yaml" {
		t.Errorf("DAG after reopen = %+v", rec)
	}
	if s.ID() != id {
		t.Errorf("ID after reopen = %q, want %q", s.ID(), id)
	}
	// A second run of a migration would have been stamped with the new
	// clock (and would have failed on its existing tables).
	if again := appliedMigrations(t, s); fmt.Sprint(again) != fmt.Sprint(first) {
		t.Errorf("migrations after reopen = %v, want %v", again, first)
	}
}

func TestFutureSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	s := open(t, path, Options{})
	latest := appliedMigrations(t, s)[len(appliedMigrations(t, s))-1].version
	future := latest + 7
	if _, err := s.write.ExecContext(t.Context(),
		`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from_the_future.sql', 0)`, future); err != nil {
		t.Fatal(err)
	}
	s.Close()

	_, err := Open(t.Context(), path, Options{})
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema: %v; want ErrSchemaTooNew", err)
	}
	for _, want := range []string{path, fmt.Sprint(future), fmt.Sprint(latest), "upgrade vigil"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestTwoProcesses opens the file twice, as the daemon and the CLI do, and
// writes from both at once.
func TestTwoProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	daemon := open(t, path, Options{})
	cli := open(t, path, Options{})
	ctx := t.Context()

	if err := daemon.SaveDAG(ctx, testDAG("etl")); err != nil {
		t.Fatal(err)
	}
	if err := cli.SetDAGPaused(ctx, "etl", true); err != nil {
		t.Fatalf("CLI write: %v", err)
	}
	if rec, err := daemon.GetDAG(ctx, "etl"); err != nil || !rec.Paused {
		t.Fatalf("daemon reads %+v, %v; want the CLI's pause", rec, err)
	}

	var wg sync.WaitGroup
	for _, st := range []*Store{daemon, cli} {
		wg.Go(func() {
			for i := range 50 {
				id := fmt.Sprintf("dag-%p-%d", st, i)
				if err := st.SaveDAG(ctx, testDAG(id)); err != nil {
					t.Errorf("SaveDAG %s: %v", id, err)
					return
				}
				if _, err := st.CreateRun(ctx, scheduler.Run{DAGID: id, RunID: "r", State: scheduler.RunRunning},
					[]scheduler.TaskInstance{{TaskKey: scheduler.TaskKey{DAGID: id, RunID: "r", TaskID: "t"}}}, "test"); err != nil {
					t.Errorf("CreateRun %s: %v", id, err)
					return
				}
			}
		})
	}
	wg.Wait()
	dags, err := cli.ListDAGs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(dags) != 101 {
		t.Errorf("%d DAGs after concurrent writes, want 101", len(dags))
	}
}

// TestLockWaitBounded holds the write lock from one store, as a stuck
// process would, and checks that a write from another gives up at its
// deadline instead of waiting out the busy timeout.
func TestLockWaitBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	holder := open(t, path, Options{})
	s := open(t, path, Options{DefaultTimeout: 200 * time.Millisecond})
	if err := s.SaveDAG(t.Context(), testDAG("etl")); err != nil {
		t.Fatal(err)
	}
	tx, err := holder.write.BeginTx(t.Context(), nil) // BEGIN IMMEDIATE: takes the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()

	start := time.Now()
	err = s.SetDAGPaused(context.Background(), "etl", true) // no deadline: DefaultTimeout applies
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("write while another store holds the lock: %v; want a deadline error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("write gave up after %v; want about 200ms", d)
	}
	// Readers do not wait for the writer.
	if _, err := s.GetDAG(t.Context(), "etl"); err != nil {
		t.Errorf("read while another store holds the write lock: %v", err)
	}
}

// TestTxEndsWithContext checks that a write transaction whose context
// ends while it runs commits nothing, even though its statements run
// without the context's cancellation (see inTx).
func TestTxEndsWithContext(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "vigil.db"), Options{})
	if err := s.SaveDAG(t.Context(), testDAG("etl")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	err := s.inTx(ctx, func(sctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(sctx, `UPDATE dags SET paused = 1 WHERE id = 'etl'`); err != nil {
			return err
		}
		cancel()
		// database/sql rolls back as soon as it sees ctx end; from then on
		// every statement fails.
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := tx.ExecContext(sctx, `UPDATE dags SET paused = 1 WHERE id = 'etl'`); err != nil {
				return err
			}
			time.Sleep(time.Millisecond)
		}
		return errors.New("statements still ran 10s after the context ended")
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("transaction after its context ended: %v; want context.Canceled", err)
	}
	rec, err := s.GetDAG(t.Context(), "etl")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Paused {
		t.Error("the update of a rolled-back transaction is visible")
	}
}

func TestTimeOutOfRange(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "vigil.db"), Options{})
	rec := testDAG("etl")
	rec.UpdatedAt = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.SaveDAG(t.Context(), rec); err == nil || !strings.Contains(err.Error(), "2262") {
		t.Errorf("SaveDAG with a time in 2300: %v; want an error naming the range", err)
	}
}

func TestOpenNeedsFile(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		if _, err := Open(t.Context(), path, Options{}); err == nil {
			t.Errorf("Open(%q) succeeded; want an error", path)
		}
	}
}

func TestPathWithQueryCharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a?b%20c#d")
	path := filepath.Join(dir, "vigil.db")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := open(t, path, Options{})
	if err := s.SaveDAG(t.Context(), testDAG("etl")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the store is not where it was asked to be: %v", err)
	}
}

// TestConcurrentOpenOfANewFile: a daemon and admin commands, separate
// processes, opening a fresh database at the same moment all succeed (the
// WAL switch of a new file can answer SQLITE_BUSY outside the busy
// handler). The test binary runs itself as the other processes.
func TestConcurrentOpenOfANewFile(t *testing.T) {
	if path := os.Getenv("VIGIL_TEST_OPEN"); path != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		st, err := Open(ctx, path, Options{})
		if err != nil {
			fmt.Fprintln(os.Stderr, "open:", err)
			os.Exit(3)
		}
		st.Close()
		os.Exit(0)
	}
	const procs = 6
	for round := range 15 {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("race-%d.db", round))
		for range procs {
			cmd := exec.Command(os.Args[0], "-test.run=^TestConcurrentOpenOfANewFile$")
			cmd.Env = append(os.Environ(), "VIGIL_TEST_OPEN="+path)
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := cmd.Wait(); err != nil {
					t.Errorf("round %d: a process failed to open the new store: %v\n%s", round, err, out.String())
				}
			}()
		}
	}
}
