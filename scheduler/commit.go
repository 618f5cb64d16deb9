package scheduler

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"
)

// commit stores changes in one transaction and brings the loop's memory in
// line with what the store now holds. Per-change failures are logged and
// the instance is reloaded, since someone else moved it; a failure of the
// store itself is returned and nothing changed.
func (s *Scheduler) commit(ctx context.Context, changes []Change) ([]ChangeResult, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	if s.ha() {
		for i := range changes {
			changes[i].Owner = s.opts.Instance
		}
	}
	cctx, cancel := s.storeCtx(ctx)
	defer cancel()
	results, err := s.opts.Store.Apply(cctx, changes)
	if err != nil {
		s.stats.storeErrors.Add(1)
		return nil, err
	}
	defer s.forgetNotOwned(changes, results)
	for i, r := range results {
		c := changes[i]
		if r.Err != nil {
			if IsPoolRefusal(r.Err) {
				continue // the instance waits for its pool; see poolRefused
			}
			s.log.Warn("transition not applied", zap.Stringer("task", c.Key),
				zap.String("from", string(c.From)), zap.String("to", string(c.To)), zap.Error(r.Err))
			if errors.Is(r.Err, ErrStateConflict) {
				s.reload(ctx, c.Key)
			}
			continue
		}
		s.stats.transitions.Add(1)
		if c.To.Terminal() && c.From != c.To {
			s.stats.taskEnds.add(c.Key.DAGID, string(c.To))
		}
		s.log.Debug("transition", zap.Stringer("task", c.Key), zap.Int("try", r.Instance.Try),
			zap.String("from", string(c.From)), zap.String("to", string(c.To)), zap.String("reason", c.Reason))
		s.track(r.Instance)
		if rel, ok := s.opts.Executor.(Releaser); ok && endsTry(c) {
			rel.Release(r.Instance.TryKey())
		}
	}
	return results, nil
}

// endsTry reports whether c records the end of a live try.
func endsTry(c Change) bool {
	live := c.From == StateQueued || c.From == StateRunning
	return live && (c.To.Terminal() || c.To == StateUpForRetry)
}

// reload replaces the loop's copy of one instance with the store's.
func (s *Scheduler) reload(ctx context.Context, k TaskKey) {
	cctx, cancel := s.storeCtx(ctx)
	defer cancel()
	ti, err := s.opts.Store.GetTaskInstance(cctx, k)
	if err != nil {
		s.log.Warn("reload task instance", zap.Stringer("task", k), zap.Error(err))
		return
	}
	s.track(ti)
}

// instance returns the loop's copy of an instance, or nil.
func (s *Scheduler) instance(k TaskKey) (*runState, *TaskInstance) {
	rs := s.runs[runKey{k.DAGID, k.RunID}]
	if rs == nil {
		return nil, nil
	}
	return rs, rs.tis[k.TaskID]
}

// track records the new version of an instance in memory and keeps the
// derived bookkeeping (slot counts, timers, what to evaluate next) true.
func (s *Scheduler) track(next TaskInstance) {
	rs, cur := s.instance(next.TaskKey)
	if rs == nil {
		return
	}
	var prev State
	if cur != nil {
		prev = cur.State
	}
	*cur = next
	k := next.TaskKey
	if prev.Active() != next.State.Active() {
		delta := 1
		if prev.Active() {
			delta = -1
			// A slot freed: the next dispatch hands it to the first of the
			// blocked (see nextBlocked), and a pool's waiters may go now.
			s.slotFreed = true
			s.pools.open(next.Spec.PoolName(), s.candidates)
		}
		s.active += delta
		s.activeDAG[k.DAGID] += delta
	}
	delete(s.deadlines, k)
	if next.State == StateRunning && next.Spec.ExecutionTimeout > 0 {
		s.deadlines[k] = next.StartedAt.Add(next.Spec.ExecutionTimeout)
	}
	if r := s.refused[k]; r != nil && (next.State != StateQueued || next.Try != r.try) {
		delete(s.refused, k)
	}
	switch next.State {
	case StateQueued:
		// A refused try keeps its time to be submitted again.
		if r := s.refused[k]; r != nil {
			s.timed[k] = r.next
		} else {
			delete(s.timed, k)
		}
	case StateUpForRetry:
		s.timed[k] = next.RetryAt
	case StateScheduled:
		// timed is set by the caller for a requeue with backoff.
		if _, ok := s.timed[k]; !ok {
			s.candidates[k] = struct{}{}
		}
	default:
		delete(s.timed, k)
	}
	if prev.Terminal() && !next.State.Terminal() {
		rs.open++ // cleared by an operation
	}
	if next.State.Terminal() && !prev.Terminal() {
		rs.open--
		for _, d := range rs.downstream[k.TaskID] {
			s.candidates[TaskKey{DAGID: k.DAGID, RunID: k.RunID, TaskID: d}] = struct{}{}
		}
	}
}

// addRun starts tracking a run and its instances, as loaded from the store.
func (s *Scheduler) addRun(run Run, tis []TaskInstance) {
	key := runKey{run.DAGID, run.RunID}
	if _, ok := s.runs[key]; ok {
		return
	}
	// Every instance starts in the zero state and is then tracked into
	// its stored one, so the slot counts and timers are derived in one
	// place.
	rs := &runState{run: run, tis: make(map[string]*TaskInstance, len(tis)), open: len(tis), downstream: map[string][]string{}}
	s.runs[key] = rs
	for _, ti := range tis {
		rs.tis[ti.TaskID] = &TaskInstance{TaskKey: ti.TaskKey}
		for _, up := range ti.Spec.DependsOn {
			rs.downstream[up] = append(rs.downstream[up], ti.TaskID)
		}
	}
	for _, ti := range tis {
		s.track(ti)
	}
	if d := s.dags[run.DAGID]; d != nil {
		d.activeRun++
	}
}

// finishRuns closes runs whose instances are all terminal.
func (s *Scheduler) finishRuns(ctx context.Context, now time.Time) {
	for key, rs := range s.runs {
		if rs.open > 0 {
			continue
		}
		state := RunSuccess
		for _, ti := range rs.tis {
			if ti.State != StateSuccess && ti.State != StateSkipped {
				state = RunFailed
				break
			}
		}
		if rs.cancelled != "" {
			state = RunCancelled
		}
		cctx, cancel := s.storeCtx(ctx)
		err := s.opts.Store.SetRunState(cctx, key.dagID, key.runID, state, now)
		cancel()
		if err != nil {
			s.stats.storeErrors.Add(1)
			s.log.Warn("record run end", zap.String("dag", key.dagID), zap.String("run", key.runID), zap.Error(err))
			continue
		}
		s.log.Info("run finished", zap.String("dag", key.dagID), zap.String("run", key.runID), zap.String("state", string(state)))
		if s.opts.OnRunEnd != nil {
			run := rs.run
			run.State, run.EndedAt = state, now.UTC()
			s.opts.OnRunEnd(run)
		}
		delete(s.runs, key)
		if d := s.dags[key.dagID]; d != nil && d.activeRun > 0 {
			d.activeRun--
		}
	}
}
