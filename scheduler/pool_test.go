package scheduler_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/store/sqlite"
)

// refusalCounter is the harness's SQLite store, counting the changes its
// Apply refused for their pool.
type refusalCounter struct {
	*sqlite.Store
	refused atomic.Int32
}

func (s *refusalCounter) Apply(ctx context.Context, changes []scheduler.Change) ([]scheduler.ChangeResult, error) {
	rs, err := s.Store.Apply(ctx, changes)
	for _, r := range rs {
		if scheduler.IsPoolRefusal(r.Err) {
			s.refused.Add(1)
		}
	}
	return rs, err
}

func started(h *harness) []string {
	var ids []string
	for _, k := range h.exec.Started() {
		ids = append(ids, k.TaskID)
	}
	return ids
}

// finishNext waits until the tasks started are want, at most one of
// them running, and finishes the last.
func finishNext(h *harness, runID string, want []string) {
	h.t.Helper()
	h.waitFor("start of "+want[len(want)-1], func() bool { return len(h.exec.Started()) >= len(want) })
	if got := started(h); !slices.Equal(got, want) {
		h.t.Fatalf("tasks started in the order %v, want %v", got, want)
	}
	var inPool []string
	for _, k := range h.exec.Running() {
		if k.TaskID != "free" {
			inPool = append(inPool, k.TaskID)
		}
	}
	if len(inPool) > 1 {
		h.t.Fatalf("tasks %v running at once in a pool of 1 slot", inPool)
	}
	k := scheduler.TryKey{TaskKey: scheduler.TaskKey{DAGID: "pooled", RunID: runID, TaskID: want[len(want)-1]}, Try: 1}
	if err := h.exec.Finish(k, 0); err != nil {
		h.t.Fatal(err)
	}
}

const pooled = `
id: pooled
defaults:
  pool: narrow
tasks:
  - id: low
    command: [sleep, "60"]
  - id: high
    command: [sleep, "60"]
    priority: 10
  - id: mid
    command: [sleep, "60"]
    priority: 5
  - id: free
    command: [sleep, "60"]
    pool: default_pool
    priority: -1
`

// TestPoolWaitsByPriority: a pool of one slot runs its tasks one at a
// time, highest priority first; the others wait scheduled, with nothing
// in their history and without a store call per turn of the loop; a task
// of another pool is not held up by them.
func TestPoolWaitsByPriority(t *testing.T) {
	h := newHarness(t, map[string]string{"pooled.yaml": pooled})
	if err := h.store.SetPool(h.ctx(), scheduler.Pool{Name: "narrow", Slots: 1, UpdatedAt: time.Now(), UpdatedBy: scheduler.Actor{Component: "test"}}); err != nil {
		t.Fatal(err)
	}
	st := &refusalCounter{Store: h.store}
	h.start(func(o *scheduler.Options) { o.Store, o.SyncInterval = st, 100*time.Millisecond })
	runID := h.trigger("pooled")

	h.waitFor("two starts", func() bool { return len(h.exec.Started()) >= 2 })
	if got := started(h); !slices.Contains(got, "free") || !slices.Contains(got, "high") {
		t.Fatalf("first starts %v; want high (of the pool) and free (of the default pool)", got)
	}
	h.waitFor("a refusal", func() bool { return st.refused.Load() > 0 })
	before := st.refused.Load()
	time.Sleep(time.Second)
	// The waiting tasks are tried again at each sync (10 in a second
	// here), not at each turn of the loop.
	n := st.refused.Load() - before
	t.Logf("%d refused queue attempts in about a second of waiting", n)
	if n > 40 {
		t.Fatalf("%d refused queue attempts in about a second: the loop retries a full pool without waiting", n)
	}
	if got := started(h); len(got) != 2 {
		t.Fatalf("tasks started %v while the pool's one slot was taken", got)
	}
	for _, id := range []string{"mid", "low"} {
		wantHistory(t, h.history("pooled", runID, id), "→scheduled")
		if ti := h.task("pooled", runID, id); ti.State != scheduler.StateScheduled {
			t.Fatalf("%s is %s while it waits for the pool; want scheduled", id, ti.State)
		}
	}
	if got := h.sched.Stats().Blocked; got != 2 {
		t.Errorf("Stats().Blocked = %d; want the 2 tasks waiting for the pool", got)
	}

	order := started(h)
	k := scheduler.TryKey{TaskKey: scheduler.TaskKey{DAGID: "pooled", RunID: runID, TaskID: "high"}, Try: 1}
	if err := h.exec.Finish(k, 0); err != nil {
		t.Fatal(err)
	}
	finishNext(h, runID, append(order, "mid"))
	finishNext(h, runID, append(order, "mid", "low"))
	k.TaskID = "free"
	if err := h.exec.Finish(k, 0); err != nil {
		t.Fatal(err)
	}
	if run := h.waitRun("pooled", runID); run.State != scheduler.RunSuccess {
		t.Fatalf("run ended %s", run.State)
	}
}

// TestPoolMissingWaits: a task of a pool nobody created waits, and runs
// once the pool is set.
func TestPoolMissingWaits(t *testing.T) {
	h := newHarness(t, map[string]string{"ghost.yaml": "id: ghost\ntasks:\n  - id: g\n    command: [\"true\"]\n    pool: ghost\n"})
	st := &refusalCounter{Store: h.store}
	h.start(func(o *scheduler.Options) { o.Store = st })
	runID := h.trigger("ghost")
	h.waitFor("a refusal", func() bool { return st.refused.Load() > 0 })
	if n := len(h.exec.Started()); n != 0 {
		t.Fatalf("%d tasks started in a pool that does not exist", n)
	}
	all, err := h.store.ListPools(h.ctx())
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(all, func(p scheduler.PoolStatus) bool { return p.Name == "ghost" })
	if i < 0 || !all[i].Missing || all[i].Scheduled != 1 {
		t.Fatalf("ListPools = %+v; want ghost missing with 1 task scheduled", all)
	}
	if err := h.store.SetPool(h.ctx(), scheduler.Pool{Name: "ghost", Slots: 1, UpdatedAt: time.Now(), UpdatedBy: scheduler.Actor{Component: "test"}}); err != nil {
		t.Fatal(err)
	}
	if run := h.waitRun("ghost", runID); run.State != scheduler.RunSuccess {
		t.Fatalf("run ended %s", run.State)
	}
	wantHistory(t, h.history("ghost", runID, "g"), "→scheduled", "scheduled→queued", "queued→running", "running→success")
}

// TestPriorityUnderParallelism: with one slot of parallelism and no pool,
// ready tasks start highest priority first, whatever their order in the
// file.
func TestPriorityUnderParallelism(t *testing.T) {
	h := newHarness(t, map[string]string{"pooled.yaml": strings.Replace(pooled, "defaults:\n  pool: narrow\n", "", 1)})
	h.start(func(o *scheduler.Options) { o.Parallelism = 1 })
	runID := h.trigger("pooled")
	var order []string
	for _, id := range []string{"high", "mid", "low", "free"} {
		order = append(order, id)
		finishNext(h, runID, order)
	}
	if run := h.waitRun("pooled", runID); run.State != scheduler.RunSuccess {
		t.Fatalf("run ended %s", run.State)
	}
}
