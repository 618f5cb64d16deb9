package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

// notificationTests hold a store to the Outbox contract (issue 20): a
// notification is stored by the Apply that makes it due, a claim gives it
// to one sender, and an attempt is recorded only by the claim's holder.
var notificationTests = []struct {
	name string
	test func(t *testing.T, s scheduler.Store)
}{
	{"NotificationsDue", testNotificationsDue},
	{"NotificationsClaimFinish", testNotificationsClaimFinish},
	{"NotificationsClaimConcurrent", testNotificationsClaimConcurrent},
	{"NotificationsSLAMissOnce", testNotificationsSLAMissOnce},
}

func outbox(t *testing.T, s scheduler.Store) scheduler.Outbox {
	t.Helper()
	o, ok := s.(scheduler.Outbox)
	if !ok {
		t.Fatalf("%T does not implement scheduler.Outbox", s)
	}
	return o
}

// notifyingRun creates run r1 of DAG "alerts" with the given tasks, each
// notifying hook and chat of failures, hook of retries and chat of
// successes, with one retry.
func notifyingRun(t *testing.T, s scheduler.Store, taskIDs ...string) {
	t.Helper()
	spec := dag.TaskSpec{Command: []string{"true"}, Retries: 1, RetryDelay: time.Second,
		Notify: dag.Notify{OnFailure: []string{"chat", "hook"}, OnRetry: []string{"hook"}, OnSuccess: []string{"chat"}}}
	rec := dagRecord("alerts")
	rec.Specs = map[string]dag.TaskSpec{}
	tasks := make([]scheduler.TaskInstance, len(taskIDs))
	for i, id := range taskIDs {
		rec.Specs[id] = spec
		tasks[i] = scheduler.TaskInstance{TaskKey: key("alerts", "r1", id), Spec: spec}
	}
	if err := s.SaveDAG(t.Context(), rec); err != nil {
		t.Fatalf("SaveDAG: %v", err)
	}
	if created, err := s.CreateRun(t.Context(), newRun("alerts", "r1", t0, false), tasks, "scheduled run"); err != nil || !created {
		t.Fatalf("CreateRun = %v, %v", created, err)
	}
}

// failTwice moves k through a try that is retried and one that fails.
func failTwice(t *testing.T, s scheduler.Store, k scheduler.TaskKey) {
	t.Helper()
	S, Q, R := scheduler.StateScheduled, scheduler.StateQueued, scheduler.StateRunning
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	for i, c := range []scheduler.Change{
		change(k, S, Q, at(1), schedulerActor), change(k, Q, R, at(2), executorActor),
		change(k, R, scheduler.StateUpForRetry, at(3), executorActor),
		change(k, scheduler.StateUpForRetry, Q, at(5), schedulerActor), change(k, Q, R, at(6), executorActor),
		change(k, R, scheduler.StateFailed, at(7), executorActor),
	} {
		c.Reason = fmt.Sprintf("step %d", i)
		applyOK(t, s, c)
	}
}

func testNotificationsDue(t *testing.T, s scheduler.Store) {
	o := outbox(t, s)
	notifyingRun(t, s, "extract", "load")
	k := key("alerts", "r1", "extract")
	failTwice(t, s, k)
	// A change that fails stores nothing.
	if r := apply(t, s, change(k, scheduler.StateRunning, scheduler.StateFailed, t0.Add(time.Minute), executorActor))[0]; r.Err == nil {
		t.Fatal("a stale change applied")
	}
	got, err := o.ListNotifications(t.Context(), k)
	if err != nil {
		t.Fatal(err)
	}
	at3, at7 := t0.Add(3*time.Second), t0.Add(7*time.Second)
	pending := func(try int, ev scheduler.NotifyEvent, receiver string, to scheduler.State, reason string, at time.Time) scheduler.Notification {
		return scheduler.Notification{Key: k, Try: try, Event: ev, Receiver: receiver, To: to, Reason: reason, At: at,
			State: scheduler.NotificationPending, NextAt: at, UpdatedAt: at}
	}
	want := []scheduler.Notification{
		pending(1, scheduler.NotifyRetry, "hook", scheduler.StateUpForRetry, "step 2", at3),
		pending(2, scheduler.NotifyFailure, "chat", scheduler.StateFailed, "step 5", at7),
		pending(2, scheduler.NotifyFailure, "hook", scheduler.StateFailed, "step 5", at7),
	}
	if len(got) == len(want) {
		for i := range got {
			if got[i].ID == 0 {
				t.Errorf("notification %d has no id", i)
			}
			want[i].ID = got[i].ID
		}
	}
	mustEqual(t, "notifications", got, want)
	if n, err := o.PendingNotifications(t.Context()); err != nil || n != 3 {
		t.Errorf("PendingNotifications = %d, %v; want 3", n, err)
	}
	if other, err := o.ListNotifications(t.Context(), key("alerts", "r1", "load")); err != nil || len(other) != 0 {
		t.Errorf("notifications of a task that did not move: %v, %v", other, err)
	}
}

