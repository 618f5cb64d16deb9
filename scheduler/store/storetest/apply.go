package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
)

func intp(n int) *int { return &n }

// testApplyLegalPath walks one instance through a failed try, a retry and
// a success, checking what scheduler.Apply defines at every step and that
// the store keeps exactly that.
func testApplyLegalPath(t *testing.T, s scheduler.Store) {
	run := newRun("etl", "r1", t0, false)
	createRun(t, s, run, "extract")
	k := key("etl", "r1", "extract")
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	Q, R, U := scheduler.StateQueued, scheduler.StateRunning, scheduler.StateUpForRetry

	steps := []struct {
		from, to   scheduler.State
		at         time.Time
		actor      scheduler.Actor
		externalID string
		exit       *int
		// want: what the instance holds after the step.
		try                    int
		queued, started, ended time.Time
		retry                  time.Time
		wantExternal           string
		wantExit               *int
	}{
		{from: scheduler.StateScheduled, to: Q, at: at(1), actor: schedulerActor,
			try: 1, queued: at(1)},
		{from: Q, to: R, at: at(2), actor: executorActor, externalID: "pid-100",
			try: 1, queued: at(1), started: at(2), wantExternal: "pid-100"},
		// richSpec waits 30s before its first retry.
		{from: R, to: U, at: at(3), actor: executorActor, exit: intp(3),
			try: 1, queued: at(1), started: at(2), ended: at(3), retry: at(3).Add(30 * time.Second),
			wantExternal: "pid-100", wantExit: intp(3)},
		{from: U, to: Q, at: at(4), actor: schedulerActor,
			try: 2, queued: at(4)},
		{from: Q, to: R, at: at(5), actor: executorActor, externalID: "pid-200",
			try: 2, queued: at(4), started: at(5), wantExternal: "pid-200"},
		{from: R, to: scheduler.StateSuccess, at: at(6), actor: executorActor, exit: intp(0),
			try: 2, queued: at(4), started: at(5), ended: at(6), wantExternal: "pid-200", wantExit: intp(0)},
	}
	wantHist := []scheduler.Transition{{
		Key: k, To: scheduler.StateScheduled, At: run.CreatedAt, LastAt: run.CreatedAt, Actor: run.CreatedBy, Reason: "scheduled run",
	}}
	for i, st := range steps {
		c := change(k, st.from, st.to, st.at, st.actor)
		c.ExternalID, c.ExitCode = st.externalID, st.exit
		got := applyOK(t, s, c)
		want := scheduler.TaskInstance{
			TaskKey: k, State: st.to, Try: st.try, Spec: richSpec(),
			ExternalID: st.wantExternal, ExitCode: st.wantExit,
			QueuedAt: st.queued, StartedAt: st.started, EndedAt: st.ended, RetryAt: st.retry,
			UpdatedAt: st.at, Version: i + 1,
		}
		step := fmt.Sprintf("step %d (%s → %s)", i+1, st.from, st.to)
		mustEqual(t, step+": Apply result", got, want)
		mustEqual(t, step+": stored instance", getTask(t, s, k), want)
		wantHist = append(wantHist, scheduler.Transition{
			Key: k, Try: st.try, From: st.from, To: st.to, At: st.at, LastAt: st.at, Actor: st.actor,
			Reason: c.Reason, ExternalID: st.wantExternal, ExitCode: st.wantExit,
		})
	}

	hist := history(t, s, k)
	if len(hist) != len(wantHist) {
		t.Fatalf("history has %d records, want %d: %+v", len(hist), len(wantHist), hist)
	}
	for i := range hist {
		if i > 0 && hist[i].Seq <= hist[i-1].Seq {
			t.Errorf("history seq not increasing: %d then %d", hist[i-1].Seq, hist[i].Seq)
		}
		wantHist[i].Seq = hist[i].Seq
	}
	mustEqual(t, "history", hist, wantHist)
}

