package soak

import (
	"context"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/cli/clitest"
	"github.com/vigilhq/vigil/scheduler"
)

// TestSIGKILLAtRandomMoments is R2: the scheduler, running tasks as pods,
// is SIGKILLed at random moments (0.5-4s apart, at any point of its loop:
// mid-submit, mid-record, mid-reconcile) and started again on the same
// database, as a container restarted by its kubelet is (same pod name, so
// the same instance). Whenever nothing is running a new run is triggered,
// so every kill lands during runs. After the last restart everything must
// end and the history must hold: no try ran two pods, nothing lost.
func TestSIGKILLAtRandomMoments(t *testing.T) {
	kills := size(5, 50)
	const width = 50
	c := newCluster(t)
	opts := clitest.Options{
		DAGs:  map[string]string{"soak.yaml": flatDAG("soak", width)},
		Extra: []string{"--config", c.config(t, os.Getenv("KUBECONFIG"), time.Second), "--executor", "kubernetes", "--instance", "s1"},
	}
	s := clitest.Start(t, opts)
	opts.Dir = s.Dir
	st := storeOf(t, s)
	start := time.Now()
	trigger(t, s, "soak", 2)
	for i := range kills {
		if !anyRunning(t, st) {
			trigger(t, s, "soak", 1)
		}
		time.Sleep(500*time.Millisecond + rand.N(3500*time.Millisecond))
		s.Kill(t)
		t.Logf("kill %d of %d", i+1, kills)
		s = clitest.Start(t, opts)
	}
	waitAllEnded(t, st, 10*time.Minute)
	took := time.Since(start)
	s.Kill(t)
	rep := check(t, st, c.pods, []string{"s1"})
	report(t, result{Scenario: "R2 SIGKILL", Tasks: rep.Instances, Faults: kills, Took: took, Pods: c.pods.Count(),
		Retries: rep.Retries, Requeues: rep.Requeues, Adoptions: rep.Adoptions, Violations: len(rep.Violations)})
}

// anyRunning reports whether st has a run that has not ended.
func anyRunning(t *testing.T, st scheduler.Store) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	running, err := st.ListRuns(ctx, scheduler.RunFilter{States: []scheduler.RunState{scheduler.RunRunning}})
	return err != nil || len(running) > 0
}
