package main

import (
	"context"
	"github.com/vigilhq/vigil/internal/exitcode"

	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/store/postgres/pgtest"
)

const (
	retentionQuickDAG = `
id: quick
tasks:
  - id: a
    command: [sh, -c, 'echo quick']
  - id: b
    depends_on: [a]
    command: [sh, -c, 'echo quick b']
`
	// retentionSlowDAG's task runs until the test creates RAN_DIR/go.
	retentionSlowDAG = `
id: slow
tasks:
  - id: wait
    command: [sh, -c, 'while [ ! -f RAN_DIR/go ]; do sleep 0.1; done; echo done']
`
)

// runsOf lists a DAG's runs, from the database.
func (e *env) runsOf(dagID string) []scheduler.Run {
	e.t.Helper()
	var runs []scheduler.Run
	if err := e.withStore(func(ctx context.Context, st scheduler.Store) error {
		var err error
		runs, err = st.ListRuns(ctx, scheduler.RunFilter{DAGID: dagID})
		return err
	}); err != nil {
		e.t.Fatalf("runs of %s: %v", dagID, err)
	}
	return runs
}

// runFolder is where the local executor keeps a run's try folders.
func (e *env) runFolder(dagID, runID string) string {
	return filepath.Join(e.data, "tasks", dagID, strings.NewReplacer(":", "%3A", "+", "%2B").Replace(runID))
}

// TestDBCleanKeepsLiveRun runs `vigil db clean` against the database of a
// real `vigil run`: the dry run counts and deletes nothing; the clean
// deletes the finished runs with their tasks, history and try folders,
// and keeps the running run, its history and its folder; that run's task
// then finishes and is recorded.
func TestDBCleanKeepsLiveRun(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testDBCleanKeepsLiveRun(t, false) })
	t.Run("postgres", func(t *testing.T) { testDBCleanKeepsLiveRun(t, true) })
}

