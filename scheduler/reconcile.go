package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
)

// start loads the DAGs and the unfinished runs, then reconciles every try
// a previous process left queued or running. It retries a failing store
// until ctx ends: a scheduler that cannot reach its store yet is not
// ready, but it does not give up.
func (s *Scheduler) start(ctx context.Context) error {
	if err := s.awaitDAGs(ctx); err != nil {
		return err
	}
	backoff := 500 * time.Millisecond
	for {
		s.hb.Beat()
		now := s.opts.Now()
		errsBefore := s.stats.storeErrors.Load()
		s.renewLease(ctx, now)
		s.sync(ctx, now)
		s.claimRuns(ctx, now)
		if s.stats.storeErrors.Load() == errsBefore {
			s.nextSync = now.Add(s.opts.SyncInterval)
			s.nextResync = now.Add(s.opts.ResyncInterval)
			break
		}
		s.log.Warn("start-up: store not usable yet; retrying", zap.Duration("backoff", backoff))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, s.opts.HeartbeatPeriod)
	}
	s.reconcile(ctx)
	s.log.Info("scheduler ready", zap.String("instance", s.opts.Instance), zap.Int("dags", len(s.dags)),
		zap.Int("active_runs", len(s.runs)), zap.Int("active_tasks", s.active))
	return nil
}

// Who left a try to reconcile: the value of Scheduler.unresolved.
const (
	// leftBySelf: one of this process's own tries, unchanged for a resync
	// interval.
	leftBySelf = ""
	// leftByRestart: a previous process of this scheduler.
	leftByRestart = "adopted after restart"
	// Any other value is another scheduler whose run this one took over,
	// as Claim.Why says it: "adopted from scheduler X: heartbeat stale 45s".
)

// reconcile asks the executor about tries the store says are queued or
// running and records what it decides, with the reason, as a transition.
// A try left by a previous process (after a restart, or by another
// scheduler whose run this one took over):
//   - alive: adopted, watched to its end;
//   - ended while nobody watched: its outcome is recorded;
//   - queued but never started: requeued (a lost task);
//   - running but gone without a status: failed or retried (a zombie).
//
// A try of this process that has not changed for a resync interval
// (leftBySelf) is checked the same way, so an end the executor
// never reported (a watch that silently stopped delivering, a lost event)
// is found: a live try is left alone.
//
// A try the executor cannot answer for stays unresolved and is asked about
// again on the next sync.
func (s *Scheduler) reconcile(ctx context.Context) {
	var asks []TaskInstance
	for k := range s.unresolved {
		_, ti := s.instance(k)
		if _, busy := s.inflight[k]; ti == nil || !ti.State.Active() || busy || s.waitingRefused(k, ti) {
			delete(s.unresolved, k)
			continue
		}
		asks = append(asks, *ti)
	}
	var changes []Change
	leftBy := map[TaskKey]string{}
	for _, a := range s.adoptAll(ctx, asks) {
		ti, k := a.ti, a.ti.TaskKey
		if a.err != nil {
			s.log.Warn("reconcile: executor cannot say what became of a try; asking again later", zap.Stringer("try", ti.TryKey()), zap.Error(a.err))
			continue
		}
		left := s.unresolved[k]
		delete(s.unresolved, k)
		c, ok := s.decide(ti, a.obs, left)
		if !ok {
			continue
		}
		leftBy[k] = left
		s.log.Info("reconcile", zap.Stringer("try", ti.TryKey()), zap.String("from", string(c.From)), zap.String("to", string(c.To)), zap.String("reason", c.Reason))
		changes = append(changes, c)
	}
	if _, err := s.commit(ctx, changes); err != nil {
		s.log.Warn("reconcile: record decisions; will decide again", zap.Error(err))
		for _, c := range changes {
			s.unresolved[c.Key] = leftBy[c.Key]
		}
	}
}

// decide maps what the executor observed of a try to the transition that
// records it, if any. left says who left the try (see leftBySelf); a try
// taken over from another scheduler has its record say so first.
//
// A try an operation stopped (a mark, a cancel; see remedy.go) that ended
// unwatched is recorded as the operation asked: its stop may have been
// sent by a scheduler that stopped before it heard of the end, and its
// run's new owner, applying the operation again, asked again.
func (s *Scheduler) decide(ti TaskInstance, obs Observation, left string) (Change, bool) {
	c, ok := s.decideOutcome(ti, obs, left)
	if ok && left != leftBySelf && left != leftByRestart && c.To != StateRunning {
		c.Reason = left + "; " + c.Reason
	}
	if stop, asked := s.stopping[ti.TryKey()]; ok && asked && stop.mark != "" && c.To != StateRunning && c.To != StateScheduled {
		ev := Event{Kind: EventLost, Reason: c.Reason}
		if obs.Phase == PhaseExited {
			ev.Kind, ev.ExitCode = EventExited, obs.ExitCode
		}
		c = markStopped(c, ev, stop)
	}
	return c, ok
}

