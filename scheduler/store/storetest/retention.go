package storetest

import (
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
)

// retentionTests hold stores to scheduler.PurgeStore (issue 18).
var retentionTests = []struct {
	name string
	test func(t *testing.T, s scheduler.Store)
}{
	{"PurgeOldEnded", testPurgeOldEnded},
	{"PurgeBatchBound", testPurgeBatchBound},
	{"PurgeInstanceBound", testPurgeInstanceBound},
	{"PurgeCount", testPurgeCount},
	{"PurgeConcurrent", testPurgeConcurrent},
}

func purger(t *testing.T, s scheduler.Store) scheduler.PurgeStore {
	t.Helper()
	ps, ok := s.(scheduler.PurgeStore)
	if !ok {
		t.Fatalf("%T does not implement scheduler.PurgeStore", s)
	}
	return ps
}

// purgeCutoff is the cutoff of the retention fixture: runs that ended
// before it are old.
var purgeCutoff = t0.Add(5 * 24 * time.Hour)

// The fixture's old ended runs, oldest end first: what a purge takes.
var purgeOld = []scheduler.RunRef{{DAGID: "etl", RunID: "old-success"}, {DAGID: "etl", RunID: "old-failed"}, {DAGID: "web", RunID: "old-cancelled"}}

// purgeFixture stores, each with tasks a and b and some history:
//   - old-success (scheduled), old-failed (manual), old-cancelled (web,
//     manual): ended long before purgeCutoff; old-success has a done
//     operation;
//   - old-running: created long before, still running;
//   - reopened: ended long before, then reopened (running again);
//   - old-open-op: ended long before, with an operation still pending;
//   - latest: etl's latest scheduled run, ended long before;
//   - recent: ended after the cutoff.
//
// It returns the runs that must be kept.
func purgeFixture(t *testing.T, s scheduler.Store) (kept []scheduler.RunRef) {
	t.Helper()
	ctx := t.Context()
	day := 24 * time.Hour
	type fix struct {
		dag, run string
		logical  time.Time
		manual   bool
		end      scheduler.RunState
		endedAt  time.Time
	}
	fixes := []fix{
		{"etl", "old-running", t0, true, "", time.Time{}},
		{"etl", "old-success", t0.Add(day), false, scheduler.RunSuccess, t0.Add(day + time.Hour)},
		{"etl", "old-failed", t0.Add(day), true, scheduler.RunFailed, t0.Add(day + 2*time.Hour)},
		{"web", "old-cancelled", t0.Add(day), true, scheduler.RunCancelled, t0.Add(day + 3*time.Hour)},
		{"etl", "reopened", t0.Add(day), true, scheduler.RunFailed, t0.Add(day)},
		{"etl", "old-open-op", t0.Add(day), true, scheduler.RunSuccess, t0.Add(day)},
		{"etl", "latest", t0.Add(2 * day), false, scheduler.RunSuccess, t0.Add(2 * day)},
		{"etl", "recent", t0.Add(9 * day), true, scheduler.RunSuccess, t0.Add(10 * day)},
	}
	for _, f := range fixes {
		createRun(t, s, newRun(f.dag, f.run, f.logical, f.manual), "a", "b")
		k := key(f.dag, f.run, "a")
		at := f.logical.Add(time.Minute)
		applyOK(t, s, change(k, scheduler.StateScheduled, scheduler.StateQueued, at, schedulerActor))
		applyOK(t, s, change(k, scheduler.StateQueued, scheduler.StateRunning, at.Add(time.Second), executorActor))
		if f.end == "" {
			kept = append(kept, scheduler.RunRef{DAGID: f.dag, RunID: f.run})
			continue
		}
		applyOK(t, s, change(k, scheduler.StateRunning, scheduler.StateSuccess, at.Add(2*time.Second), executorActor))
		if err := s.SetRunState(ctx, f.dag, f.run, f.end, f.endedAt); err != nil {
			t.Fatalf("SetRunState(%s/%s): %v", f.dag, f.run, err)
		}
		switch f.run {
		case "old-success":
			op := submitOp(t, s, scheduler.Op{Kind: scheduler.OpMark, DAGID: f.dag, RunID: f.run, TaskID: "b",
				Args: scheduler.OpArgs{State: scheduler.StateSuccess}, Actor: operator, CreatedAt: f.endedAt})
			if _, err := s.ApplyOp(ctx, scheduler.OpUpdate{ID: op.ID, State: scheduler.OpFailed, Result: "nothing to do", By: "h", At: f.endedAt}, nil); err != nil {
				t.Fatalf("ApplyOp: %v", err)
			}
		case "reopened":
			if err := s.SetRunState(ctx, f.dag, f.run, scheduler.RunRunning, f.endedAt.Add(time.Hour)); err != nil {
				t.Fatalf("SetRunState(reopened, running): %v", err)
			}
		case "old-open-op":
			submitOp(t, s, scheduler.Op{Kind: scheduler.OpClearTasks, DAGID: f.dag, RunID: f.run, TaskID: "a", Actor: operator, CreatedAt: f.endedAt})
		}
		switch f.run {
		case "old-success", "old-failed", "old-cancelled":
		default:
			kept = append(kept, scheduler.RunRef{DAGID: f.dag, RunID: f.run})
		}
	}
	return kept
}

