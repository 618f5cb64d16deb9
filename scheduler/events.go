package scheduler

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
)

// stopRequest is why the loop asked the executor to stop a try, so the
// try's end is recorded with that reason and not just "exit code 143".
type stopRequest struct {
	reason string
	// retry makes the try's end an up_for_retry whatever its retries say:
	// a try interrupted by a shutdown did nothing wrong.
	retry bool
	// fail makes the try's end failed, its retries unused: the run timed
	// out (see runtimeout.go).
	fail bool
	// mark, set by an operation (remedy.go), is the state the try's end is
	// recorded as, by actor; keepSuccess keeps a try that exits 0 a
	// success (a cancel, not a mark).
	mark        State
	keepSuccess bool
	actor       Actor
}

// handleEvents turns executor events (and those left over from a turn in
// which the store failed) into transitions, stored in one transaction.
func (s *Scheduler) handleEvents(ctx context.Context, batch []Event) {
	events := append(s.pending, batch...)
	s.pending = nil
	if len(events) == 0 {
		return
	}
	// view holds instances as they will be once the earlier changes of
	// this batch land, so a started and an exited event of one try chain.
	view := map[TaskKey]TaskInstance{}
	changes := make([]Change, 0, len(events))
	for _, ev := range events {
		_, ti := s.instance(ev.Key.TaskKey)
		if ti == nil {
			s.log.Debug("event for a task this scheduler does not track", zap.Stringer("try", ev.Key), zap.String("kind", string(ev.Kind)))
			continue
		}
		cur, ok := view[ev.Key.TaskKey]
		if !ok {
			cur = *ti
		}
		if ev.Key.Try != cur.Try {
			s.log.Debug("event for an earlier try", zap.Stringer("try", ev.Key), zap.Int("current", cur.Try))
			continue
		}
		c, ok := s.changeFor(cur, ev)
		if !ok {
			continue
		}
		next, _, err := Apply(cur, c)
		if err != nil {
			s.log.Warn("event does not fit the task's state", zap.Stringer("try", ev.Key), zap.String("kind", string(ev.Kind)), zap.Error(err))
			continue
		}
		view[ev.Key.TaskKey] = next
		changes = append(changes, c)
	}
	if _, err := s.commit(ctx, changes); err != nil {
		s.log.Warn("store executor events; keeping them for the next turn", zap.Int("events", len(events)), zap.Error(err))
		s.pending = events
		return
	}
	// Forget stop requests for tries that have ended.
	for tk := range s.stopping {
		if _, ti := s.instance(tk.TaskKey); ti == nil || ti.Try != tk.Try || !ti.State.Active() {
			delete(s.stopping, tk)
		}
	}
}

// changeFor maps an executor event to the transition it implies, if any.
func (s *Scheduler) changeFor(ti TaskInstance, ev Event) (Change, bool) {
	at := ev.At
	if at.IsZero() {
		at = s.opts.Now()
	}
	c := Change{Key: ti.TaskKey, From: ti.State, Actor: Actor{Component: s.opts.Executor.Name(), Instance: s.opts.Instance}, At: at, ExternalID: ev.ExternalID}
	if ti.State != StateQueued && ti.State != StateRunning {
		return c, false
	}
	stop, stopped := s.stopping[ev.Key]
	if stopped && stop.mark != "" && ev.Kind != EventStarted {
		return markStopped(c, ev, stop), true
	}
	if stopped && stop.fail && ev.Kind != EventStarted && (ev.Kind != EventExited || ev.ExitCode != 0) {
		return failStopped(c, ev, stop), true
	}
	switch ev.Kind {
	case EventStarted:
		if ti.State != StateQueued {
			return c, false
		}
		c.To, c.Reason = StateRunning, orDefault(ev.Reason, "started "+ev.ExternalID)
		return c, true
	case EventExited:
		code := ev.ExitCode
		c.ExitCode = &code
		reason := orDefault(ev.Reason, fmt.Sprintf("exit code %d", code))
		if code == 0 {
			c.To, c.Reason = StateSuccess, reason
			return c, true
		}
		if stopped {
			reason = stop.reason + " (" + reason + ")"
		}
		s.failOrRetry(&c, ti, reason, stopped && stop.retry)
		return c, true
	case EventFailed:
		reason := orDefault(ev.Reason, "the executor reports the try failed")
		if stopped {
			reason = stop.reason + " (" + reason + ")"
		}
		s.failOrRetry(&c, ti, reason, stopped && stop.retry)
		return c, true
	case EventEvicted:
		reason := orDefault(ev.Reason, "the platform ended the try")
		if stopped {
			// Asked to stop (a timeout, a shutdown): the stop decides.
			s.failOrRetry(&c, ti, stop.reason+" (evicted: "+reason+")", stop.retry)
			return c, true
		}
		s.evictOrRetry(&c, ti, ev.Cause, reason)
		return c, true
	case EventLost:
		reason := "lost: " + orDefault(ev.Reason, "the executor lost track of the try")
		if stopped {
			reason = stop.reason + " (" + reason + ")"
		}
		s.failOrRetry(&c, ti, reason, stopped && stop.retry)
		return c, true
	}
	return c, false
}

