package inflight_test

import (
	"context"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/inflight"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestSnapshotOldestFirstWithDeadlines(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	reg := inflight.New(inflight.Options{Now: clk.now})

	endA := reg.Begin(context.Background(), inflight.Call{Kind: "http", Target: "apiserver:6443", Op: "POST /api/v1/namespaces/x/pods"})
	clk.add(time.Second)
	deadline := clk.now().Add(10 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	endB := reg.Begin(ctx, inflight.Call{Kind: "db", Target: "sqlite", Op: "Apply"})
	clk.add(time.Second)
	fallback := clk.now().Add(5 * time.Second)
	endC := reg.Begin(ctx, inflight.Call{Kind: "http", Target: "h", Op: "GET /", Deadline: fallback})

	calls := reg.Snapshot()
	if len(calls) != 3 {
		t.Fatalf("got %d calls, want 3", len(calls))
	}
	if calls[0].Op != "POST /api/v1/namespaces/x/pods" || !calls[0].NoDeadline() || calls[0].Age != 2*time.Second {
		t.Errorf("oldest call = %+v, want the pod create, no deadline, 2s old", calls[0])
	}
	if calls[1].NoDeadline() || !calls[1].Deadline.Equal(deadline) {
		t.Errorf("db call deadline = %v, want the context's", calls[1].Deadline)
	}
	if !calls[2].Deadline.Equal(fallback) {
		t.Errorf("call with an earlier client timeout: deadline %v, want %v", calls[2].Deadline, fallback)
	}
	st := reg.Stats()
	if st.InFlight != 3 || st.NoDeadline != 1 || st.Oldest != 2*time.Second || st.Total != 3 {
		t.Errorf("Stats = %+v", st)
	}
	endB()
	endA()
	endC()
	if n := len(reg.Snapshot()); n != 0 {
		t.Errorf("%d calls left after all ended", n)
	}
	if st := reg.Stats(); st.InFlight != 0 || st.Oldest != 0 || st.Total != 3 {
		t.Errorf("Stats after end = %+v", st)
	}
}

func callSite(reg *inflight.Registry, ctx context.Context) func() {
	return reg.Begin(ctx, inflight.Call{Kind: "executor", Target: "local", Op: "Start"})
}

func TestLabelsAndSite(t *testing.T) {
	// The default prefixes skip Vigil's diag packages, this test included.
	reg := inflight.New(inflight.Options{LibraryPrefixes: []string{"runtime."}})
	var end func()
	pprof.Do(context.Background(), pprof.Labels("loop", "scheduler", "dag", "etl"), func(ctx context.Context) {
		end = callSite(reg, ctx)
	})
	defer end()
	c := reg.Snapshot()[0]
	if c.Labels["loop"] != "scheduler" || c.Labels["dag"] != "etl" {
		t.Errorf("labels = %v, want loop=scheduler dag=etl", c.Labels)
	}
	if !strings.Contains(c.Site, "inflight_test.callSite") {
		t.Errorf("site = %q, want the function that called Begin", c.Site)
	}
	if len(c.Stack) < 2 || !strings.Contains(c.Stack[0], "callSite") {
		t.Errorf("stack = %q", c.Stack)
	}
}

func TestNilRegistryIsANoOp(t *testing.T) {
	var reg *inflight.Registry
	end := reg.Begin(context.Background(), inflight.Call{Op: "x"})
	end()
	if reg.Snapshot() != nil || reg.Stats() != (inflight.Stats{}) {
		t.Error("a nil registry recorded something")
	}
}

func TestConcurrentUse(t *testing.T) {
	reg := inflight.New(inflight.Options{})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				end := reg.Begin(context.Background(), inflight.Call{Kind: "db", Op: "q"})
				_ = reg.Stats()
				end()
			}
		}()
	}
	for j := 0; j < 50; j++ {
		_ = reg.Snapshot()
	}
	wg.Wait()
	if st := reg.Stats(); st.InFlight != 0 || st.Total != 1600 {
		t.Errorf("Stats = %+v, want 0 in flight, 1600 total", st)
	}
}

func BenchmarkBeginEnd(b *testing.B) {
	reg := inflight.New(inflight.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	for b.Loop() {
		reg.Begin(ctx, inflight.Call{Kind: "db", Target: "sqlite", Op: "Apply"})()
	}
}
