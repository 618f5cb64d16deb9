package bench

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
	"github.com/vigilhq/vigil/scheduler/store/sqlite"
)

// idleWindow is how long BenchmarkIdle20k watches an idle scheduler: five
// sync intervals.
const idleWindow = 10 * time.Second

// BenchmarkIdle20k: the CPU an idle scheduler uses with one 20,000-task DAG
// in its folder and nothing to run, with the default settings (a sync every
// 2 s). Issue 16: parsing and encoding the unchanged file at every sync, on
// the loop, cost 40% of a core. cpu-% is the process's CPU time over the
// window (user + system, every thread) as a percentage of one core;
// max-iteration-ms is the longest loop turn in the window.
func BenchmarkIdle20k(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		cpu, maxTurn := idleCost(b, wide(20000, `["true"]`))
		b.StartTimer()
		b.ReportMetric(100*cpu.Seconds()/idleWindow.Seconds(), "cpu-%")
		b.ReportMetric(float64(maxTurn.Microseconds())/1000, "max-iteration-ms")
	}
}

func idleCost(b *testing.B, dagText string) (cpu, maxTurn time.Duration) {
	dir := b.TempDir()
	dags := filepath.Join(dir, "dags")
	if err := os.MkdirAll(dags, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dags, "bench.yaml"), []byte(dagText), 0o644); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "vigil.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var turns turnRecorder
	sched, err := scheduler.New(scheduler.Options{
		Store:            st,
		Executor:         executortest.NewMemory(executortest.MemoryOptions{}),
		Logger:           zap.NewNop(),
		DAGDir:           dags,
		Presets:          dag.DefaultPresets(),
		ObserveIteration: turns.observe,
	})
	if err != nil {
		b.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sched.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	for !sched.Ready() {
		time.Sleep(10 * time.Millisecond)
	}
	for {
		if _, err := st.GetDAG(ctx, "bench"); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The first load's garbage is collected before the window.
	runtime.GC()
	turns.reset()
	cpu0 := processCPU()
	time.Sleep(idleWindow)
	return processCPU() - cpu0, turns.max()
}

// turnRecorder keeps the longest loop turn since its reset.
type turnRecorder struct{ longest atomic.Int64 }

func (r *turnRecorder) observe(d time.Duration) {
	for {
		old := r.longest.Load()
		if int64(d) <= old || r.longest.CompareAndSwap(old, int64(d)) {
			return
		}
	}
}

func (r *turnRecorder) reset()             { r.longest.Store(0) }
func (r *turnRecorder) max() time.Duration { return time.Duration(r.longest.Load()) }
