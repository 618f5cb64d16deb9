package scheduler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"go.uber.org/zap"

	"github.com/vigilhq/vigil/scheduler/dag"
)

// sync applies the latest load of the DAG folder to the store, if one
// is waiting, then picks up what others changed in the store: paused
// flags and runs created by `vigil dags trigger`. A failure leaves the
// loop running on what it has.
func (s *Scheduler) sync(ctx context.Context, now time.Time) {
	if s.dagPending != nil && s.applyDAGs(ctx, now, s.dagPending) {
		s.dagPending = nil
	}
	// Other schedulers may have freed pool slots since the last look.
	s.pools.openAll(s.candidates)
	if err := s.pollStore(ctx, now); err != nil {
		s.stats.storeErrors.Add(1)
		// Back off while the store keeps failing, up to 8 sync intervals.
		s.syncBackoff = min(max(2*s.syncBackoff, s.opts.SyncInterval), 8*s.opts.SyncInterval)
		s.log.Warn("read store; will try again", zap.Duration("backoff", s.syncBackoff), zap.Error(err))
		return
	}
	s.syncBackoff = 0
}

// applyDAGs stores one load of the DAG folder and reports whether all of
// it was stored; if not, the loop applies it again at the next sync. A
// file that fails to load keeps its DAGs' last good version running and
// its error in the store until it is fixed; the other files are not
// affected.
func (s *Scheduler) applyDAGs(ctx context.Context, now time.Time, set *dagSet) bool {
	done := true
	var loadErrs []LoadError
	broken := map[string]bool{}
	for _, fe := range set.errs {
		broken[fe.File] = true
		loadErrs = append(loadErrs, LoadError{File: fe.File, Message: fe.Err.Error(), Since: now})
		if s.lastLoadErrs[fe.File] != fe.Err.Error() {
			s.log.Error("DAG file does not load; its DAGs keep their last good version", zap.String("file", fe.File), zap.Error(fe.Err))
		}
	}
	next := map[string]string{}
	for _, e := range loadErrs {
		next[e.File] = e.Message
	}
	for f := range s.lastLoadErrs {
		if _, still := next[f]; !still {
			s.log.Info("DAG file loads again", zap.String("file", f))
		}
	}
	s.lastLoadErrs = next
	s.stats.dagFilesFailing.Store(int64(len(loadErrs)))
	cctx, cancel := s.storeCtx(ctx)
	err := s.opts.Store.SetLoadErrors(cctx, loadErrs)
	cancel()
	if err != nil {
		done = false
		s.log.Warn("record DAG load errors", zap.Error(err))
	}

	seen := map[string]bool{}
	for _, ld := range set.dags {
		d := ld.dag
		seen[d.ID] = true
		if ld.err != nil {
			// The same DAG gives the same error every time: not worth
			// another try until its file changes.
			if !set.reported {
				s.log.Error("DAG cannot be stored; it keeps its last good version", zap.String("dag", d.ID), zap.String("file", d.File), zap.Error(ld.err))
			}
			continue
		}
		if err := s.saveDAG(ctx, ld, now); err != nil {
			done = false
			s.stats.storeErrors.Add(1)
			s.log.Warn("save DAG; will try again", zap.String("dag", d.ID), zap.Error(err))
		}
	}
	set.reported = true
	for id, d := range s.dags {
		if seen[id] || d.rec.Missing || broken[d.rec.File] {
			continue
		}
		cctx, cancel := s.storeCtx(ctx)
		err := s.opts.Store.SetDAGMissing(cctx, id, true)
		cancel()
		if err != nil {
			done = false
			s.log.Warn("mark DAG missing", zap.String("dag", id), zap.Error(err))
			continue
		}
		d.rec.Missing = true
		s.log.Warn("DAG no longer defined by any file; no new runs", zap.String("dag", id), zap.String("file", d.rec.File))
	}
	return done
}