func (s *Scheduler) decideOutcome(ti TaskInstance, obs Observation, left string) (Change, bool) {
	afterRestart := left != leftBySelf
	now := s.opts.Now()
	c := Change{Key: ti.TaskKey, From: ti.State, At: now, ExternalID: obs.ExternalID,
		Actor: Actor{Component: "reconciler", Instance: s.opts.Instance}}
	unseen := "while no scheduler watched"
	if !afterRestart {
		unseen = "and its end was never reported (found at resync)"
	}
	switch obs.Phase {
	case PhaseRunning:
		switch {
		case afterRestart:
			c.To = StateRunning
			c.Reason = fmt.Sprintf("%s: try %d is still running (%s)", left, ti.Try, orDefault(obs.ExternalID, ti.ExternalID))
		case ti.State == StateQueued:
			c.To = StateRunning
			c.Reason = fmt.Sprintf("try %d is running; its start was never reported (found at resync)", ti.Try)
		default:
			return c, false // alive and known: nothing to record
		}
	case PhaseExited:
		code := obs.ExitCode
		c.ExitCode = &code
		what := fmt.Sprintf("finished %s: %s", unseen, orDefault(obs.Reason, fmt.Sprintf("exit code %d", code)))
		if code == 0 {
			c.To, c.Reason = StateSuccess, what
		} else {
			s.failOrRetry(&c, ti, what, false)
		}
	case PhaseMissing:
		if ti.State == StateQueued {
			if !afterRestart && now.Sub(ti.QueuedAt) < s.opts.ResyncInterval {
				return c, false // its submit may still be landing
			}
			why := "scheduler stopped before the submit"
			if !afterRestart {
				why = fmt.Sprintf("nothing runs it %s after it was queued", now.Sub(ti.QueuedAt).Round(time.Second))
			}
			c.To = StateScheduled
			c.Reason = fmt.Sprintf("lost: try %d was queued but the executor never started it (%s); requeued", ti.Try, why)
			return c, true
		}
		why := "scheduler restarted while it ran"
		if !afterRestart {
			why = "its end was never reported; found at resync"
		}
		s.stats.zombies.add(ti.DAGID, "")
		s.failOrRetry(&c, ti, fmt.Sprintf("zombie: try %d was running but the executor has no trace of it (%s)", ti.Try, why), false)
	case PhaseEvicted:
		s.evictOrRetry(&c, ti, obs.Cause, fmt.Sprintf("try %d ended %s: %s", ti.Try, unseen, orDefault(obs.Reason, "ended by its platform")))
	case PhaseLost:
		s.stats.zombies.add(ti.DAGID, "")
		s.failOrRetry(&c, ti, fmt.Sprintf("zombie: try %d ended without a recorded exit status %s: %s", ti.Try, unseen, orDefault(obs.Reason, "status unknown")), false)
	default:
		s.log.Warn("reconcile: unknown phase from executor", zap.String("phase", string(obs.Phase)), zap.Stringer("try", ti.TryKey()))
		return c, false
	}
	return c, true
}

// markStale queues for reconciliation the active tries of this process
// that have not changed for a resync interval.
func (s *Scheduler) markStale(now time.Time) {
	for _, rs := range s.runs {
		for _, ti := range rs.tis {
			if !ti.State.Active() || now.Sub(ti.UpdatedAt) < s.opts.ResyncInterval {
				continue
			}
			if _, ok := s.unresolved[ti.TaskKey]; !ok {
				s.unresolved[ti.TaskKey] = leftBySelf
			}
		}
	}
}

