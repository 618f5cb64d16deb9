package stacks_test

import (
	"context"
	"maps"
	"net"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/diag/stacks"
)

// silentPeer returns the client end of a 127.0.0.1 connection whose server
// end never writes. Reads on it block in IO wait until the test ends.
func silentPeer(t *testing.T) net.Conn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	conn, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	server := <-accepted
	t.Cleanup(func() {
		conn.Close()
		if server != nil {
			server.Close()
		}
		ln.Close()
	})
	// Bounded even if the cleanup never runs.
	if err := conn.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("set deadline: %v", err)
	}
	return conn
}

// blockedRead makes an in-flight call that blocks reading conn.
func blockedRead(ctx context.Context, reg *inflight.Registry, conn net.Conn, begun *sync.WaitGroup) {
	end := reg.Begin(ctx, inflight.Call{Kind: "test", Target: conn.RemoteAddr().String(), Op: "read"})
	defer end()
	begun.Done()
	var b [1]byte
	_, _ = conn.Read(b[:])
}

// idleRead blocks reading conn without registering a call.
func idleRead(conn net.Conn, begun *sync.WaitGroup) {
	begun.Done()
	var b [1]byte
	_, _ = conn.Read(b[:])
}

func parked(ch <-chan struct{}, begun *sync.WaitGroup) {
	begun.Done()
	<-ch
}

// hasFunc reports whether a group's stack holds a function whose name
// ends in suffix.
func hasFunc(g stacks.Group, suffix string) bool {
	return slices.ContainsFunc(g.Stack, func(f stacks.Frame) bool { return strings.HasSuffix(f.Func, suffix) })
}

// captureUntil captures until cond holds for some group, or fails after
// a few seconds: goroutines that were just started may not be parked yet.
func captureUntil(t *testing.T, opts stacks.Options, cond func(stacks.Group) bool) (*stacks.Snapshot, stacks.Group) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		snap, err := stacks.Capture(opts)
		if err != nil {
			t.Fatalf("Capture: %v", err)
		}
		for _, g := range snap.Groups {
			if cond(g) {
				return snap, g
			}
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			_ = snap.WriteText(&b, stacks.TextOptions{})
			t.Fatalf("no group met the condition in 5s; last snapshot:\n%s", b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCaptureMatchesInflightCalls(t *testing.T) {
	const readers, sleep = 3, 100 * time.Millisecond
	reg := inflight.New(inflight.Options{})
	readLabels := map[string]string{"loop": "test", "dag": "reads"}
	stop := make(chan struct{})
	defer close(stop)

	var begun sync.WaitGroup
	begun.Add(readers + 2 + 2)
	for range readers {
		conn := silentPeer(t)
		go pprof.Do(context.Background(), pprof.Labels("loop", "test", "dag", "reads"), func(ctx context.Context) {
			blockedRead(ctx, reg, conn, &begun)
		})
	}
	// Unrelated: the same labels and IO wait with no call, and other labels
	// parked on a channel.
	for range 2 {
		conn := silentPeer(t)
		go pprof.Do(context.Background(), pprof.Labels("loop", "test", "dag", "reads"), func(context.Context) {
			idleRead(conn, &begun)
		})
		go pprof.Do(context.Background(), pprof.Labels("loop", "test", "dag", "idle"), func(context.Context) {
			parked(stop, &begun)
		})
	}
	begun.Wait()
	time.Sleep(sleep)

	snap, g := captureUntil(t, stacks.Options{Calls: reg.Snapshot},
		func(g stacks.Group) bool {
			return hasFunc(g, ".blockedRead") && g.Count == readers && g.State == "IO wait"
		})

	if len(g.Calls) != readers {
		t.Errorf("group of blockedRead has calls %v, want %d", g.Calls, readers)
	}
	if !g.Wait.Exact || g.Wait.Source != stacks.WaitInflight || g.Wait.Min < sleep || g.Wait.Max < g.Wait.Min {
		t.Errorf("group of blockedRead wait = %+v, want exact, from inflight, >= %v", g.Wait, sleep)
	}
	if !maps.Equal(g.Labels, readLabels) {
		t.Errorf("group of blockedRead labels = %v, want %v", g.Labels, readLabels)
	}
	calls := reg.Snapshot()
	for _, c := range calls {
		if !slices.Contains(g.Calls, c.ID) {
			t.Errorf("call %d (%s) not matched to the blockedRead group", c.ID, c.Site)
		}
	}
	var sawIdle, sawParked bool
	for _, o := range snap.Groups {
		if hasFunc(o, ".blockedRead") {
			continue
		}
		if len(o.Calls) > 0 || o.Wait.Exact {
			t.Errorf("unrelated group %s matched calls %v, wait %+v", o.Stack[0].Func, o.Calls, o.Wait)
		}
		sawIdle = sawIdle || (hasFunc(o, ".idleRead") && o.Count == 2 && o.State == "IO wait")
		sawParked = sawParked || (hasFunc(o, ".parked") && o.Count == 2 && o.Labels["dag"] == "idle")
	}
	if !sawIdle || !sawParked {
		t.Errorf("snapshot lacks the unrelated groups (idleRead %v, parked %v)", sawIdle, sawParked)
	}
	if snap.Goroutines < readers+4 {
		t.Errorf("Goroutines = %d, want at least %d", snap.Goroutines, readers+4)
	}
}

func TestCaptureInfersState(t *testing.T) {
	stop := make(chan struct{})
	var stopped atomic.Bool
	var mu sync.Mutex
	entered := 0 // guarded by mu
	mu.Lock()
	var rw, rwWriter sync.RWMutex
	var readers atomic.Int32 // the reader and the writer meet only at cleanup
	rw.Lock()
	rwWriter.RLock()
	var wg sync.WaitGroup
	wg.Add(1)
	cond := sync.NewCond(&sync.Mutex{})
	sendCh := make(chan int)
	conn := silentPeer(t)
	t.Cleanup(func() {
		close(stop)
		stopped.Store(true)
		select {
		case <-sendCh:
		case <-time.After(time.Second):
		}
		mu.Unlock()
		rw.Unlock()
		rwWriter.RUnlock()
		wg.Done()
		cond.L.Lock()
		cond.Broadcast()
		cond.L.Unlock()
	})

	tests := []struct {
		name  string
		block func()
		want  string
	}{
		{"chan receive", func() { <-stop }, "chan receive"},
		{"chan send", func() { sendCh <- 1 }, "chan send"},
		{"select", func() {
			select {
			case make(chan int) <- 1:
			case <-stop:
			}
		}, "select"},
		{"sleep", func() { time.Sleep(time.Minute) }, "sleep"},
		{"mutex", func() { mu.Lock(); entered++; mu.Unlock() }, "sync.Mutex.Lock"},
		{"rwmutex read", func() { rw.RLock(); readers.Add(1); rw.RUnlock() }, "sync.RWMutex.RLock"},
		{"rwmutex write", func() { rwWriter.Lock(); readers.Add(1); rwWriter.Unlock() }, "sync.RWMutex.Lock"},
		{"waitgroup", func() { wg.Wait() }, "sync.WaitGroup.Wait"},
		{"cond", func() {
			cond.L.Lock()
			for {
				select {
				case <-stop:
					cond.L.Unlock()
					return
				default:
					cond.Wait()
				}
			}
		}, "sync.Cond.Wait"},
		{"IO wait", func() {
			var b [1]byte
			_, _ = conn.Read(b[:])
		}, "IO wait"},
		{"running", func() {
			for spins := 0; !stopped.Load(); spins++ {
			}
		}, stacks.StateRunning},
	}
	// Goroutines of an earlier -count run may still sleep: tell them apart.
	run := strconv.FormatInt(time.Now().UnixNano(), 10)
	for _, tt := range tests {
		go pprof.Do(context.Background(), pprof.Labels("case", tt.name, "run", run), func(context.Context) { tt.block() })
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, g := captureUntil(t, stacks.Options{}, func(g stacks.Group) bool {
				return g.Labels["case"] == tt.name && g.Labels["run"] == run && g.State == tt.want
			})
			if g.Count != 1 {
				t.Errorf("count = %d, want 1", g.Count)
			}
		})
	}
}

