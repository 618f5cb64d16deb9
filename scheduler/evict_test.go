package scheduler_test

import (
	"testing"
	"time"

	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/scheduler"
)

// An evicted try is run again without using one of the task's retries
// (issue 16): a task with no retries whose first try is evicted still
// succeeds, its history says "evicted" with the platform's words, and the
// eviction is counted by cause.
func TestEvictionDoesNotUseARetry(t *testing.T) {
	h := newHarness(t, map[string]string{"ev.yaml": "id: ev\ntasks:\n  - id: x\n    command: [\"true\"]\n"})
	h.exec = executortest.NewMemory(executortest.MemoryOptions{Outcome: func(tr scheduler.Try) (executortest.Outcome, bool) {
		if tr.Key.Try == 1 {
			return executortest.Outcome{Evicted: scheduler.CausePreempted}, true
		}
		return executortest.Outcome{}, false
	}})
	h.start(fastEvictions)
	runID := h.trigger("ev")
	if run := h.waitRun("ev", runID); run.State != scheduler.RunSuccess {
		t.Fatalf("run ended %s, want success:\n%v", run.State, h.history("ev", runID, "x"))
	}
	wantHistory(t, h.history("ev", runID, "x"),
		"→scheduled",
		"scheduled→queued: no dependencies",
		"queued→running",
		"running→up_for_retry: evicted: evicted, as scripted; will run again in 10ms, not counted against its retries (eviction 1 of at most 10)",
		"up_for_retry→queued: retry delay elapsed; try 2 (1 of 1 counted, 1 evicted not counted)",
		"queued→running",
		"running→success",
	)
	if ti := h.task("ev", runID, "x"); ti.Try != 2 || ti.Evictions != 1 {
		t.Errorf("task at try %d with %d evictions, want try 2 and 1 eviction", ti.Try, ti.Evictions)
	}
	if n := h.sched.Stats().Evictions[scheduler.CausePreempted]; n != 1 {
		t.Errorf("evictions counted %v, want preempted: 1", h.sched.Stats().Evictions)
	}
}

// A genuine failure still uses a retry after an eviction: with one retry,
// evicted, failed, failed ends the task failed on its third try.
func TestFailureAfterEvictionUsesRetries(t *testing.T) {
	h := newHarness(t, map[string]string{"ev.yaml": "id: ev\ntasks:\n  - id: x\n    command: [\"true\"]\n    retries: 1\n    retry_delay: 0s\n"})
	h.exec = executortest.NewMemory(executortest.MemoryOptions{Outcome: func(tr scheduler.Try) (executortest.Outcome, bool) {
		if tr.Key.Try == 1 {
			return executortest.Outcome{Evicted: scheduler.CauseNodeLost}, true
		}
		return executortest.Outcome{ExitCode: 1}, true
	}})
	h.start(fastEvictions)
	runID := h.trigger("ev")
	if run := h.waitRun("ev", runID); run.State != scheduler.RunFailed {
		t.Fatalf("run ended %s, want failed", run.State)
	}
	wantHistory(t, h.history("ev", runID, "x"),
		"→scheduled", "scheduled→queued", "queued→running",
		"running→up_for_retry: evicted: ",
		"up_for_retry→queued: retry delay elapsed; try 2 (1 of 2 counted, 1 evicted not counted)",
		"queued→running",
		"running→up_for_retry: exit code 1; retry 1 of 1 in 0s",
		"up_for_retry→queued: retry delay elapsed; try 3 (2 of 2 counted, 1 evicted not counted)",
		"queued→running",
		"running→failed: exit code 1; no retries left (2 counted, 1 evicted not counted)",
	)
}

// An endlessly evicted task does not loop forever: past MaxEvictions an
// eviction counts as a failure, and with no retries the task fails.
func TestEvictionLimit(t *testing.T) {
	h := newHarness(t, map[string]string{"ev.yaml": "id: ev\ntasks:\n  - id: x\n    command: [\"true\"]\n"})
	h.exec = executortest.NewMemory(executortest.MemoryOptions{Outcome: func(scheduler.Try) (executortest.Outcome, bool) {
		return executortest.Outcome{Evicted: scheduler.CauseEvicted}, true
	}})
	h.start(func(o *scheduler.Options) { fastEvictions(o); o.MaxEvictions = 2 })
	runID := h.trigger("ev")
	if run := h.waitRun("ev", runID); run.State != scheduler.RunFailed {
		t.Fatalf("run ended %s, want failed", run.State)
	}
	hist := h.history("ev", runID, "x")
	last := hist[len(hist)-1]
	want := "running→failed: evicted: evicted, as scripted; evicted 2 times before, the limit of 2 (MaxEvictions) is reached: this one counts as a failure; no retries left (1 counted, 2 evicted not counted)"
	if last != want {
		t.Fatalf("last record %q, want %q", last, want)
	}
	if ti := h.task("ev", runID, "x"); ti.Try != 3 || ti.Evictions != 2 {
		t.Errorf("task at try %d with %d evictions, want try 3 and 2", ti.Try, ti.Evictions)
	}
}

// An eviction a restarted scheduler finds (Adopt says evicted) is handled
// as one seen live: no retry used.
func TestEvictionFoundAfterRestart(t *testing.T) {
	h := newHarness(t, map[string]string{"ev.yaml": "id: ev\ntasks:\n  - id: x\n    command: [\"true\"]\n"})
	h.exec = executortest.NewMemory(executortest.MemoryOptions{Outcome: func(tr scheduler.Try) (executortest.Outcome, bool) {
		return executortest.Outcome{Hang: tr.Key.Try == 1}, true
	}})
	h.start(fastEvictions)
	runID := h.trigger("ev")
	k := scheduler.TaskKey{DAGID: "ev", RunID: runID, TaskID: "x"}
	h.waitFor("try 1 running", func() bool { ti := h.task("ev", runID, "x"); return ti.State == scheduler.StateRunning })
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if err := h.exec.Evict(scheduler.TryKey{TaskKey: k, Try: 1}, scheduler.CauseNodeLost, "pod p: DeletionByTaintManager: node n is unreachable"); err != nil {
		t.Fatal(err)
	}
	h.exec = h.exec.Reopen()
	h.start(fastEvictions)
	if run := h.waitRun("ev", runID); run.State != scheduler.RunSuccess {
		t.Fatalf("run ended %s, want success:\n%v", run.State, h.history("ev", runID, "x"))
	}
	hist := h.history("ev", runID, "x")
	want := "running→up_for_retry: evicted: try 1 ended while no scheduler watched: pod p: DeletionByTaintManager: node n is unreachable; will run again"
	if !hasPrefixLine(hist, want) {
		t.Fatalf("history lacks %q:\n%v", want, hist)
	}
}

func hasPrefixLine(lines []string, prefix string) bool {
	for _, l := range lines {
		if len(l) >= len(prefix) && l[:len(prefix)] == prefix {
			return true
		}
	}
	return false
}

func fastEvictions(o *scheduler.Options) { o.EvictionBackoff = 10 * time.Millisecond }
