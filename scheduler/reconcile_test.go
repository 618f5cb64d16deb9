package scheduler_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/scheduler"
)

// setState forces an instance into a state through legal transitions, the
// way a scheduler that died at that point would have left it.
func (h *harness) setState(k scheduler.TaskKey, path ...scheduler.State) {
	h.t.Helper()
	ti, err := h.store.GetTaskInstance(h.ctx(), k)
	if err != nil {
		h.t.Fatal(err)
	}
	from := ti.State
	for _, to := range path {
		res, err := h.store.Apply(h.ctx(), []scheduler.Change{{Key: k, From: from, To: to, Reason: "set up by test",
			Actor: scheduler.Actor{Component: "test"}, At: time.Now(), ExternalID: "memory:gone"}})
		if err != nil || res[0].Err != nil {
			h.t.Fatalf("set %s %s→%s: %v %v", k, from, to, err, res)
		}
		from = to
	}
}

// TestReconcileDecisions stops a scheduler without draining, changes the
// world behind its back, and checks the next scheduler's decisions: adopt
// the live try, record the one that ended, requeue the lost one, retry the
// zombie. Nothing runs twice.
func TestReconcileDecisions(t *testing.T) {
	const dagText = `
id: w
tasks:
  - id: keep
    command: ["true"]
  - id: ended
    command: [sh, -c, "exit 4"]
  - id: lost
    command: ["true"]
  - id: zombie
    command: ["true"]
    retries: 1
    retry_delay: 50ms
`
	h := newHarness(t, map[string]string{"w.yaml": dagText})
	hang := func(tr scheduler.Try) (executortest.Outcome, bool) {
		if tr.Key.TaskID == "keep" || tr.Key.TaskID == "ended" {
			return executortest.Outcome{Hang: true}, true
		}
		return executortest.Outcome{}, false
	}
	// With parallelism 2 the first scheduler runs only ended and keep
	// (dispatch goes in task order); lost and zombie wait for a slot.
	h.exec = executortest.NewMemory(executortest.MemoryOptions{Outcome: hang})
	h.start(func(o *scheduler.Options) { o.Parallelism = 2 })
	runID := h.trigger("w")
	key := func(task string) scheduler.TaskKey { return scheduler.TaskKey{DAGID: "w", RunID: runID, TaskID: task} }
	try1 := func(task string) scheduler.TryKey { return scheduler.TryKey{TaskKey: key(task), Try: 1} }
	h.waitFor("ended and keep running", func() bool {
		return h.task("w", runID, "ended").State == scheduler.StateRunning && h.task("w", runID, "keep").State == scheduler.StateRunning
	})
	if err := h.stop(); err != nil {
		t.Fatalf("first scheduler: %v", err)
	}

	// While no scheduler runs: "ended" finishes with exit 4; the store says
	// "lost" was queued and "zombie" running, tries no executor knows.
	if err := h.exec.Finish(try1("ended"), 4); err != nil {
		t.Fatal(err)
	}
	h.setState(key("lost"), scheduler.StateQueued)
	h.setState(key("zombie"), scheduler.StateQueued, scheduler.StateRunning)

	first := h.exec
	h.exec = first.Reopen()
	h.start(nil)
	h.waitFor("keep adopted", func() bool {
		hist := h.history("w", runID, "keep")
		return len(hist) > 0 && strings.Contains(hist[len(hist)-1], "adopted after restart")
	})
	if err := h.exec.Finish(try1("keep"), 0); err != nil {
		t.Fatal(err)
	}
	if run := h.waitRun("w", runID); run.State != scheduler.RunFailed {
		t.Fatalf("run ended %s, want failed (ended exited 4)", run.State)
	}

	wantHistory(t, h.history("w", runID, "keep"),
		"→scheduled", "scheduled→queued", "queued→running",
		"running→running: adopted after restart: try 1 is still running",
		"running→success",
	)
	wantHistory(t, h.history("w", runID, "ended"),
		"→scheduled", "scheduled→queued", "queued→running",
		"running→failed: finished while no scheduler watched: exit code 4",
	)
	wantHistory(t, h.history("w", runID, "lost"),
		"→scheduled", "scheduled→queued: set up by test",
		"queued→scheduled: lost: try 1 was queued but the executor never started it",
		"scheduled→queued: submitting try 1 again",
		"queued→running", "running→success",
	)
	wantHistory(t, h.history("w", runID, "zombie"),
		"→scheduled", "scheduled→queued", "queued→running: set up by test",
		"running→up_for_retry: zombie: try 1 was running but the executor has no trace of it",
		"up_for_retry→queued", "queued→running", "running→success",
	)
	for _, task := range []string{"keep", "ended", "lost"} {
		if n := h.exec.Runs(try1(task)); n != 1 {
			t.Errorf("%s try 1 ran %d times, want once", task, n)
		}
	}
}
