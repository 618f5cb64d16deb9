package scheduler

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
)

// A run past its DAG's run_timeout (measured from the run's CreatedAt) is
// ended by its owner, and only by it: the loop holds only the runs it owns,
// and every change it commits is fenced by that ownership. Each unfinished
// instance ends with the reason "run timeout 30m exceeded" in its history,
// and none gets another try:
//
//   - running: the executor is asked to stop the try; its end event is
//     recorded as failed, not up_for_retry, whatever its retries say;
//   - queued: the try is stopped the same way and recorded failed at once
//     (a queued try the executor never started sends no end event); one
//     whose submit is still in flight waits for its answer;
//   - up_for_retry: failed, its retries unused;
//   - scheduled: upstream_failed, since the state machine has no scheduled
//     → failed and the task never started; it also makes the run's end
//     failed even if every other instance had succeeded.
//
// The run then ends failed through finishRuns like any other run. The
// check is stateless, done again on every turn while the run is open and
// past its bound, so a stop that failed, a submit answered late or a new
// owner after a failover finishes the work.

// runTimeoutRecheck spaces the checks of a run that is past its bound but
// still open, so a stop that failed is asked again without spinning.
const runTimeoutRecheck = time.Second

// runTimeoutReason is the reason recorded for everything a run timeout ends.
func runTimeoutReason(d time.Duration) string {
	return fmt.Sprintf("run timeout %s exceeded", d)
}

// runDeadline returns when rs runs out of time, or zero for no bound.
func (s *Scheduler) runDeadline(rs *runState) time.Time {
	d := s.dags[rs.run.DAGID]
	if d == nil || d.runTimeout <= 0 || rs.open == 0 {
		return time.Time{}
	}
	return later(rs.run.CreatedAt.Add(d.runTimeout), rs.recheck)
}

// enforceRunTimeouts ends the owned runs that are past their run_timeout.
// Executor Stop calls all go out at once, under one deadline, so a hanging
// executor costs the loop one ExecutorTimeout however many tries are due.
func (s *Scheduler) enforceRunTimeouts(ctx context.Context, now time.Time) {
	type stopCall struct {
		ti     TaskInstance
		reason string
		err    error
	}
	var stops []*stopCall
	var changes []Change
	actor := Actor{Component: "scheduler", Instance: s.opts.Instance}
	for _, rs := range s.runs {
		at := s.runDeadline(rs)
		if at.IsZero() || now.Before(at) {
			continue
		}
		reason := runTimeoutReason(s.dags[rs.run.DAGID].runTimeout)
		if rs.recheck.IsZero() { // found now, not a recheck
			s.stats.runTimeouts.add(rs.run.DAGID, "")
		}
		rs.recheck = now.Add(runTimeoutRecheck)
		s.log.Info("run past its run timeout; ending it", zap.String("dag", rs.run.DAGID), zap.String("run", rs.run.RunID), zap.String("reason", reason))
		for _, ti := range rs.tis {
			c := Change{Key: ti.TaskKey, From: ti.State, Actor: actor, At: now}
			switch ti.State {
			case StateScheduled:
				c.To, c.Reason = StateUpstreamFailed, reason+"; the task did not start"
				changes = append(changes, c)
			case StateUpForRetry:
				c.To, c.Reason = StateFailed, reason+"; no further tries"
				changes = append(changes, c)
			case StateQueued, StateRunning:
				if _, ok := s.inflight[ti.TaskKey]; ok {
					continue // its submit's answer comes first
				}
				if req, ok := s.stopping[ti.TryKey()]; ok && req.fail {
					continue // asked already; its end event is on its way
				}
				stops = append(stops, &stopCall{ti: *ti, reason: reason})
			}
		}
	}
	if len(stops) > 0 {
		cctx, cancel := s.execCtx(ctx)
		var wg sync.WaitGroup
		for _, sc := range stops {
			wg.Go(func() {
				withTry(cctx, sc.ti.TaskKey, "scheduler", func(cctx context.Context) {
					defer s.execCall(cctx, "Stop", sc.ti.TryKey())()
					sc.err = s.opts.Executor.Stop(cctx, sc.ti.TryKey(), sc.reason)
				})
			})
		}
		wg.Wait()
		cancel()
	}
	for _, sc := range stops {
		ti := sc.ti
		if sc.err != nil {
			s.log.Warn("stop task of a timed-out run; will try again", zap.Stringer("try", ti.TryKey()), zap.Error(sc.err))
			continue
		}
		s.stopping[ti.TryKey()] = stopRequest{reason: sc.reason, fail: true}
		if ti.State == StateQueued {
			changes = append(changes, Change{Key: ti.TaskKey, From: StateQueued, To: StateFailed, Reason: sc.reason + "; the try was stopped before it started",
				Actor: actor, At: now, ExternalID: ti.ExternalID})
		}
	}
	if _, err := s.commit(ctx, changes); err != nil {
		s.stats.storeErrors.Add(1)
		s.log.Warn("record the end of timed-out runs; trying again", zap.Int("tasks", len(changes)), zap.Error(err))
	}
}

// failStopped records the end of a try stopped by a run timeout: failed,
// with the timeout as the reason, its retries unused.
func failStopped(c Change, ev Event, stop stopRequest) Change {
	what := orDefault(ev.Reason, "the executor reports the try ended")
	if ev.Kind == EventExited {
		code := ev.ExitCode
		c.ExitCode = &code
		what = orDefault(ev.Reason, fmt.Sprintf("exit code %d", code))
	}
	c.To, c.Reason = StateFailed, stop.reason+" ("+what+")"
	return c
}
