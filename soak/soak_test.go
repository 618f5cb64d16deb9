// Package soak runs Vigil through faults and crashes against the real test
// environment (kube-apiserver with KWOK, toxiproxy, PostgreSQL) and checks
// the recorded history with histcheck afterwards: nothing lost, no try run
// twice, every decision legal and explained. `make test` runs a reduced
// set; `make soak` (VIGIL_SOAK=full) the full one, whose figures are in
// RELIABILITY.md.
package soak

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/cli/clitest"
	"github.com/vigilhq/vigil/executor/kube/kubetest"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/histcheck"
	"github.com/vigilhq/vigil/scheduler/store/sqlite"
)

func TestMain(m *testing.M) { clitest.Main(m) }

// full reports whether the full soak was asked for (make soak).
func full() bool { return os.Getenv("VIGIL_SOAK") == "full" }

// size picks the reduced or the full figure.
func size(reduced, fullSize int) int {
	if full() {
		return fullSize
	}
	return reduced
}

// flatDAG is n independent tasks with two retries: pods under KWOK.
func flatDAG(id string, n int) string {
	return clitest.WideDAG(id, "defaults:\n  retries: 2\n  retry_delay: 1s\n", n, `["true"]`)
}

// cluster is one scenario's namespace on the test apiserver, with every
// pod in it recorded.
type cluster struct {
	ns   string
	pods *kubetest.PodLog
	dir  string // config and pod template
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	cs := kubetest.Client(t) // skips without the test control plane
	ns := kubetest.Namespace(t, cs)
	c := &cluster{ns: ns, pods: kubetest.RecordPods(t, cs, ns), dir: t.TempDir()}
	return c
}

// config writes a vigil config that runs tasks as pods in the namespace
// through kubeconfig, with short deadlines so that faults bite quickly;
// each pod runs for podRun under KWOK.
func (c *cluster) config(t *testing.T, kubeconfig string, podRun time.Duration) string {
	t.Helper()
	tmpl := filepath.Join(c.dir, "pod.yaml")
	write(t, tmpl, fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    sim.kwok.local/start-delay: 200ms\n    sim.kwok.local/run-duration: %s\n", podRun))
	cfg := filepath.Join(c.dir, "vigil.yaml")
	write(t, cfg, fmt.Sprintf(`parallelism: 40
kube:
  kubeconfig: %s
  namespace: %s
  default_image: busybox:1.36
  pod_template: %s
  request_timeout: 3s
  delete_succeeded: true
`, kubeconfig, c.ns, tmpl))
	return cfg
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// result is one scenario's line in RELIABILITY.md.
type result struct {
	Scenario   string
	Tasks      int
	Faults     int // times the fault was switched on (or schedulers killed)
	Hits       int // requests the fault proxy answered with the fault
	Took       time.Duration
	Pods       int
	Retries    int
	Requeues   int
	Adoptions  int
	Violations int
}

func (r result) String() string {
	hits := "-"
	if r.Hits > 0 {
		hits = fmt.Sprint(r.Hits)
	}
	return fmt.Sprintf("| %s | %d | %d | %s | %s | %.1f | %d | %d | %d | %d | %d |", r.Scenario, r.Tasks, r.Faults, hits, r.Took.Round(100*time.Millisecond),
		float64(r.Tasks)/r.Took.Seconds(), r.Pods, r.Retries, r.Requeues, r.Adoptions, r.Violations)
}

// report logs a scenario's figures in a form bench/soak.sh collects.
func report(t *testing.T, r result) {
	t.Logf("SOAK %s", r)
}

// storeOf opens a scheduler's SQLite database for reading the history.
func storeOf(t *testing.T, s *clitest.Scheduler) scheduler.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(s.Dir, "vigil.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// waitAllEnded waits until every run in st has ended.
func waitAllEnded(t *testing.T, st scheduler.Store, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		running, err := st.ListRuns(ctx, scheduler.RunFilter{States: []scheduler.RunState{scheduler.RunRunning}})
		cancel()
		if err == nil && len(running) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d runs still running after %s (last error %v)", len(running), within, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// check reads every instance and its history from st, sets the recorded
// pods against them, fails t for each violation and returns the report.
func check(t *testing.T, st scheduler.Store, pods *kubetest.PodLog, schedulers []string) histcheck.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	tis, err := st.ListTaskInstances(ctx, scheduler.TaskFilter{})
	if err != nil {
		t.Fatal(err)
	}
	hist := make(map[scheduler.TaskKey][]scheduler.Transition, len(tis))
	for _, ti := range tis {
		h, err := st.History(ctx, ti.TaskKey)
		if err != nil {
			t.Fatal(err)
		}
		hist[ti.TaskKey] = h
	}
	rep := histcheck.Check(histcheck.Input{Instances: tis, History: hist, Workloads: pods.Pods(),
		Schedulers: schedulers, WantState: scheduler.StateSuccess})
	for i, v := range rep.Violations {
		if i == 20 {
			t.Errorf("... and %d more violations", len(rep.Violations)-20)
			break
		}
		t.Error(v)
	}
	return rep
}

// trigger starts runs of dagID through the admin CLI, as a user would.
func trigger(t *testing.T, s *clitest.Scheduler, dagID string, runs int) {
	t.Helper()
	clitest.WaitFor(t, "the DAG to load", 60*time.Second, func() bool {
		out, err := s.Vigil("dags", "list")
		return err == nil && strings.Contains(out, dagID)
	})
	for range runs {
		if out, err := s.Vigil("dags", "trigger", dagID); err != nil {
			t.Fatalf("vigil dags trigger %s: %v\n%s", dagID, err, out)
		}
	}
}

// toggler switches a fault on and off at random intervals, on first,
// until stop is closed, and counts the switches on.
type toggler struct {
	stop chan struct{}
	done chan struct{}
	once sync.Once
	mu   sync.Mutex
	ons  int
}

// rhythm is how long a fault stays on and off: each a random duration
// between the two bounds.
type rhythm struct{ onMin, onMax, offMin, offMax time.Duration }

// flapping: on 0.5-3s, off 0.5-2s (on more than half the time).
var flapping = rhythm{500 * time.Millisecond, 3 * time.Second, 500 * time.Millisecond, 2 * time.Second}

func between(lo, hi time.Duration) time.Duration { return lo + rand.N(hi-lo+1) }

// toggle starts a toggler; it is ended when the test ends, if not before.
func toggle(t *testing.T, r rhythm, on, off func()) *toggler {
	tg := &toggler{stop: make(chan struct{}), done: make(chan struct{})}
	t.Cleanup(func() { tg.end() })
	go func() {
		defer close(tg.done)
		for first := true; ; first = false {
			if !first {
				select {
				case <-tg.stop:
					return
				case <-time.After(between(r.offMin, r.offMax)):
				}
			}
			on()
			tg.mu.Lock()
			tg.ons++
			tg.mu.Unlock()
			select {
			case <-tg.stop:
				off()
				return
			case <-time.After(between(r.onMin, r.onMax)):
			}
			off()
		}
	}()
	return tg
}

// end stops the toggling (leaving the fault off) and returns how many
// times it was switched on.
func (tg *toggler) end() int {
	tg.once.Do(func() { close(tg.stop) })
	<-tg.done
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.ons
}
