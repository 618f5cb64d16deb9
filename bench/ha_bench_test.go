package bench

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/executor/local"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/hatest"
	"github.com/vigilhq/vigil/scheduler/store/postgres/pgtest"
)

// R3 (issue 7): 10,000 tasks (100 runs of a 100-task fan) on one
// PostgreSQL, run by one scheduler and by three, with the in-memory
// executor and with the local one (three executors on one folder, as
// three schedulers on one machine). Each iteration checks the history:
// every instance succeeded, no try was queued twice, every record is by
// the run's owner of the moment. Reports tasks/s; bench/ha.sh divides
// three by one.

const (
	haRuns  = 100
	haWidth = 100
)

func BenchmarkHA10k(b *testing.B) {
	for _, ex := range []string{"memory", "local"} {
		for _, n := range []int{1, 3} {
			b.Run(fmt.Sprintf("executor=%s/schedulers=%d", ex, n), func(b *testing.B) {
				var total time.Duration
				for b.Loop() {
					b.StopTimer()
					total += haOnce(b, ex, n)
					b.StartTimer()
				}
				secs := total.Seconds() / float64(b.N)
				b.ReportMetric(secs, "s/10k")
				b.ReportMetric(float64(haRuns*haWidth)/secs, "tasks/s")
			})
		}
	}
}

func haOnce(b *testing.B, executor string, n int) time.Duration {
	c := hatest.New(b, pgtest.FreshDatabase(b))
	mach := executortest.NewMemory(executortest.MemoryOptions{})
	dir := b.TempDir()
	var names []string
	var nodes []*hatest.Node
	for i := range n {
		name := fmt.Sprintf("s%d", i+1)
		names = append(names, name)
		var ex scheduler.Executor = mach.Reopen()
		if executor == "local" {
			l, err := local.New(local.Options{Dir: filepath.Join(dir, "tasks"), Logger: zap.NewNop()})
			if err != nil {
				b.Fatal(err)
			}
			ex = l
		}
		nodes = append(nodes, c.Start(name, c.URL, scheduler.Options{Executor: ex, SyncInterval: time.Second,
			StaleAfter: 45 * time.Second, StopTasksOnShutdown: executor == "local"}))
	}
	for _, nd := range nodes {
		for !nd.Sched.Ready() {
			time.Sleep(time.Millisecond)
		}
	}
	start := time.Now()
	c.Trigger(hatest.FanDAG("fan", haWidth, []string{"true"}), haRuns)
	c.WaitDone(10 * time.Minute)
	took := time.Since(start)
	rep := c.Check(b.Context(), names, scheduler.StateSuccess)
	for _, v := range rep.Violations {
		b.Error(v)
	}
	if rep.Instances != haRuns*haWidth {
		b.Errorf("%d instances, want %d", rep.Instances, haRuns*haWidth)
	}
	if executor == "memory" {
		for _, k := range mach.Started() {
			if s := mach.Starts(k); s != 1 {
				b.Errorf("try %s submitted %d times", k, s)
			}
		}
	}
	b.Logf("%s, %d schedulers: %s, %d transitions %v, 0 violations=%v", executor, n, took.Round(time.Millisecond),
		rep.Transitions, rep.ByScheduler, len(rep.Violations) == 0)
	for _, nd := range nodes {
		if err := nd.Stop(); err != nil {
			b.Error(err)
		}
	}
	return took
}
