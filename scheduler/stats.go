package scheduler

import (
	"sync/atomic"
	"time"
)

// stats are counters the loop updates and anyone may read.
type stats struct {
	started       time.Time
	iterations    atomic.Int64
	transitions   atomic.Int64
	runsCreated   atomic.Int64
	storeErrors   atomic.Int64
	submitErrors  atomic.Int64
	lastIteration atomic.Int64 // nanoseconds
	maxIteration  atomic.Int64 // nanoseconds
}

func (s *stats) observeIteration(d time.Duration) {
	s.lastIteration.Store(int64(d))
	for {
		old := s.maxIteration.Load()
		if int64(d) <= old || s.maxIteration.CompareAndSwap(old, int64(d)) {
			return
		}
	}
}

// Stats is a snapshot of the loop's counters, for metrics and diagnostics.
type Stats struct {
	Iterations    int64
	Transitions   int64
	RunsCreated   int64
	StoreErrors   int64
	SubmitErrors  int64
	LastIteration time.Duration
	MaxIteration  time.Duration
}

// Stats returns the loop's counters. It is safe to call from any goroutine.
func (s *Scheduler) Stats() Stats {
	return Stats{
		Iterations:    s.stats.iterations.Load(),
		Transitions:   s.stats.transitions.Load(),
		RunsCreated:   s.stats.runsCreated.Load(),
		StoreErrors:   s.stats.storeErrors.Load(),
		SubmitErrors:  s.stats.submitErrors.Load(),
		LastIteration: time.Duration(s.stats.lastIteration.Load()),
		MaxIteration:  time.Duration(s.stats.maxIteration.Load()),
	}
}