func TestCaptureMeasuresPause(t *testing.T) {
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	snap, err := stacks.Capture(stacks.Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatalf("Capture: %v", err)
	}
	if !snap.Taken.Equal(at) {
		t.Errorf("Taken = %v, want the injected clock's %v", snap.Taken, at)
	}
	// The concurrent goroutine profile stops the world at its start and
	// at its end.
	if snap.Pauses < 2 || snap.Pause <= 0 {
		t.Errorf("Pauses = %d, Pause = %v; want at least 2 pauses recorded", snap.Pauses, snap.Pause)
	}
	if snap.Took <= 0 {
		t.Errorf("Took = %v", snap.Took)
	}
	n := 0
	for _, g := range snap.Groups {
		n += g.Count
	}
	if n != snap.Goroutines {
		t.Errorf("groups hold %d goroutines, Goroutines = %d", n, snap.Goroutines)
	}
}

func TestCaptureWithTracker(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	var begun sync.WaitGroup
	begun.Add(1)
	go pprof.Do(context.Background(), pprof.Labels("case", "tracked"), func(context.Context) { parked(stop, &begun) })
	begun.Wait()

	clock := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tr := stacks.NewTracker()
	opts := stacks.Options{Tracker: tr, Now: func() time.Time { return clock }}
	captureUntil(t, opts, func(g stacks.Group) bool { return g.Labels["case"] == "tracked" && g.State == "chan receive" })
	clock = clock.Add(time.Minute)
	_, g := captureUntil(t, opts, func(g stacks.Group) bool { return g.Labels["case"] == "tracked" && g.State == "chan receive" })
	if g.Wait.Source != stacks.WaitSeen || g.Wait.Min < time.Minute || g.Wait.Exact {
		t.Errorf("tracked group wait = %+v, want >= 1m from seen", g.Wait)
	}
}

func TestCaptureConcurrent(t *testing.T) {
	tr := stacks.NewTracker()
	reg := inflight.New(inflight.Options{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 3 {
				if _, err := stacks.Capture(stacks.Options{Calls: reg.Snapshot, Tracker: tr}); err != nil {
					t.Errorf("Capture: %v", err)
				}
			}
		})
	}
	wg.Wait()
}
