package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/vigilhq/vigil/scheduler/dag"
)

// A backfill runs a DAG for the schedule ticks of a past range of dates:
// `vigil dags backfill`. The driver, Backfill, runs where it is asked (the
// command, later the API) and only talks to the store: it creates the
// runs the range lacks, oldest first, as scheduled runs of their tick (so
// the scheduler never creates them again), and has existing runs cleared
// through operations (ops.go) when asked to reprocess them, keeping at
// most MaxActiveRuns of them running at once. The schedulers run them like
// any other run. Stopping the driver stops the backfill from going on;
// runs it started finish, and asking again with --reprocess none takes it
// up where it stopped.

// Reprocess says what a backfill does with a tick that already has a run.
type Reprocess string

// The reprocess choices.
const (
	// ReprocessNone leaves existing runs as they are.
	ReprocessNone Reprocess = "none"
	// ReprocessFailed clears the failed and upstream_failed tasks of
	// existing runs that ended failed or cancelled.
	ReprocessFailed Reprocess = "failed"
	// ReprocessAll clears every ended task of existing runs that ended.
	ReprocessAll Reprocess = "all"
)

// MaxBackfillRuns bounds the ticks one backfill covers.
const MaxBackfillRuns = 10000

// BackfillRequest is what a backfill is asked to do.
type BackfillRequest struct {
	DAGID string
	// From and To bound the logical dates of the runs, both included.
	From, To  time.Time
	Reprocess Reprocess
	// MaxActiveRuns bounds the backfill's runs running at once; the DAG's
	// max_active_runs if zero.
	MaxActiveRuns int
	Actor         Actor
	Reason        string
}

// BackfillAction is what a backfill does for one tick.
type BackfillAction string

// The backfill actions.
const (
	BackfillCreate      BackfillAction = "create"
	BackfillClear       BackfillAction = "clear"
	BackfillClearFailed BackfillAction = "clear failed"
	BackfillSkip        BackfillAction = "skip"
)

// BackfillItem is one tick of a backfill.
type BackfillItem struct {
	Tick   time.Time      `json:"logical_date"`
	RunID  string         `json:"run_id"`
	Action BackfillAction `json:"action"`
	// Why explains a skip: the existing run and its state.
	Why string `json:"why,omitempty"`
	// State is the run's state once the backfill has seen it end.
	State RunState `json:"state,omitempty"`
}

