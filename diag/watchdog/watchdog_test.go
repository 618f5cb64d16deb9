package watchdog

import (
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestStaleness(t *testing.T) {
	tests := []struct {
		name      string
		beat      bool
		advance   time.Duration
		wantStale bool
	}{
		{"fresh after beat", true, 2 * time.Second, false},
		{"exactly at the limit", true, 3 * time.Second, false},
		{"past the limit", true, 3*time.Second + time.Nanosecond, true},
		{"never beat, within limit", false, 2 * time.Second, false},
		{"never beat, past limit", false, 4 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fakeClock{t: time.Unix(1000, 0)}
			wd := New(Options{Now: clk.Now})
			hb := wd.Register("loop", time.Second)
			if tt.beat {
				hb.Beat()
			}
			clk.Advance(tt.advance)
			snap := wd.Snapshot()
			if len(snap) != 1 {
				t.Fatalf("snapshot has %d heartbeats, want 1", len(snap))
			}
			if snap[0].Stale != tt.wantStale || snap[0].Age != tt.advance {
				t.Errorf("got stale=%v age=%v, want stale=%v age=%v", snap[0].Stale, snap[0].Age, tt.wantStale, tt.advance)
			}
			if got := len(wd.Stale()); got != map[bool]int{true: 1, false: 0}[tt.wantStale] {
				t.Errorf("Stale() has %d entries", got)
			}
		})
	}
}

func TestRegisterReturnsExisting(t *testing.T) {
	wd := New(Options{})
	a := wd.Register("x", time.Second)
	b := wd.Register("x", time.Minute)
	if a != b || b.Period() != time.Second {
		t.Fatalf("Register did not return the existing heartbeat")
	}
	wd.Unregister("x")
	if len(wd.Snapshot()) != 0 {
		t.Fatalf("heartbeat still listed after Unregister")
	}
}

func TestConcurrentBeats(t *testing.T) {
	wd := New(Options{})
	hb := wd.Register("x", time.Second)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				hb.Beat()
				_ = wd.Snapshot()
			}
		})
	}
	wg.Wait()
	if got := wd.Snapshot()[0].Beats; got != 8000 {
		t.Fatalf("beats = %d, want 8000", got)
	}
}
