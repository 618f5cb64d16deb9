package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

// A store that keeps pools (scheduler.PoolStore) is held to this too:
//   - a new store has dag.DefaultPool, without a limit;
//   - SetPool and DeletePool record each change, with its actor and
//     reason, in PoolHistory; DeletePool refuses dag.DefaultPool and a pool queued
//     or running tasks hold slots of (scheduler.ErrPoolInUse);
//   - Apply refuses a change into queued that would take more slots than
//     the task's pool has free, counted over every queued and running
//     instance of the pool, with scheduler.ErrPoolFull (ErrNoPool for a
//     pool that does not exist), and leaves the instance and its history
//     as they were; of concurrent Apply calls racing for a pool's last
//     slot exactly one wins.
var poolTests = []struct {
	name string
	test func(t *testing.T, s scheduler.Store)
}{
	{"PoolSetListDelete", testPoolSetListDelete},
	{"PoolApplyFull", testPoolApplyFull},
	{"PoolApplyBatch", testPoolApplyBatch},
	{"PoolApplyMissingAndDefault", testPoolApplyMissingAndDefault},
	{"PoolDeleteInUse", testPoolDeleteInUse},
	{"PoolApplyRace", testPoolApplyRace},
}

var cliActor = scheduler.Actor{Component: "cli", Instance: "laptop:99"}

func pools(t *testing.T, s scheduler.Store) scheduler.PoolStore {
	t.Helper()
	ps, ok := s.(scheduler.PoolStore)
	if !ok {
		t.Skipf("%T does not keep pools", s)
	}
	return ps
}

func setPool(t *testing.T, ps scheduler.PoolStore, name string, slots int) {
	t.Helper()
	if err := ps.SetPool(t.Context(), scheduler.Pool{Name: name, Slots: slots, UpdatedAt: t0, UpdatedBy: cliActor}); err != nil {
		t.Fatalf("SetPool(%s, %d): %v", name, slots, err)
	}
}

