package scheduler

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/vigilhq/vigil/scheduler/dag"
)

// maxRunsPerTurn bounds the catch-up runs one DAG gets per loop turn, so a
// DAG with a long backlog cannot starve the rest of the loop.
const maxRunsPerTurn = 32

// catchupShare is the part of the heartbeat period one turn may spend
// creating runs. Past it the turn stops (the next one starts at once, a
// due tick wakes the loop) so that a backlog of wide runs, 32 runs of 400
// tasks each, cannot hold the loop past its heartbeat: that once made a
// catch-up look like a stuck scheduler, and liveness would restart it.
const catchupShare = 4

// nextTick is the logical date of the DAG's next scheduled run, or zero if
// it has none now (no schedule, paused, missing, or at max active runs or,
// catching up, at its catch-up limit: see runLimit).
func (s *Scheduler) nextTick(d *dagState, now time.Time) time.Time {
	tick := dueTick(d)
	if tick.IsZero() || d.activeRun+d.othersRuns >= s.runLimit(d, tick, now) {
		return time.Time{}
	}
	return tick
}

// dueTick is the logical date of the DAG's next scheduled run, however
// many of its runs are active; zero if it has none (no schedule, paused,
// missing).
func dueTick(d *dagState) time.Time {
	if d.schedule == nil || d.rec.Paused || d.rec.Missing {
		return time.Time{}
	}
	if d.lastTick.IsZero() {
		base := d.startDate
		if base.IsZero() {
			base = d.firstSeen
		}
		return d.schedule.Next(base.Add(-time.Nanosecond))
	}
	return d.schedule.Next(d.lastTick)
}

// runDates returns the logical date and data interval of k's run (see
// RunDates). A scheduled run's interval starts at the tick before its
// logical date under the DAG's schedule as loaded now.
func (s *Scheduler) runDates(k TaskKey) RunDates {
	rs := s.runs[runKey{k.DAGID, k.RunID}]
	if rs == nil {
		return RunDates{}
	}
	at := rs.run.LogicalDate.UTC()
	dates := RunDates{LogicalDate: at, IntervalStart: at, IntervalEnd: at}
	if d := s.dags[k.DAGID]; d != nil && d.schedule != nil && !rs.run.Manual {
		if prev := dag.PrevTick(d.schedule, at); !prev.IsZero() {
			dates.IntervalStart = prev
		}
	}
	return dates
}

// createScheduledRuns creates the runs whose tick has come.
func (s *Scheduler) createScheduledRuns(ctx context.Context, now time.Time) {
	began, budget := time.Now(), s.opts.HeartbeatPeriod/catchupShare
	for _, d := range s.dags {
		if now.Before(d.notBefore) {
			continue
		}
		for range maxRunsPerTurn {
			if time.Since(began) > budget {
				break
			}
			tick := s.nextTick(d, now)
			if tick.IsZero() || tick.After(now) {
				s.noteCatchup(d, now)
				break
			}
			if !d.catchup {
				tick = latestTick(d, tick, now)
			}
			reason := fmt.Sprintf("scheduled run for %s (schedule %q)", tick.Format(time.RFC3339), d.expr) + s.catchupNote(d, tick, now)
			if err := s.createRun(ctx, d, ScheduledRunID(tick), tick, false, reason); err != nil {
				s.log.Warn("create scheduled run; will try again", zap.String("dag", d.rec.ID), zap.Time("tick", tick), zap.Error(err))
				// A due tick left as it is would wake the loop at once,
				// again and again, while the store is down.
				d.notBefore = now.Add(time.Second)
				break
			}
			d.lastTick = tick
		}
	}
}

// latestTick returns the last tick at or before now, starting from first (a
// tick at or before now), without walking every tick of a long gap.
func latestTick(d *dagState, first, now time.Time) time.Time {
	for _, w := range []time.Duration{time.Minute, time.Hour, 24 * time.Hour, 31 * 24 * time.Hour, 366 * 24 * time.Hour} {
		if now.Sub(first) <= w {
			break
		}
		if t := d.schedule.Next(now.Add(-w)); !t.IsZero() && !t.After(now) {
			first = t
			break
		}
	}
	for {
		n := d.schedule.Next(first)
		if n.IsZero() || n.After(now) {
			return first
		}
		first = n
	}
}

// createRun stores a new run of d and starts tracking it. A run that
// already exists (created before a restart) is not an error.
func (s *Scheduler) createRun(ctx context.Context, d *dagState, runID string, logical time.Time, manual bool, reason string) error {
	return s.createRunConf(ctx, d, runID, logical, manual, nil, reason)
}

// createRunConf is createRun for a run triggered with conf.
func (s *Scheduler) createRunConf(ctx context.Context, d *dagState, runID string, logical time.Time, manual bool, conf dag.Values, reason string) error {
	params, err := effectiveParams(d.rec.ID, d.params, conf)
	if err != nil {
		return err
	}
	run, tis, err := NewRun(d.rec, runID, logical, manual, s.actor, s.opts.Now())
	if err != nil {
		return err
	}
	run.Conf, run.Params = confOrNil(conf), params
	if s.ha() {
		run.Owner = s.opts.Instance
	}
	cctx, cancel := s.storeCtx(ctx)
	created, err := s.opts.Store.CreateRun(cctx, run, tis, reason)
	cancel()
	if err != nil {
		s.stats.storeErrors.Add(1)
		return err
	}
	if !created {
		// Made before a restart, or by another scheduler that saw the
		// same tick: it is tracked by its owner.
		return nil
	}
	s.stats.runsCreated.Add(1)
	s.log.Info("run created", zap.String("dag", run.DAGID), zap.String("run", run.RunID), zap.Int("tasks", len(tis)))
	s.addRun(run, tis)
	return nil
}

type triggerRequest struct {
	dagID string
	conf  dag.Values
	reply chan triggerReply
}

type triggerReply struct {
	runID string
	err   error
}

// Trigger creates a manual run of a DAG in the loop itself, so its tasks
// are dispatched at once (a run created by another process through the
// store waits for the next sync). It returns the run id.
func (s *Scheduler) Trigger(ctx context.Context, dagID string) (string, error) {
	return s.TriggerConf(ctx, dagID, nil)
}

// TriggerConf is Trigger with a conf: the run's params are the DAG's
// defaults overlaid by it; a conf the DAG does not take is an
// ErrInvalidConf.
func (s *Scheduler) TriggerConf(ctx context.Context, dagID string, conf dag.Values) (string, error) {
	req := triggerRequest{dagID: dagID, conf: conf, reply: make(chan triggerReply, 1)}
	select {
	case s.triggers <- req:
	case <-ctx.Done():
		return "", fmt.Errorf("trigger %s: scheduler loop busy: %w", dagID, ctx.Err())
	}
	select {
	case r := <-req.reply:
		return r.runID, r.err
	case <-ctx.Done():
		return "", fmt.Errorf("trigger %s: %w", dagID, ctx.Err())
	}
}

func (s *Scheduler) trigger(ctx context.Context, req triggerRequest) {
	d := s.dags[req.dagID]
	if d == nil || d.rec.Missing {
		req.reply <- triggerReply{err: fmt.Errorf("trigger %s: %w: no loaded DAG has that id", req.dagID, ErrNotFound)}
		return
	}
	now := s.opts.Now()
	runID := ManualRunID(now)
	err := s.createRunConf(ctx, d, runID, now, true, req.conf, "run triggered through the scheduler API")
	req.reply <- triggerReply{runID: runID, err: err}
}