// rejected checks that change c failed with target and left the instance
// and its history as they were.
// testApplyEvicted: a try ended by its platform (Change.Evicted) is
// counted in the instance's Evictions, which the store keeps across
// later changes, and it does not count against the retries.
func testApplyEvicted(t *testing.T, s scheduler.Store) {
	createRun(t, s, newRun("etl", "r1", t0, false), "a")
	k := key("etl", "r1", "a")
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	S, Q, R, U := scheduler.StateScheduled, scheduler.StateQueued, scheduler.StateRunning, scheduler.StateUpForRetry
	applyOK(t, s, change(k, S, Q, at(1), schedulerActor))
	applyOK(t, s, change(k, Q, R, at(2), executorActor))
	c := change(k, R, U, at(3), executorActor)
	c.Evicted, c.RetryIn = true, 5*time.Second
	got := applyOK(t, s, c)
	if got.Evictions != 1 || got.Try != 1 || got.Counted() != 0 {
		t.Fatalf("after an eviction: evictions %d, try %d, counted %d; want 1, 1, 0", got.Evictions, got.Try, got.Counted())
	}
	// An evicted try waits RetryIn, not the task's retry delay.
	if want := at(3).Add(5 * time.Second); !got.RetryAt.Equal(want) {
		t.Errorf("retry at %s, want %s", got.RetryAt, want)
	}
	mustEqual(t, "stored instance after the eviction", getTask(t, s, k), got)
	applyOK(t, s, change(k, U, Q, at(4), schedulerActor))
	applyOK(t, s, change(k, Q, R, at(5), executorActor))
	got = applyOK(t, s, change(k, R, U, at(6), executorActor)) // a failure of its own
	if got.Evictions != 1 || got.Try != 2 || got.Counted() != 1 {
		t.Fatalf("after a failure: evictions %d, try %d, counted %d; want 1, 2, 1", got.Evictions, got.Try, got.Counted())
	}
	// richSpec's exponential 30s backoff counts this as the first retry.
	if want := at(6).Add(30 * time.Second); !got.RetryAt.Equal(want) {
		t.Errorf("retry at %s, want %s", got.RetryAt, want)
	}
	mustEqual(t, "stored instance after the failure", getTask(t, s, k), got)
	list, err := s.ListTaskInstances(t.Context(), scheduler.TaskFilter{})
	if err != nil || len(list) != 1 || list[0].Evictions != 1 {
		t.Fatalf("ListTaskInstances = %+v, %v; want the instance with 1 eviction", list, err)
	}
}

func rejected(t *testing.T, s scheduler.Store, c scheduler.Change, target error) {
	t.Helper()
	before, beforeHist := getTask(t, s, c.Key), history(t, s, c.Key)
	r := apply(t, s, c)[0]
	if r.Err == nil {
		t.Fatalf("Apply %s → %s succeeded; want an error", c.From, c.To)
	}
	if target != nil {
		mustBe(t, fmt.Sprintf("Apply %s → %s", c.From, c.To), r.Err, target)
	}
	mustEqual(t, "result instance of a rejected change", r.Instance, before)
	mustEqual(t, "instance after a rejected change", getTask(t, s, c.Key), before)
	mustEqual(t, "history after a rejected change", history(t, s, c.Key), beforeHist)
}

func testApplyIllegal(t *testing.T, s scheduler.Store) {
	createRun(t, s, newRun("etl", "r1", t0, false), "a", "b")
	a, b := key("etl", "r1", "a"), key("etl", "r1", "b")
	applyOK(t, s, change(b, scheduler.StateScheduled, scheduler.StateSkipped, t0, schedulerActor))
	tests := []struct {
		name     string
		k        scheduler.TaskKey
		from, to scheduler.State
	}{
		{"skip queued", a, scheduler.StateScheduled, scheduler.StateRunning},
		{"straight to success", a, scheduler.StateScheduled, scheduler.StateSuccess},
		{"scheduled to failed", a, scheduler.StateScheduled, scheduler.StateFailed},
		{"leave a terminal state", b, scheduler.StateSkipped, scheduler.StateQueued},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rejected(t, s, change(tt.k, tt.from, tt.to, t0.Add(time.Minute), schedulerActor), scheduler.ErrIllegalTransition)
		})
	}
}

func testApplyStaleFrom(t *testing.T, s scheduler.Store) {
	createRun(t, s, newRun("etl", "r1", t0, false), "a")
	k := key("etl", "r1", "a")
	applyOK(t, s, change(k, scheduler.StateScheduled, scheduler.StateQueued, t0, schedulerActor))
	// Another scheduler saw the instance before it was queued.
	rejected(t, s, change(k, scheduler.StateScheduled, scheduler.StateQueued, t0, schedulerActor), scheduler.ErrStateConflict)
}

func testApplyNoReason(t *testing.T, s scheduler.Store) {
	createRun(t, s, newRun("etl", "r1", t0, false), "a")
	c := change(key("etl", "r1", "a"), scheduler.StateScheduled, scheduler.StateQueued, t0, schedulerActor)
	c.Reason = ""
	rejected(t, s, c, nil)
}