func testNotificationsClaimFinish(t *testing.T, s scheduler.Store) {
	o := outbox(t, s)
	ctx := t.Context()
	notifyingRun(t, s, "extract")
	failTwice(t, s, key("alerts", "r1", "extract"))
	now := t0.Add(time.Minute)
	lease := 30 * time.Second
	a, err := o.ClaimNotifications(ctx, "a", now, lease, 10)
	if err != nil || len(a) != 3 {
		t.Fatalf("ClaimNotifications(a) = %d, %v; want 3", len(a), err)
	}
	if b, err := o.ClaimNotifications(ctx, "b", now.Add(lease-time.Second), lease, 10); err != nil || len(b) != 0 {
		t.Fatalf("ClaimNotifications(b) while a's claims live = %d, %v; want none", len(b), err)
	}
	// a's claims expire (a died, say): b takes them, and a can no longer
	// record an attempt.
	later := now.Add(lease + time.Second)
	b, err := o.ClaimNotifications(ctx, "b", later, lease, 10)
	if err != nil || len(b) != 3 {
		t.Fatalf("ClaimNotifications(b) after the lease = %d, %v; want 3", len(b), err)
	}
	sent := a[0]
	sent.State, sent.Attempts, sent.StatusCode, sent.UpdatedAt = scheduler.NotificationSent, 1, 200, later
	mustBe(t, "FinishAttempt by a lost claim", o.FinishAttempt(ctx, "a", sent), scheduler.ErrNotOwner)

	retry, gaveUp := b[1], b[2]
	retry.Attempts, retry.StatusCode, retry.Error, retry.NextAt, retry.UpdatedAt = 1, 500, "500 Internal Server Error", later.Add(10*time.Second), later
	gaveUp.State, gaveUp.Attempts, gaveUp.Error, gaveUp.UpdatedAt = scheduler.NotificationGivenUp, 5, "context deadline exceeded", later
	for _, n := range []scheduler.Notification{sent, retry, gaveUp} {
		if err := o.FinishAttempt(ctx, "b", n); err != nil {
			t.Fatalf("FinishAttempt(%d): %v", n.ID, err)
		}
	}
	mustBe(t, "FinishAttempt of a sent notification", o.FinishAttempt(ctx, "b", sent), scheduler.ErrNotOwner)
	if n, err := o.PendingNotifications(ctx); err != nil || n != 1 {
		t.Errorf("PendingNotifications = %d, %v; want 1", n, err)
	}
	if c, err := o.ClaimNotifications(ctx, "c", retry.NextAt.Add(-time.Nanosecond), lease, 10); err != nil || len(c) != 0 {
		t.Errorf("claim before NextAt = %d, %v; want none", len(c), err)
	}
	c, err := o.ClaimNotifications(ctx, "c", retry.NextAt, lease, 10)
	if err != nil || len(c) != 1 {
		t.Fatalf("claim at NextAt = %d, %v; want 1", len(c), err)
	}
	mustEqual(t, "claimed retry", c[0], retry)
	all, err := o.ListNotifications(ctx, sent.Key)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "after the attempts", all, []scheduler.Notification{sent, retry, gaveUp})
}