// failOrRetry completes c for a try that did not succeed: up_for_retry
// while retries remain (or when forced), failed otherwise, with a reason
// that says which.
func (s *Scheduler) failOrRetry(c *Change, ti TaskInstance, reason string, force bool) {
	tries := ti.Spec.Retries + 1
	counted := ti.Counted()
	if force || ti.CanRetry() {
		c.To = StateUpForRetry
		c.Reason = fmt.Sprintf("%s; retry %d of %d in %s", reason, counted, ti.Spec.Retries, RetryDelay(ti.Spec, counted))
		if force {
			c.Reason = fmt.Sprintf("%s; will run again in %s", reason, RetryDelay(ti.Spec, counted))
		}
		return
	}
	c.To = StateFailed
	switch {
	case ti.Evictions > 0:
		c.Reason = fmt.Sprintf("%s; no retries left (%d counted, %d evicted not counted)", reason, tries, ti.Evictions)
	case tries > 1:
		c.Reason = fmt.Sprintf("%s; no retries left (%d tries)", reason, tries)
	default:
		c.Reason = reason
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// enforceTimeouts asks the executor to stop tries past their execution
// timeout. The try's end comes back as an event and is recorded with the
// timeout as its reason.
func (s *Scheduler) enforceTimeouts(ctx context.Context, now time.Time) {
	var due []TaskInstance
	for k, deadline := range s.deadlines {
		if now.Before(deadline) {
			continue
		}
		_, ti := s.instance(k)
		if ti == nil {
			delete(s.deadlines, k)
			continue
		}
		due = append(due, *ti)
	}
	// Stop them all at once, under one deadline, so a hanging API costs
	// the loop one ExecutorTimeout however many tries are due.
	errs := make([]error, len(due))
	cctx, cancel := s.execCtx(ctx)
	var wg sync.WaitGroup
	for i, ti := range due {
		wg.Go(func() {
			withTry(cctx, ti.TaskKey, "scheduler", func(cctx context.Context) {
				defer s.execCall(cctx, "Stop", ti.TryKey())()
				errs[i] = s.opts.Executor.Stop(cctx, ti.TryKey(), fmt.Sprintf("execution timeout %s exceeded", ti.Spec.ExecutionTimeout))
			})
		})
	}
	wg.Wait()
	cancel()
	for i, ti := range due {
		if errs[i] != nil {
			// Ask again in a second; a past deadline left in the map would
			// make the loop spin.
			s.log.Warn("stop task; will try again", zap.Stringer("try", ti.TryKey()), zap.Error(errs[i]))
			s.deadlines[ti.TaskKey] = now.Add(time.Second)
			continue
		}
		// The try's end comes as an event; until then nothing is due.
		delete(s.deadlines, ti.TaskKey)
		s.stopping[ti.TryKey()] = stopRequest{reason: fmt.Sprintf("execution timeout %s exceeded", ti.Spec.ExecutionTimeout)}
		s.log.Info("stopping task past its execution timeout", zap.Stringer("try", ti.TryKey()), zap.Duration("timeout", ti.Spec.ExecutionTimeout))
	}
}

// stop asks the executor to end a try, and remembers why.
func (s *Scheduler) stop(ctx context.Context, tk TryKey, req stopRequest) bool {
	cctx, cancel := s.execCtx(ctx)
	defer cancel()
	end := s.execCall(cctx, "Stop", tk)
	err := s.opts.Executor.Stop(cctx, tk, req.reason)
	end()
	if err != nil {
		s.log.Warn("stop task; will try again", zap.Stringer("try", tk), zap.Error(err))
		return false
	}
	s.stopping[tk] = req
	return true
}