// mustBeGone fails unless the run, its instances, their history and its
// operations are gone.
func mustBeGone(t *testing.T, s scheduler.Store, r scheduler.RunRef) {
	t.Helper()
	ctx := t.Context()
	if _, err := s.GetRun(ctx, r.DAGID, r.RunID); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("GetRun(%s) after purge = %v; want ErrNotFound", r, err)
	}
	tis, err := s.ListTaskInstances(ctx, scheduler.TaskFilter{DAGID: r.DAGID, RunID: r.RunID})
	if err != nil || len(tis) != 0 {
		t.Errorf("instances of %s after purge: %d, %v; want none", r, len(tis), err)
	}
	if _, err := s.History(ctx, key(r.DAGID, r.RunID, "a")); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("History(%s/a) after purge = %v; want ErrNotFound", r, err)
	}
	ops, err := s.ListOps(ctx, scheduler.OpFilter{DAGID: r.DAGID, RunID: r.RunID})
	if err != nil || len(ops) != 0 {
		t.Errorf("operations of %s after purge: %d, %v; want none", r, len(ops), err)
	}
}

// mustBeKept fails unless the run and all its records are still there.
func mustBeKept(t *testing.T, s scheduler.Store, r scheduler.RunRef) {
	t.Helper()
	ctx := t.Context()
	if _, err := s.GetRun(ctx, r.DAGID, r.RunID); err != nil {
		t.Errorf("GetRun(%s), a run to keep: %v", r, err)
		return
	}
	tis, err := s.ListTaskInstances(ctx, scheduler.TaskFilter{DAGID: r.DAGID, RunID: r.RunID})
	if err != nil || len(tis) != 2 {
		t.Errorf("instances of %s, a run to keep: %d, %v; want 2", r, len(tis), err)
	}
	if h := history(t, s, key(r.DAGID, r.RunID, "a")); len(h) < 3 {
		t.Errorf("history of %s/a, a run to keep: %d records; want at least 3", r, len(h))
	}
}

// testPurgeOldEnded: old ended runs go with their instances, history and
// operations; running, reopened, recent runs, a run with an open
// operation and the latest scheduled run stay, whatever their age.
func testPurgeOldEnded(t *testing.T, s scheduler.Store) {
	kept := purgeFixture(t, s)
	runs, n, err := purger(t, s).PurgeRuns(t.Context(), purgeCutoff, scheduler.PurgeLimit{Runs: 100})
	if err != nil {
		t.Fatalf("PurgeRuns: %v", err)
	}
	mustEqual(t, "purged runs (oldest end first)", runs, purgeOld)
	// Each run: 2 instances; a has 4 transitions, b 1; old-success has an op.
	mustEqual(t, "purged counts", n, scheduler.PurgeCount{Runs: 3, Instances: 6, Transitions: 15, Ops: 1})
	for _, r := range purgeOld {
		mustBeGone(t, s, r)
	}
	for _, r := range kept {
		mustBeKept(t, s, r)
	}
	ops, err := s.ListOps(t.Context(), scheduler.OpFilter{DAGID: "etl", RunID: "old-open-op"})
	if err != nil || len(ops) != 1 {
		t.Errorf("the open operation: %d, %v; want it kept", len(ops), err)
	}
	// Nothing left to delete: idempotent.
	runs, n, err = purger(t, s).PurgeRuns(t.Context(), purgeCutoff, scheduler.PurgeLimit{Runs: 100})
	if err != nil || len(runs) != 0 || n != (scheduler.PurgeCount{}) {
		t.Errorf("second PurgeRuns = %v, %+v, %v; want nothing", runs, n, err)
	}
}

