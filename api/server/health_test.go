package server_test

import (
	"context"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/api/server"
	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/diag/watchdog"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestHealthNamesTheBlockingCall: a stale loop's summary names the call
// its goroutine waits on, with its age and deadline, as diag attach does.
func TestHealthNamesTheBlockingCall(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	wd := watchdog.New(watchdog.Options{Now: clk.now})
	reg := inflight.New(inflight.Options{Now: clk.now})
	loop := wd.Register("scheduler.loop", 10*time.Second)
	wd.Register("executor.local.events", 2*time.Second)
	loop.Beat()
	clk.add(3 * time.Second)

	h := server.Health("test", clk.now(), wd.Snapshot(), reg.Snapshot())
	if !h.Healthy || len(h.Loops) != 2 || h.Summary != "All 2 loops beat within their deadlines." {
		t.Errorf("fresh: %+v", h)
	}

	// The loop's goroutine starts a pod delete, and an unrelated call
	// runs meanwhile with no deadline.
	var end func()
	pprof.Do(context.Background(), pprof.Labels("loop", "scheduler", "phase", "sync"), func(ctx context.Context) {
		end = reg.Begin(ctx, inflight.Call{Kind: "http", Target: "127.0.0.1:6443", Op: "DELETE /api/v1/namespaces/vigil/pods/x",
			Detail: "kube: delete pod", Deadline: clk.now().Add(100 * time.Second)})
	})
	defer end()
	other := reg.Begin(context.Background(), inflight.Call{Kind: "db", Target: "vigil.db", Op: "ListRuns"})
	defer other()
	clk.add(91 * time.Second)
	wd.Register("executor.local.events", 2*time.Second).Beat()

	h = server.Health("test", clk.now(), wd.Snapshot(), reg.Snapshot())
	want := "The scheduler loop has not beaten for 1m34s (stale after 30s): it waits on DELETE 127.0.0.1:6443/api/v1/namespaces/vigil/pods/x (kube: delete pod), in flight 1m31s, deadline in 9s."
	if h.Healthy || h.Summary != want {
		t.Errorf("summary\n  %q\nwant\n  %q", h.Summary, want)
	}
	if len(h.Blocking) != 1 || h.Blocking[0].NoDeadline || h.Blocking[0].Labels["loop"] != "scheduler" {
		t.Errorf("blocking %+v; want the delete alone", h.Blocking)
	}
	for _, l := range h.Loops {
		if l.Name == "scheduler.loop" && (!l.Stale || l.Phase != "sync" || l.StaleAfterSeconds != 30) {
			t.Errorf("loop %+v; want stale in phase sync, stale after 30s", l)
		}
	}
}

// TestHealthStaleWithoutItsCall: a stale loop with no call of its own
// names the oldest call in flight, saying it has no deadline.
func TestHealthStaleWithoutItsCall(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	wd := watchdog.New(watchdog.Options{Now: clk.now})
	reg := inflight.New(inflight.Options{Now: clk.now})
	wd.Register("scheduler.loop", 10*time.Second).Beat()
	end := reg.Begin(context.Background(), inflight.Call{Kind: "db", Target: "vigil.db", Op: "ListRuns"})
	defer end()
	clk.add(40 * time.Second)
	h := server.Health("test", clk.now(), wd.Snapshot(), reg.Snapshot())
	if h.Healthy || !strings.Contains(h.Summary, "ListRuns on vigil.db, in flight 40s, no deadline") || len(h.Blocking) != 1 || !h.Blocking[0].NoDeadline {
		t.Errorf("%+v", h)
	}
	end()
	h = server.Health("test", clk.now(), wd.Snapshot(), reg.Snapshot())
	if !strings.Contains(h.Summary, "no outbound call in flight") {
		t.Errorf("no calls: %q", h.Summary)
	}
}
