package bench

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/executor/local"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/store/sqlite"
)

// wide is a DAG of n independent tasks; chain is n tasks each depending
// on the previous one.
func wide(n int, command string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "id: bench\nmax_active_tasks: %d\ntasks:\n", n)
	for i := range n {
		fmt.Fprintf(&b, "  - id: t%04d\n    command: %s\n", i, command)
	}
	return b.String()
}

func chain(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "id: bench\ntasks:\n  - id: t0000\n    command: [\"true\"]\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "  - id: t%04d\n    depends_on: [t%04d]\n    command: [\"true\"]\n", i, i-1)
	}
	return b.String()
}

type setup struct {
	// inflight, if set, is given to the store and the scheduler (P1).
	inflight    *inflight.Registry
	dagText     string
	executor    func(b *testing.B, dir string) scheduler.Executor
	parallelism int
	tasks       int
	// cpu, if set, receives the CPU time (user + system, every thread) the
	// process used during the timed part of the run.
	cpu *time.Duration
	// peakRSS, if set, receives the process's peak resident set during the
	// run (from /proc: its high-water mark, reset before the run).
	peakRSS *int64
	// timeout bounds the whole run; 2 minutes if zero.
	timeout time.Duration
}

// processCPU is the CPU time this process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func memory(*testing.B, string) scheduler.Executor {
	return executortest.NewMemory(executortest.MemoryOptions{})
}

func localExec(b *testing.B, dir string) scheduler.Executor {
	ex, err := local.New(local.Options{Dir: filepath.Join(dir, "tasks"), Logger: zap.NewNop()})
	if err != nil {
		b.Fatal(err)
	}
	return ex
}

// runOnce starts a scheduler on a fresh SQLite file, triggers one run and
// returns the time from the run's creation to its end.
func runOnce(b *testing.B, s setup) time.Duration {
	b.Helper()
	dir := b.TempDir()
	dags := filepath.Join(dir, "dags")
	if err := os.MkdirAll(dags, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dags, "bench.yaml"), []byte(s.dagText), 0o644); err != nil {
		b.Fatal(err)
	}
	timeout := cmp.Or(s.timeout, 2*time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "vigil.db"), sqlite.Options{Inflight: s.inflight})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ended := make(chan scheduler.Run, 1)
	sched, err := scheduler.New(scheduler.Options{
		Store:       st,
		Executor:    s.executor(b, dir),
		Logger:      zap.NewNop(),
		DAGDir:      dags,
		Parallelism: s.parallelism,
		OnRunEnd:    func(r scheduler.Run) { ended <- r },
		Inflight:    s.inflight,
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
		time.Sleep(time.Millisecond)
	}
	// Start every run from a collected heap, so one run's garbage is not
	// collected during the next one.
	runtime.GC()
	if s.peakRSS != nil {
		debug.FreeOSMemory() // or the peak starts from what an earlier run left mapped
		resetPeakRSS(b)
	}
	cpu0 := processCPU()
	start := time.Now()
	if _, err := sched.Trigger(ctx, "bench"); err != nil {
		b.Fatal(err)
	}
	select {
	case run := <-ended:
		elapsed := time.Since(start)
		if s.cpu != nil {
			*s.cpu = processCPU() - cpu0
		}
		if s.peakRSS != nil {
			*s.peakRSS = peakRSS(b)
		}
		if run.State != scheduler.RunSuccess {
			b.Fatalf("run ended %s", run.State)
		}
		return elapsed
	case <-ctx.Done():
		b.Fatalf("run did not end within %s", timeout)
	}
	return 0
}

func bench(b *testing.B, s setup) {
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		d := runOnce(b, s)
		b.StartTimer()
		total += d
	}
	secs := total.Seconds() / float64(b.N)
	b.ReportMetric(secs, "s/run")
	b.ReportMetric(float64(s.tasks)/secs, "tasks/s")
}

// The targets (issue 2): 1,000 independent instant tasks ≤ 1 s, a chain of
// 1,000 ≤ 3 s, 200 `true` processes with the local executor ≤ 5 s.

func BenchmarkIndependent1000(b *testing.B) {
	b.Run("parallelism=32", func(b *testing.B) {
		bench(b, setup{dagText: wide(1000, `["true"]`), executor: memory, parallelism: 32, tasks: 1000})
	})
	b.Run("parallelism=1000", func(b *testing.B) {
		bench(b, setup{dagText: wide(1000, `["true"]`), executor: memory, parallelism: 1000, tasks: 1000})
	})
}

func BenchmarkChain1000(b *testing.B) {
	bench(b, setup{dagText: chain(1000), executor: memory, parallelism: 32, tasks: 1000})
}

func BenchmarkLocalTrue200(b *testing.B) {
	bench(b, setup{dagText: wide(200, `["true"]`), executor: localExec, parallelism: 32, tasks: 200})
}
