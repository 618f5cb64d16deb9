package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

// purgeBenchStore returns a store of runs ended long ago, each of tasks
// instances with three transitions each (created, queued, success), made
// through the Store's own calls.
func purgeBenchStore(b *testing.B, runs, tasks int) *Store {
	s := open(b, filepath.Join(b.TempDir(), "vigil.db"), Options{})
	ctx := b.Context()
	if err := s.SaveDAG(ctx, scheduler.DAGRecord{ID: "bench", File: "bench.yaml", Source: []byte("id: bench")}); err != nil {
		b.Fatal(err)
	}
	spec := dag.TaskSpec{Command: []string{"true"}}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for r := range runs {
		runID := fmt.Sprintf("r%06d", r)
		tis := make([]scheduler.TaskInstance, tasks)
		var changes []scheduler.Change
		for i := range tis {
			k := scheduler.TaskKey{DAGID: "bench", RunID: runID, TaskID: fmt.Sprintf("t%05d", i)}
			tis[i] = scheduler.TaskInstance{TaskKey: k, Spec: spec}
			changes = append(changes, benchChange(k, scheduler.StateScheduled, scheduler.StateSkipped))
		}
		run := scheduler.Run{DAGID: "bench", RunID: runID, Manual: true, State: scheduler.RunRunning, LogicalDate: t0}
		if _, err := s.CreateRun(ctx, run, tis, "bench"); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Apply(ctx, changes); err != nil {
			b.Fatal(err)
		}
		if err := s.SetRunState(ctx, "bench", runID, scheduler.RunSuccess, t0.Add(time.Duration(r)*time.Second)); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkPurgeBatch measures one retention transaction: the time the
// write lock is held by a batch (DefaultPurgeLimit) of ordinary runs of
// 10 tasks, and by one run of 10,000 tasks, which goes whole.
//
//	go test -run '^$' -bench PurgeBatch -benchtime 5x ./scheduler/store/sqlite/
func BenchmarkPurgeBatch(b *testing.B) {
	for _, tc := range []struct{ runs, tasks int }{{100, 10}, {1, 10000}} {
		b.Run(fmt.Sprintf("runs=%d/tasks=%d", tc.runs, tc.tasks), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				s := purgeBenchStore(b, tc.runs, tc.tasks)
				b.StartTimer()
				runs, n, err := s.PurgeRuns(b.Context(), time.Now(), scheduler.DefaultPurgeLimit)
				if err != nil || len(runs) != tc.runs {
					b.Fatalf("PurgeRuns = %d runs, %v", len(runs), err)
				}
				b.StopTimer()
				b.ReportMetric(float64(n.Transitions), "transitions/batch")
				s.Close()
				b.StartTimer()
			}
		})
	}
}
