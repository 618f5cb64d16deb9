package scheduler_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

var operator = scheduler.Actor{Component: "cli", Instance: "alice@laptop:42"}

// submitOp stores an operation the way `vigil tasks clear` and the others
// do, and returns its id.
func (h *harness) submitOp(op scheduler.Op) int64 {
	h.t.Helper()
	op.Actor, op.CreatedAt = operator, time.Now()
	id, err := h.store.SubmitOp(h.ctx(), op)
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

// waitOp waits for an operation to close and returns it.
func (h *harness) waitOp(id int64) scheduler.Op {
	h.t.Helper()
	var op scheduler.Op
	h.waitFor("operation to close", func() bool {
		var err error
		op, err = h.store.GetOp(h.ctx(), id)
		return err == nil && !op.State.Open()
	})
	return op
}

const clearDAG = `
id: etl
tasks:
  - id: extract
    command: ["true"]
  - id: load
    depends_on: [extract]
    command: ["true"]
    retries: 1
    retry_delay: 50ms
  - id: report
    depends_on: [load]
    command: ["true"]
`

// failFirst fails every try of load before the third (its first run
// fails with its one retry used), and runs the rest by their command.
func failFirst() *executortest.Memory {
	return executortest.NewMemory(executortest.MemoryOptions{Outcome: func(tr scheduler.Try) (executortest.Outcome, bool) {
		if tr.Key.TaskID == "load" && tr.Key.Try < 3 {
			return executortest.Outcome{ExitCode: 1}, true
		}
		return executortest.Outcome{}, false
	}})
}

// TestClearFailedTaskAndDownstream: clearing a failed task with
// --downstream reopens the ended run; the task runs again as try 3 with its
// retries counted afresh, its downstream runs for the first time, the run
// ends success, and the history keeps the earlier tries and says who
// cleared it and why.
func TestClearFailedTaskAndDownstream(t *testing.T) {
	h := newHarness(t, map[string]string{"etl.yaml": clearDAG})
	h.exec = failFirst()
	h.start(nil)
	runID := h.trigger("etl")
	if run := h.waitRun("etl", runID); run.State != scheduler.RunFailed {
		t.Fatalf("first run ended %s, want failed", run.State)
	}
	id := h.submitOp(scheduler.Op{Kind: scheduler.OpClearTasks, DAGID: "etl", RunID: runID, TaskID: "load",
		Args: scheduler.OpArgs{Downstream: true}, Reason: "disk full, fixed"})
	op := h.waitOp(id)
	if op.State != scheduler.OpDone || !strings.Contains(op.Result, "load failed→scheduled") || !strings.Contains(op.Result, "report upstream_failed→scheduled") {
		t.Fatalf("operation: %+v; want done, clearing load and report", op)
	}
	h.waitFor("run to end again", func() bool {
		run, err := h.store.GetRun(h.ctx(), "etl", runID)
		return err == nil && run.State == scheduler.RunSuccess
	})
	load := h.task("etl", runID, "load")
	if load.State != scheduler.StateSuccess || load.Try != 3 || load.TryBase != 2 || load.Counted() != 1 {
		t.Fatalf("load: %s at try %d (base %d, counted %d); want success at try 3, base 2, counted 1", load.State, load.Try, load.TryBase, load.Counted())
	}
	const why = "cleared by hand (operation 1): disk full, fixed"
	wantHistory(t, h.history("etl", runID, "load"),
		"→scheduled", "scheduled→queued", "queued→running", "running→up_for_retry: exit code 1",
		"up_for_retry→queued", "queued→running", "running→failed: exit code 1",
		"failed→scheduled: "+why,
		"scheduled→queued: dependencies met; try 3, after a clear", "queued→running", "running→success")
	wantHistory(t, h.history("etl", runID, "report"),
		"→scheduled", "scheduled→upstream_failed", "upstream_failed→scheduled: "+why,
		"scheduled→queued", "queued→running", "running→success")
	hist, err := h.store.History(h.ctx(), scheduler.TaskKey{DAGID: "etl", RunID: runID, TaskID: "load"})
	if err != nil {
		t.Fatal(err)
	}
	if rec := hist[7]; !rec.Manual || rec.Actor != operator {
		t.Errorf("clear record: %+v; want manual, by %s", rec, operator)
	}
	if ex := h.task("etl", runID, "extract"); ex.Try != 1 {
		t.Errorf("extract ran %d tries; want 1 (not selected)", ex.Try)
	}
	// Applied once: the closed operation is not applied again.
	time.Sleep(200 * time.Millisecond)
	if load := h.task("etl", runID, "load"); load.Try != 3 {
		t.Errorf("load at try %d after the operation closed; want 3", load.Try)
	}
}

// TestMarkRunningTaskSuccess: marking a hanging task success stops its try
// and records success by the operator; its downstream then runs.
func TestMarkRunningTaskSuccess(t *testing.T) {
	h := newHarness(t, map[string]string{"etl.yaml": clearDAG})
	h.exec = executortest.NewMemory(executortest.MemoryOptions{Outcome: func(tr scheduler.Try) (executortest.Outcome, bool) {
		return executortest.Outcome{Hang: tr.Key.TaskID == "load"}, tr.Key.TaskID == "load"
	}})
	h.start(nil)
	runID := h.trigger("etl")
	h.waitFor("load running", func() bool { return h.task("etl", runID, "load").State == scheduler.StateRunning })
	id := h.submitOp(scheduler.Op{Kind: scheduler.OpMark, DAGID: "etl", RunID: runID, TaskID: "load",
		Args: scheduler.OpArgs{State: scheduler.StateSuccess}, Reason: "loaded by hand"})
	if op := h.waitOp(id); op.State != scheduler.OpDone {
		t.Fatalf("operation: %+v; want done", op)
	}
	if run := h.waitRun("etl", runID); run.State != scheduler.RunSuccess {
		t.Fatalf("run ended %s, want success", run.State)
	}
	wantHistory(t, h.history("etl", runID, "load"),
		"→scheduled", "scheduled→queued", "queued→running",
		"running→success: marked success by hand (operation 1): loaded by hand (stopped")
	wantHistory(t, h.history("etl", runID, "report"),
		"→scheduled", "scheduled→queued", "queued→running", "running→success")
}

// TestCancelRun: a cancelled run's running try is stopped and recorded
// failed, its waiting tasks are skipped, and it ends cancelled.
func TestCancelRun(t *testing.T) {
	h := newHarness(t, map[string]string{"etl.yaml": clearDAG})
	h.exec = executortest.NewMemory(executortest.MemoryOptions{Outcome: func(tr scheduler.Try) (executortest.Outcome, bool) {
		return executortest.Outcome{Hang: tr.Key.TaskID == "load"}, tr.Key.TaskID == "load"
	}})
	h.start(nil)
	runID := h.trigger("etl")
	h.waitFor("load running", func() bool { return h.task("etl", runID, "load").State == scheduler.StateRunning })
	id := h.submitOp(scheduler.Op{Kind: scheduler.OpCancelRun, DAGID: "etl", RunID: runID, Reason: "wrong input"})
	op := h.waitOp(id)
	if op.State != scheduler.OpDone {
		t.Fatalf("operation: %+v; want done", op)
	}
	if run := h.waitRun("etl", runID); run.State != scheduler.RunCancelled {
		t.Fatalf("run ended %s, want cancelled", run.State)
	}
	const why = "run cancelled by hand (operation 1): wrong input"
	wantHistory(t, h.history("etl", runID, "load"),
		"→scheduled", "scheduled→queued", "queued→running", "running→failed: "+why+" (stopped")
	wantHistory(t, h.history("etl", runID, "report"), "→scheduled", "scheduled→skipped: "+why)
	if n := len(h.exec.Started()); n != 2 {
		t.Errorf("%d tries started; want 2 (extract, load)", n)
	}
	// A second cancel of the ended run fails with the reason.
	id = h.submitOp(scheduler.Op{Kind: scheduler.OpCancelRun, DAGID: "etl", RunID: runID})
	if op := h.waitOp(id); op.State != scheduler.OpFailed || !strings.Contains(op.Result, "already ended (cancelled)") {
		t.Fatalf("second cancel: %+v; want failed, already ended", op)
	}
}

// TestPlanOp checks the selection and the refusals of PlanOp on a run as
// it stands, without a scheduler.
func TestPlanOp(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	run := scheduler.Run{DAGID: "d", RunID: "r", State: scheduler.RunRunning}
	ti := func(id string, st scheduler.State, deps ...string) scheduler.TaskInstance {
		return scheduler.TaskInstance{TaskKey: scheduler.TaskKey{DAGID: "d", RunID: "r", TaskID: id}, State: st, Try: 1,
			Spec: dag.TaskSpec{DependsOn: deps}}
	}
	S, F, U, OK, R := scheduler.StateScheduled, scheduler.StateFailed, scheduler.StateUpstreamFailed, scheduler.StateSuccess, scheduler.StateRunning
	// a → b → c, a → d; x independent.
	tis := []scheduler.TaskInstance{ti("a", OK), ti("b", F, "a"), ti("c", U, "b"), ti("d", R, "a"), ti("x", F)}
	op := func(kind scheduler.OpKind, task string, args scheduler.OpArgs) scheduler.Op {
		return scheduler.Op{ID: 7, Kind: kind, DAGID: "d", RunID: "r", TaskID: task, Args: args, Actor: operator}
	}
	summary := func(o scheduler.Op) string {
		t.Helper()
		p, err := scheduler.PlanOp(o, run, tis, now)
		if err != nil {
			t.Fatalf("PlanOp(%+v): %v", o, err)
		}
		return p.Summary()
	}
	for _, tc := range []struct {
		name string
		op   scheduler.Op
		want string
	}{
		{"one task", op(scheduler.OpClearTasks, "b", scheduler.OpArgs{}), "1 task(s): b failed→scheduled"},
		{"downstream", op(scheduler.OpClearTasks, "b", scheduler.OpArgs{Downstream: true}), "2 task(s): b failed→scheduled, c upstream_failed→scheduled"},
		{"upstream", op(scheduler.OpClearTasks, "b", scheduler.OpArgs{Upstream: true}), "2 task(s): a success→scheduled, b failed→scheduled"},
		{"downstream of a leaves the running d", op(scheduler.OpClearTasks, "a", scheduler.OpArgs{Downstream: true, OnlyFailed: true}),
			"2 task(s): b failed→scheduled, c upstream_failed→scheduled"},
		{"running left", op(scheduler.OpClearTasks, "d", scheduler.OpArgs{}), "d left running: not ended"},
		{"run only failed", op(scheduler.OpClearRun, "", scheduler.OpArgs{OnlyFailed: true}),
			"3 task(s): b failed→scheduled, c upstream_failed→scheduled, x failed→scheduled"},
		{"mark running", op(scheduler.OpMark, "d", scheduler.OpArgs{State: OK}), "stopping 1: d try 1 (running, ends success)"},
		{"mark already", op(scheduler.OpMark, "a", scheduler.OpArgs{State: OK}), "a left success: already success"},
		{"mark downstream", op(scheduler.OpMark, "b", scheduler.OpArgs{State: OK, Downstream: true}),
			"2 task(s): b failed→success, c upstream_failed→success"},
		{"cancel", op(scheduler.OpCancelRun, "", scheduler.OpArgs{}), "stopping 1: d try 1 (running, ends failed)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := summary(tc.op); !strings.HasPrefix(got, tc.want) {
				t.Errorf("plan: %q\nwant prefix %q", got, tc.want)
			}
		})
	}
	tis = append(tis, ti("w", S, "x"))
	if p, _ := scheduler.PlanOp(op(scheduler.OpCancelRun, "", scheduler.OpArgs{}), run, tis, now); len(p.Changes) != 1 || p.Changes[0].To != scheduler.StateSkipped || !p.Changes[0].Manual {
		t.Errorf("cancel plan changes: %+v; want w skipped, by hand", p.Changes)
	}
	for _, tc := range []struct {
		name string
		op   scheduler.Op
		run  scheduler.RunState
		want string
	}{
		{"unknown task", op(scheduler.OpClearTasks, "nope", scheduler.OpArgs{}), scheduler.RunRunning, `no task "nope" (its tasks: a, b, c, d, w, x)`},
		{"mark state", op(scheduler.OpMark, "a", scheduler.OpArgs{State: scheduler.StateSkipped}), scheduler.RunRunning, "use success or failed"},
		{"cancel ended", op(scheduler.OpCancelRun, "", scheduler.OpArgs{}), scheduler.RunSuccess, "already ended (success)"},
	} {
		r := run
		r.State = tc.run
		if _, err := scheduler.PlanOp(tc.op, r, tis, now); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: PlanOp error %v; want %q", tc.name, err, tc.want)
		}
	}
}
