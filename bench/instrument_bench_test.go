package bench

import (
	"fmt"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/diag/wiretrace"
	"github.com/vigilhq/vigil/profiles"
)

// P1 (issue 4): scheduler throughput with every instrument on, divided by
// the throughput with all of them off, in the same benchmark run. Target
// ≥ 0.99.
//
// "On" is what `vigil run` runs: the in-flight registry on every store and
// executor call, the flight recorder (10 s window), and continuous
// profiling (CPU, allocations, in-use memory, goroutines) pushed every
// second to the real Pyroscope server at $PYROSCOPE_URL through the wire
// tracer in summary mode. Without $PYROSCOPE_URL the push is left out and
// the result says so. The loop's pprof labels are not switchable and are
// in both arms.
//
// The arms alternate (on-off, off-on, ...) so drift in the machine hits
// both alike; each run is 10,000 instant tasks, long enough to hold
// several uploads. The figure is the median of the per-pair ratios; the
// geometric mean of the ratios and the aggregate rates (on-tasks/s,
// off-tasks/s) are reported beside it, since one pair can swing ±30% on
// a shared 2-core machine.
func BenchmarkInstrumentationOverhead(b *testing.B) {
	tasks, pairs := 10000, 12
	for env, p := range map[string]*int{"P1_TASKS": &tasks, "P1_PAIRS": &pairs} {
		if v := os.Getenv(env); v != "" {
			if _, err := fmt.Sscan(v, p); err != nil {
				b.Fatalf("%s=%q: %v", env, v, err)
			}
		}
	}
	uploadRate := time.Second
	if v := os.Getenv("P1_UPLOAD_RATE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("P1_UPLOAD_RATE=%q: %v", v, err)
		}
		uploadRate = d
	}
	pyroURL := os.Getenv("PYROSCOPE_URL")
	if pyroURL == "" {
		b.Log("PYROSCOPE_URL is not set: measuring without the Pyroscope push (run through testenv/kube/with-cluster.sh for the full figure)")
	}
	// P1_PARTS (comma list of registry, flightrecorder, push) narrows
	// "on" to some instruments, to find what costs.
	parts := map[string]bool{"registry": true, "flightrecorder": true, "push": true}
	if v := os.Getenv("P1_PARTS"); v != "" {
		parts = map[string]bool{}
		for _, p := range strings.Split(v, ",") {
			parts[strings.TrimSpace(p)] = true
		}
	}
	if !parts["push"] {
		pyroURL = ""
	}
	base := setup{dagText: wide(tasks, `["true"]`), executor: memory, parallelism: 32, tasks: tasks}
	var uploads, dropped uint64
	var cpuOn, cpuOff, cpu time.Duration
	on := func() time.Duration {
		s := base
		s.cpu = &cpu
		defer func() { cpuOn += cpu }()
		reg := inflight.New(inflight.Options{})
		if parts["registry"] {
			s.inflight = reg
		}
		tracer := wiretrace.New(wiretrace.Options{Mode: wiretrace.Summary, Registry: reg})
		if parts["flightrecorder"] {
			fr, err := profiles.StartFlightRecorder(profiles.FlightRecorderOptions{Window: 10 * time.Second})
			if err != nil {
				b.Fatal(err)
			}
			defer fr.Stop()
		}
		if pyroURL != "" {
			p, err := profiles.StartPush(profiles.PushOptions{
				ServerAddress: pyroURL, Service: "vigil-bench", Instance: "p1", UploadRate: uploadRate,
				WrapTransport: func(rt http.RoundTripper) http.RoundTripper { return tracer.Wrap(rt, wiretrace.WithName("pyroscope")) },
				Logger:        zap.NewNop(),
			})
			if err != nil {
				b.Fatal(err)
			}
			defer func() {
				p.Stop()
				st := p.Stats()
				uploads += st.Uploaded
				dropped += st.Dropped + st.Failed
			}()
		}
		return runOnce(b, s)
	}
	off := func() time.Duration {
		s := base
		s.cpu = &cpu
		d := runOnce(b, s)
		cpuOff += cpu
		return d
	}

	var ratios []float64
	var onTotal, offTotal time.Duration
	for b.Loop() {
		b.StopTimer()
		for i := range pairs {
			var tOn, tOff time.Duration
			if i%2 == 0 {
				tOn, tOff = on(), off()
			} else {
				tOff, tOn = off(), on()
			}
			onTotal += tOn
			offTotal += tOff
			// throughput ratio = (tasks/tOn) / (tasks/tOff)
			ratios = append(ratios, tOff.Seconds()/tOn.Seconds())
		}
		b.StartTimer()
	}
	slices.Sort(ratios)
	logSum := 0.0
	for _, r := range ratios {
		logSum += math.Log(r)
	}
	b.ReportMetric(ratios[len(ratios)/2], "P1-ratio")
	b.ReportMetric(math.Exp(logSum/float64(len(ratios))), "gmean-ratio")
	b.ReportMetric(ratios[0], "min-ratio")
	b.ReportMetric(ratios[len(ratios)-1], "max-ratio")
	b.ReportMetric(float64(tasks)*float64(len(ratios))/onTotal.Seconds(), "on-tasks/s")
	b.ReportMetric(float64(tasks)*float64(len(ratios))/offTotal.Seconds(), "off-tasks/s")
	// CPU time per task, on over off: what the instruments cost in CPU,
	// which a machine shared with other work measures more steadily than
	// wall time (it is an upper bound on the throughput cost: a loop that
	// waits does not slow down when another thread works).
	b.ReportMetric(cpuOff.Seconds()/cpuOn.Seconds(), "cpu-ratio")
	b.ReportMetric(float64(uploads), "uploads")
	b.ReportMetric(float64(dropped), "dropped-uploads")
}
