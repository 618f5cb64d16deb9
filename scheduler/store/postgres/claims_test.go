package postgres

import (
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
			if err := st.Beat(t.Context(), me); err != nil {
				t.Error(err)
				return
			}
			for {
				claims, err := st.ClaimRuns(t.Context(), me, time.Minute, 7)
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
		if err := s.Beat(ctx, me); err != nil {
			t.Fatal(err)
		}
	}
	if claims, err := s.ClaimRuns(ctx, "a", 45*time.Second, 100); err != nil || len(claims) != 5 {
		t.Fatalf("a claims %d runs, %v; want 5", len(claims), err)
	}
	if claims, err := s.ClaimRuns(ctx, "b", 45*time.Second, 100); err != nil || len(claims) != 0 {
		t.Fatalf("b took %d of a's runs while a beats (%v)", len(claims), err)
	}
	// a stops beating: its last beat is now 2 minutes old.
	if _, err := s.db.ExecContext(ctx, `UPDATE schedulers SET last_beat = now() - interval '2 minutes' WHERE instance = 'a'`); err != nil {
		t.Fatal(err)
	}
	claims, err := s.ClaimRuns(ctx, "b", 45*time.Second, 100)
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
	claims, err = s.ClaimRuns(ctx, "c", 45*time.Second, 100)
	if err != nil || len(claims) != 4 {
		t.Fatalf("c claims %d runs, %v; want the 4 still running", len(claims), err)
	}
}