// testNotificationsClaimConcurrent: senders claiming at once share the
// notifications out, each to one of them (the HA path on PostgreSQL).
func testNotificationsClaimConcurrent(t *testing.T, s scheduler.Store) {
	o := outbox(t, s)
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = fmt.Sprintf("t%02d", i)
	}
	notifyingRun(t, s, ids...)
	for _, id := range ids {
		failTwice(t, s, key("alerts", "r1", id))
	}
	const senders = 6
	now := t0.Add(time.Minute)
	var mu sync.Mutex
	seen := map[int64]string{}
	var wg sync.WaitGroup
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			me := fmt.Sprintf("sender-%d", i)
			for {
				got, err := o.ClaimNotifications(t.Context(), me, now, time.Minute, 4)
				if err != nil {
					t.Errorf("%s: %v", me, err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, n := range got {
					if prev, dup := seen[n.ID]; dup {
						t.Errorf("notification %d claimed by %s and %s", n.ID, prev, me)
					}
					seen[n.ID] = me
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 3*len(ids) {
		t.Errorf("%d notifications claimed; want %d", len(seen), 3*len(ids))
	}
}

// testNotificationsSLAMissOnce: sla_miss notifications added again, or by
// several schedulers at once, are stored once per instance and receiver.
func testNotificationsSLAMissOnce(t *testing.T, s scheduler.Store) {
	o := outbox(t, s)
	spec := dag.TaskSpec{Command: []string{"true"}, SLA: time.Minute, Notify: dag.Notify{OnSLAMiss: []string{"chat", "hook"}}}
	rec := dagRecord("late")
	rec.Specs = map[string]dag.TaskSpec{"slow": spec, "quick": spec}
	if err := s.SaveDAG(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	run := newRun("late", "r1", t0, false)
	var tis []scheduler.TaskInstance
	for _, id := range []string{"quick", "slow"} {
		tis = append(tis, scheduler.TaskInstance{TaskKey: key("late", "r1", id), Spec: spec})
	}
	if created, err := s.CreateRun(t.Context(), run, tis, "scheduled run"); err != nil || !created {
		t.Fatalf("CreateRun = %v, %v", created, err)
	}
	// quick ended in time; slow is still scheduled past its deadline.
	k := key("late", "r1", "quick")
	for _, c := range []scheduler.Change{
		change(k, scheduler.StateScheduled, scheduler.StateQueued, t0.Add(2*time.Second), schedulerActor),
		change(k, scheduler.StateQueued, scheduler.StateRunning, t0.Add(3*time.Second), executorActor),
		change(k, scheduler.StateRunning, scheduler.StateSuccess, t0.Add(4*time.Second), executorActor),
	} {
		applyOK(t, s, c)
	}
	tis, err := s.ListTaskInstances(t.Context(), scheduler.TaskFilter{DAGID: "late", RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if due := scheduler.SLAMisses(run, tis, run.CreatedAt.Add(59*time.Second)); len(due) != 0 {
		t.Errorf("SLA misses before the deadline: %+v", due)
	}
	due := scheduler.SLAMisses(run, tis, run.CreatedAt.Add(2*time.Minute))
	if len(due) != 2 || due[0].Key.TaskID != "slow" || due[0].Event != scheduler.NotifySLAMiss {
		t.Fatalf("SLA misses %+v; want slow's, for chat and hook", due)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := o.AddNotifications(t.Context(), due)
			if err != nil {
				t.Errorf("AddNotifications: %v", err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if total != 2 {
		t.Errorf("AddNotifications added %d in all; want 2", total)
	}
	got, err := o.ListNotifications(t.Context(), key("late", "r1", "slow"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Receiver != "chat" || got[1].Receiver != "hook" || got[0].At != run.CreatedAt.Add(time.Minute) ||
		got[0].State != scheduler.NotificationPending {
		t.Errorf("stored %+v", got)
	}
	if _, err := o.AddNotifications(t.Context(), []scheduler.Notification{{Key: k, Event: scheduler.NotifyFailure, Receiver: "x"}}); err == nil {
		t.Error("AddNotifications took a failure notification")
	}
}
