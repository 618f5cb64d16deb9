package watchdog

import (
	"context"
	"time"
)

// OnStale is called by Run when heartbeats have gone stale (non-advisory
// ones), before the liveness probe is allowed to fail for them. It writes
// the evidence (a diagnostic bundle): once the probe fails, the kubelet
// restarts the container and everything in memory is gone (incident 4 in
// DESIGN.md). It should honour ctx, which ends after Options.EvidenceTimeout.
type OnStale func(ctx context.Context, stale []Status)

// Run watches the heartbeats every interval until ctx ends. When a
// heartbeat goes stale it calls onStale with every stale heartbeat, and
// only when onStale returns (or EvidenceTimeout passes) does LivezHandler
// start failing for them. A heartbeat that recovers and goes stale again
// is a new episode and gets new evidence.
//
// Without Run the probe fails as soon as a heartbeat is stale.
func (w *Watchdog) Run(ctx context.Context, interval time.Duration, onStale OnStale) error {
	if interval <= 0 {
		interval = time.Second
	}
	w.mu.Lock()
	w.gated = true
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.gated = false
		w.mu.Unlock()
	}()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		w.check(ctx, onStale)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (w *Watchdog) check(ctx context.Context, onStale OnStale) {
	stale := w.staleRaw()
	current := make(map[string]bool, len(stale))
	var fresh bool
	w.mu.Lock()
	for _, s := range stale {
		current[s.Name] = true
		if !w.evidenced[s.Name] {
			fresh = true
		}
	}
	// A heartbeat that beats again ends its episode.
	for name := range w.evidenced {
		if !current[name] {
			delete(w.evidenced, name)
		}
	}
	w.mu.Unlock()
	if !fresh {
		return
	}
	if onStale != nil {
		ectx, cancel := context.WithTimeout(ctx, w.evidenceTimeout)
		done := make(chan struct{})
		go func() {
			defer close(done)
			onStale(ectx, stale)
		}()
		// The probe waits for the evidence, but never longer than
		// EvidenceTimeout: a hung bundle writer must not keep a hung
		// process alive.
		select {
		case <-done:
		case <-ectx.Done():
		}
		cancel()
	}
	w.mu.Lock()
	for _, s := range stale {
		w.evidenced[s.Name] = true
	}
	w.mu.Unlock()
}