func poolStatus(t *testing.T, ps scheduler.PoolStore, name string) scheduler.PoolStatus {
	t.Helper()
	all, err := ps.ListPools(t.Context())
	if err != nil {
		t.Fatalf("ListPools: %v", err)
	}
	for _, p := range all {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("ListPools has no pool %s: %+v", name, all)
	return scheduler.PoolStatus{}
}

// createPoolRun creates run r1 of DAG etl with tasks in the given pools:
// "name" or "name*slots".
func createPoolRun(t *testing.T, s scheduler.Store, runID string, tasks map[string]string) {
	t.Helper()
	run := newRun("etl", runID, t0, false)
	if _, err := s.GetDAG(t.Context(), "etl"); errors.Is(err, scheduler.ErrNotFound) {
		if err := s.SaveDAG(t.Context(), dagRecord("etl")); err != nil {
			t.Fatalf("SaveDAG: %v", err)
		}
	}
	var tis []scheduler.TaskInstance
	for id, pool := range tasks {
		spec := dag.TaskSpec{Command: []string{"true"}}
		name, slots, _ := strings.Cut(pool, "*")
		spec.Pool = name
		if slots != "" {
			fmt.Sscan(slots, &spec.PoolSlots)
		}
		tis = append(tis, scheduler.TaskInstance{TaskKey: key("etl", runID, id), Spec: spec})
	}
	if created, err := s.CreateRun(t.Context(), run, tis, "test run"); err != nil || !created {
		t.Fatalf("CreateRun = %v, %v", created, err)
	}
}

func queue(k scheduler.TaskKey) scheduler.Change {
	return change(k, scheduler.StateScheduled, scheduler.StateQueued, t0.Add(time.Minute), schedulerActor)
}

func testPoolSetListDelete(t *testing.T, s scheduler.Store) {
	ps := pools(t, s)
	ctx := t.Context()
	all, err := ps.ListPools(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].Name != dag.DefaultPool || all[0].Slots != scheduler.UnlimitedSlots {
		t.Fatalf("a new store's pools: %+v; want %s alone, unlimited", all, dag.DefaultPool)
	}
	p := scheduler.Pool{Name: "warehouse", Slots: 4, Description: "the warehouse's connections", UpdatedAt: t0, UpdatedBy: cliActor}
	if err := ps.SetPool(ctx, p); err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "pool after SetPool", poolStatus(t, ps, "warehouse"), scheduler.PoolStatus{Pool: p})
	p2 := p
	p2.Slots, p2.Description, p2.UpdatedAt, p2.Reason = 6, "more", t0.Add(time.Hour), "month end"
	if err := ps.SetPool(ctx, p2); err != nil {
		t.Fatal(err)
	}
	p2.Reason = "" // recorded in the change only
	mustEqual(t, "pool after a second SetPool", poolStatus(t, ps, "warehouse"), scheduler.PoolStatus{Pool: p2})

	for _, bad := range []scheduler.Pool{{Name: "no spaces", Slots: 1}, {Name: "ok", Slots: -2}} {
		if err := ps.SetPool(ctx, bad); err == nil {
			t.Errorf("SetPool(%+v) = nil; want an error", bad)
		}
	}
	if err := ps.DeletePool(ctx, dag.DefaultPool, cliActor, t0, ""); err == nil {
		t.Errorf("DeletePool(%s) = nil; want an error", dag.DefaultPool)
	}
	mustBe(t, "DeletePool of an unknown pool", ps.DeletePool(ctx, "nope", cliActor, t0, ""), scheduler.ErrNotFound)
	if err := ps.DeletePool(ctx, "warehouse", cliActor, t0.Add(2*time.Hour), "drained"); err != nil {
		t.Fatal(err)
	}
	if all, _ := ps.ListPools(ctx); len(all) != 1 {
		t.Errorf("pools after delete: %+v", all)
	}
	hist, err := ps.PoolHistory(ctx, "warehouse")
	if err != nil {
		t.Fatal(err)
	}
	four := 4
	six := 6
	want := []scheduler.PoolChange{
		{Pool: "warehouse", At: t0, By: cliActor, Action: "set", Slots: 4, Description: "the warehouse's connections"},
		{Pool: "warehouse", At: t0.Add(time.Hour), By: cliActor, Action: "set", Slots: 6, PrevSlots: &four, Description: "more", Reason: "month end"},
		{Pool: "warehouse", At: t0.Add(2 * time.Hour), By: cliActor, Action: "delete", Slots: 6, PrevSlots: &six, Description: "more", Reason: "drained"},
	}
	if len(hist) != len(want) {
		t.Fatalf("history: %+v; want %d records", hist, len(want))
	}
	for i := range hist {
		if i > 0 && hist[i].Seq <= hist[i-1].Seq {
			t.Errorf("history seq not increasing: %+v", hist)
		}
		hist[i].Seq = 0
		mustEqual(t, fmt.Sprintf("history[%d]", i), hist[i], want[i])
	}
	if all, err := ps.PoolHistory(ctx, ""); err != nil || len(all) != 3 {
		t.Errorf("PoolHistory(\"\") = %d records, %v; want 3", len(all), err)
	}
}

