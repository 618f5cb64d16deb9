package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
)

var operator = scheduler.Actor{Component: "cli", Instance: "alice@host-b:77"}

func submitOp(t *testing.T, s scheduler.Store, op scheduler.Op) scheduler.Op {
	t.Helper()
	id, err := s.SubmitOp(t.Context(), op)
	if err != nil {
		t.Fatalf("SubmitOp: %v", err)
	}
	op.ID, op.State = id, scheduler.OpPending
	return op
}

// testOpSubmitGetList: an operation reads back as it was submitted,
// pending, with its args; lists are newest first and filtered.
func testOpSubmitGetList(t *testing.T, s scheduler.Store) {
	ctx := t.Context()
	a := submitOp(t, s, scheduler.Op{Kind: scheduler.OpClearTasks, DAGID: "etl", RunID: "r1", TaskID: "load",
		Args:  scheduler.OpArgs{Downstream: true, OnlyFailed: true},
		Actor: operator, Reason: "disk was full", CreatedAt: t0})
	b := submitOp(t, s, scheduler.Op{Kind: scheduler.OpMark, DAGID: "etl", RunID: "r2", TaskID: "load",
		Args: scheduler.OpArgs{State: scheduler.StateSuccess}, Actor: operator, CreatedAt: t0.Add(time.Second)})
	c := submitOp(t, s, scheduler.Op{Kind: scheduler.OpCancelRun, DAGID: "web", RunID: "r1", Actor: operator, CreatedAt: t0.Add(2 * time.Second)})
	if a.ID == 0 || !(a.ID < b.ID && b.ID < c.ID) {
		t.Fatalf("ids %d, %d, %d: want increasing from 1", a.ID, b.ID, c.ID)
	}
	got, err := s.GetOp(ctx, a.ID)
	if err != nil {
		t.Fatalf("GetOp: %v", err)
	}
	mustEqual(t, "operation", got, a)
	if _, err := s.GetOp(ctx, c.ID+100); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("GetOp(unknown) = %v; want ErrNotFound", err)
	}
	for _, tc := range []struct {
		name string
		f    scheduler.OpFilter
		want []scheduler.Op
	}{
		{"all", scheduler.OpFilter{}, []scheduler.Op{c, b, a}},
		{"dag", scheduler.OpFilter{DAGID: "etl"}, []scheduler.Op{b, a}},
		{"run", scheduler.OpFilter{DAGID: "etl", RunID: "r2"}, []scheduler.Op{b}},
		{"open", scheduler.OpFilter{States: []scheduler.OpState{scheduler.OpPending, scheduler.OpStopping}}, []scheduler.Op{c, b, a}},
		{"done", scheduler.OpFilter{States: []scheduler.OpState{scheduler.OpDone}}, nil},
		{"limit", scheduler.OpFilter{Limit: 2}, []scheduler.Op{c, b}},
	} {
		ops, err := s.ListOps(ctx, tc.f)
		if err != nil {
			t.Fatalf("ListOps(%s): %v", tc.name, err)
		}
		mustEqual(t, "ListOps("+tc.name+")", ops, tc.want)
	}
}

// failedInstance creates run etl/r1 with tasks a and b, runs a to failed
// at its first try and returns its key.
func failedInstance(t *testing.T, s scheduler.Store) scheduler.TaskKey {
	createRun(t, s, newRun("etl", "r1", t0, false), "a", "b")
	k := key("etl", "r1", "a")
	S, Q, R, F := scheduler.StateScheduled, scheduler.StateQueued, scheduler.StateRunning, scheduler.StateFailed
	applyOK(t, s, change(k, S, Q, t0.Add(time.Minute), schedulerActor))
	applyOK(t, s, change(k, Q, R, t0.Add(2*time.Minute), executorActor))
	c := change(k, R, F, t0.Add(3*time.Minute), executorActor)
	c.ExitCode = new(int)
	*c.ExitCode = 3
	applyOK(t, s, c)
	return k
}

func clearChange(k scheduler.TaskKey, from scheduler.State, at time.Time) scheduler.Change {
	return scheduler.Change{Key: k, From: from, To: scheduler.StateScheduled, Reason: "cleared by hand (operation 1)",
		Actor: operator, At: at, Manual: true}
}