func testApplyBatchPartial(t *testing.T, s scheduler.Store) {
	createRun(t, s, newRun("etl", "r1", t0, false), "a", "b", "c")
	a, b, c := key("etl", "r1", "a"), key("etl", "r1", "b"), key("etl", "r1", "c")
	ghost := key("etl", "r1", "ghost")
	S, Q, R := scheduler.StateScheduled, scheduler.StateQueued, scheduler.StateRunning
	changes := []scheduler.Change{
		change(a, S, Q, t0, schedulerActor),
		change(b, S, R, t0, schedulerActor), // illegal
		change(c, S, Q, t0, schedulerActor),
		change(c, Q, R, t0.Add(time.Second), executorActor), // sees the change before it
		change(ghost, S, Q, t0, schedulerActor),
		change(a, S, Q, t0, schedulerActor), // a is queued by now
	}
	results := apply(t, s, changes...)
	wantErr := []error{nil, scheduler.ErrIllegalTransition, nil, nil, scheduler.ErrNotFound, scheduler.ErrStateConflict}
	for i, r := range results {
		switch {
		case wantErr[i] == nil && r.Err != nil:
			t.Errorf("change %d (%s %s → %s): %v", i, changes[i].Key, changes[i].From, changes[i].To, r.Err)
		case wantErr[i] != nil:
			mustBe(t, fmt.Sprintf("change %d", i), r.Err, wantErr[i])
		}
	}
	for _, tt := range []struct {
		k       scheduler.TaskKey
		state   scheduler.State
		records int
	}{{a, Q, 2}, {b, S, 1}, {c, R, 3}} {
		ti := getTask(t, s, tt.k)
		if ti.State != tt.state || ti.Version != tt.records-1 {
			t.Errorf("%s is %s version %d; want %s version %d", tt.k, ti.State, ti.Version, tt.state, tt.records-1)
		}
		if n := len(history(t, s, tt.k)); n != tt.records {
			t.Errorf("%s has %d history records, want %d", tt.k, n, tt.records)
		}
	}
	mustEqual(t, "result of the second move of c", results[3].Instance, getTask(t, s, c))
}

func testApplyUnknownKey(t *testing.T, s scheduler.Store) {
	createRun(t, s, newRun("etl", "r1", t0, false), "a")
	for _, k := range []scheduler.TaskKey{key("etl", "r1", "ghost"), key("etl", "r9", "a"), key("nope", "r1", "a")} {
		r := apply(t, s, change(k, scheduler.StateScheduled, scheduler.StateQueued, t0, schedulerActor))[0]
		mustBe(t, "Apply to "+k.String(), r.Err, scheduler.ErrNotFound)
	}
}

func testApplyEmpty(t *testing.T, s scheduler.Store) {
	results, err := s.Apply(t.Context(), nil)
	if err != nil || len(results) != 0 {
		t.Errorf("Apply(nil) = %v, %v; want no results and no error", results, err)
	}
}

// testApplyConcurrentSame races several schedulers to queue one instance:
// exactly one may win, the others must see the conflict.
func testApplyConcurrentSame(t *testing.T, s scheduler.Store) {
	createRun(t, s, newRun("etl", "r1", t0, false), "a")
	k := key("etl", "r1", "a")
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c := change(k, scheduler.StateScheduled, scheduler.StateQueued, t0, scheduler.Actor{Component: "scheduler", Instance: fmt.Sprint(i)})
			results, err := s.Apply(t.Context(), []scheduler.Change{c})
			if err != nil {
				errs[i] = fmt.Errorf("store: %w", err)
				return
			}
			errs[i] = results[0].Err
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, scheduler.ErrStateConflict):
			t.Errorf("goroutine %d: %v; want success or a state conflict", i, err)
		}
	}
	if won != 1 {
		t.Errorf("%d goroutines queued the instance, want exactly 1", won)
	}
	ti := getTask(t, s, k)
	if ti.State != scheduler.StateQueued || ti.Version != 1 || ti.Try != 1 {
		t.Errorf("instance is %s version %d try %d; want queued version 1 try 1", ti.State, ti.Version, ti.Try)
	}
	if n := len(history(t, s, k)); n != 2 {
		t.Errorf("history has %d records, want 2", n)
	}
}

// testApplyConcurrentDistinct moves different instances from several
// goroutines at once: none may be lost.
func testApplyConcurrentDistinct(t *testing.T, s scheduler.Store) {
	const n = 8
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("t%d", i)
	}
	createRun(t, s, newRun("etl", "r1", t0, false), ids...)
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			k := key("etl", "r1", id)
			for _, step := range [][2]scheduler.State{
				{scheduler.StateScheduled, scheduler.StateQueued},
				{scheduler.StateQueued, scheduler.StateRunning},
				{scheduler.StateRunning, scheduler.StateSuccess},
			} {
				results, err := s.Apply(t.Context(), []scheduler.Change{change(k, step[0], step[1], t0, executorActor)})
				if err == nil {
					err = results[0].Err
				}
				if err != nil {
					t.Errorf("%s %s → %s: %v", k, step[0], step[1], err)
					return
				}
			}
		})
	}
	wg.Wait()
	tis, err := s.ListTaskInstances(t.Context(), scheduler.TaskFilter{States: []scheduler.State{scheduler.StateSuccess}})
	if err != nil {
		t.Fatalf("ListTaskInstances: %v", err)
	}
	if len(tis) != n {
		t.Errorf("%d instances succeeded, want %d", len(tis), n)
	}
}
