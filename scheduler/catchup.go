package scheduler

import (
	"fmt"
	"strconv"
	"time"

	"go.uber.org/zap"
)

// Catch-up (issue 17). A DAG with catchup: true gets a run for every tick
// it missed: a scheduler down for a week owes an hourly DAG 168 runs. They
// are created oldest first. From the first run made while a later tick
// was due too, until the run of the latest due tick is made, the DAG is
// catching up: a run is created only while fewer of its runs are active
// than its catch-up limit, the lower of its max_active_runs and its
// max_catchup_runs (the scheduler's Options.MaxCatchupRuns by default), so
// the next ones come as earlier ones end. The scheduler logs when a
// catch-up is held at its limit and when it is done, and each catch-up
// run's creation record says how many ticks were due.

// defaultMaxCatchupRuns is Options.MaxCatchupRuns when unset.
const defaultMaxCatchupRuns = 16

// maxCountedTicks bounds the due ticks counted for a log line or a
// record: an every-minute DAG a year behind owes half a million.
const maxCountedTicks = 1000

// catchupState is a DAG's catch-up, kept in its dagState.
type catchupState struct {
	// maxCatchup is the DAG's max_catchup_runs; zero for the
	// scheduler's default.
	maxCatchup int
	// catchingUp is set from the first run made while a later tick was
	// due too until the latest due tick has its run.
	catchingUp bool
	// throttled is set once a catch-up is held at its limit, so that is
	// logged once, and its end too.
	throttled bool
}

// catchupCap is the most runs of d active at once while it catches up,
// before max_active_runs; 0 for no cap of its own.
func (s *Scheduler) catchupCap(d *dagState) int {
	switch {
	case d.maxCatchup > 0:
		return d.maxCatchup
	case s.opts.MaxCatchupRuns < 0:
		return 0
	case s.opts.MaxCatchupRuns == 0:
		return defaultMaxCatchupRuns
	}
	return s.opts.MaxCatchupRuns
}

// behind reports whether d, with tick due, is catching up: a later tick
// is due too.
func behind(d *dagState, tick, now time.Time) bool {
	if !d.catchup || d.schedule == nil {
		return false
	}
	next := d.schedule.Next(tick)
	return !next.IsZero() && !next.After(now)
}

// runLimit is the most runs of d that may be active for the run of tick
// to be created: max_active_runs, or while d catches up its catch-up
// limit if that is lower.
func (s *Scheduler) runLimit(d *dagState, tick, now time.Time) int {
	limit := d.maxRuns
	if c := s.catchupCap(d); c > 0 && c < limit && d.catchup && (d.catchingUp || behind(d, tick, now)) {
		limit = c
	}
	return limit
}

// ticksLeft counts the ticks due from tick to now, tick included, up to
// maxCountedTicks; the text says "at least" past it.
func ticksLeft(d *dagState, tick, now time.Time) string {
	n := 0
	for t := tick; !t.IsZero() && !t.After(now); t = d.schedule.Next(t) {
		if n++; n == maxCountedTicks {
			return "at least " + strconv.Itoa(n)
		}
	}
	return strconv.Itoa(n)
}

// noteCatchup logs, once each, that d's catch-up is held at its limit and
// that it has caught up. The loop calls it when d gets no run this turn.
func (s *Scheduler) noteCatchup(d *dagState, now time.Time) {
	tick := dueTick(d)
	if tick.IsZero() || tick.After(now) {
		d.catchingUp = false
		if d.throttled {
			d.throttled = false
			s.log.Info("catch-up done: no missed ticks left", zap.String("dag", d.rec.ID))
		}
		return
	}
	if !d.catchup || !d.catchingUp && !behind(d, tick, now) {
		return
	}
	active, limit := d.activeRun+d.othersRuns, s.runLimit(d, tick, now)
	if d.throttled || active < limit {
		return
	}
	d.throttled = true
	s.log.Info("catch-up throttled: missed ticks wait for earlier runs to end",
		zap.String("dag", d.rec.ID), zap.String("ticks_left", ticksLeft(d, tick, now)),
		zap.Time("next_tick", tick), zap.Int("active_runs", active), zap.Int("cap", limit),
		zap.Int("max_catchup_runs", s.catchupCap(d)), zap.Int("max_active_runs", d.maxRuns))
}

// catchupNote is what the creation record of d's run of tick adds to its
// reason: for a catch-up run, the ticks due and the limit. A run made
// while a later tick is due starts a catch-up.
func (s *Scheduler) catchupNote(d *dagState, tick, now time.Time) string {
	if !behind(d, tick, now) {
		return ""
	}
	d.catchingUp = true
	return fmt.Sprintf("; catch-up: %s ticks due from this one, at most %d runs active at once",
		ticksLeft(d, tick, now), s.runLimit(d, tick, now))
}
