package scheduler_test

import (
	"strings"
	"testing"

	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/scheduler"
)

// TestRunTimeout: a run past its DAG's run_timeout ends failed, and every
// instance it ends says why: the hanging try is stopped through the
// executor and recorded failed with its retries unused, a try waiting for
// its retry delay is failed without another try, a task that never
// started is upstream_failed, and a task that had succeeded keeps its
// success.
func TestRunTimeout(t *testing.T) {
	h := newHarness(t, map[string]string{"slow.yaml": `
id: slow
run_timeout: 500ms
tasks:
  - id: hang
    command: [sleep, "60"]
    retries: 3
  - id: flaky
    command: [sh, -c, "exit 3"]
    retries: 2
    retry_delay: 5m
  - id: after
    depends_on: [hang]
    command: ["true"]
    retries: 2
  - id: done
    command: ["true"]
`})
	h.exec = executortest.NewMemory(executortest.MemoryOptions{Outcome: func(tr scheduler.Try) (executortest.Outcome, bool) {
		if tr.Key.TaskID == "hang" {
			return executortest.Outcome{Hang: true}, true
		}
		return executortest.Outcome{}, false
	}})
	h.start(nil)
	runID := h.trigger("slow")
	run := h.waitRun("slow", runID)
	if run.State != scheduler.RunFailed {
		t.Fatalf("run ended %s, want failed", run.State)
	}
	const why = "run timeout 500ms exceeded"
	wantHistory(t, h.history("slow", runID, "hang"),
		"→scheduled",
		"scheduled→queued",
		"queued→running",
		"running→failed: "+why+" (stopped: "+why,
	)
	wantHistory(t, h.history("slow", runID, "flaky"),
		"→scheduled",
		"scheduled→queued",
		"queued→running",
		"running→up_for_retry: exit code 3; retry 1 of 2 in 5m",
		"up_for_retry→failed: "+why+"; no further tries",
	)
	wantHistory(t, h.history("slow", runID, "after"),
		"→scheduled",
		"scheduled→upstream_failed: "+why+"; the task did not start",
	)
	wantHistory(t, h.history("slow", runID, "done"),
		"→scheduled", "scheduled→queued", "queued→running", "running→success")
	for _, id := range []string{"hang", "flaky"} {
		if ti := h.task("slow", runID, id); ti.Try != 1 || ti.State != scheduler.StateFailed {
			t.Errorf("task %s ended %s on try %d, want failed on try 1 (retries unused)", id, ti.State, ti.Try)
		}
	}
	var hangTries int
	for _, k := range h.exec.Started() {
		if k.TaskID == "hang" {
			hangTries++
		}
	}
	if hangTries != 1 {
		t.Errorf("hang was started %d times, want once", hangTries)
	}
	if got := run.EndedAt.Sub(run.CreatedAt); got < 500*1e6 {
		t.Errorf("run ended %s after its creation, before its run timeout", got)
	}
	if strings.Contains(strings.Join(h.history("slow", runID, "hang"), "\n"), "up_for_retry") {
		t.Errorf("hang went up_for_retry after its run timed out")
	}
}