// saveDAG stores a loaded DAG if it changed and updates the loop's view.
func (s *Scheduler) saveDAG(ctx context.Context, ld loadedDAG, now time.Time) error {
	d, src, specs := ld.dag, ld.src, ld.specs
	cur := s.dags[d.ID]
	if cur != nil && bytes.Equal(cur.rec.Source, src) && cur.rec.File == d.File && !cur.rec.Missing {
		return nil
	}
	rec := DAGRecord{ID: d.ID, File: d.File, Source: src, Specs: specs, UpdatedAt: now}
	cctx, cancel := s.storeCtx(ctx)
	defer cancel()
	if err := s.opts.Store.SaveDAG(cctx, rec); err != nil {
		return err
	}
	stored, err := s.opts.Store.GetDAG(cctx, d.ID)
	if err != nil {
		return err
	}
	if cur == nil {
		cur = &dagState{firstSeen: now}
		last, err := s.opts.Store.LatestScheduledRun(cctx, d.ID)
		switch {
		case err == nil:
			cur.lastTick = last.LogicalDate
		case !errors.Is(err, ErrNotFound):
			return err
		}
		s.dags[d.ID] = cur
		s.log.Info("DAG loaded", zap.String("dag", d.ID), zap.String("file", d.File), zap.String("schedule", d.Schedule), zap.Int("tasks", len(d.Tasks)))
	} else {
		s.log.Info("DAG changed", zap.String("dag", d.ID), zap.String("file", d.File))
	}
	cur.rec = stored
	cur.expr = d.Schedule
	cur.schedule = nil
	if d.Schedule != "" {
		loc := time.UTC
		if d.Timezone != "" {
			if loc, err = time.LoadLocation(d.Timezone); err != nil {
				return fmt.Errorf("DAG %s (%s): timezone %q: %w", d.ID, d.File, d.Timezone, err)
			}
		}
		if cur.schedule, err = dag.ParseScheduleIn(d.Schedule, loc); err != nil {
			return err
		}
	}
	cur.startDate, cur.catchup = d.StartDate, d.Catchup
	cur.maxRuns, cur.maxTasks = d.MaxActiveRuns, d.MaxActiveTasks
	cur.runTimeout = d.RunTimeout
	cur.params, cur.maxCatchup = d.Params, d.MaxCatchupRuns
	return nil
}

// ownRuns returns the running runs this scheduler owns, lets go of those
// it tracks but no longer owns, and counts the others' runs of each DAG
// against its max_active_runs.
func (s *Scheduler) ownRuns(running []Run) []Run {
	var own []Run
	owner := make(map[runKey]string, len(running))
	for _, d := range s.dags {
		d.othersRuns = 0
	}
	for _, run := range running {
		owner[runKey{run.DAGID, run.RunID}] = run.Owner
		if run.Owner == s.opts.Instance {
			own = append(own, run)
		} else if d := s.dags[run.DAGID]; d != nil {
			d.othersRuns++
		}
	}
	for key := range s.runs {
		who, running := owner[key]
		switch {
		case who == s.opts.Instance:
		case running:
			s.forgetRun(key, fmt.Sprintf("scheduler %q owns it now", who))
		default:
			s.forgetRun(key, "the store shows it ended")
		}
	}
	return own
}

// pollStore picks up paused flags and runs this loop does not track yet:
// with a store of its own, every running run; sharing one, those it owns.
func (s *Scheduler) pollStore(ctx context.Context, now time.Time) error {
	cctx, cancel := s.storeCtx(ctx)
	defer cancel()
	recs, err := s.opts.Store.ListDAGHeads(cctx)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if _, broken := s.lastLoadErrs[r.File]; s.dags[r.ID] == nil && !r.Missing && s.opts.DAGDir != "" && !broken {
			// Loaded by an earlier process from a file that is gone.
			if err := s.opts.Store.SetDAGMissing(cctx, r.ID, true); err != nil {
				return err
			}
			s.log.Warn("DAG no longer defined by any file; no new runs", zap.String("dag", r.ID), zap.String("file", r.File))
		}
		if d := s.dags[r.ID]; d != nil && d.rec.Paused != r.Paused {
			d.rec.Paused = r.Paused
			s.log.Info("DAG pause changed", zap.String("dag", r.ID), zap.Bool("paused", r.Paused))
		}
	}
	runs, err := s.opts.Store.ListRuns(cctx, RunFilter{States: []RunState{RunRunning}})
	if err != nil {
		return err
	}
	if s.ha() {
		runs = s.ownRuns(runs)
	}
	// Oldest first, so catch-up order is kept after a restart.
	sort.Slice(runs, func(i, j int) bool { return runs[i].LogicalDate.Before(runs[j].LogicalDate) })
	for _, run := range runs {
		if _, ok := s.runs[runKey{run.DAGID, run.RunID}]; ok {
			continue
		}
		tis, err := s.opts.Store.ListTaskInstances(cctx, TaskFilter{DAGID: run.DAGID, RunID: run.RunID})
		if err != nil {
			return err
		}
		s.addRun(run, tis)
		left := leftByRestart
		if s.resumeNote != "" {
			left = s.resumeNote
		}
		for _, ti := range tis {
			if ti.State.Active() {
				s.unresolved[ti.TaskKey] = left
			}
		}
		s.log.Info("run picked up from the store", zap.String("dag", run.DAGID), zap.String("run", run.RunID), zap.Int("tasks", len(tis)))
	}
	s.resumeNote = ""
	return nil
}
