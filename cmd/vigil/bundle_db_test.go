package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/vigilhq/vigil/diag/bundle"
	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/store/postgres/pgtest"
)

// TestBundleWithALockedTable: another session holds task_instances in
// ACCESS EXCLUSIVE mode and keeps it. The bundle still completes, with
// tasks.json cut off at its own short deadline (not the store's or the
// bundle's), its error naming the session that holds the lock, and
// db-locks.json listing the wait (issue 16).
func TestBundleWithALockedTable(t *testing.T) {
	url := pgtest.FreshDatabase(t)
	cfg := defaultConfig()
	cfg.DB = url
	cfg.DataDir = t.TempDir()
	cfg.Debug.RuntimeDir = filepath.Join(t.TempDir(), "run")
	cfg.Debug.BundleProfile = 200 * time.Millisecond
	in, err := newInstruments(cfg, "lock-test", zaptest.NewLogger(t), zap.NewAtomicLevel(), watchdog.New(watchdog.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	defer in.close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	store, err := openStore(ctx, url, storeOptions{inflight: in.reg, create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	in.useStore(store, nil)

	pcfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	pcfg.RuntimeParams["application_name"] = "lock-holder-test"
	conn, err := pgx.ConnectConfig(ctx, pcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "BEGIN; LOCK TABLE task_instances IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	holder := conn.PgConn().PID()
	// The scheduler is stuck behind the lock, as in the incident.
	go store.ListTaskInstances(ctx, scheduler.TaskFilter{})
	watch, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close(context.WithoutCancel(ctx))
	for waiting := 0; waiting == 0; time.Sleep(10 * time.Millisecond) {
		if err := watch.QueryRow(ctx, "SELECT count(*) FROM pg_locks WHERE NOT granted").Scan(&waiting); err != nil {
			t.Fatal(err)
		}
	}

	info, err := in.bundles.Write(ctx, "on-demand")
	if err != nil {
		t.Fatal(err)
	}
	files, err := bundle.ReadFiles(info.Path)
	if err != nil {
		t.Fatal(err)
	}
	// The lock is still held: the bundle did not wait for it to go.
	var stillHeld bool
	if err := conn.QueryRow(ctx, "SELECT count(*) > 0 FROM pg_locks WHERE pid = pg_backend_pid() AND mode = 'AccessExclusiveLock' AND granted").Scan(&stillHeld); err != nil || !stillHeld {
		t.Fatalf("the lock was released during the bundle (%v): the test proves nothing", err)
	}

	tasksErr := string(files["tasks.json.error.txt"])
	for _, want := range []string{
		"list queued and running tasks: timed out after 3s",
		fmt.Sprintf(`the database is waiting on a lock: pid %d ("lock-holder-test"`, holder),
		`last query "BEGIN; LOCK TABLE task_instances IN ACCESS EXCLUSIVE MODE") holds AccessExclusiveLock on task_instances`,
	} {
		if !strings.Contains(tasksErr, want) {
			t.Errorf("tasks.json.error.txt = %q\nwant it to contain %q", tasksErr, want)
		}
	}
	var manifest struct {
		Parts []bundle.ManifestEntry `json:"parts"`
	}
	if err := json.Unmarshal(files["MANIFEST.json"], &manifest); err != nil {
		t.Fatal(err)
	}
	for _, p := range manifest.Parts {
		if p.Name == "tasks.json" && p.Took > dbPartTimeout+2*time.Second {
			t.Errorf("tasks.json took %s, past its own deadline of %s", p.Took, dbPartTimeout)
		}
	}

	var locks dbLocks
	if err := json.Unmarshal(files["db-locks.json"], &locks); err != nil {
		t.Fatalf("db-locks.json: %v\n%s\nerror: %s", err, files["db-locks.json"], files["db-locks.json.error.txt"])
	}
	found := false
	for _, w := range locks.Waits {
		found = found || (int(w.Holder.PID) == int(holder) && w.Relation == "task_instances")
	}
	if !found || !strings.Contains(locks.Summary, fmt.Sprintf("pid %d", holder)) {
		t.Errorf("db-locks.json = %s, want a wait on task_instances held by pid %d", files["db-locks.json"], holder)
	}
}

// With SQLite, db-locks.json says why it has nothing to show rather than
// failing.
func TestDBLocksPartWithSQLite(t *testing.T) {
	in := &instruments{}
	var b strings.Builder
	if err := in.dbLocksPart().Write(t.Context(), &b); err != nil || !strings.Contains(b.String(), "not open yet") {
		t.Errorf("db-locks.json before the store opens = %s, %v", b.String(), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := openStore(ctx, filepath.Join(t.TempDir(), "vigil.db"), storeOptions{create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	in.useStore(store, nil)
	if in.locks != nil {
		t.Fatal("the SQLite store got a lock report")
	}
	b.Reset()
	if err := in.dbLocksPart().Write(ctx, &b); err != nil || !strings.Contains(b.String(), "SQLite") {
		t.Errorf("db-locks.json = %s, %v; want a note about SQLite", b.String(), err)
	}
}
