package stacks

import (
	"context"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"testing"
	"time"
)

// The committed figure P2: at 100,000 goroutines, the grouped snapshot
// stops the world for at most 1 ms and takes at most 0.5 s.
//
//	go test -run '^$' -bench 100k -benchtime 10x ./diag/stacks/
//
// Both benchmarks report, from the runtime's pause histograms read
// before and after each operation (see pause.go):
//
//	pause-ms/op        the longest single stop-the-world pause seen in
//	                   any operation (GC or other), rounded up to its
//	                   histogram bucket: the worst case
//	pause-p50-ms/op    the median over operations of each one's longest
//	                   pause: what a typical snapshot costs (on a busy
//	                   machine the worst is a stop that waited for a
//	                   descheduled thread)
//	pause-other-ms/op  pause-ms/op counting only non-GC pauses, those the
//	                   goroutine profile or runtime.Stack itself takes
//	pause-gc-ms/op     pause-ms/op counting only GC pauses (a GC that the
//	                   operation's allocations triggered, or that was due)
//	pause-sum-ms/op    the pauses of an operation added up, averaged
//	pauses/op          how many pauses an operation recorded
//	took-ms/op         the operation's wall time, averaged
//	goroutines         how many goroutines there were
const benchGoroutines = 100_000

// parkIn parks on ch at the given extra depth, so that goroutines of
// different depths have different stacks.
func parkIn(ch <-chan struct{}, depth int, begun *sync.WaitGroup) {
	if depth > 0 {
		parkIn(ch, depth-1, begun)
		return
	}
	begun.Done()
	<-ch
}

// startParked starts n goroutines parked on a channel receive across 4
// stacks and 3 label sets, and returns once they are parked.
func startParked(b *testing.B, n int) (stop func()) {
	b.Helper()
	ch := make(chan struct{})
	var begun sync.WaitGroup
	begun.Add(n)
	dags := []string{"etl", "report", "backfill"}
	for i := range n {
		labels := pprof.Labels("loop", "bench", "dag", dags[i%len(dags)])
		go pprof.Do(context.Background(), labels, func(context.Context) { parkIn(ch, i%4, &begun) })
	}
	begun.Wait()
	time.Sleep(100 * time.Millisecond)
	return func() { close(ch) }
}

// pauseMeter accumulates pauseDeltas over the operations of a benchmark.
type pauseMeter struct {
	ops     int
	longest time.Duration
	perOp   []time.Duration // each operation's longest pause
	other   time.Duration
	gc      time.Duration
	sum     time.Duration
	n       int
	took    time.Duration
}

func (m *pauseMeter) measure(op func()) {
	before := readPauses()
	start := time.Now()
	op()
	took := time.Since(start)
	d := readPauses().since(before)
	m.ops++
	m.longest = max(m.longest, d.longest)
	m.perOp = append(m.perOp, d.longest)
	m.other = max(m.other, d.longestOther)
	m.gc = max(m.gc, d.longestGC)
	m.sum += d.sum
	m.n += d.n
	m.took += took
}

func (m *pauseMeter) report(b *testing.B, goroutines int) {
	if m.ops == 0 {
		return
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(m.longest), "pause-ms/op")
	slices.Sort(m.perOp)
	b.ReportMetric(ms(m.perOp[len(m.perOp)/2]), "pause-p50-ms/op")
	b.ReportMetric(ms(m.other), "pause-other-ms/op")
	b.ReportMetric(ms(m.gc), "pause-gc-ms/op")
	b.ReportMetric(ms(m.sum)/float64(m.ops), "pause-sum-ms/op")
	b.ReportMetric(float64(m.n)/float64(m.ops), "pauses/op")
	b.ReportMetric(ms(m.took)/float64(m.ops), "took-ms/op")
	b.ReportMetric(float64(goroutines), "goroutines")
}

func BenchmarkCapture100k(b *testing.B) {
	stop := startParked(b, benchGoroutines)
	defer stop()
	var m pauseMeter
	var snap *Snapshot
	for b.Loop() {
		m.measure(func() {
			var err error
			if snap, err = Capture(Options{}); err != nil {
				b.Fatal(err)
			}
		})
	}
	if snap.Goroutines < benchGoroutines {
		b.Fatalf("snapshot of %d goroutines, want at least %d", snap.Goroutines, benchGoroutines)
	}
	m.report(b, snap.Goroutines)
}

func BenchmarkRuntimeStackAll100k(b *testing.B) {
	stop := startParked(b, benchGoroutines)
	defer stop()
	buf := make([]byte, 64<<20)
	var m pauseMeter
	for b.Loop() {
		m.measure(func() {
			for runtime.Stack(buf, true) == len(buf) {
				buf = make([]byte, 2*len(buf))
			}
		})
	}
	m.report(b, runtime.NumGoroutine())
}
