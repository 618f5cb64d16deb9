package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
)

// The loop's side of operations (ops.go). At each sync the loop reads the
// open operations and applies those that are its own:
//
//   - on a run it owns, in memory and in the store, fenced like all its
//     changes: the plan's changes and the operation's new state go in one
//     transaction (Store.ApplyOp), so an operation is applied once even if
//     the scheduler dies right after;
//   - on a run that has ended, which no scheduler owns any more: the first
//     to apply the operation reopens the run and owns it, in the same
//     transaction; the others find the operation closed;
//   - on a running run another scheduler owns: left to that owner.
//
// A live try an operation ends (a mark, a cancel) is stopped first; the
// operation stays "stopping" until the try's end event is recorded as the
// state asked for. Planning is done again from what the loop holds each
// time, so a stop that failed is asked again at the next sync, and a new
// owner after a failover finishes what the old one started.

// opsBatch bounds the open operations one sync applies.
const opsBatch = 64

// applyOps applies, oldest first, the open operations that are this
// scheduler's to apply.
func (s *Scheduler) applyOps(ctx context.Context, now time.Time) {
	if !s.holdsLease(now) {
		return
	}
	cctx, cancel := s.storeCtx(ctx)
	ops, err := s.opts.Store.ListOps(cctx, OpFilter{States: []OpState{OpPending, OpStopping}, Limit: opsBatch})
	cancel()
	if err != nil {
		s.stats.storeErrors.Add(1)
		s.log.Warn("read operations; will try again", zap.Error(err))
		return
	}
	for i := len(ops) - 1; i >= 0; i-- {
		op := ops[i]
		if rs := s.runs[runKey{op.DAGID, op.RunID}]; rs != nil {
			s.applyOwned(ctx, op, rs, now)
		} else {
			s.applyEnded(ctx, op, now)
		}
	}
}

// applyOwned applies op to a run this scheduler owns.
func (s *Scheduler) applyOwned(ctx context.Context, op Op, rs *runState, now time.Time) {
	tis := make([]TaskInstance, 0, len(rs.tis))
	for _, ti := range rs.tis {
		tis = append(tis, *ti)
	}
	plan, err := PlanOp(op, rs.run, tis, now)
	if err != nil {
		s.closeOp(ctx, op, OpFailed, err.Error(), now)
		return
	}
	if plan.Cancel {
		rs.cancelled = plan.Reason
	}
	changes := plan.Changes
	waiting := 0 // live tries whose end the operation waits for
	var stops []PlannedStop
	for _, st := range plan.Stops {
		_, submitting := s.inflight[st.Try.TaskKey]
		req, asked := s.stopping[st.Try]
		if submitting || (asked && req.mark != "") {
			waiting++ // its submit's answer, or its end, comes first
			continue
		}
		stops = append(stops, st)
	}
	errs := s.stopTries(ctx, stops, plan.Reason)
	for i, st := range stops {
		if errs[i] != nil {
			s.log.Warn("stop a try for an operation; will try again at the next sync", zap.Int64("operation", op.ID),
				zap.Stringer("try", st.Try), zap.Error(errs[i]))
			waiting++
			continue
		}
		s.stopping[st.Try] = stopRequest{reason: plan.Reason, mark: st.To, keepSuccess: st.KeepSuccess, actor: op.Actor}
		if st.From == StateQueued {
			// A try stopped before it started sends no end event.
			_, ti := s.instance(st.Try.TaskKey)
			changes = append(changes, Change{Key: st.Try.TaskKey, From: StateQueued, To: st.To, Manual: true,
				Reason: plan.Reason + "; the try was stopped before it started", Actor: op.Actor, At: now, ExternalID: ti.ExternalID})
			continue
		}
		waiting++
	}
	u := OpUpdate{ID: op.ID, State: OpDone, Result: plan.Summary(), By: s.opts.Instance, At: now}
	if op.State == OpStopping {
		u.Result = op.Result
		if waiting == 0 {
			u.Result += "; the stopped tries have ended"
		}
	}
	if waiting > 0 {
		u.State = OpStopping
		if op.State == OpStopping && len(changes) == 0 {
			return // still waiting; nothing new to record
		}
	}
	if err := s.commitOp(ctx, u, changes); err != nil {
		s.log.Warn("record an operation; will try again", zap.Int64("operation", op.ID), zap.Error(err))
		return
	}
	s.log.Info("operation applied", zap.Int64("operation", op.ID), zap.String("kind", string(op.Kind)),
		zap.String("dag", op.DAGID), zap.String("run", op.RunID), zap.Stringer("by", op.Actor),
		zap.String("state", string(u.State)), zap.String("result", u.Result))
}