// PlanBackfill lists the ticks of rec's schedule in the request's range
// and what the backfill does for each, given the DAG's existing runs.
func PlanBackfill(rec DAGRecord, req BackfillRequest, existing []Run) ([]BackfillItem, error) {
	switch req.Reprocess {
	case "":
		req.Reprocess = ReprocessNone
	case ReprocessNone, ReprocessFailed, ReprocessAll:
	default:
		return nil, fmt.Errorf("--reprocess %q: use none, failed or all", req.Reprocess)
	}
	if rec.Missing {
		return nil, fmt.Errorf("dag %s is no longer defined by any file (%s); restore the file to backfill it", rec.ID, rec.File)
	}
	if req.To.Before(req.From) {
		return nil, fmt.Errorf("--to %s is before --from %s", req.To.Format(time.RFC3339), req.From.Format(time.RFC3339))
	}
	timing, err := dag.TimingOf(rec.Source)
	if err != nil {
		return nil, err
	}
	if timing.Schedule == nil {
		return nil, fmt.Errorf("dag %s has no schedule, so no ticks to backfill; trigger runs with 'vigil dags trigger %s'", rec.ID, rec.ID)
	}
	byID := make(map[string]Run, len(existing))
	for _, r := range existing {
		byID[r.RunID] = r
	}
	var items []BackfillItem
	for tick := timing.Schedule.Next(req.From.Add(-time.Nanosecond)); !tick.IsZero() && !tick.After(req.To); tick = timing.Schedule.Next(tick) {
		if len(items) == MaxBackfillRuns {
			return nil, fmt.Errorf("%s to %s holds more than %d ticks of %q; backfill a shorter range at a time",
				req.From.Format(time.RFC3339), req.To.Format(time.RFC3339), MaxBackfillRuns, timing.Expr)
		}
		it := BackfillItem{Tick: tick, RunID: ScheduledRunID(tick), Action: BackfillCreate}
		if run, ok := byID[it.RunID]; ok {
			it.Action, it.Why = reprocessAction(run, req.Reprocess)
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("no tick of %q (%s) falls between %s and %s", timing.Expr, timing.Location,
			req.From.Format(time.RFC3339), req.To.Format(time.RFC3339))
	}
	return items, nil
}

// reprocessAction decides what a backfill does with an existing run.
func reprocessAction(run Run, reprocess Reprocess) (BackfillAction, string) {
	why := fmt.Sprintf("run exists (%s)", run.State)
	switch {
	case run.State == RunRunning:
		return BackfillSkip, why + "; left to finish"
	case reprocess == ReprocessAll:
		return BackfillClear, ""
	case reprocess == ReprocessFailed && (run.State == RunFailed || run.State == RunCancelled):
		return BackfillClearFailed, ""
	}
	return BackfillSkip, why + "; --reprocess " + string(reprocess) + " leaves it"
}

// BackfillOptions tune Backfill.
type BackfillOptions struct {
	// Poll is how often the driver looks at its runs; 1s if zero.
	Poll time.Duration
	// CallTimeout bounds each store call; 10s if zero.
	CallTimeout time.Duration
	// Progress, if set, is told of each run the backfill starts (State
	// empty) and of each that ends.
	Progress func(BackfillItem)
}

// Backfill drives a backfill (see PlanBackfill) until each of its runs has
// ended, or ctx ends. It returns the items with the state each run ended
// in; an error means it stopped early, and the runs it started go on.
func Backfill(ctx context.Context, st Store, req BackfillRequest, opts BackfillOptions) ([]BackfillItem, error) {
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 10 * time.Second
	}
	call := func(f func(ctx context.Context) error) error {
		cctx, cancel := context.WithTimeout(ctx, opts.CallTimeout)
		defer cancel()
		return f(cctx)
	}
	var rec DAGRecord
	var runs []Run
	err := call(func(ctx context.Context) error {
		var err error
		if rec, err = st.GetDAG(ctx, req.DAGID); err != nil {
			return fmt.Errorf("dag %s: %w (see 'vigil dags list')", req.DAGID, err)
		}
		runs, err = st.ListRuns(ctx, RunFilter{DAGID: req.DAGID})
		return err
	})
	if err != nil {
		return nil, err
	}
	items, err := PlanBackfill(rec, req, runs)
	if err != nil {
		return nil, err
	}
	maxActive := req.MaxActiveRuns
	if maxActive <= 0 {
		timing, _ := dag.TimingOf(rec.Source)
		maxActive = timing.MaxActiveRuns
	}
	reason := "backfill by hand"
	if req.Reason != "" {
		reason += ": " + req.Reason
	}
	type active struct {
		i    int
		opID int64 // the clear asked for, until it closes
	}
	var running []active
	next := 0
	for {
		// Look at the active runs; keep those not ended.
		kept := running[:0]
		for _, a := range running {
			it := &items[a.i]
			if a.opID != 0 {
				var op Op
				if err := call(func(ctx context.Context) error { op, err = st.GetOp(ctx, a.opID); return err }); err != nil {
					return items, err
				}
				switch {
				case op.State.Open():
					kept = append(kept, a)
					continue
				case op.State == OpFailed:
					return items, fmt.Errorf("clear of run %s (operation %d) failed: %s", it.RunID, op.ID, op.Result)
				}
				a.opID = 0
			}
			var run Run
			if err := call(func(ctx context.Context) error { run, err = st.GetRun(ctx, req.DAGID, it.RunID); return err }); err != nil {
				return items, err
			}
			if run.State == RunRunning {
				kept = append(kept, a)
				continue
			}
			it.State = run.State
			if opts.Progress != nil {
				opts.Progress(*it)
			}
		}
		running = kept
		for next < len(items) && len(running) < maxActive {
			it := &items[next]
			next++
			if it.Action == BackfillSkip {
				continue
			}
			a := active{i: next - 1}
			err := call(func(ctx context.Context) error {
				switch it.Action {
				case BackfillCreate:
					now := time.Now()
					run, tis, err := NewRun(rec, it.RunID, it.Tick, false, req.Actor, now)
					if err != nil {
						return err
					}
					// A run the scheduler created for the tick meanwhile
					// is watched like one of ours.
					_, err = st.CreateRun(ctx, run, tis, reason+" ("+req.Actor.String()+")")
					return err
				default:
					op := Op{Kind: OpClearRun, DAGID: req.DAGID, RunID: it.RunID, Args: OpArgs{OnlyFailed: it.Action == BackfillClearFailed},
						Actor: req.Actor, Reason: reason, CreatedAt: time.Now()}
					a.opID, err = st.SubmitOp(ctx, op)
					return err
				}
			})
			if err != nil {
				return items, fmt.Errorf("run %s: %w", it.RunID, err)
			}
			running = append(running, a)
			if opts.Progress != nil {
				opts.Progress(*it)
			}
		}
		if len(running) == 0 && next == len(items) {
			return items, nil
		}
		select {
		case <-ctx.Done():
			return items, fmt.Errorf("backfill stopped: %w", context.Cause(ctx))
		case <-time.After(opts.Poll):
		}
	}
}

// ParseDate reads a backfill bound as `vigil dags backfill --from/--to`
// and the API take it: a date (midnight in loc; whole reports that it
// names a whole day) or an RFC 3339 time. name says which bound, for the
// error.
func ParseDate(name, v string, loc *time.Location) (t time.Time, whole bool, err error) {
	if t, err := time.ParseInLocation(time.DateOnly, v, loc); err == nil {
		return t, true, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, false, nil
	}
	return time.Time{}, false, fmt.Errorf("%s %q: use a date (2026-11-01) or an RFC 3339 time (2026-11-01T06:00:00Z)", name, v)
}

// ParseRange reads a backfill's from and to bounds (see ParseDate) in
// loc; a to that is a date includes that whole day.
func ParseRange(fromName, from, toName, to string, loc *time.Location) (time.Time, time.Time, error) {
	f, _, err := ParseDate(fromName, from, loc)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	t, whole, err := ParseDate(toName, to, loc)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	if whole {
		t = t.AddDate(0, 0, 1).Add(-time.Nanosecond)
	}
	return f, t, nil
}