func testPoolApplyFull(t *testing.T, s scheduler.Store) {
	ps := pools(t, s)
	setPool(t, ps, "p", 2)
	createPoolRun(t, s, "r1", map[string]string{"a": "p", "b": "p", "c": "p", "big": "p*3", "pair": "p*2"})
	k := func(id string) scheduler.TaskKey { return key("etl", "r1", id) }
	applyOK(t, s, queue(k("a")))
	applyOK(t, s, queue(k("b")))
	for _, id := range []string{"c", "big"} {
		r := apply(t, s, queue(k(id)))[0]
		mustBe(t, "queue "+id+" into a full pool", r.Err, scheduler.ErrPoolFull)
		if ti := getTask(t, s, k(id)); ti.State != scheduler.StateScheduled || ti.Version != 0 {
			t.Errorf("refused %s is %s version %d; want scheduled version 0", id, ti.State, ti.Version)
		}
		if n := len(history(t, s, k(id))); n != 1 {
			t.Errorf("refused %s has %d history records; want 1 (no record of the refusal)", id, n)
		}
	}
	st := poolStatus(t, ps, "p")
	if st.Occupied != 2 || st.Queued != 2 || st.Running != 0 || st.Scheduled != 3 {
		t.Errorf("pool p: %+v; want 2 occupied, 2 queued, 3 scheduled", st)
	}
	// A running task holds its slot; one that ends gives it back.
	applyOK(t, s, change(k("a"), scheduler.StateQueued, scheduler.StateRunning, t0.Add(2*time.Minute), executorActor))
	mustBe(t, "queue c beside two active", apply(t, s, queue(k("c")))[0].Err, scheduler.ErrPoolFull)
	applyOK(t, s, change(k("a"), scheduler.StateRunning, scheduler.StateSuccess, t0.Add(3*time.Minute), executorActor))
	applyOK(t, s, queue(k("c")))
	// More slots than the pool has in all: refused whatever is free.
	applyOK(t, s, change(k("b"), scheduler.StateQueued, scheduler.StateFailed, t0.Add(3*time.Minute), executorActor))
	applyOK(t, s, change(k("c"), scheduler.StateQueued, scheduler.StateFailed, t0.Add(3*time.Minute), executorActor))
	r := apply(t, s, queue(k("big")))[0]
	mustBe(t, "queue a task needing 3 of 2 slots", r.Err, scheduler.ErrPoolFull)
	if !strings.Contains(r.Err.Error(), "vigil pools set p --slots 3") {
		t.Errorf("error %q does not say how to make room", r.Err)
	}
	applyOK(t, s, queue(k("pair")))
	if st := poolStatus(t, ps, "p"); st.Occupied != 2 || st.Queued != 1 {
		t.Errorf("pool p with a 2-slot task queued: %+v; want 2 occupied, 1 queued", st)
	}
	// Raising the limit makes room at once.
	setPool(t, ps, "p", 5)
	applyOK(t, s, queue(k("big")))
}

func testPoolApplyBatch(t *testing.T, s scheduler.Store) {
	ps := pools(t, s)
	setPool(t, ps, "p", 1)
	createPoolRun(t, s, "r1", map[string]string{"a": "p", "b": "p", "c": "p"})
	k := func(id string) scheduler.TaskKey { return key("etl", "r1", id) }
	rs := apply(t, s, queue(k("a")), queue(k("b")))
	if rs[0].Err != nil {
		t.Fatalf("first of the batch: %v", rs[0].Err)
	}
	mustBe(t, "second of a batch into a 1-slot pool", rs[1].Err, scheduler.ErrPoolFull)
	// A slot freed earlier in the batch may be taken later in it.
	rs = apply(t, s, change(k("a"), scheduler.StateQueued, scheduler.StateUpForRetry, t0.Add(time.Minute), executorActor), queue(k("b")))
	for i, r := range rs {
		if r.Err != nil {
			t.Errorf("change %d of a free-then-take batch: %v", i, r.Err)
		}
	}
	// A retry takes a slot like a first try.
	retry := change(k("a"), scheduler.StateUpForRetry, scheduler.StateQueued, t0.Add(time.Hour), schedulerActor)
	mustBe(t, "retry into a full pool", apply(t, s, retry)[0].Err, scheduler.ErrPoolFull)
	if ti := getTask(t, s, k("a")); ti.State != scheduler.StateUpForRetry || ti.Try != 1 {
		t.Errorf("refused retry: %s try %d; want up_for_retry try 1", ti.State, ti.Try)
	}
	// Zero slots stop the pool.
	applyOK(t, s, change(k("b"), scheduler.StateQueued, scheduler.StateSuccess, t0.Add(time.Minute), executorActor))
	setPool(t, ps, "p", 0)
	mustBe(t, "queue into a pool of 0 slots", apply(t, s, queue(k("c")))[0].Err, scheduler.ErrPoolFull)
	setPool(t, ps, "p", scheduler.UnlimitedSlots)
	applyOK(t, s, queue(k("c")))
	applyOK(t, s, retry)
}