// applyEnded applies op to a run this scheduler does not hold: if the run
// has ended, it is reopened by the operation (and owned by this
// scheduler); if it is running, its owner applies the operation.
func (s *Scheduler) applyEnded(ctx context.Context, op Op, now time.Time) {
	cctx, cancel := s.storeCtx(ctx)
	defer cancel()
	run, err := s.opts.Store.GetRun(cctx, op.DAGID, op.RunID)
	switch {
	case errors.Is(err, ErrNotFound):
		s.closeOp(ctx, op, OpFailed, fmt.Sprintf("run %s/%s not found (see 'vigil runs list --dag %s')", op.DAGID, op.RunID, op.DAGID), now)
		return
	case err != nil:
		s.stats.storeErrors.Add(1)
		s.log.Warn("read an operation's run; will try again", zap.Int64("operation", op.ID), zap.Error(err))
		return
	case run.State == RunRunning:
		return // its owner applies it, or this scheduler once it loads the run
	}
	if op.State == OpStopping {
		// The tries it stopped ended, and then the run.
		u := OpUpdate{ID: op.ID, State: OpDone, Result: op.Result + "; the run ended " + string(run.State), By: s.opts.Instance, At: now}
		if op.Kind == OpCancelRun && run.State != RunCancelled {
			// Ended by a scheduler that did not know of the cancel (a
			// failover while its tries were stopping).
			u.RunState = RunCancelled
		}
		if err := s.commitOp(ctx, u, nil); err != nil {
			s.log.Warn("record an operation's end; will try again", zap.Int64("operation", op.ID), zap.Error(err))
		}
		return
	}
	tis, err := s.opts.Store.ListTaskInstances(cctx, TaskFilter{DAGID: op.DAGID, RunID: op.RunID})
	if err != nil {
		s.stats.storeErrors.Add(1)
		s.log.Warn("read an operation's run; will try again", zap.Int64("operation", op.ID), zap.Error(err))
		return
	}
	plan, err := PlanOp(op, run, tis, now)
	if err != nil || plan.Empty() {
		state, result := OpDone, plan.Summary()
		if err != nil {
			state, result = OpFailed, err.Error()
		}
		s.closeOp(ctx, op, state, result, now)
		return
	}
	// An ended run has no live try: the plan is changes only.
	u := OpUpdate{ID: op.ID, State: OpDone, Result: plan.Summary() + "; run reopened", By: s.opts.Instance, At: now, Reopen: true}
	if s.ha() {
		u.Owner = s.opts.Instance
	}
	results, err := s.storeOp(ctx, u, plan.Changes)
	if err != nil {
		if !errors.Is(err, ErrOpClosed) {
			s.log.Warn("apply an operation to an ended run; will try again", zap.Int64("operation", op.ID), zap.Error(err))
		}
		return
	}
	after := make(map[TaskKey]TaskInstance, len(results))
	for _, r := range results {
		after[r.Instance.TaskKey] = r.Instance
	}
	for i, ti := range tis {
		if next, ok := after[ti.TaskKey]; ok {
			tis[i] = next
		}
	}
	run.State, run.EndedAt, run.Owner = RunRunning, time.Time{}, u.Owner
	s.addRun(run, tis)
	s.stats.transitions.Add(int64(len(results)))
	s.log.Info("operation applied; run reopened", zap.Int64("operation", op.ID), zap.String("kind", string(op.Kind)),
		zap.String("dag", op.DAGID), zap.String("run", op.RunID), zap.Stringer("by", op.Actor), zap.String("result", u.Result))
}

