package scheduler_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

// inventory is an executor's view of its platform, as a test sets it.
type inventory struct {
	scheduler.Executor
	workloads []scheduler.Workload
}

func (i inventory) Inventory(context.Context) ([]scheduler.Workload, error) { return i.workloads, nil }

func TestBuildAudit(t *testing.T) {
	h := newHarness(t, nil)
	rec := scheduler.DAGRecord{ID: "w", File: "w.yaml", Source: []byte("id: w"), Specs: map[string]dag.TaskSpec{}}
	for _, id := range []string{"gone", "ended", "never", "fine", "reused", "pending", "refused", "slot", "quota"} {
		rec.Specs[id] = dag.TaskSpec{Command: []string{"true"}}
	}
	if err := h.store.SaveDAG(h.ctx(), rec); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	run, tis, err := scheduler.NewRun(rec, "r1", now, true, scheduler.Actor{Component: "test"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.CreateRun(h.ctx(), run, tis, "test"); err != nil {
		t.Fatal(err)
	}
	key := func(task string) scheduler.TaskKey { return scheduler.TaskKey{DAGID: "w", RunID: "r1", TaskID: task} }
	try := func(task string, n int) scheduler.TryKey { return scheduler.TryKey{TaskKey: key(task), Try: n} }
	for _, task := range []string{"gone", "ended", "fine"} {
		h.setState(key(task), scheduler.StateQueued, scheduler.StateRunning)
	}
	h.setState(key("never"), scheduler.StateQueued)
	h.setState(key("reused"), scheduler.StateQueued, scheduler.StateRunning, scheduler.StateSuccess)
	h.setState(key("pending"), scheduler.StateQueued)
	// Every submit refused: queued and requeued, twice; "slot" was never
	// queued (it waits for parallelism), which is no fault.
	h.setState(key("refused"), scheduler.StateQueued, scheduler.StateScheduled, scheduler.StateQueued, scheduler.StateScheduled)
	// Refused by the quota, waiting queued (issue 16): not lost.
	h.setState(key("quota"), scheduler.StateQueued)
	if res, err := h.store.Apply(h.ctx(), []scheduler.Change{{Key: key("quota"), From: scheduler.StateQueued, To: scheduler.StateQueued,
		Reason: "waiting for quota: exceeded quota: q; try 1 stays queued", Actor: scheduler.Actor{Component: "test"}, At: now}}); err != nil || res[0].Err != nil {
		t.Fatal(err, res)
	}

	later := now.Add(10 * time.Minute) // past every grace and lost threshold
	inv := inventory{Executor: h.exec, workloads: []scheduler.Workload{
		{Key: try("ended", 1), ExternalID: "pod/ended", Phase: "Succeeded", Created: now, Ended: now.Add(time.Second)},
		{Key: try("fine", 1), ExternalID: "pod/fine", Phase: "Running", Created: now, Tracked: true},
		{Key: try("reused", 1), ExternalID: "pod/reused", Phase: "Running", Created: now},
		{Key: try("pending", 1), ExternalID: "pod/pending", Phase: "Pending", Created: now, Tracked: true,
			Reason: "Unschedulable: 0/1 nodes are available: 1 Insufficient cpu."},
		{Key: scheduler.TryKey{TaskKey: scheduler.TaskKey{DAGID: "w", RunID: "r0", TaskID: "old"}, Try: 1}, ExternalID: "pod/old", Phase: "Pending", Created: now},
		// Being deleted, or younger than the grace: not orphans.
		{Key: try("gone", 9), ExternalID: "pod/deleting", Phase: "Running", Created: now, Deleting: true},
		{Key: try("gone", 8), ExternalID: "pod/new", Phase: "Running", Created: later.Add(-time.Second)},
	}}
	a, err := scheduler.BuildAudit(h.ctx(), h.store, h.exec, inv, scheduler.AuditOptions{
		LostAfter: 2 * time.Minute, Grace: 30 * time.Second, Now: func() time.Time { return later }})
	if err != nil {
		t.Fatal(err)
	}
	names := func(fs []scheduler.AuditFinding) string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Task.TaskID)
		}
		return strings.Join(out, ",")
	}
	if got := names(a.Zombies); got != "ended,gone" {
		t.Errorf("zombies = %q, want ended,gone", got)
	}
	if got := names(a.Lost); got != "never" {
		t.Errorf("lost = %q, want never", got)
	}
	if got := names(a.Orphans); got != "old,reused" {
		t.Errorf("orphans = %q, want old,reused", got)
	}
	if got := names(a.Pending); got != "pending" || !strings.Contains(a.Pending[0].Why, "pod/pending Pending for 10m0s: Unschedulable: 0/1 nodes are available: 1 Insufficient cpu.") {
		t.Errorf("pending = %q %+v, want pending naming its reason", got, a.Pending)
	}
	if got := names(a.NotStarting); got != "refused,quota" || !strings.Contains(a.NotStarting[0].Why, "try 1 first queued 10m0s ago and never started; requeued 2 times, the last: set up by test") ||
		len(a.NotStarting[0].History) != 3 || a.NotStarting[0].History[1].Repeats != 1 || a.NotStarting[0].History[2].Repeats != 1 {
		t.Errorf("not starting = %q %+v, want refused, requeued 2 times, with its history (the requeue cycle collapsed: 3 records), then quota", got, a.NotStarting)
	}
	if len(a.NotStarting) == 2 && a.NotStarting[1].Why != "try 1 queued and never started: the executor refuses it (recorded 10m0s ago): waiting for quota: exceeded quota: q; try 1 stays queued" {
		t.Errorf("quota: why = %q", a.NotStarting[1].Why)
	}
	if a.Live != 6 || a.Workloads != 7 || a.Findings() != 8 {
		t.Errorf("compared %d live instances and %d workloads with %d findings, want 6, 7 and 8", a.Live, a.Workloads, a.Findings())
	}
	for _, f := range a.Zombies {
		if len(f.History) != 3 { // scheduled, queued, running
			t.Errorf("zombie %s has %d transitions in its history, want 3", f.Task, len(f.History))
		}
		if f.Task.TaskID == "ended" && !strings.Contains(f.Why, "pod/ended Succeeded") {
			t.Errorf("zombie ended: why = %q", f.Why)
		}
	}
	for _, f := range a.Orphans {
		switch f.Task.TaskID {
		case "reused":
			if f.State != scheduler.StateSuccess || !strings.Contains(f.Why, "success at try 1") {
				t.Errorf("orphan reused: state %q, why %q", f.State, f.Why)
			}
		case "old":
			if f.State != "" || !strings.Contains(f.Why, "does not have") {
				t.Errorf("orphan old: state %q, why %q", f.State, f.Why)
			}
		}
	}

	// Within the grace nothing is reported.
	a, err = scheduler.BuildAudit(h.ctx(), h.store, h.exec, inv, scheduler.AuditOptions{
		LostAfter: 2 * time.Minute, Grace: time.Hour, Now: func() time.Time { return later }})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(a.Zombies) + len(a.Lost) + len(a.Orphans) + len(a.Pending); n != 0 {
		t.Errorf("%d findings within the grace, want none: %+v", n, a)
	}
}
