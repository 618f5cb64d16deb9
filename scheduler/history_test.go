package scheduler_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/histcheck"
)

// A submit that fails again and again (issue 18) requeues the try each
// time: the history keeps one record of the failure and one of the
// resubmit, each with its count, not two rows per attempt; the instance
// still moved (and its version rose) at every one, and the history,
// expanded, passes the checker.
func TestRepeatedSubmitFailuresCollapse(t *testing.T) {
	const failures = 30
	h := newHarness(t, map[string]string{"sub.yaml": "id: sub\ntasks:\n  - id: x\n    command: [\"true\"]\n"})
	var calls atomic.Int32
	h.exec = executortest.NewMemory(executortest.MemoryOptions{StartError: func(scheduler.Try) error {
		if calls.Add(1) <= failures {
			return errors.New("connection reset by peer")
		}
		return nil
	}})
	h.start(func(o *scheduler.Options) { o.SubmitBackoff = 2 * time.Millisecond })
	runID := h.trigger("sub")
	if run := h.waitRun("sub", runID); run.State != scheduler.RunSuccess {
		t.Fatalf("run ended %s", run.State)
	}
	k := scheduler.TaskKey{DAGID: "sub", RunID: runID, TaskID: "x"}
	wantHistory(t, h.history("sub", runID, "x"),
		"→scheduled",
		"scheduled→queued: no dependencies",
		"queued→scheduled: submit of try 1 failed: start ",
		"scheduled→queued: submitting try 1 again",
		"queued→running",
		"running→success",
	)
	hist, err := h.store.History(h.ctx(), k)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{0, 0, failures - 1, failures - 1, 0, 0} {
		if hist[i].Repeats != want {
			t.Errorf("record %d (%s → %s) repeats %d, want %d", i, hist[i].From, hist[i].To, hist[i].Repeats, want)
		}
	}
	if !hist[2].LastAt.After(hist[2].At) || !hist[3].LastAt.After(hist[2].LastAt) || hist[4].At.Before(hist[3].LastAt) {
		t.Errorf("times out of order: failure %v..%v, resubmit %v..%v, running %v",
			hist[2].At, hist[2].LastAt, hist[3].At, hist[3].LastAt, hist[4].At)
	}
	ti := h.task("sub", runID, "x")
	if want := 1 + 2*failures + 2; ti.Version != want {
		t.Errorf("version %d, want %d: one per transition, collapsed or not", ti.Version, want)
	}
	rep := histcheck.Check(histcheck.Input{Instances: []scheduler.TaskInstance{ti},
		History: map[scheduler.TaskKey][]scheduler.Transition{k: hist}, WantState: scheduler.StateSuccess})
	if len(rep.Violations) > 0 {
		t.Fatalf("history check: %v", rep.Violations)
	}
	if rep.Requeues != failures || rep.Transitions != 1+1+2*failures+2 {
		t.Errorf("checker saw %d requeues in %d transitions, want %d in %d", rep.Requeues, rep.Transitions, failures, 1+1+2*failures+2)
	}
}
