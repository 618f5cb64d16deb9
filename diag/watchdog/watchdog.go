// Package watchdog keeps named heartbeats and says which are stale.
//
// Each long-running loop of the process registers a heartbeat with the
// period it promises to beat at, and calls Beat on every iteration:
//
//	wd := watchdog.New(watchdog.Options{})
//	hb := wd.Register("scheduler.loop", 2*time.Second)
//	for { hb.Beat(); ... }
//
// A heartbeat is stale when it has not beaten for Factor × its period. The
// health server turns a stale heartbeat into a failing /livez that names
// it, and the diag tools show it, so a loop that hangs (incident 1 in
// DESIGN.md: a pod create with no timeout) is noticed instead of silent.
//
// Beat is a single atomic store, cheap enough for every loop iteration.
package watchdog

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilhq/vigil/diag/debugapi"
)

// DefaultFactor is how many periods a heartbeat may miss before it is
// stale. Three absorbs a slow iteration or a GC pause without hiding a
// real hang for long.
const DefaultFactor = 3

// Options configure a Watchdog.
type Options struct {
	// Factor × period is the age at which a heartbeat is stale.
	Factor float64
	// Now is the clock; time.Now by default.
	Now func() time.Time
	// EvidenceTimeout bounds how long Run's OnStale may hold back the
	// liveness failure; 20s by default.
	EvidenceTimeout time.Duration
}

// Watchdog is a set of named heartbeats.
type Watchdog struct {
	factor float64
	now    func() time.Time

	evidenceTimeout time.Duration

	mu    sync.Mutex // guards beats, gated and evidenced
	beats map[string]*Heartbeat
	// gated is set while Run watches: a stale heartbeat fails liveness
	// only once it is in evidenced (its evidence was written).
	gated     bool
	evidenced map[string]bool
}

// New returns an empty Watchdog.
func New(opts Options) *Watchdog {
	if opts.Factor <= 0 {
		opts.Factor = DefaultFactor
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.EvidenceTimeout <= 0 {
		opts.EvidenceTimeout = 20 * time.Second
	}
	return &Watchdog{factor: opts.Factor, now: opts.Now, evidenceTimeout: opts.EvidenceTimeout,
		beats: map[string]*Heartbeat{}, evidenced: map[string]bool{}}
}

// Heartbeat is one named heartbeat. Its methods are safe for concurrent use.
type Heartbeat struct {
	name     string
	period   time.Duration
	advisory bool
	now      func() time.Time
	created  time.Time
	last     atomic.Int64 // unix nanos of the last beat; 0 before the first
	beats    atomic.Int64
}

// Register returns the heartbeat called name, creating it with period if
// it does not exist. A new heartbeat counts as having beaten at creation,
// so a loop that never starts goes stale after Factor × period.
func (w *Watchdog) Register(name string, period time.Duration) *Heartbeat {
	w.mu.Lock()
	defer w.mu.Unlock()
	if hb, ok := w.beats[name]; ok {
		return hb
	}
	hb := &Heartbeat{name: name, period: period, now: w.now, created: w.now()}
	w.beats[name] = hb
	return hb
}

// RegisterAdvisory is Register for a heartbeat whose staleness is worth
// showing but must not fail the liveness probe: one that tracks something
// outside the process (a watch on the apiserver), which a restart would
// not fix.
func (w *Watchdog) RegisterAdvisory(name string, period time.Duration) *Heartbeat {
	hb := w.Register(name, period)
	w.mu.Lock()
	hb.advisory = true
	w.mu.Unlock()
	return hb
}

// Unregister removes a heartbeat, for a loop that ended on purpose.
func (w *Watchdog) Unregister(name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.beats, name)
}

// Beat records that the loop is alive now.
func (h *Heartbeat) Beat() {
	h.last.Store(h.now().UnixNano())
	h.beats.Add(1)
}

// Name returns the heartbeat's name.
func (h *Heartbeat) Name() string { return h.name }

// Period returns the period the heartbeat promised.
func (h *Heartbeat) Period() time.Duration { return h.period }

// Status is a heartbeat as seen at one instant.
type Status = debugapi.HeartbeatStatus

// Snapshot returns every heartbeat's status, sorted by name.
func (w *Watchdog) Snapshot() []Status {
	w.mu.Lock()
	hbs := make([]*Heartbeat, 0, len(w.beats))
	for _, hb := range w.beats {
		hbs = append(hbs, hb)
	}
	w.mu.Unlock()
	now := w.now()
	out := make([]Status, 0, len(hbs))
	for _, hb := range hbs {
		st := hb.status(now, w.factor)
		w.mu.Lock()
		st.Advisory = hb.advisory
		w.mu.Unlock()
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Stale returns the stale heartbeats that fail liveness, sorted by name:
// not advisory ones, and while Run watches, only those whose evidence has
// been written.
func (w *Watchdog) Stale() []Status {
	stale := w.staleRaw()
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.gated {
		return stale
	}
	var out []Status
	for _, s := range stale {
		if w.evidenced[s.Name] {
			out = append(out, s)
		}
	}
	return out
}

// staleRaw returns the stale non-advisory heartbeats.
func (w *Watchdog) staleRaw() []Status {
	var stale []Status
	for _, s := range w.Snapshot() {
		if s.Stale && !s.Advisory {
			stale = append(stale, s)
		}
	}
	return stale
}

func (h *Heartbeat) status(now time.Time, factor float64) Status {
	s := Status{Name: h.name, Period: h.period, Beats: h.beats.Load()}
	since := h.created
	if ns := h.last.Load(); ns != 0 {
		s.LastBeat = time.Unix(0, ns)
		since = s.LastBeat
	}
	s.Age = now.Sub(since)
	s.Stale = s.Age > time.Duration(factor*float64(h.period))
	return s
}