// testApplyOpClear: a clear moves an ended instance back to scheduled in
// the transaction that closes the operation; the next try is a new one,
// the earlier tries do not count against the retries, and the history
// keeps them, with the operator's record marked manual. The operation
// applies once.
func testApplyOpClear(t *testing.T, s scheduler.Store) {
	ctx := t.Context()
	k := failedInstance(t, s)
	op := submitOp(t, s, scheduler.Op{Kind: scheduler.OpClearTasks, DAGID: "etl", RunID: "r1", TaskID: "a", Actor: operator, CreatedAt: t0})
	at := t0.Add(4 * time.Minute)
	u := scheduler.OpUpdate{ID: op.ID, State: scheduler.OpDone, Result: "1 task(s): a failed→scheduled", By: "host-a:4242", At: at}
	results, err := s.ApplyOp(ctx, u, []scheduler.Change{clearChange(k, scheduler.StateFailed, at)})
	if err != nil || len(results) != 1 || results[0].Err != nil {
		t.Fatalf("ApplyOp = %+v, %v", results, err)
	}
	got := getTask(t, s, k)
	mustEqual(t, "stored instance", got, results[0].Instance)
	if got.State != scheduler.StateScheduled || got.Try != 1 || got.TryBase != 1 || got.ExitCode != nil || !got.EndedAt.IsZero() {
		t.Fatalf("cleared instance: %+v; want scheduled, try 1, try base 1, no exit code or end", got)
	}
	hist := history(t, s, k)
	last := hist[len(hist)-1]
	if !last.Manual || last.Actor != operator || last.From != scheduler.StateFailed || last.To != scheduler.StateScheduled || len(hist) != 5 {
		t.Fatalf("history: %+v; want the 4 records of try 1 and a manual failed → scheduled by %s", hist, operator)
	}
	if hist[3].Manual {
		t.Errorf("an executor's record reads back as manual: %+v", hist[3])
	}
	stored, err := s.GetOp(ctx, op.ID)
	if err != nil {
		t.Fatalf("GetOp: %v", err)
	}
	if stored.State != scheduler.OpDone || stored.Result != u.Result || stored.DoneBy != u.By || !stored.DoneAt.Equal(at) {
		t.Errorf("operation after ApplyOp: %+v; want done by %s at %s with its result", stored, u.By, at)
	}
	next := applyOK(t, s, change(k, scheduler.StateScheduled, scheduler.StateQueued, at.Add(time.Second), schedulerActor))
	if next.Try != 2 || next.Counted() != 1 {
		t.Fatalf("queued after the clear: try %d, counted %d; want 2, 1", next.Try, next.Counted())
	}
	// Applied once: a second scheduler's attempt finds it closed.
	_, err = s.ApplyOp(ctx, u, []scheduler.Change{clearChange(k, scheduler.StateFailed, at)})
	if !errors.Is(err, scheduler.ErrOpClosed) {
		t.Fatalf("second ApplyOp = %v; want ErrOpClosed", err)
	}
	if after := getTask(t, s, k); after.Version != next.Version {
		t.Errorf("second ApplyOp changed the instance: %+v", after)
	}
}

// testApplyOpWhole: one change that fails fails the operation's whole
// transaction: no change is stored and the operation stays pending.
func testApplyOpWhole(t *testing.T, s scheduler.Store) {
	ctx := t.Context()
	k := failedInstance(t, s)
	kb := key("etl", "r1", "b")
	op := submitOp(t, s, scheduler.Op{Kind: scheduler.OpClearRun, DAGID: "etl", RunID: "r1", Actor: operator, CreatedAt: t0})
	beforeA, beforeB := getTask(t, s, k), getTask(t, s, kb)
	at := t0.Add(4 * time.Minute)
	u := scheduler.OpUpdate{ID: op.ID, State: scheduler.OpDone, By: "host-a:4242", At: at}
	// b is scheduled, not failed: the plan was stale.
	_, err := s.ApplyOp(ctx, u, []scheduler.Change{clearChange(k, scheduler.StateFailed, at), clearChange(kb, scheduler.StateFailed, at)})
	if !errors.Is(err, scheduler.ErrStateConflict) {
		t.Fatalf("ApplyOp with a stale change = %v; want ErrStateConflict", err)
	}
	mustEqual(t, "a after the failed operation", getTask(t, s, k), beforeA)
	mustEqual(t, "b after the failed operation", getTask(t, s, kb), beforeB)
	if got, err := s.GetOp(ctx, op.ID); err != nil || got.State != scheduler.OpPending {
		t.Fatalf("operation after a failed ApplyOp: %+v, %v; want pending", got, err)
	}
	// An automatic change may not clear: only a manual one.
	c := clearChange(k, scheduler.StateFailed, at)
	c.Manual = false
	_, err = s.ApplyOp(ctx, u, []scheduler.Change{c})
	if !errors.Is(err, scheduler.ErrIllegalTransition) {
		t.Fatalf("ApplyOp with a non-manual clear = %v; want ErrIllegalTransition", err)
	}
}