func testDBCleanKeepsLiveRun(t *testing.T, pg bool) {
	e := newEnv(t, map[string]string{"quick.yaml": retentionQuickDAG, "slow.yaml": retentionSlowDAG})
	if pg {
		e.db = pgtest.FreshDatabase(t)
		e.mustVigil("db", "migrate")
		e.extra = []string{"--runtime-dir", t.TempDir()}
	}
	e.start()
	e.waitFor("the DAGs to load", 30*time.Second, func() bool {
		out, err := e.vigil("dags", "list")
		return err == nil && strings.Contains(out, "quick") && strings.Contains(out, "slow")
	})
	e.mustVigil("dags", "trigger", "slow")
	e.waitFor("the live task to run", 30*time.Second, func() bool { return e.tasks("slow")["wait"].State == scheduler.StateRunning })
	live := e.runsOf("slow")[0]
	for i := range 2 {
		e.mustVigil("dags", "trigger", "quick")
		e.waitFor("quick run to end", 30*time.Second, func() bool {
			runs := e.runsOf("quick")
			return len(runs) == i+1 && runs[0].State == scheduler.RunSuccess
		})
	}
	quick := e.runsOf("quick")
	for _, r := range append(quick, live) {
		if _, err := os.Stat(e.runFolder(r.DAGID, r.RunID)); err != nil {
			t.Fatalf("try folder of %s/%s before the clean: %v", r.DAGID, r.RunID, err)
		}
	}
	time.Sleep(1100 * time.Millisecond) // the finished runs are now older than 1s

	// Usage mistakes.
	if out, err := e.vigil("db", "clean"); exitCode(err) != exitcode.Usage || !strings.Contains(out, "--older-than is required") {
		t.Errorf("db clean with no age: exit %d\n%s; want a usage error", exitCode(err), out)
	}
	if out, err := e.vigil("db", "clean", "--older-than", "30 days"); exitCode(err) != exitcode.Usage || !strings.Contains(out, "30d, 12h or 90m") {
		t.Errorf("db clean --older-than '30 days': exit %d\n%s; want a usage error naming the format", exitCode(err), out)
	}

	out := e.mustVigil("db", "clean", "--older-than", "1s", "--dry-run", "--data-dir", e.data)
	if !strings.Contains(out, "would delete: 2 runs, 4 task instances, ") || !strings.Contains(out, "nothing deleted") {
		t.Fatalf("dry run:\n%s\nwant 2 runs and 4 task instances counted", out)
	}
	if n := len(e.runsOf("quick")); n != 2 {
		t.Fatalf("after the dry run %d quick runs; want both kept", n)
	}

	out = e.mustVigil("db", "clean", "--older-than", "1s", "--batch", "1", "--data-dir", e.data)
	for _, want := range []string{"batch 1: deleted 1 runs, 2 task instances", "batch 2: deleted 1 runs, 2 task instances", "total deleted: 2 runs, 4 task instances"} {
		if !strings.Contains(out, want) {
			t.Errorf("clean output lacks %q:\n%s", want, out)
		}
	}
	if runs := e.runsOf("quick"); len(runs) != 0 {
		t.Errorf("quick runs after the clean: %v; want none", runs)
	}
	for _, r := range quick {
		if _, err := os.Stat(e.runFolder(r.DAGID, r.RunID)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("try folder of deleted run %s: %v; want it removed", r.RunID, err)
		}
		if out, err := e.vigil("tasks", "history", "quick", r.RunID, "a"); err == nil {
			t.Errorf("history of deleted run %s still readable:\n%s", r.RunID, out)
		}
	}
	if _, err := os.Stat(e.runFolder("slow", live.RunID)); err != nil {
		t.Errorf("try folder of the live run after the clean: %v; want it kept", err)
	}
	if runs := e.runsOf("slow"); len(runs) != 1 || runs[0].State != scheduler.RunRunning {
		t.Fatalf("live run after the clean: %+v; want it running", runs)
	}
	hist := e.mustVigil("tasks", "history", "slow", live.RunID, "wait")
	if !regexp.MustCompile(`queued\s.*running`).MatchString(strings.ReplaceAll(hist, "\n", " ")) {
		t.Errorf("history of the live task after the clean:\n%s", hist)
	}

	// The live task finishes and its end is recorded.
	if err := os.WriteFile(filepath.Join(e.ran, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	e.waitRunState("slow", scheduler.RunSuccess)
	if ti := e.tasks("slow")["wait"]; ti.State != scheduler.StateSuccess {
		t.Errorf("live task ended %s; want success", ti.State)
	}
	// A clean now finds nothing: the slow run ended just now.
	out = e.mustVigil("db", "clean", "--older-than", "1h", "--data-dir", e.data)
	if !strings.Contains(out, "total deleted: 0 runs") {
		t.Errorf("second clean:\n%s\nwant nothing deleted", out)
	}
}

// exitCode is a command's exit status; 0 for none, -1 if it did not run.
func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	return -1
}

// TestRetentionInDaemon runs `vigil run --retention 3s`: the finished
// runs, their tasks, history and try folders go on their own; the live
// run, older than the age, keeps its records and folder, finishes and is
// recorded.
func TestRetentionInDaemon(t *testing.T) {
	e := newEnv(t, map[string]string{"quick.yaml": retentionQuickDAG, "slow.yaml": retentionSlowDAG})
	e.extra = []string{"--retention", "3s"}
	d := e.start()
	e.waitFor("the DAGs to load", 30*time.Second, func() bool {
		out, err := e.vigil("dags", "list")
		return err == nil && strings.Contains(out, "quick") && strings.Contains(out, "slow")
	})
	e.mustVigil("dags", "trigger", "slow")
	e.waitFor("the live task to run", 30*time.Second, func() bool { return e.tasks("slow")["wait"].State == scheduler.StateRunning })
	live := e.runsOf("slow")[0]
	e.mustVigil("dags", "trigger", "quick")
	var quick []scheduler.Run
	e.waitFor("the quick run to end", 30*time.Second, func() bool {
		quick = e.runsOf("quick")
		return len(quick) == 1 && quick[0].State == scheduler.RunSuccess
	})
	if _, err := os.Stat(e.runFolder("quick", quick[0].RunID)); err != nil {
		t.Fatalf("try folder of the quick run: %v", err)
	}
	e.waitFor("retention to delete the quick run", 40*time.Second, func() bool { return len(e.runsOf("quick")) == 0 })
	if _, err := os.Stat(e.runFolder("quick", quick[0].RunID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("try folder of the deleted run: %v; want it removed", err)
	}
	if !strings.Contains(d.logs.String(), "retention: deleted old runs") {
		t.Errorf("the scheduler's log does not say what retention deleted")
	}
	// The live run started well over 3s ago and is still all there.
	if runs := e.runsOf("slow"); len(runs) != 1 || runs[0].State != scheduler.RunRunning {
		t.Fatalf("live run after retention: %+v; want it running", runs)
	}
	if _, err := os.Stat(e.runFolder("slow", live.RunID)); err != nil {
		t.Errorf("try folder of the live run: %v; want it kept", err)
	}
	hist := e.mustVigil("tasks", "history", "slow", live.RunID, "wait")
	if !strings.Contains(hist, "running") {
		t.Errorf("history of the live task:\n%s", hist)
	}
	if err := os.WriteFile(filepath.Join(e.ran, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	e.waitRunState("slow", scheduler.RunSuccess)
}
