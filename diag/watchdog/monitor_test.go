package watchdog

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func livezCode(w *Watchdog) int {
	rec := httptest.NewRecorder()
	w.LivezHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/livez", nil))
	return rec.Code
}

func TestLivenessWaitsForEvidence(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	w := New(Options{Now: clk.Now, EvidenceTimeout: time.Second})
	hb := w.Register("scheduler.loop", time.Second)
	w.RegisterAdvisory("executor.kube.watch", time.Second)
	hb.Beat()
	w.mu.Lock()
	w.gated = true // as Run sets it
	w.mu.Unlock()

	clk.Advance(5 * time.Second)
	if code := livezCode(w); code != http.StatusOK {
		t.Fatalf("livez = %d before the evidence was written, want 200", code)
	}
	var calls [][]Status
	onStale := func(ctx context.Context, stale []Status) {
		if code := livezCode(w); code != http.StatusOK {
			t.Errorf("livez = %d while the evidence is being written, want 200", code)
		}
		calls = append(calls, stale)
	}
	w.check(context.Background(), onStale)
	if len(calls) != 1 || len(calls[0]) != 1 || calls[0][0].Name != "scheduler.loop" {
		t.Fatalf("onStale calls = %+v, want one naming scheduler.loop only (the advisory heartbeat never triggers it)", calls)
	}
	if code := livezCode(w); code != http.StatusServiceUnavailable {
		t.Fatalf("livez = %d after the evidence, want 503", code)
	}
	w.check(context.Background(), onStale)
	if len(calls) != 1 {
		t.Errorf("one stale episode wrote evidence %d times, want once", len(calls))
	}

	hb.Beat()
	w.check(context.Background(), onStale)
	if code := livezCode(w); code != http.StatusOK {
		t.Fatalf("livez = %d after the heartbeat recovered", code)
	}
	clk.Advance(5 * time.Second)
	w.check(context.Background(), onStale)
	if len(calls) != 2 {
		t.Errorf("a second stale episode: %d evidence calls, want 2", len(calls))
	}
}

func TestHungEvidenceWriterDoesNotKeepTheProbeGreen(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	w := New(Options{Now: clk.Now, EvidenceTimeout: 50 * time.Millisecond})
	w.Register("scheduler.loop", time.Second)
	w.mu.Lock()
	w.gated = true
	w.mu.Unlock()
	clk.Advance(10 * time.Second)
	release := make(chan struct{})
	defer close(release)
	w.check(context.Background(), func(ctx context.Context, _ []Status) { <-release })
	if code := livezCode(w); code != http.StatusServiceUnavailable {
		t.Fatalf("livez = %d after the evidence writer hung past EvidenceTimeout, want 503", code)
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	w := New(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, 10*time.Millisecond, nil) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil on cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