// testApplyOpReopen: an operation on an ended run reopens it (running, no
// end) with its changes; a run still running is not reopened. RunState
// records a cancelled run's end.
func testApplyOpReopen(t *testing.T, s scheduler.Store) {
	ctx := t.Context()
	k := failedInstance(t, s)
	end := t0.Add(5 * time.Minute)
	at := t0.Add(6 * time.Minute)
	op := submitOp(t, s, scheduler.Op{Kind: scheduler.OpClearTasks, DAGID: "etl", RunID: "r1", TaskID: "a", Actor: operator, CreatedAt: t0})
	u := scheduler.OpUpdate{ID: op.ID, State: scheduler.OpDone, By: "host-a:4242", At: at, Reopen: true, Owner: "host-a:4242"}
	// Still running: refused whole.
	if _, err := s.ApplyOp(ctx, u, []scheduler.Change{clearChange(k, scheduler.StateFailed, at)}); !errors.Is(err, scheduler.ErrStateConflict) {
		t.Fatalf("reopen of a running run = %v; want ErrStateConflict", err)
	}
	if got := getTask(t, s, k); got.State != scheduler.StateFailed {
		t.Fatalf("instance after a refused reopen: %s; want failed", got.State)
	}
	if err := s.SetRunState(ctx, "etl", "r1", scheduler.RunFailed, end); err != nil {
		t.Fatalf("SetRunState: %v", err)
	}
	if _, err := s.ApplyOp(ctx, u, []scheduler.Change{clearChange(k, scheduler.StateFailed, at)}); err != nil {
		t.Fatalf("reopen of an ended run: %v", err)
	}
	run, err := s.GetRun(ctx, "etl", "r1")
	if err != nil {
		t.Fatalf("GetRun: %v", err)
	}
	if run.State != scheduler.RunRunning || !run.EndedAt.IsZero() {
		t.Fatalf("reopened run: state %s, ended %s; want running, not ended", run.State, run.EndedAt)
	}
	if run.Owner != "" && run.Owner != u.Owner {
		t.Errorf("reopened run's owner %q; want %q (or none in a store without owners)", run.Owner, u.Owner)
	}
	// A cancel recorded after the run ended sets its state.
	if err := s.SetRunState(ctx, "etl", "r1", scheduler.RunFailed, end); err != nil {
		t.Fatalf("SetRunState: %v", err)
	}
	cancelOp := submitOp(t, s, scheduler.Op{Kind: scheduler.OpCancelRun, DAGID: "etl", RunID: "r1", Actor: operator, CreatedAt: t0})
	if _, err := s.ApplyOp(ctx, scheduler.OpUpdate{ID: cancelOp.ID, State: scheduler.OpDone, By: "h", At: at, RunState: scheduler.RunCancelled}, nil); err != nil {
		t.Fatalf("ApplyOp with a run state: %v", err)
	}
	if run, err := s.GetRun(ctx, "etl", "r1"); err != nil || run.State != scheduler.RunCancelled || !run.EndedAt.Equal(end) {
		t.Fatalf("run after a cancel's end: %+v, %v; want cancelled, ended at %s", run, err, end)
	}
}

// testApplyOpConcurrent: two schedulers applying one operation at once:
// exactly one does, and the instance moves once.
func testApplyOpConcurrent(t *testing.T, s scheduler.Store) {
	k := failedInstance(t, s)
	op := submitOp(t, s, scheduler.Op{Kind: scheduler.OpClearTasks, DAGID: "etl", RunID: "r1", TaskID: "a", Actor: operator, CreatedAt: t0})
	at := t0.Add(4 * time.Minute)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			u := scheduler.OpUpdate{ID: op.ID, State: scheduler.OpDone, By: []string{"a:1", "b:2"}[i], At: at}
			_, errs[i] = s.ApplyOp(t.Context(), u, []scheduler.Change{clearChange(k, scheduler.StateFailed, at)})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, scheduler.ErrOpClosed), errors.Is(err, scheduler.ErrStateConflict):
		default:
			t.Errorf("ApplyOp: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of 2 concurrent ApplyOp succeeded (%v); want 1", ok, errs)
	}
	if got := getTask(t, s, k); got.Version != 4 || len(history(t, s, k)) != 5 {
		t.Fatalf("instance after two concurrent applies: version %d, %d records; want 4, 5", got.Version, len(history(t, s, k)))
	}
}
