package scheduler_test

import (
	"slices"
	"testing"

	"github.com/vigilhq/vigil/scheduler"
)

// TestBlockedByDAGLimitDoNotHoldOthers: the ready tasks of a DAG at its
// max_active_tasks wait without holding up another DAG's, and each slot
// their DAG frees goes to the next of them, with nothing else happening
// to bring them back.
func TestBlockedByDAGLimitDoNotHoldOthers(t *testing.T) {
	h := newHarness(t, map[string]string{
		"narrow.yaml": "id: narrow\nmax_active_tasks: 1\ntasks:\n" +
			"  - id: a0\n    command: [sleep, \"60\"]\n    priority: 3\n" +
			"  - id: a1\n    command: [sleep, \"60\"]\n    priority: 2\n" +
			"  - id: a2\n    command: [sleep, \"60\"]\n    priority: 1\n",
		"other.yaml": "id: other\ntasks:\n  - id: b0\n    command: [\"true\"]\n  - id: b1\n    command: [\"true\"]\n",
	})
	h.start(func(o *scheduler.Options) { o.Parallelism = 3 })
	narrow := h.trigger("narrow")
	h.waitFor("a0 to start", func() bool { return len(h.exec.Running()) == 1 })
	other := h.trigger("other")
	if run := h.waitRun("other", other); run.State != scheduler.RunSuccess {
		t.Fatalf("run of other ended %s", run.State)
	}
	for _, id := range []string{"a0", "a1", "a2"} {
		var running []scheduler.TryKey
		h.waitFor(id+" to run", func() bool { running = h.exec.Running(); return len(running) == 1 })
		k := scheduler.TryKey{TaskKey: scheduler.TaskKey{DAGID: "narrow", RunID: narrow, TaskID: id}, Try: 1}
		if !slices.Contains(running, k) {
			t.Fatalf("running %v, want only %s (one at a time, by priority)", running, id)
		}
		if err := h.exec.Finish(k, 0); err != nil {
			t.Fatal(err)
		}
	}
	if run := h.waitRun("narrow", narrow); run.State != scheduler.RunSuccess {
		t.Fatalf("run of narrow ended %s", run.State)
	}
}
