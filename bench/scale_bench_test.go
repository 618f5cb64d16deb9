package bench

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// BenchmarkScale (issue 18) runs one DAG of n independent tasks end to end
// through a scheduler set up as `vigil run` sets it up (SQLite file, default
// parallelism and batch sizes, the DAG folder loaded off the loop), with
// the in-memory executor for the scheduler's own cost and with the local
// executor (a `true` process per task). It reports per task what should
// not grow with n: time (us/task) and CPU (cpu-us/task, every thread), and
// the run's peak RSS. The target: at 100,000 tasks, time and CPU per task
// within 1.5× of 1,000.
//
// The local executor's 100,000 is 100,000 forks (several minutes on two
// cores): it runs only with SCALE_LOCAL_MAX=100000.
func BenchmarkScale(b *testing.B) {
	localMax := 10000
	if v, err := strconv.Atoi(os.Getenv("SCALE_LOCAL_MAX")); err == nil {
		localMax = v
	}
	for _, ex := range []struct {
		name string
		max  int
		exec setup
	}{
		{"memory", 100000, setup{executor: memory}},
		{"local", localMax, setup{executor: localExec}},
	} {
		for _, n := range []int{1000, 10000, 100000} {
			if n > ex.max {
				continue
			}
			b.Run(fmt.Sprintf("%s/tasks=%d", ex.name, n), func(b *testing.B) {
				s := ex.exec
				s.dagText, s.tasks, s.timeout = wide(n, `["true"]`), n, 30*time.Minute
				var cpu, total, cpuTotal time.Duration
				var rss, maxRSS int64
				s.cpu, s.peakRSS = &cpu, &rss
				for b.Loop() {
					b.StopTimer()
					total += runOnce(b, s)
					cpuTotal += cpu
					maxRSS = max(maxRSS, rss)
					b.StartTimer()
				}
				runs := float64(b.N)
				b.ReportMetric(total.Seconds()/runs, "s/run")
				b.ReportMetric(float64(total.Microseconds())/runs/float64(n), "us/task")
				b.ReportMetric(float64(cpuTotal.Microseconds())/runs/float64(n), "cpu-us/task")
				b.ReportMetric(float64(maxRSS)/(1<<20), "peak-rss-MiB")
			})
		}
	}
}

// resetPeakRSS resets the process's resident-set high-water mark (VmHWM),
// so peakRSS reports the peak of what follows.
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("reset peak RSS: %v (the peak is the process's since its start)", err)
	}
}

// peakRSS is the process's resident-set high-water mark, in bytes.
func peakRSS(b *testing.B) int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for line := range bytes.Lines(status) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			kb, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(v), []byte("kB")))), 10, 64)
			if err != nil {
				b.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}
