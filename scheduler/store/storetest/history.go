package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
)

// testHistoryCollapseCycle: a try whose submit keeps failing goes queued →
// scheduled → queued ... with the same reasons. The history keeps one
// record of each direction with its repeat count and last time, while the
// instance moves (and its version increases) at every change; a different
// transition after the cycle is a new record again.
func testHistoryCollapseCycle(t *testing.T, s scheduler.Store) {
	createRun(t, s, newRun("etl", "r1", t0, false), "extract")
	k := key("etl", "r1", "extract")
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	S, Q := scheduler.StateScheduled, scheduler.StateQueued
	fail := scheduler.Change{Key: k, From: Q, To: S, Actor: schedulerActor, Reason: "submit of try 1 failed: refused; requeued, next attempt in 5s"}
	again := scheduler.Change{Key: k, From: S, To: Q, Actor: schedulerActor, Reason: "submitting try 1 again"}

	c := change(k, S, Q, at(1), schedulerActor)
	c.Reason = "no dependencies"
	applyOK(t, s, c)
	const failures = 5
	sec := 2
	var ti scheduler.TaskInstance
	for i := range failures {
		fail.At = at(sec)
		ti = applyOK(t, s, fail)
		sec++
		if i == failures-1 {
			break // the last failure leaves it scheduled
		}
		again.At = at(sec)
		ti = applyOK(t, s, again)
		sec++
	}
	mustEqual(t, "version after every change", ti.Version, 1+2*failures-1)
	mustEqual(t, "stored instance", getTask(t, s, k), ti)
	hist := history(t, s, k)
	if len(hist) != 4 {
		t.Fatalf("history has %d records, want 4 (creation, queue, the failure ×%d, the resubmit ×%d): %+v", len(hist), failures, failures-1, hist)
	}
	mustEqual(t, "failure record", []any{hist[2].From, hist[2].To, hist[2].Repeats, hist[2].At, hist[2].LastAt},
		[]any{Q, S, failures - 1, at(2), at(2 + 2*(failures-1))})
	mustEqual(t, "resubmit record", []any{hist[3].From, hist[3].To, hist[3].Repeats, hist[3].At, hist[3].LastAt},
		[]any{S, Q, failures - 2, at(3), at(3 + 2*(failures-2))})
	// Expanded, it is the history the changes would have written.
	exp := scheduler.ExpandHistory(hist)
	mustEqual(t, "expanded records", len(exp), 2+2*failures-1)
	mustEqual(t, "expanded last record leaves it", exp[len(exp)-1].To, ti.State)
	for i := 1; i < len(exp); i++ {
		if exp[i].From != exp[i-1].To {
			t.Errorf("expanded record %d starts from %s, but record %d left it %s", i, exp[i].From, i-1, exp[i-1].To)
		}
	}

	// The cycle closes with the same resubmit (bumped), then the try runs:
	// a new record.
	again.At = at(sec)
	applyOK(t, s, again)
	run := change(k, Q, scheduler.StateRunning, at(sec+1), executorActor)
	applyOK(t, s, run)
	hist = history(t, s, k)
	if len(hist) != 5 {
		t.Fatalf("history has %d records, want 5: %+v", len(hist), hist)
	}
	mustEqual(t, "resubmits", hist[3].Repeats, failures-1)
	mustEqual(t, "running record", []any{hist[4].From, hist[4].To, hist[4].Repeats, hist[4].LastAt},
		[]any{Q, scheduler.StateRunning, 0, at(sec + 1)})
}

// testHistoryCollapseSelf: a refusal recorded again (queued → queued, the
// same reason) counts on the last record; one with another reason, and
// the first one after it, are records of their own.
func testHistoryCollapseSelf(t *testing.T, s scheduler.Store) {
	createRun(t, s, newRun("etl", "r1", t0, false), "extract")
	k := key("etl", "r1", "extract")
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	Q := scheduler.StateQueued
	applyOK(t, s, change(k, scheduler.StateScheduled, Q, at(1), schedulerActor))
	refuse := func(sec int, reason string) {
		c := change(k, Q, Q, at(sec), schedulerActor)
		c.Reason = reason
		applyOK(t, s, c)
	}
	for i := range 3 {
		refuse(2+i, "forbidden: quota")
	}
	refuse(10, "quota: exceeded")
	refuse(11, "forbidden: quota")
	hist := history(t, s, k)
	var got []string
	for _, r := range hist[2:] {
		got = append(got, fmt.Sprintf("%s ×%d %s..%s", r.Reason, r.Repeats+1, r.At.Sub(t0), r.LastAt.Sub(t0)))
	}
	mustEqual(t, "refusal records", got, []string{
		"forbidden: quota ×3 2s..4s",
		"quota: exceeded ×1 10s..10s",
		"forbidden: quota ×1 11s..11s",
	})
	mustEqual(t, "version", getTask(t, s, k).Version, 6)
}

// testHistoryCollapseNotSame: what differs in try, actor or reason, or is
// an operator's, is never collapsed.
func testHistoryCollapseNotSame(t *testing.T, s scheduler.Store) {
	createRun(t, s, newRun("etl", "r1", t0, false), "extract")
	k := key("etl", "r1", "extract")
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	S, Q := scheduler.StateScheduled, scheduler.StateQueued
	other := scheduler.Actor{Component: "scheduler", Instance: "host-b:1"}
	steps := []scheduler.Change{
		{From: S, To: Q, Actor: schedulerActor, Reason: "no dependencies"},
		{From: Q, To: S, Actor: schedulerActor, Reason: "submit failed: a"},
		{From: S, To: Q, Actor: schedulerActor, Reason: "submitting try 1 again"},
		{From: Q, To: S, Actor: schedulerActor, Reason: "submit failed: b"},    // another reason
		{From: S, To: Q, Actor: schedulerActor, Reason: "submitting it again"}, // (the same would pair with the one before)
		{From: Q, To: S, Actor: other, Reason: "submit failed: b"},             // another scheduler
		{From: S, To: Q, Actor: other, Reason: "submitting try 1 again"},
		{From: Q, To: Q, Actor: other, Reason: "refused"},
		{From: Q, To: Q, Actor: other, Reason: "refused", Manual: true}, // an operator's
	}
	for i, c := range steps {
		c.Key, c.At = k, at(i+1)
		if c.Manual {
			c.Actor = scheduler.Actor{Component: "cli", Instance: "ops"}
		}
		applyOK(t, s, c)
	}
	hist := history(t, s, k)
	mustEqual(t, "records", len(hist), 1+len(steps))
	for _, r := range hist {
		if r.Repeats != 0 || !r.LastAt.Equal(r.At) {
			t.Errorf("record %d (%s → %s, %s) has repeats %d, last at %v", r.Seq, r.From, r.To, r.Reason, r.Repeats, r.LastAt)
		}
	}
}
