package hatest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/store/postgres/pgtest"
)

// TestRunTimeoutActedOnByTheOwnerOnly: three schedulers share one database
// and one DAG folder; 6 runs of a DAG with run_timeout 1s, whose tasks
// hang, are claimed between them. Each run ends failed, each hanging try
// is stopped once and recorded failed once, with the run timeout as the
// reason, by the scheduler that owned the run (histcheck), and no retry
// is started.
func TestRunTimeoutActedOnByTheOwnerOnly(t *testing.T) {
	c := New(t, pgtest.FreshDatabase(t))
	dir := t.TempDir()
	src := "id: slow\nrun_timeout: 1s\ntasks:\n  - {id: a, command: [hang], retries: 3}\n  - {id: b, command: [hang], retries: 3}\n  - {id: c, depends_on: [a], command: [\"true\"]}\n"
	if err := os.WriteFile(filepath.Join(dir, "slow.yaml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	mach := executortest.NewMemory(executortest.MemoryOptions{Outcome: func(tr scheduler.Try) (executortest.Outcome, bool) {
		return executortest.Outcome{Hang: tr.Key.TaskID != "c"}, true
	}})
	names := []string{"s1", "s2", "s3"}
	startAll(c, mach, names, scheduler.Options{DAGDir: dir, ClaimBatch: 2})
	var rec scheduler.DAGRecord
	waitFor(t, "the DAG to load", func() bool {
		var err error
		rec, err = c.Admin.GetDAG(t.Context(), "slow")
		return err == nil
	})
	const runs = 6
	c.CreateRuns(rec, runs)
	c.WaitDone(time.Minute)

	failOn(t, c.Check(t.Context(), names, ""))
	submittedOnce(t, c, mach)
	ended, err := c.Admin.ListRuns(t.Context(), scheduler.RunFilter{DAGID: "slow"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ended) != runs {
		t.Fatalf("%d runs, want %d", len(ended), runs)
	}
	for _, r := range ended {
		if r.State != scheduler.RunFailed {
			t.Errorf("run %s ended %s, want failed", r.RunID, r.State)
		}
		for _, task := range []string{"a", "b", "c"} {
			k := scheduler.TaskKey{DAGID: "slow", RunID: r.RunID, TaskID: task}
			h, err := c.Admin.History(t.Context(), k)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, tr := range h {
				if strings.Contains(tr.Reason, "run timeout 1s exceeded") {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%s: %d transitions name the run timeout, want 1: %+v", k, n, h)
			}
		}
	}
	if got := len(mach.Started()); got != 2*runs {
		t.Errorf("%d tries started, want %d (one per hanging task, no retry)", got, 2*runs)
	}
	if got := len(mach.Running()); got != 0 {
		t.Errorf("%d tries still running after their runs timed out", got)
	}
}
