package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

const benchTasks = 1000

// benchCycle is the loop the benchmarks drive every instance around: a try
// that starts, fails and is queued again, the busiest path of a scheduler.
var benchCycle = map[scheduler.State]scheduler.State{
	scheduler.StateQueued:     scheduler.StateRunning,
	scheduler.StateRunning:    scheduler.StateUpForRetry,
	scheduler.StateUpForRetry: scheduler.StateQueued,
}

// benchStore returns a store with one run of benchTasks queued instances.
func benchStore(b *testing.B) (*Store, []scheduler.TaskKey) {
	s := open(b, filepath.Join(b.TempDir(), "vigil.db"), Options{})
	ctx := b.Context()
	spec := dag.TaskSpec{
		Command: []string{"python", "-m", "etl"}, Env: []dag.EnvVar{{Name: "MODE", Value: "full"}},
		Retries: 3, RetryDelay: time.Second, Resources: dag.Resources{CPU: "500m", Memory: "1Gi"},
	}
	if err := s.SaveDAG(ctx, scheduler.DAGRecord{ID: "bench", File: "bench.yaml", Source: []byte("id: bench")}); err != nil {
		b.Fatal(err)
	}
	run := scheduler.Run{DAGID: "bench", RunID: "r1", State: scheduler.RunRunning}
	keys := make([]scheduler.TaskKey, benchTasks)
	tasks := make([]scheduler.TaskInstance, benchTasks)
	changes := make([]scheduler.Change, benchTasks)
	for i := range keys {
		keys[i] = scheduler.TaskKey{DAGID: "bench", RunID: "r1", TaskID: fmt.Sprintf("task-%04d", i)}
		tasks[i] = scheduler.TaskInstance{TaskKey: keys[i], Spec: spec}
		changes[i] = benchChange(keys[i], scheduler.StateScheduled, scheduler.StateQueued)
	}
	if _, err := s.CreateRun(ctx, run, tasks, "bench"); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Apply(ctx, changes); err != nil {
		b.Fatal(err)
	}
	return s, keys
}

func benchChange(k scheduler.TaskKey, from, to scheduler.State) scheduler.Change {
	c := scheduler.Change{
		Key: k, From: from, To: to, At: time.Now().UTC(), Reason: "bench",
		Actor: scheduler.Actor{Component: "bench", Instance: "host:1"},
	}
	if to == scheduler.StateUpForRetry {
		code := 1
		c.ExitCode = &code
	}
	if to == scheduler.StateRunning {
		c.ExternalID = "pid-1"
	}
	return c
}

func mustApply(b *testing.B, s *Store, changes []scheduler.Change) {
	results, err := s.Apply(b.Context(), changes)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range results {
		if r.Err != nil {
			b.Fatal(r.Err)
		}
	}
}

// BenchmarkApply applies batches of 1000 changes, one per instance, as a
// scheduler tick that moves many tasks at once does.
func BenchmarkApply(b *testing.B) {
	s, keys := benchStore(b)
	state := scheduler.StateQueued
	changes := make([]scheduler.Change, len(keys))
	for b.Loop() {
		next := benchCycle[state]
		for i, k := range keys {
			changes[i] = benchChange(k, state, next)
		}
		mustApply(b, s, changes)
		state = next
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/change")
}

// BenchmarkApplyOne applies one change per call, as an executor event
// does.
func BenchmarkApplyOne(b *testing.B) {
	s, keys := benchStore(b)
	states := make([]scheduler.State, len(keys))
	for i := range states {
		states[i] = scheduler.StateQueued
	}
	i := 0
	for b.Loop() {
		j := i % len(keys)
		next := benchCycle[states[j]]
		mustApply(b, s, []scheduler.Change{benchChange(keys[j], states[j], next)})
		states[j] = next
		i++
	}
}
