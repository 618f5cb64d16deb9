package scheduler_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

const oneTask = "tasks:\n  - id: t\n    command: [\"true\"]\n"

// The DAG folder used to be parsed and encoded again at every sync, every
// 2 s, forever (issue 16). Now an unchanged file is parsed once; a new
// file is parsed when it appears, and only it.
func TestUnchangedDAGFolderNotReparsed(t *testing.T) {
	h := newHarness(t, map[string]string{"a.yaml": "id: alpha\n" + oneTask, "b.yaml": "id: bravo\n" + oneTask})
	var parses atomic.Int64
	h.start(func(o *scheduler.Options) {
		o.ParseDAG = func(file string, data []byte, presets dag.Presets) (*dag.DAG, error) {
			parses.Add(1)
			return dag.Parse(file, data, presets)
		}
	})
	// At least ten syncs (50 ms apart) go by.
	it := h.sched.Stats().Iterations
	h.waitFor("ten loop turns", func() bool { return h.sched.Stats().Iterations >= it+10 })
	if got := parses.Load(); got != 2 {
		t.Errorf("parsed %d files over ten syncs of an unchanged folder, want 2 (each once)", got)
	}

	h.writeDAG("c.yaml", "id: charlie\n"+oneTask)
	h.waitFor("charlie stored", func() bool {
		_, err := h.store.GetDAG(h.ctx(), "charlie")
		return err == nil
	})
	if got := parses.Load(); got != 3 {
		t.Errorf("parsed %d files after one was added, want 3", got)
	}
	if got := h.sched.Stats().DAGFilesParsed; got != 3 {
		t.Errorf("Stats().DAGFilesParsed = %d, want 3", got)
	}
}

// Parsing happens off the loop: while a parse is held, the loop keeps
// turning, its heartbeat stays fresh and a run goes from trigger to end.
// When the loop parsed the folder itself, a 60,000-task file held it past
// its heartbeat and the watchdog restarted the process (issue 16).
func TestLoopBeatsWhileDAGFolderParses(t *testing.T) {
	h := newHarness(t, map[string]string{"chain.yaml": chain})
	var hold atomic.Bool
	entered, release := make(chan struct{}), make(chan struct{})
	h.start(func(o *scheduler.Options) {
		o.ParseDAG = func(file string, data []byte, presets dag.Presets) (*dag.DAG, error) {
			if hold.CompareAndSwap(true, false) {
				close(entered)
				<-release
			}
			return dag.Parse(file, data, presets)
		}
	})
	released := false
	t.Cleanup(func() {
		if !released {
			close(release)
		}
	})
	hold.Store(true)
	h.writeDAG("slow.yaml", "id: slow\n"+oneTask)
	select {
	case <-entered:
	case <-time.After(15 * time.Second):
		t.Fatal("slow.yaml was not parsed within 15s")
	}

	// The parse is held; the loop still turns and beats.
	it := h.sched.Stats().Iterations
	h.waitFor("ten loop turns during the parse", func() bool { return h.sched.Stats().Iterations >= it+10 })
	for _, hb := range h.wd.Snapshot() {
		if hb.Name == "scheduler.loop" && hb.Stale {
			t.Errorf("loop heartbeat stale during the parse: %+v", hb)
		}
	}
	runID := h.trigger("chain")
	if run := h.waitRun("chain", runID); run.State != scheduler.RunSuccess {
		t.Fatalf("run during the parse ended %s", run.State)
	}
	if _, err := h.store.GetDAG(h.ctx(), "slow"); err == nil {
		t.Fatal("slow stored while its parse is held")
	}

	close(release)
	released = true
	h.waitFor("slow stored once parsed", func() bool {
		_, err := h.store.GetDAG(h.ctx(), "slow")
		return err == nil
	})
}
