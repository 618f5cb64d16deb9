package scheduler

import (
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Evictions, preemptions and lost nodes end a try through no fault of the
// task (issue 16: an evicted pod used to burn one of the task's retries
// and read as its failure). Such a try is run again without counting
// against the task's retries, and its record says "evicted" with the
// platform's words. An instance evicted more than Options.MaxEvictions
// times has its further evictions counted as failures, so a task that a
// cluster evicts again and again ends instead of looping unnoticed.

// maxEvictionBackoff caps the wait before an evicted task runs again.
const maxEvictionBackoff = 5 * time.Minute

// evictionBackoff is the wait before the next try of an instance evicted
// n times before: Options.EvictionBackoff, doubling with each eviction.
// A platform that evicts a task was short of room; trying again at once
// would likely be evicted again.
func (s *Scheduler) evictionBackoff(n int) time.Duration {
	d := s.opts.EvictionBackoff
	for i := 0; i < n && d < maxEvictionBackoff; i++ {
		d *= 2
	}
	return min(d, maxEvictionBackoff)
}

// defaultMaxEvictions is generous: a cluster under pressure may evict the
// same task a few times in a row; ten is a pattern someone must look at.
const defaultMaxEvictions = 10

// evictOrRetry completes c for a try its platform ended: up_for_retry
// without using a retry while the instance has evictions to spare, as a
// failure (failOrRetry) once it has used them all.
func (s *Scheduler) evictOrRetry(c *Change, ti TaskInstance, cause, reason string) {
	cause = evictionCause(cause)
	s.stats.evicted(cause)
	what := "evicted: " + reason
	if s.opts.MaxEvictions < 0 || ti.Evictions >= s.opts.MaxEvictions {
		limit := fmt.Sprintf("the limit of %d (MaxEvictions) is reached", max(s.opts.MaxEvictions, 0))
		s.log.Warn("try evicted once too often; counting it as a failure", zap.Stringer("try", ti.TryKey()),
			zap.String("cause", cause), zap.Int("evictions", ti.Evictions), zap.String("reason", reason))
		s.failOrRetry(c, ti, fmt.Sprintf("%s; evicted %d times before, %s: this one counts as a failure", what, ti.Evictions, limit), false)
		return
	}
	c.To, c.Evicted, c.RetryIn = StateUpForRetry, true, s.evictionBackoff(ti.Evictions)
	c.Reason = fmt.Sprintf("%s; will run again in %s, not counted against its retries (eviction %d of at most %d)",
		what, c.RetryIn, ti.Evictions+1, s.opts.MaxEvictions)
	s.log.Info("try evicted; running it again", zap.Stringer("try", ti.TryKey()), zap.String("cause", cause), zap.String("reason", reason))
}

// evictionCause keeps the metric's label values to the known set.
func evictionCause(c string) string {
	switch c {
	case CauseEvicted, CausePreempted, CauseNodeLost, CauseNodeShutdown, CauseContainerLost:
		return c
	}
	return CauseOther
}

// evictionCounts counts evictions by cause.
type evictionCounts struct {
	mu sync.Mutex
	n  map[string]int64
}

func (s *stats) evicted(cause string) {
	s.evictions.mu.Lock()
	defer s.evictions.mu.Unlock()
	if s.evictions.n == nil {
		s.evictions.n = map[string]int64{}
	}
	s.evictions.n[cause]++
}

func (s *stats) evictionsByCause() map[string]int64 {
	s.evictions.mu.Lock()
	defer s.evictions.mu.Unlock()
	out := make(map[string]int64, len(s.evictions.n))
	for c, n := range s.evictions.n {
		out[c] = n
	}
	return out
}