func testPoolApplyMissingAndDefault(t *testing.T, s scheduler.Store) {
	ps := pools(t, s)
	createPoolRun(t, s, "r1", map[string]string{"a": "nowhere", "b": "", "c": "", "d": dag.DefaultPool})
	k := func(id string) scheduler.TaskKey { return key("etl", "r1", id) }
	r := apply(t, s, queue(k("a")))[0]
	mustBe(t, "queue into a pool that does not exist", r.Err, scheduler.ErrNoPool)
	if r.Err != nil && !strings.Contains(r.Err.Error(), "vigil pools set nowhere --slots N") {
		t.Errorf("error %q does not say how to create the pool", r.Err)
	}
	if st := poolStatus(t, ps, "nowhere"); !st.Missing || st.Scheduled != 1 {
		t.Errorf("ListPools for a pool tasks name but nobody made: %+v; want missing, 1 scheduled", st)
	}
	setPool(t, ps, "nowhere", 1)
	applyOK(t, s, queue(k("a")))
	// The default pool has no limit until one is set; then it holds.
	applyOK(t, s, queue(k("b")))
	setPool(t, ps, dag.DefaultPool, 1)
	for _, id := range []string{"c", "d"} {
		mustBe(t, "queue "+id+" into a full default pool", apply(t, s, queue(k(id)))[0].Err, scheduler.ErrPoolFull)
	}
	if st := poolStatus(t, ps, dag.DefaultPool); st.Occupied != 1 || st.Slots != 1 {
		t.Errorf("default pool: %+v; want 1 of 1 occupied", st)
	}
}

func testPoolDeleteInUse(t *testing.T, s scheduler.Store) {
	ps := pools(t, s)
	setPool(t, ps, "p", 3)
	createPoolRun(t, s, "r1", map[string]string{"a": "p", "b": "p"})
	applyOK(t, s, queue(key("etl", "r1", "a")))
	err := ps.DeletePool(t.Context(), "p", cliActor, t0, "")
	mustBe(t, "delete a pool a queued task holds", err, scheduler.ErrPoolInUse)
	if err != nil && !strings.Contains(err.Error(), "etl/r1/a") {
		t.Errorf("error %q does not name the task", err)
	}
	if st := poolStatus(t, ps, "p"); st.Missing || st.Slots != 3 {
		t.Errorf("pool after a refused delete: %+v", st)
	}
	applyOK(t, s, change(key("etl", "r1", "a"), scheduler.StateQueued, scheduler.StateFailed, t0.Add(time.Minute), executorActor))
	if err := ps.DeletePool(t.Context(), "p", cliActor, t0, ""); err != nil {
		t.Fatalf("delete a pool only scheduled tasks name: %v", err)
	}
	mustBe(t, "queue into a deleted pool", apply(t, s, queue(key("etl", "r1", "b")))[0].Err, scheduler.ErrNoPool)
}

// testPoolApplyRace queues distinct instances of one pool from several
// goroutines at once, each its own Apply: as many win as the pool has
// slots, whatever the interleaving (in a shared store, each goroutine
// could be another scheduler).
func testPoolApplyRace(t *testing.T, s scheduler.Store) {
	ps := pools(t, s)
	const n, slots, rounds = 8, 1, 3
	for round := range rounds {
		runID := fmt.Sprintf("r%d", round)
		pool := fmt.Sprintf("race%d", round)
		setPool(t, ps, pool, slots)
		tasks := map[string]string{}
		for i := range n {
			tasks[fmt.Sprintf("t%d", i)] = pool
		}
		createPoolRun(t, s, runID, tasks)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				results, err := s.Apply(t.Context(), []scheduler.Change{queue(key("etl", runID, fmt.Sprintf("t%d", i)))})
				if err != nil {
					errs[i] = fmt.Errorf("store: %w", err)
					return
				}
				errs[i] = results[0].Err
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, scheduler.ErrPoolFull):
				t.Errorf("round %d goroutine %d: %v; want success or %v", round, i, err, scheduler.ErrPoolFull)
			}
		}
		if won != slots {
			t.Errorf("round %d: %d goroutines queued into a pool of %d slots, want %d", round, won, slots, slots)
		}
		if st := poolStatus(t, ps, pool); st.Occupied != slots {
			t.Errorf("round %d: pool %+v; want %d occupied", round, st, slots)
		}
	}
}
