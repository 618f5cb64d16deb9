package scheduler

import (
	"context"
	"errors"
	"fmt"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
)

// Retention (issue 18): nothing else ever deletes a run, its task
// instances, their history or its operations, so without it the tables
// and the try folders grow for ever. Old runs that ended are deleted in
// small batches, each batch one short transaction, oldest first.
//
// A run is never deleted while it is running, whatever its age. Neither
// is a run with an open operation (one an operator asked for and the loop
// has not applied yet: it may reopen the run), nor the latest scheduled
// run of each DAG, which is how a scheduler that starts knows which ticks
// it has covered: without it a DAG with catch-up would run its past again.

// PurgeStore is implemented by stores that can delete old runs (both of
// Vigil's stores do).
type PurgeStore interface {
	// PurgeRuns deletes, in one transaction, up to lim runs that ended
	// (success, failed, cancelled) before before, oldest end first,
	// together with their task instances, transitions and operations, and
	// returns the runs it deleted and what went with them. A running run
	// is never deleted, nor one with an open operation, nor the latest
	// scheduled (non-manual) run of its DAG. Deleting is idempotent:
	// several callers at once delete each run once, and a caller whose
	// candidates another took finds fewer.
	PurgeRuns(ctx context.Context, before time.Time, lim PurgeLimit) ([]RunRef, PurgeCount, error)
	// CountPurge counts what PurgeRuns with no limit would delete now.
	CountPurge(ctx context.Context, before time.Time) (PurgeCount, error)
}

// PurgeLimit bounds one PurgeRuns transaction: at most Runs runs, and
// no further run once those taken hold Instances task instances or more
// (0: no such bound). The first run is always taken, whatever its size:
// a run is deleted whole or not at all.
type PurgeLimit struct {
	Runs      int
	Instances int64
}

// DefaultPurgeLimit is the batch of `vigil db clean` and of Retention
// unless told otherwise: small enough that a batch of ordinary runs is a
// transaction of well under a second.
var DefaultPurgeLimit = PurgeLimit{Runs: 100, Instances: 10000}

// Take reports whether a batch that has taken runs runs holding taken
// instances takes one more run of tasks instances.
func (l PurgeLimit) Take(runs int, taken, tasks int64) bool {
	if runs == 0 {
		return true
	}
	return runs < l.Runs && (l.Instances <= 0 || taken < l.Instances)
}

// Full reports whether a batch that deleted n filled the limit, so that
// more may be waiting.
func (l PurgeLimit) Full(n PurgeCount) bool {
	return n.Runs >= int64(l.Runs) || (l.Instances > 0 && n.Instances >= l.Instances)
}

// RunRef names a run.
type RunRef struct {
	DAGID string `json:"dag_id"`
	RunID string `json:"run_id"`
}

func (r RunRef) String() string { return r.DAGID + "/" + r.RunID }

// PurgeCount is what a purge deleted, or would delete.
type PurgeCount struct {
	Runs        int64 `json:"runs"`
	Instances   int64 `json:"task_instances"`
	Transitions int64 `json:"transitions"`
	Ops         int64 `json:"operations"`
}

// Add returns the sum of c and o.
func (c PurgeCount) Add(o PurgeCount) PurgeCount {
	return PurgeCount{c.Runs + o.Runs, c.Instances + o.Instances, c.Transitions + o.Transitions, c.Ops + o.Ops}
}

func (c PurgeCount) String() string {
	return fmt.Sprintf("%d runs, %d task instances, %d transitions, %d operations", c.Runs, c.Instances, c.Transitions, c.Ops)
}

// ParseAge parses a retention age: a Go duration (12h, 90m, 1h30m) or a
// number of days, alone or before one (30d, 1d12h). It must be positive.
func ParseAge(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	var d time.Duration
	rest := in
	if i := strings.IndexByte(rest, 'd'); i > 0 {
		n, err := strconv.Atoi(rest[:i])
		if err != nil || n < 0 || n > 100000 {
			return 0, fmt.Errorf("age %q: use a duration such as 30d, 12h or 90m", s)
		}
		d = time.Duration(n) * 24 * time.Hour
		rest = rest[i+1:]
	}
	if rest != "" {
		e, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("age %q: use a duration such as 30d, 12h or 90m", s)
		}
		d += e
	}
	if d <= 0 {
		return 0, fmt.Errorf("age %q: must be more than zero (30d, 12h, 90m)", s)
	}
	return d, nil
}

// RunFolders removes what an executor keeps outside the store for a run
// (the local executor's try folders and logs).
type RunFolders func(r RunRef) error

