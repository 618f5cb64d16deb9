package soak

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/cli/clitest"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/hatest"
	"github.com/vigilhq/vigil/scheduler/store/postgres/pgtest"
)

// TestPostgresRestartedMidRun stops the PostgreSQL server itself (an
// immediate stop: every connection dropped, like a crash) under a
// scheduler running tasks as pods, keeps it down for a few seconds and
// starts it again, several times. Pods finish meanwhile; their ends must
// be recorded once the database is back, and nothing may run twice.
func TestPostgresRestartedMidRun(t *testing.T) {
	restarts := size(2, 10)
	c := newCluster(t)
	srv := pgtest.StartServer(t) // synchronous commit on: a crash loses nothing acknowledged
	hc := hatest.New(t, srv.URL)
	s := clitest.Start(t, clitest.Options{
		DB:    srv.URL,
		DAGs:  map[string]string{"soak.yaml": flatDAG("soak", 50)},
		Extra: []string{"--config", c.config(t, os.Getenv("KUBECONFIG"), time.Second), "--executor", "kubernetes", "--instance", "s1"},
	})
	start := time.Now()
	trigger(t, s, "soak", size(2, 10))
	for i := range restarts {
		time.Sleep(time.Second + rand.N(3*time.Second))
		srv.Stop()
		time.Sleep(2*time.Second + rand.N(4*time.Second))
		srv.Start()
		t.Logf("database restart %d of %d", i+1, restarts)
	}
	waitAllEnded(t, hc.Admin, 10*time.Minute)
	took := time.Since(start)
	s.Kill(t)
	rep := check(t, hc.Admin, c.pods, []string{"s1"})
	report(t, result{Scenario: "PostgreSQL restarted", Tasks: rep.Instances, Faults: restarts, Took: took, Pods: c.pods.Count(),
		Retries: rep.Retries, Requeues: rep.Requeues, Adoptions: rep.Adoptions, Violations: len(rep.Violations)})
}

// TestThreeSchedulersOneKilledRepeatedly runs three schedulers on one
// PostgreSQL, all running tasks as pods in one namespace, and SIGKILLs one
// of them at random again and again, starting it again a few seconds
// later under the same name. The others take its runs over once its beat
// is stale (4s here) and adopt its pods. No try may run two pods, and
// every change of hands must be on record.
func TestThreeSchedulersOneKilledRepeatedly(t *testing.T) {
	kills := size(3, 15)
	c := newCluster(t)
	url := pgtest.FreshDatabase(t)
	hc := hatest.New(t, url) // migrates
	cfg := c.config(t, os.Getenv("KUBECONFIG"), 3*time.Second)
	names := []string{"s1", "s2", "s3"}
	opts := map[string]clitest.Options{}
	scheds := map[string]*clitest.Scheduler{}
	for _, name := range names {
		o := clitest.Options{DB: url, DAGs: map[string]string{"soak.yaml": flatDAG("soak", 50)},
			Extra: []string{"--config", cfg, "--executor", "kubernetes", "--instance", name, "--stale-after", "4s"}}
		scheds[name] = clitest.Start(t, o)
		o.Dir = scheds[name].Dir
		opts[name] = o
	}
	start := time.Now()
	trigger(t, scheds["s1"], "soak", 3)
	for i := range kills {
		if !anyRunning(t, hc.Admin) {
			trigger(t, scheds["s1"], "soak", 2)
		}
		time.Sleep(2*time.Second + rand.N(3*time.Second))
		victim := busiest(t, hc, names)
		scheds[victim].Kill(t)
		time.Sleep(time.Second + rand.N(7*time.Second)) // past the 4s stale threshold about half the time
		scheds[victim] = clitest.Start(t, opts[victim])
		t.Logf("kill %d of %d: %s", i+1, kills, victim)
	}
	waitAllEnded(t, hc.Admin, 10*time.Minute)
	took := time.Since(start)
	for _, s := range scheds {
		s.Kill(t)
	}
	rep := check(t, hc.Admin, c.pods, names)
	report(t, result{Scenario: "3 schedulers, one killed", Tasks: rep.Instances, Faults: kills, Took: took, Pods: c.pods.Count(),
		Retries: rep.Retries, Requeues: rep.Requeues, Adoptions: rep.Adoptions, Violations: len(rep.Violations)})
	// A kill lands between tries now and then, leaving nothing to adopt;
	// over the full set's 15 some must have been taken over.
	if full() && rep.Adoptions == 0 {
		t.Errorf("no takeover or adoption recorded in %d kills", kills)
	}
	t.Logf("transitions by scheduler: %s", fmt.Sprint(rep.ByScheduler))
}

// busiest is the scheduler that owns the most running runs (the first
// name if none owns any).
func busiest(t *testing.T, hc *hatest.Cluster, names []string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	running, _ := hc.Admin.ListRuns(ctx, scheduler.RunFilter{States: []scheduler.RunState{scheduler.RunRunning}})
	owned := map[string]int{}
	for _, r := range running {
		owned[r.Owner]++
	}
	victim := names[0]
	for _, n := range names {
		if owned[n] > owned[victim] {
			victim = n
		}
	}
	return victim
}