// drain runs after ctx ended: it stops running tries if asked to and
// records their end, bounded by DrainTimeout. Calls made here use a
// context detached from the cancelled one.
func (s *Scheduler) drain(ctx context.Context, events <-chan Event) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.DrainTimeout)
	defer cancel()
	// Submits in flight were cancelled with ctx; record their requeues.
	s.awaitSubmits(dctx)
	var batch []Event
	batch = drainAvailable(events, batch)
	s.handleEvents(dctx, batch)
	if !s.opts.StopTasksOnShutdown || s.active == 0 {
		s.log.Info("scheduler stopped", zap.Int("active_tasks_left", s.active))
		return
	}
	s.log.Info("shutting down: stopping running tasks", zap.Int("tasks", s.active))
	for _, rs := range s.runs {
		for _, ti := range rs.tis {
			if ti.State.Active() {
				s.stop(dctx, ti.TryKey(), stopRequest{reason: "stopped: scheduler shutting down", retry: true})
			}
		}
	}
	tick := time.NewTicker(s.opts.HeartbeatPeriod / 2)
	defer tick.Stop()
	for s.active > 0 {
		s.hb.Beat()
		select {
		case <-dctx.Done():
			s.log.Warn("shutdown drain timed out; remaining tasks are reconciled at the next start", zap.Int("tasks", s.active))
			return
		case ev := <-events:
			batch = drainAvailable(events, append(batch[:0], ev))
			s.handleEvents(dctx, batch)
		case <-tick.C:
			s.handleEvents(dctx, nil)
		}
	}
	s.log.Info("scheduler stopped; running tasks were stopped and recorded")
}

// awaitSubmits waits, bounded by ctx, for the Start calls in flight and
// records their outcomes.
func (s *Scheduler) awaitSubmits(ctx context.Context) {
	done := make(chan struct{})
	go func() { s.submitting.Wait(); close(done) }()
	var results []submitResult
	for {
		select {
		case r := <-s.submits:
			results = append(results, r)
			continue
		case <-done:
		case <-ctx.Done():
			s.log.Warn("shutdown: submits still in flight; the next start reconciles them")
		}
		break
	}
	s.handleSubmits(ctx, drainSubmits(s.submits, results))
}

// sweepOrphans asks an executor that can outlive its records for live
// tries it does not track: one the store says is live is adopted; any
// other (its task ended, moved to another try, or is unknown) is removed,
// with the reason logged.
func (s *Scheduler) sweepOrphans(ctx context.Context) {
	finder, ok := s.opts.Executor.(OrphanFinder)
	if !ok {
		return
	}
	cctx, cancel := s.execCtx(ctx)
	keys, err := finder.Untracked(cctx, s.opts.OrphanGrace)
	cancel()
	if err != nil {
		s.log.Warn("orphan sweep: list untracked tries", zap.Error(err))
		return
	}
	for _, k := range keys {
		cctx, cancel := s.storeCtx(ctx)
		ti, err := s.opts.Store.GetTaskInstance(cctx, k.TaskKey)
		cancel()
		var reason string
		switch {
		case errors.Is(err, ErrNotFound):
			reason = "orphan: the store has no such task instance"
		case err != nil:
			s.log.Warn("orphan sweep: look up task", zap.Stringer("try", k), zap.Error(err))
			continue
		case ti.State.Active() && ti.Try == k.Try:
			if _, tracked := s.unresolved[k.TaskKey]; !tracked {
				s.unresolved[k.TaskKey] = leftBySelf // live: adopt it at this sync
			}
			continue
		default:
			reason = fmt.Sprintf("orphan: task is %s on try %d", ti.State, ti.Try)
		}
		cctx, cancel = s.execCtx(ctx)
		err = finder.RemoveOrphan(cctx, k, reason)
		cancel()
		if err != nil {
			s.log.Warn("orphan sweep: remove", zap.Stringer("try", k), zap.String("reason", reason), zap.Error(err))
			continue
		}
		s.log.Warn("removed an orphaned try", zap.Stringer("try", k), zap.String("reason", reason))
	}
}

type adoptAnswer struct {
	ti  TaskInstance
	obs Observation
	err error
}

// adoptAll asks the executor about many tries at once, under one deadline
// for the whole batch: an apiserver that stopped answering costs the loop
// one ExecutorTimeout, not one per try. Unanswered tries come back with
// their error and stay unresolved.
func (s *Scheduler) adoptAll(ctx context.Context, tis []TaskInstance) []adoptAnswer {
	answers := make([]adoptAnswer, len(tis))
	if len(tis) == 0 {
		return answers
	}
	cctx, cancel := s.execCtx(ctx)
	defer cancel()
	slots := make(chan struct{}, s.opts.SubmitConcurrency)
	var wg sync.WaitGroup
	for i, ti := range tis {
		wg.Go(func() {
			answers[i].ti = ti
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
			case <-cctx.Done():
				answers[i].err = cctx.Err()
				return
			}
			withTry(cctx, ti.TaskKey, "scheduler", func(cctx context.Context) {
				defer s.execCall(cctx, "Adopt", ti.TryKey())()
				answers[i].obs, answers[i].err = s.opts.Executor.Adopt(cctx, ti.TryKey(), ti.ExternalID)
			})
		})
	}
	wg.Wait()
	return answers
}
