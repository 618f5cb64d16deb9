package bench

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/bundle"
	"github.com/vigilhq/vigil/diag/cli"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/debugserver"
	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/diag/stacks"
	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/diag/wiretrace"
)

// P6 (issue 5): `diag attach` to its first screen against a process with
// 10,000 goroutines: ≤ 1 s.
//
// The process is this one: the debug API the scheduler serves (the same
// server, stack snapshotter, registry, wire tracer and bundle list
// `vigil run` wires), a heartbeat beating, 20 calls in flight, and 10,000
// goroutines parked in 50 different stacks, labelled like the
// scheduler's per-task goroutines. Each iteration runs the whole command
// line in-process, as a user's shell would: discover nothing (the socket
// is given), connect, fetch the six parts at once, render. The metric is
// first-screen-ms; the median and the slowest of the iterations are
// reported.
func BenchmarkAttach10k(b *testing.B) {
	const goroutines = 10000
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	park(ctx, goroutines)

	dir := b.TempDir()
	wd := watchdog.New(watchdog.Options{})
	hb := wd.Register("scheduler.loop", 2*time.Second)
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				hb.Beat()
			}
		}
	}()
	reg := inflight.New(inflight.Options{})
	for i := range 20 {
		end := reg.Begin(ctx, inflight.Call{Kind: "http", Target: "apiserver", Op: fmt.Sprintf("POST /api/v1/namespaces/x/pods (%d)", i)})
		defer end()
	}
	tracer := wiretrace.New(wiretrace.Options{Mode: wiretrace.Summary, Registry: reg})
	bw, err := bundle.New(bundle.Options{Dir: filepath.Join(dir, "bundles")})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := debugserver.New(debugserver.Options{Dir: filepath.Join(dir, "run")}, debugserver.Sources{
		Service: "vigil", Watchdog: wd, Inflight: reg,
		Stacks:      stacks.Handler(stacks.Options{Calls: reg.Snapshot, Tracker: stacks.NewTracker()}),
		WireEntries: tracer.EntriesHandler(), WireMode: tracer.ModeHandler(), Bundles: bw,
	})
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = srv.Serve(ctx) }()
	waitSocket(b, srv.Socket())
	b.Logf("goroutines in the process: %d", runtime.NumGoroutine())

	var took []time.Duration
	for b.Loop() {
		ios, _, out, errOut := iostreams.Test()
		start := time.Now()
		code := cli.MainContext(ctx, []string{"--socket", srv.Socket(), "attach"}, ios, "bench")
		took = append(took, time.Since(start))
		if code != 0 || !strings.Contains(out.String(), "GOROUTINES (1") {
			b.Fatalf("diag attach: exit %d\n%s%s", code, out, errOut)
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "first-screen-ms")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max-first-screen-ms")
}

// park starts n goroutines blocked until ctx ends, in 50 distinct stacks
// (depth 1 to 50), each labelled with a dag and a task.
func park(ctx context.Context, n int) {
	ready := make(chan struct{}, n)
	for i := range n {
		labels := pprof.Labels("loop", "submit", "dag", "bench", "task", fmt.Sprintf("t%04d", i%500))
		go pprof.Do(ctx, labels, func(ctx context.Context) { nest(ctx, i%50, ready) })
	}
	for range n {
		<-ready
	}
}

func nest(ctx context.Context, depth int, ready chan<- struct{}) {
	if depth > 0 {
		nest(ctx, depth-1, ready)
		return
	}
	ready <- struct{}{}
	<-ctx.Done()
}

func waitSocket(b *testing.B, path string) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Fatalf("no debug socket at %s", path)
}