// closeOp ends an operation that changes nothing.
func (s *Scheduler) closeOp(ctx context.Context, op Op, state OpState, result string, now time.Time) {
	u := OpUpdate{ID: op.ID, State: state, Result: result, By: s.opts.Instance, At: now}
	if _, err := s.storeOp(ctx, u, nil); err != nil && !errors.Is(err, ErrOpClosed) {
		s.log.Warn("record an operation's end; will try again", zap.Int64("operation", op.ID), zap.Error(err))
		return
	}
	s.log.Info("operation ended", zap.Int64("operation", op.ID), zap.String("kind", string(op.Kind)),
		zap.String("dag", op.DAGID), zap.String("run", op.RunID), zap.String("state", string(state)), zap.String("result", result))
}

// storeOp stores an operation's update and changes, fenced by this
// scheduler's ownership.
func (s *Scheduler) storeOp(ctx context.Context, u OpUpdate, changes []Change) ([]ChangeResult, error) {
	if s.ha() {
		for i := range changes {
			changes[i].Owner = s.opts.Instance
		}
	}
	cctx, cancel := s.storeCtx(ctx)
	defer cancel()
	return s.opts.Store.ApplyOp(cctx, u, changes)
}

// commitOp is storeOp for a run the loop holds: it brings the loop's
// memory in line with the store, as commit does.
func (s *Scheduler) commitOp(ctx context.Context, u OpUpdate, changes []Change) error {
	results, err := s.storeOp(ctx, u, changes)
	switch {
	case errors.Is(err, ErrNotOwner) && len(changes) > 0:
		k := changes[0].Key
		s.forgetRun(runKey{k.DAGID, k.RunID}, err.Error())
		return err
	case errors.Is(err, ErrStateConflict):
		for _, c := range changes {
			s.reload(ctx, c.Key)
		}
		return err
	case err != nil:
		s.stats.storeErrors.Add(1)
		return err
	}
	for i, r := range results {
		s.stats.transitions.Add(1)
		s.track(r.Instance)
		if rel, ok := s.opts.Executor.(Releaser); ok && endsTry(changes[i]) {
			rel.Release(r.Instance.TryKey())
		}
	}
	return nil
}

// stopTries asks the executor to stop tries, all at once under one
// deadline, so a hanging executor costs the loop one ExecutorTimeout.
func (s *Scheduler) stopTries(ctx context.Context, stops []PlannedStop, reason string) []error {
	errs := make([]error, len(stops))
	if len(stops) == 0 {
		return errs
	}
	cctx, cancel := s.execCtx(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for i, st := range stops {
		wg.Go(func() {
			withTry(cctx, st.Try.TaskKey, "scheduler", func(cctx context.Context) {
				defer s.execCall(cctx, "Stop", st.Try)()
				errs[i] = s.opts.Executor.Stop(cctx, st.Try, reason)
			})
		})
	}
	wg.Wait()
	return errs
}

// markStopped records the end of a try an operation stopped: the state
// the operation asked for, whatever the exit, except that a cancel keeps
// the success of a try that finished before its stop landed.
func markStopped(c Change, ev Event, stop stopRequest) Change {
	what := orDefault(ev.Reason, "the executor reports the try ended")
	if ev.Kind == EventExited {
		code := ev.ExitCode
		c.ExitCode = &code
		what = orDefault(ev.Reason, fmt.Sprintf("exit code %d", code))
		if code == 0 && stop.keepSuccess {
			c.To, c.Reason = StateSuccess, what+" (it ended before the stop of "+stop.reason+")"
			return c
		}
	}
	c.To, c.Reason, c.Manual, c.Actor = stop.mark, stop.reason+" ("+what+")", true, stop.actor
	return c
}