// PurgeBatch deletes one batch of runs that ended before before, under a
// deadline of its own, and then their folders through remove (if not
// nil). A folder that cannot be removed is reported in errs, not an
// error: the run's records are gone either way.
func PurgeBatch(ctx context.Context, st PurgeStore, before time.Time, lim PurgeLimit, timeout time.Duration, remove RunFolders) (runs []RunRef, n PurgeCount, errs []error, err error) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	runs, n, err = st.PurgeRuns(cctx, before, lim)
	if err != nil {
		return nil, PurgeCount{}, nil, fmt.Errorf("delete runs ended before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	if remove != nil {
		for _, r := range runs {
			if err := remove(r); err != nil {
				errs = append(errs, fmt.Errorf("remove the folders of run %s: %w", r, err))
			}
		}
	}
	return runs, n, errs, nil
}

// RetentionOptions configure a Retention worker.
type RetentionOptions struct {
	Store PurgeStore
	// Age: runs that ended longer ago than this are deleted. Required.
	Age time.Duration
	// Batch bounds each transaction (default DefaultPurgeLimit).
	Batch PurgeLimit
	// Pause is the wait between batches while there is more to delete
	// (default 5s), Idle the wait once caught up (default an hour, or
	// Age/10 if that is shorter, but not under Pause).
	Pause, Idle time.Duration
	// CallTimeout bounds each batch's transaction (default 30s).
	CallTimeout time.Duration
	// Folders removes a deleted run's folders; nil for none.
	Folders RunFolders
	Logger  *zap.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Beat, if set, is called after each pass (for a watchdog).
	Beat func()
}

// Retention deletes old ended runs in the background, a batch at a time,
// on a goroutine of its own: never on the scheduler's loop, which it
// shares nothing with but the store.
type Retention struct {
	opts RetentionOptions
	log  *zap.Logger
}

// NewRetention returns a worker; Run starts it.
func NewRetention(opts RetentionOptions) (*Retention, error) {
	if opts.Store == nil {
		return nil, errors.New("retention: Options.Store is required")
	}
	if opts.Age <= 0 {
		return nil, fmt.Errorf("retention: age %s must be more than zero", opts.Age)
	}
	if opts.Batch.Runs <= 0 {
		opts.Batch.Runs = DefaultPurgeLimit.Runs
	}
	if opts.Batch.Instances == 0 {
		opts.Batch.Instances = DefaultPurgeLimit.Instances
	}
	if opts.Pause <= 0 {
		opts.Pause = 5 * time.Second
	}
	if opts.Idle <= 0 {
		// Hourly, or a tenth of a short age, so that no run outlives
		// its age by much more than a tenth.
		opts.Idle = min(time.Hour, max(opts.Pause, opts.Age/10))
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	return &Retention{opts: opts, log: log}, nil
}

// Run deletes batches until ctx ends, and returns nil then. A failed
// batch is logged and tried again after Pause; it never stops the
// scheduler.
func (r *Retention) Run(ctx context.Context) error {
	// Labelled apart from the scheduler's loop in profiles, diag stacks
	// and in-flight calls.
	ctx = pprof.WithLabels(ctx, pprof.Labels(labelLoop, "retention"))
	pprof.SetGoroutineLabels(ctx)
	o := r.opts
	r.log.Info("retention on", zap.Duration("age", o.Age), zap.Int("batch_runs", o.Batch.Runs), zap.Int64("batch_task_instances", o.Batch.Instances),
		zap.Duration("pause", o.Pause), zap.Duration("idle", o.Idle))
	wait := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		full, err := r.Step(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			r.log.Warn("retention: batch failed; trying again later", zap.Error(err), zap.Duration("next_in", o.Pause))
			wait = o.Pause
		case full:
			wait = o.Pause
		default:
			wait = o.Idle
		}
		if o.Beat != nil {
			o.Beat()
		}
	}
}

// Step deletes one batch and reports whether it was full (there may be
// more to delete).
func (r *Retention) Step(ctx context.Context) (full bool, err error) {
	o := r.opts
	before := o.Now().Add(-o.Age)
	runs, n, errs, err := PurgeBatch(ctx, o.Store, before, o.Batch, o.CallTimeout, o.Folders)
	if err != nil {
		return false, err
	}
	for _, e := range errs {
		r.log.Warn("retention: run deleted, folders kept", zap.Error(e))
	}
	if len(runs) > 0 {
		names := make([]string, 0, min(len(runs), 10))
		for _, ref := range runs[:min(len(runs), 10)] {
			names = append(names, ref.String())
		}
		r.log.Info("retention: deleted old runs", zap.Time("ended_before", before),
			zap.Int64("runs", n.Runs), zap.Int64("task_instances", n.Instances),
			zap.Int64("transitions", n.Transitions), zap.Int64("operations", n.Ops),
			zap.Strings("first_runs", names))
	}
	return o.Batch.Full(n), nil
}
