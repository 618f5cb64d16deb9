package postgres

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

// runningRuns makes n running runs of one DAG.
func runningRuns(t *testing.T, s *Store, n int) {
	t.Helper()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rec := scheduler.DAGRecord{ID: "etl", File: "etl.yaml", Source: []byte("id: etl"),
		Specs: map[string]dag.TaskSpec{"a": {Command: []string{"true"}}}}
	if err := s.SaveDAG(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		run, tasks, err := scheduler.NewRun(rec, fmt.Sprintf("r%03d", i), t0, false, scheduler.Actor{Component: "scheduler", Instance: "x"}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if run.State != scheduler.RunRunning {
			t.Fatalf("NewRun made a %s run", run.State)
		}
		if _, err := s.CreateRun(t.Context(), run, tasks, "test"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestClaimRunsOnce: three schedulers claiming at the same moment take
// every run exactly once between them.
func TestClaimRunsOnce(t *testing.T) {
	url := freshDatabase(t)
	s := open(t, url, Options{})
	const runs = 60
	runningRuns(t, s, runs)
	var mu sync.Mutex
	owner := map[string]string{}
	var wg sync.WaitGroup
	for _, me := range []string{"a", "b", "c"} {
		st := open(t, url, Options{}) // a store per scheduler, as in production
		wg.Go(func() {
			if err := st.Beat(t.Context(), me, false); err != nil {
				t.Error(err)
				return
			}
			for {
				claims, err := st.ClaimRuns(t.Context(), me, time.Minute, 7, false)
				if err != nil {
					t.Error(err)
					return
				}
				if len(claims) == 0 {
					return
				}
				mu.Lock()
				for _, c := range claims {
					if prev, ok := owner[c.RunID]; ok {
						t.Errorf("run %s claimed by %s and by %s", c.RunID, prev, me)
					}
					if c.From != "" {
						t.Errorf("run %s taken from %q; it had no owner", c.RunID, c.From)
					}
					owner[c.RunID] = me
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(owner) != runs {
		t.Fatalf("%d runs claimed, want %d", len(owner), runs)
	}
	for run, me := range owner {
		got, err := s.RunOwner(t.Context(), "etl", run)
		if err != nil || got != me {
			t.Errorf("owner of %s = %q, %v; want %q", run, got, err, me)
		}
	}
}

// TestClaimRunsTakesOverStale: a scheduler's runs stay its own while it
// beats, and go to another once its last beat is older than staleAfter;
// the claim says from whom and how stale.
func TestClaimRunsTakesOverStale(t *testing.T) {
	s := open(t, freshDatabase(t), Options{})
	runningRuns(t, s, 5)
	ctx := t.Context()
	for _, me := range []string{"a", "b"} {
		if err := s.Beat(ctx, me, false); err != nil {
			t.Fatal(err)
		}
	}
	if claims, err := s.ClaimRuns(ctx, "a", 45*time.Second, 100, false); err != nil || len(claims) != 5 {
		t.Fatalf("a claims %d runs, %v; want 5", len(claims), err)
	}
	if claims, err := s.ClaimRuns(ctx, "b", 45*time.Second, 100, false); err != nil || len(claims) != 0 {
		t.Fatalf("b took %d of a's runs while a beats (%v)", len(claims), err)
	}
	// a stops beating: its last beat is now 2 minutes old.
	if _, err := s.db.ExecContext(ctx, `UPDATE schedulers SET last_beat = now() - interval '2 minutes' WHERE instance = 'a'`); err != nil {
		t.Fatal(err)
	}
	claims, err := s.ClaimRuns(ctx, "b", 45*time.Second, 100, false)
	if err != nil || len(claims) != 5 {
		t.Fatalf("b claims %d runs of a stale a, %v; want 5", len(claims), err)
	}
	for _, c := range claims {
		if c.From != "a" || c.StaleFor < 2*time.Minute || c.StaleFor > 3*time.Minute {
			t.Errorf("claim %+v; want from a, stale about 2m", c)
		}
	}
	// Runs that ended are nobody's to claim.
	if err := s.SetRunState(ctx, "etl", "r000", scheduler.RunSuccess, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE schedulers SET last_beat = now() - interval '2 minutes' WHERE instance = 'b'`); err != nil {
		t.Fatal(err)
	}
	claims, err = s.ClaimRuns(ctx, "c", 45*time.Second, 100, false)
	if err != nil || len(claims) != 4 {
		t.Fatalf("c claims %d runs, %v; want the 4 still running", len(claims), err)
	}
}

// TestClaimRunsStoppedAndStaleOnly: a scheduler that stopped cleanly gives
// its runs up at once; staleOnly leaves runs with no owner alone, and
// takes stale ones first.
func TestClaimRunsStoppedAndStaleOnly(t *testing.T) {
	s := open(t, freshDatabase(t), Options{})
	runningRuns(t, s, 4)
	ctx := t.Context()
	for _, me := range []string{"a", "b"} {
		if err := s.Beat(ctx, me, false); err != nil {
			t.Fatal(err)
		}
	}
	if claims, err := s.ClaimRuns(ctx, "a", time.Minute, 2, false); err != nil || len(claims) != 2 {
		t.Fatalf("a claims %d runs, %v; want 2", len(claims), err)
	}
	if claims, err := s.ClaimRuns(ctx, "b", time.Minute, 10, true); err != nil || len(claims) != 0 {
		t.Fatalf("b, stale only, claims %+v, %v; want nothing: a beats and the rest have no owner", claims, err)
	}
	if err := s.Beat(ctx, "a", true); err != nil {
		t.Fatal(err)
	}
	claims, err := s.ClaimRuns(ctx, "b", time.Minute, 10, true)
	if err != nil || len(claims) != 2 {
		t.Fatalf("b, stale only, claims %+v, %v; want a's 2 runs", claims, err)
	}
	for _, c := range claims {
		if c.From != "a" || !c.FromStopped {
			t.Errorf("claim %+v; want from a, stopped", c)
		}
		if want := "adopted from scheduler a: it stopped"; c.Why() != want {
			t.Errorf("Why() = %q, want %q", c.Why(), want)
		}
	}
	// A beat after the stop (a restarted a of the same name) is alive again.
	if err := s.Beat(ctx, "a", false); err != nil {
		t.Fatal(err)
	}
	if claims, err := s.ClaimRuns(ctx, "a", time.Minute, 10, false); err != nil || len(claims) != 2 {
		t.Fatalf("a claims %+v, %v; want the 2 runs with no owner", claims, err)
	}
	if claims, err := s.ClaimRuns(ctx, "b", time.Minute, 10, false); err != nil || len(claims) != 0 {
		t.Fatalf("b claims %+v, %v; want nothing: a beats again", claims, err)
	}
	owned, err := s.ListRuns(ctx, scheduler.RunFilter{Owner: "a"})
	if err != nil || len(owned) != 2 {
		t.Fatalf("ListRuns(owner a) = %d runs, %v; want 2", len(owned), err)
	}
	for _, r := range owned {
		if r.Owner != "a" {
			t.Errorf("run %s has Owner %q, want a", r.RunID, r.Owner)
		}
	}
}

// TestApplyFencedByOwner: a change fenced with Owner lands only while that
// scheduler owns the run; unfenced changes (an operator's) always do.
func TestApplyFencedByOwner(t *testing.T) {
	s := open(t, freshDatabase(t), Options{})
	runningRuns(t, s, 1)
	ctx := t.Context()
	if err := s.Beat(ctx, "a", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClaimRuns(ctx, "a", time.Minute, 1, false); err != nil {
		t.Fatal(err)
	}
	key := scheduler.TaskKey{DAGID: "etl", RunID: "r000", TaskID: "a"}
	change := func(owner string, from, to scheduler.State) error {
		res, err := s.Apply(ctx, []scheduler.Change{{Key: key, From: from, To: to, Reason: "test",
			Actor: scheduler.Actor{Component: "scheduler", Instance: owner}, At: time.Now(), Owner: owner}})
		if err != nil {
			t.Fatal(err)
		}
		return res[0].Err
	}
	if err := change("b", scheduler.StateScheduled, scheduler.StateQueued); !errors.Is(err, scheduler.ErrNotOwner) {
		t.Fatalf("b's change to a's run: %v; want ErrNotOwner", err)
	}
	if err := change("a", scheduler.StateScheduled, scheduler.StateQueued); err != nil {
		t.Fatalf("a's change to its own run: %v", err)
	}
	if err := change("", scheduler.StateQueued, scheduler.StateScheduled); err != nil {
		t.Fatalf("an unfenced change: %v", err)
	}
	// a goes silent; b takes the run; a's late change is refused.
	if _, err := s.db.ExecContext(ctx, `UPDATE schedulers SET last_beat = now() - interval '2 minutes' WHERE instance = 'a'`); err != nil {
		t.Fatal(err)
	}
	if claims, err := s.ClaimRuns(ctx, "b", time.Minute, 1, false); err != nil || len(claims) != 1 {
		t.Fatalf("b claims %+v, %v", claims, err)
	}
	if err := change("a", scheduler.StateScheduled, scheduler.StateQueued); !errors.Is(err, scheduler.ErrNotOwner) {
		t.Fatalf("a's change after b took the run: %v; want ErrNotOwner", err)
	}
	hist, err := s.History(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 { // created, a queued, requeued
		t.Errorf("history has %d records, want 3: %+v", len(hist), hist)
	}
}

// TestClaimSkipsFencedRun: a claim skips a run whose instance an Apply is
// changing (the Apply holds the owner check until it commits) and takes it
// afterwards; the Apply lands as its owner's.
func TestClaimSkipsFencedRun(t *testing.T) {
	url := freshDatabase(t)
	s := open(t, url, Options{})
	runningRuns(t, s, 1)
	ctx := t.Context()
	if _, err := s.ClaimRuns(ctx, "a", time.Minute, 1, false); err != nil {
		t.Fatal(err)
	}
	// a never beat, so its runs are claimable; an open transaction holds
	// the owner lock the way Apply does.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := lockOwners(ctx, tx, []scheduler.Change{{Key: scheduler.TaskKey{DAGID: "etl", RunID: "r000", TaskID: "a"}, Owner: "a"}}); err != nil {
		t.Fatal(err)
	}
	other := open(t, url, Options{})
	if claims, err := other.ClaimRuns(ctx, "b", time.Minute, 1, false); err != nil || len(claims) != 0 {
		t.Fatalf("b claimed %+v, %v while a's Apply held the run; want it skipped", claims, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if claims, err := other.ClaimRuns(ctx, "b", time.Minute, 1, false); err != nil || len(claims) != 1 || claims[0].StaleFor != -1 {
		t.Fatalf("b claims %+v, %v after the Apply; want the run, from a that never beat", claims, err)
	}
}
