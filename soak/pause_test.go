package soak

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/cli/clitest"
	"github.com/vigilhq/vigil/scheduler/hatest"
	"github.com/vigilhq/vigil/scheduler/store/postgres/pgtest"
)

// TestOwnerPaused freezes the scheduler that owns the most runs with
// SIGSTOP (a paused VM, a stop-the-world pause of the host) for longer
// than the stale threshold, then lets it go on with SIGCONT, again and
// again. Two schedulers on one PostgreSQL run tasks as pods. While one is
// frozen the other takes its runs over and must adopt the pods that still
// run, never take them for zombies and run them again; once thawed, the
// frozen one must let go of the runs it lost before it acts on any
// (issue 16: 16 of 40 tasks ran twice). The full soak freezes for 90 s.
func TestOwnerPaused(t *testing.T) {
	pauses := size(1, 3)
	pause := time.Duration(size(12, 90)) * time.Second
	c := newCluster(t)
	url := pgtest.FreshDatabase(t)
	hc := hatest.New(t, url) // migrates
	// Pods outlive the reduced pause, so some are adopted running; in the
	// full one most end while their owner is frozen.
	cfg := c.config(t, os.Getenv("KUBECONFIG"), 15*time.Second)
	names := []string{"s1", "s2"}
	scheds := map[string]*clitest.Scheduler{}
	for _, name := range names {
		scheds[name] = clitest.Start(t, clitest.Options{DB: url, DAGs: map[string]string{"soak.yaml": flatDAG("soak", 40)},
			Extra: []string{"--config", cfg, "--executor", "kubernetes", "--instance", name, "--stale-after", "4s"}})
	}
	start := time.Now()
	for i := range pauses {
		trigger(t, scheds["s1"], "soak", 2)
		time.Sleep(3 * time.Second) // pods created and running
		victim := busiest(t, hc, names)
		p := scheds[victim].Cmd.Process
		if err := p.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		time.Sleep(pause)
		if err := p.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		t.Logf("pause %d of %d: %s frozen for %s", i+1, pauses, victim, pause)
		waitAllEnded(t, hc.Admin, 10*time.Minute)
	}
	took := time.Since(start)
	for _, s := range scheds {
		s.Kill(t)
	}
	rep := check(t, hc.Admin, c.pods, names)
	report(t, result{Scenario: fmt.Sprintf("owner frozen %s (SIGSTOP), 2 schedulers", pause), Tasks: rep.Instances, Faults: pauses, Took: took,
		Pods: c.pods.Count(), Retries: rep.Retries, Requeues: rep.Requeues, Adoptions: rep.Adoptions, Violations: len(rep.Violations)})
	if rep.Retries != 0 {
		t.Errorf("%d retries: a try of the frozen scheduler was taken for a failure", rep.Retries)
	}
	if rep.Adoptions == 0 {
		t.Error("no takeover recorded while the owner was frozen")
	}
	if pods := c.pods.Count(); pods != rep.Instances {
		t.Errorf("%d pods for %d tasks: a try ran twice or not at all", pods, rep.Instances)
	}
}
