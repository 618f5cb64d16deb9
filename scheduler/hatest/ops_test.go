package hatest

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/store/postgres/pgtest"
)

// TestOperationsRaceTheOwner: three schedulers share one database and one
// machine. In each of 12 runs, task a fails its first try (b is then
// upstream_failed) and task c hangs. While the runs are claimed, worked on
// and one scheduler stops mid-way (its runs adopted by the others),
// operators ask, from several goroutines at once, to clear a and its
// downstream (twice, racing each other: --only-failed, so the second
// finds nothing failed) and to mark c success (twice). Every operation
// ends done; every run ends success; a ran exactly tries 1 and 2, b, c and
// d once each; every try was submitted once; and histcheck finds every
// record legal, by the run's owner or by hand, with no try queued twice.
func TestOperationsRaceTheOwner(t *testing.T) {
	c := New(t, pgtest.FreshDatabase(t))
	dir := t.TempDir()
	src := `id: ops
tasks:
  - {id: a, command: ["true"]}
  - {id: b, depends_on: [a], command: ["true"]}
  - {id: c, command: [hang]}
  - {id: d, depends_on: [c], command: ["true"]}
`
	if err := os.WriteFile(filepath.Join(dir, "ops.yaml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	mach := executortest.NewMemory(executortest.MemoryOptions{Outcome: func(tr scheduler.Try) (executortest.Outcome, bool) {
		switch {
		case tr.Key.TaskID == "a" && tr.Key.Try == 1:
			return executortest.Outcome{ExitCode: 1}, true
		case tr.Key.TaskID == "c":
			return executortest.Outcome{Hang: true}, true
		}
		return executortest.Outcome{}, false
	}})
	names := []string{"s1", "s2", "s3"}
	nodes := startAll(c, mach, names, scheduler.Options{DAGDir: dir, ClaimBatch: 2})
	var rec scheduler.DAGRecord
	waitFor(t, "the DAG to load", func() bool {
		var err error
		rec, err = c.Admin.GetDAG(t.Context(), "ops")
		return err == nil
	})
	const runs = 12
	c.CreateRuns(rec, runs)
	// Wait until every a has failed and every c runs, so that every
	// operation has work to do.
	waitFor(t, "every run to be waiting for an operator", func() bool {
		tis, err := c.Admin.ListTaskInstances(t.Context(), scheduler.TaskFilter{DAGID: "ops"})
		if err != nil {
			return false
		}
		n := 0
		for _, ti := range tis {
			if (ti.TaskID == "a" && ti.State == scheduler.StateFailed) || (ti.TaskID == "c" && ti.State == scheduler.StateRunning) {
				n++
			}
		}
		return n == 2*runs
	})
	operator := scheduler.Actor{Component: "cli", Instance: "oncall@laptop:1"}
	var ids []int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range runs {
				op := scheduler.Op{DAGID: "ops", RunID: fmt.Sprintf("manual__%04d", i), Actor: operator, CreatedAt: time.Now(),
					Reason: fmt.Sprintf("goroutine %d", g)}
				if g%2 == 0 {
					op.Kind, op.TaskID, op.Args = scheduler.OpClearTasks, "a", scheduler.OpArgs{Downstream: true, OnlyFailed: true}
				} else {
					op.Kind, op.TaskID, op.Args = scheduler.OpMark, "c", scheduler.OpArgs{State: scheduler.StateSuccess}
				}
				id, err := c.Admin.SubmitOp(t.Context(), op)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				ids = append(ids, id)
				mu.Unlock()
			}
		})
	}
	// One scheduler stops while the operations are being applied.
	time.Sleep(100 * time.Millisecond)
	if err := nodes[0].Stop(); err != nil {
		t.Fatalf("stop s1: %v", err)
	}
	wg.Wait()
	c.WaitDone(time.Minute)
	waitFor(t, "every operation to close", func() bool {
		open, err := c.Admin.ListOps(t.Context(), scheduler.OpFilter{States: []scheduler.OpState{scheduler.OpPending, scheduler.OpStopping}})
		return err == nil && len(open) == 0
	})

	rep := c.Check(t.Context(), names, scheduler.StateSuccess)
	failOn(t, rep)
	if len(rep.Violations) > 0 {
		// The first violation's whole run, operations included.
		v := rep.Violations[0]
		for _, task := range []string{"a", "b", "c", "d"} {
			k := scheduler.TaskKey{DAGID: v.Task.DAGID, RunID: v.Task.RunID, TaskID: task}
			h, _ := c.Admin.History(t.Context(), k)
			for _, r := range h {
				t.Logf("%s %s try %d %s → %s by %s: %s", k, r.At.Format("05.000"), r.Try, r.From, r.To, r.Actor, r.Reason)
			}
		}
		ops, _ := c.Admin.ListOps(t.Context(), scheduler.OpFilter{RunID: v.Task.RunID})
		for _, op := range ops {
			t.Logf("operation %d %s %s: %s by %s at %s: %s", op.ID, op.Kind, op.TaskID, op.State, op.DoneBy, op.DoneAt.Format("05.000"), op.Result)
		}
	}
	submittedOnce(t, c, mach)
	if len(ids) != 4*runs {
		t.Fatalf("%d operations submitted, want %d", len(ids), 4*runs)
	}
	for _, id := range ids {
		op, err := c.Admin.GetOp(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if op.State != scheduler.OpDone {
			t.Errorf("operation %d (%s %s/%s): %s: %s; want done", id, op.Kind, op.RunID, op.TaskID, op.State, op.Result)
		}
	}
	ended, err := c.Admin.ListRuns(t.Context(), scheduler.RunFilter{DAGID: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range ended {
		if r.State != scheduler.RunSuccess {
			t.Errorf("run %s ended %s, want success", r.RunID, r.State)
		}
	}
	started := map[string]int{}
	for _, k := range mach.Started() {
		started[fmt.Sprintf("%s#%d", k.TaskID, k.Try)]++
	}
	want := map[string]int{"a#1": runs, "a#2": runs, "b#1": runs, "c#1": runs, "d#1": runs}
	for k, n := range want {
		if started[k] != n {
			t.Errorf("try %s started in %d runs, want %d (all: %v)", k, started[k], n, started)
		}
	}
	if len(started) != len(want) {
		t.Errorf("tries started: %v; want only %v", started, want)
	}
	if rep.Manual < 3*runs {
		t.Errorf("%d records by hand; want at least %d (a and b cleared, c marked, in each run)", rep.Manual, 3*runs)
	}
	t.Logf("%d operations, %d records by hand, %d adoptions, by scheduler %v", len(ids), rep.Manual, rep.Adoptions, rep.ByScheduler)
}