// testPurgeBatchBound: limit bounds each call; calls take the oldest first.
func testPurgeBatchBound(t *testing.T, s scheduler.Store) {
	purgeFixture(t, s)
	ps := purger(t, s)
	for i, want := range [][]scheduler.RunRef{purgeOld[:2], purgeOld[2:], nil} {
		runs, n, err := ps.PurgeRuns(t.Context(), purgeCutoff, scheduler.PurgeLimit{Runs: 2})
		if err != nil {
			t.Fatalf("PurgeRuns #%d: %v", i+1, err)
		}
		mustEqual(t, "batch", runs, want)
		if n.Runs != int64(len(want)) {
			t.Errorf("batch %d counted %d runs; want %d", i+1, n.Runs, len(want))
		}
	}
	if _, _, err := ps.PurgeRuns(t.Context(), purgeCutoff, scheduler.PurgeLimit{}); err == nil {
		t.Error("PurgeRuns with limit 0 succeeded; want an error")
	}
}

// testPurgeInstanceBound: a batch takes no further run once those taken
// hold the instance bound, and always takes one run, however large.
func testPurgeInstanceBound(t *testing.T, s scheduler.Store) {
	purgeFixture(t, s)
	ps := purger(t, s)
	// Each old run has 2 instances.
	for i, tc := range []struct {
		lim  scheduler.PurgeLimit
		want []scheduler.RunRef
	}{
		{scheduler.PurgeLimit{Runs: 100, Instances: 1}, purgeOld[:1]},
		{scheduler.PurgeLimit{Runs: 100, Instances: 3}, purgeOld[1:3]},
		{scheduler.PurgeLimit{Runs: 100, Instances: 3}, nil},
	} {
		runs, n, err := ps.PurgeRuns(t.Context(), purgeCutoff, tc.lim)
		if err != nil {
			t.Fatalf("PurgeRuns #%d: %v", i+1, err)
		}
		mustEqual(t, "batch", runs, tc.want)
		if n.Instances != int64(2*len(tc.want)) {
			t.Errorf("batch %d deleted %d instances; want %d", i+1, n.Instances, 2*len(tc.want))
		}
	}
}

// testPurgeCount: the dry run counts what a purge then deletes, and
// deletes nothing itself.
func testPurgeCount(t *testing.T, s scheduler.Store) {
	purgeFixture(t, s)
	ps := purger(t, s)
	n, err := ps.CountPurge(t.Context(), purgeCutoff)
	if err != nil {
		t.Fatalf("CountPurge: %v", err)
	}
	mustEqual(t, "counted", n, scheduler.PurgeCount{Runs: 3, Instances: 6, Transitions: 15, Ops: 1})
	if _, err := s.GetRun(t.Context(), "etl", "old-success"); err != nil {
		t.Fatalf("GetRun after CountPurge: %v; want the run still there", err)
	}
	_, deleted, err := ps.PurgeRuns(t.Context(), purgeCutoff, scheduler.PurgeLimit{Runs: 100})
	if err != nil {
		t.Fatalf("PurgeRuns: %v", err)
	}
	mustEqual(t, "deleted vs counted", deleted, n)
	if n, err := ps.CountPurge(t.Context(), t0); err != nil || n != (scheduler.PurgeCount{}) {
		t.Errorf("CountPurge before every end = %+v, %v; want zero", n, err)
	}
}

// testPurgeConcurrent: several purgers at once (schedulers under HA)
// delete each run once between them.
func testPurgeConcurrent(t *testing.T, s scheduler.Store) {
	purgeFixture(t, s)
	ps := purger(t, s)
	var mu sync.Mutex
	var all []string
	var total int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				runs, n, err := ps.PurgeRuns(t.Context(), purgeCutoff, scheduler.PurgeLimit{Runs: 1})
				if err != nil {
					t.Errorf("PurgeRuns: %v", err)
					return
				}
				if len(runs) == 0 {
					return
				}
				mu.Lock()
				for _, r := range runs {
					all = append(all, r.String())
				}
				total += n.Runs
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sort.Strings(all)
	mustEqual(t, "runs deleted between the purgers", all, []string{"etl/old-failed", "etl/old-success", "web/old-cancelled"})
	if total != 3 {
		t.Errorf("purgers counted %d runs deleted; want 3", total)
	}
}
