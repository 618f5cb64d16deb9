package scheduler

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/scheduler/dag"
)

// Options configure a Scheduler. Store, Executor and Logger are required.
type Options struct {
	Store    Store
	Executor Executor
	Logger   *zap.Logger
	// Watchdog receives the loop's heartbeat ("scheduler.loop"); one is
	// created if nil.
	Watchdog *watchdog.Watchdog
	// DAGDir is the folder of DAG files, reloaded every SyncInterval off
	// the loop; only the files that changed are parsed again.
	DAGDir  string
	Presets dag.Presets
	// MaxDAGFileSize bounds a DAG file, in bytes; a bigger one is refused
	// with a load error. dag.DefaultMaxFileSize if zero.
	MaxDAGFileSize int64
	// ParseDAG, if set, replaces dag.Parse when loading the folder (tests
	// count or hold parses with it).
	ParseDAG func(file string, data []byte, presets dag.Presets) (*dag.DAG, error)
	// Receivers are the notification receivers the config declares: a
	// DAG naming another in on_failure, on_retry or on_success fails to
	// load (see dag.ParseChecked).
	Receivers []string
	// Instance names this scheduler process in transition records and
	// heartbeats; host:pid by default.
	Instance string
	// Parallelism bounds the task instances queued or running at once.
	Parallelism int
	// SyncInterval is how often the DAG folder is re-read and the store is
	// checked for runs created by others (`vigil dags trigger`).
	SyncInterval time.Duration
	// HeartbeatPeriod is the loop's promised period; the loop wakes at
	// least twice per period even when idle.
	HeartbeatPeriod time.Duration
	// StoreHeartbeatEvery is how often the loop writes its heartbeat row.
	StoreHeartbeatEvery time.Duration
	// ResyncInterval is how often the loop asks the executor about tries
	// that have not changed for that long, to find ends it never heard of.
	ResyncInterval time.Duration
	// StaleAfter is how long a scheduler sharing its store with others
	// (the Store is a Claimer) may go without a beat before the others
	// take its runs over; 45s by default. It lets go of its runs itself
	// after half of that.
	StaleAfter time.Duration
	// ClaimBatch is the most runs with no owner a scheduler sharing its
	// store claims at each sync, when it has room for more work; 8 by
	// default.
	ClaimBatch int
	// OrphanGrace is how old an untracked try must be before the orphan
	// sweep considers it (a create may still be landing).
	OrphanGrace time.Duration
	// StoreTimeout bounds every store call.
	StoreTimeout time.Duration
	// ExecutorTimeout bounds every executor call (Start, Stop, Adopt).
	ExecutorTimeout time.Duration
	// SubmitConcurrency bounds the Start calls in flight at once; they
	// run off the loop goroutine.
	SubmitConcurrency int
	// SubmitBackoff is the wait before a try whose submit failed is
	// submitted again. A try the executor refuses (RefusedError) waits
	// SubmitBackoff after the first refusal, doubling with each refusal
	// up to MaxSubmitBackoff (5m by default).
	SubmitBackoff    time.Duration
	MaxSubmitBackoff time.Duration
	// MaxEvictions is how many of an instance's tries may be evicted,
	// preempted or lost with their node and run again without counting
	// against the task's retries; past it an eviction counts as a
	// failure. 10 by default; negative counts every eviction.
	MaxEvictions int
	// EvictionBackoff is the wait before an evicted task runs again,
	// doubling with each eviction of the instance, up to 5 minutes; 5s by
	// default. An evicted try does not wait the task's retry delay.
	EvictionBackoff time.Duration
	// MaxCatchupRuns bounds the runs of one DAG active at once while it
	// catches up on missed ticks (catchup: true), below its
	// max_active_runs; the rest are created oldest first as earlier ones
	// end. A DAG's max_catchup_runs overrides it. 16 by default; negative
	// leaves max_active_runs alone to bound a catch-up.
	MaxCatchupRuns int
	// StopTasksOnShutdown stops running tries when Run's context ends
	// (right for local processes, which would outlive nobody to watch
	// them; wrong for pods, which are adopted by the next scheduler).
	StopTasksOnShutdown bool
	// DrainTimeout bounds the shutdown drain.
	DrainTimeout time.Duration
	// OnRunEnd, if set, is called by the loop when a run ends. It must not
	// block.
	OnRunEnd func(Run)
	// ObserveIteration, if set, is called with the duration of every loop
	// iteration (for a histogram). It must be cheap.
	ObserveIteration func(time.Duration)
	// Inflight, if set, registers every executor call while it runs (the
	// store and the executor register their own network calls).
	Inflight *inflight.Registry
	// Now is the clock; time.Now by default.
	Now func() time.Time
}

func (o *Options) setDefaults() error {
	if o.Store == nil || o.Executor == nil || o.Logger == nil {
		return errors.New("scheduler: Store, Executor and Logger are required")
	}
	if o.Watchdog == nil {
		o.Watchdog = watchdog.New(watchdog.Options{})
	}
	if o.Instance == "" {
		o.Instance = DefaultInstance()
	}
	if o.Presets == nil {
		o.Presets = dag.DefaultPresets()
	}
	defaults := []struct {
		d *time.Duration
		v time.Duration
	}{
		{&o.SyncInterval, 2 * time.Second},
		{&o.HeartbeatPeriod, 2 * time.Second},
		{&o.StoreHeartbeatEvery, 5 * time.Second},
		{&o.ResyncInterval, 30 * time.Second},
		{&o.OrphanGrace, 5 * time.Minute},
		{&o.StoreTimeout, 10 * time.Second},
		{&o.ExecutorTimeout, 30 * time.Second},
		{&o.SubmitBackoff, 5 * time.Second},
		{&o.MaxSubmitBackoff, defaultMaxSubmitBackoff},
		{&o.EvictionBackoff, 5 * time.Second},
		{&o.DrainTimeout, 30 * time.Second},
		{&o.StaleAfter, 45 * time.Second},
	}
	for _, d := range defaults {
		if *d.d <= 0 {
			*d.d = d.v
		}
	}
	if o.Parallelism <= 0 {
		o.Parallelism = 32
	}
	if o.MaxEvictions == 0 {
		o.MaxEvictions = defaultMaxEvictions
	}
	if o.ClaimBatch <= 0 {
		o.ClaimBatch = 8
	}
	if o.SubmitConcurrency <= 0 {
		o.SubmitConcurrency = 16
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// DefaultInstance names this process: host:pid.
func DefaultInstance() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

// Scheduler is the scheduling loop: it creates runs on their schedule,
// hands tasks whose upstreams succeeded to the executor, records every
// outcome as a transition, and on start-up reconciles what a previous
// process left behind.
//
// All of its state is owned by the goroutine running the loop; the only
// shared fields are the atomics read by Ready and Stats.
type Scheduler struct {
	opts  Options
	log   *zap.Logger
	actor Actor
	hb    *watchdog.Heartbeat
	// dbHB beats on each beat the store took: a lost database shows as
	// a stale "store.db" (advisory: a restart would not bring it back).
	dbHB *watchdog.Heartbeat
	// dagsHB beats after each load of the DAG folder (see loadDAGFolder).
	dagsHB *watchdog.Heartbeat
	// claimer is the Store, if several schedulers may share it.
	claimer Claimer

	ready    atomic.Bool
	stats    stats
	triggers chan triggerRequest

	// Submits run off the loop; results come back through submits.
	submits     chan submitResult
	submitSlots chan struct{}
	submitting  sync.WaitGroup
	stopped     chan struct{} // closed when Run returns
	// dagSets carries loads of the DAG folder from loadDAGFolder to the
	// loop: the latest one not taken yet.
	dagSets chan *dagSet
	labels  *phaseLabels // set when the loop starts

	// Owned by the loop goroutine.
	dags        map[string]*dagState
	runs        map[runKey]*runState
	active      int                  // instances queued or running
	activeDAG   map[string]int       // the same, per DAG
	candidates  map[TaskKey]struct{} // to evaluate on the next dispatch
	blocked     map[TaskKey]uint64   // ready, waiting for a parallelism slot (see block)
	blockedQ    map[string]*candidateHeap
	blockSeq    uint64
	slotFreed   bool                   // since the last dispatch: the blocked may go
	pools       poolWaits              // ready, waiting for a slot of their pool
	timed       map[TaskKey]time.Time  // not to dispatch before: retry delay, submit backoff
	deadlines   map[TaskKey]time.Time  // execution timeouts of running instances
	stopping    map[TryKey]stopRequest // why the loop asked a try to stop
	unresolved  map[TaskKey]string     // to reconcile; who left it (see decide)
	inflight    map[TaskKey]struct{}   // submits not yet answered
	refused     map[TaskKey]*refusal   // queued tries the executor refused, waiting to be submitted again
	nextResync  time.Time
	pending     []Event // events whose transition could not be stored yet
	nextSync    time.Time
	nextStore   time.Time
	syncBackoff time.Duration // after a failed sync; zero when the last one worked
	leaseAt     time.Time     // when the last beat the store took was sent
	lapsed      bool          // the lease ran out and its runs were let go
	// What submits, off the loop, check the lease by (see leaseValid).
	leaseUntil   atomic.Int64  // unix ns until which the lease holds
	leaseGen     atomic.Uint64 // bumped each time the lease runs out
	resumeNote   string        // why runs picked up at the next sync were let go
	nextBeat     time.Time
	nextClaim    time.Time
	lastLoadErrs map[string]string // file → error last logged
	dagPending   *dagSet           // the latest DAG folder load, not yet all stored
}

type runKey struct{ dagID, runID string }

type runState struct {
	run  Run
	tis  map[string]*TaskInstance
	open int // instances not terminal
	// downstream maps a task id to the ids that depend on it.
	downstream map[string][]string
	// recheck is when to look again at a run past its run timeout.
	recheck time.Time
	// cancelled is the reason of the operation that cancelled the run: it
	// ends cancelled (see remedy.go).
	cancelled string
}

type dagState struct {
	rec      DAGRecord
	schedule dag.Schedule
	expr     string
	// lastTick is the logical date of the latest scheduled run; zero if
	// none.
	lastTick time.Time
	// firstSeen is when this process first loaded the DAG: a DAG with a
	// schedule but no start date starts from there.
	firstSeen time.Time
	startDate time.Time
	catchup   bool
	maxRuns   int
	maxTasks  int
	activeRun int
	// runTimeout bounds each run of the DAG; zero for none.
	runTimeout time.Duration
	// othersRuns counts the DAG's running runs other schedulers own, as
	// of the last sync (several schedulers on one store).
	othersRuns int
	// notBefore delays run creation after a failure.
	notBefore time.Time
	// params are the params the DAG declares (see params.go).
	params []dag.Param
	// catchup holds the state of a catch-up (see catchup.go).
	catchupState
}

func later(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

// New returns a Scheduler; Run starts it.
func New(opts Options) (*Scheduler, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	s := &Scheduler{
		opts:       opts,
		log:        opts.Logger,
		actor:      Actor{Component: "scheduler", Instance: opts.Instance},
		hb:         opts.Watchdog.Register("scheduler.loop", opts.HeartbeatPeriod),
		dags:       map[string]*dagState{},
		runs:       map[runKey]*runState{},
		activeDAG:  map[string]int{},
		candidates: map[TaskKey]struct{}{},
		blocked:    map[TaskKey]uint64{},
		blockedQ:   map[string]*candidateHeap{},
		timed:      map[TaskKey]time.Time{},
		deadlines:  map[TaskKey]time.Time{},
		stopping:   map[TryKey]stopRequest{},
		unresolved: map[TaskKey]string{},
		inflight:   map[TaskKey]struct{}{},
		refused:    map[TaskKey]*refusal{},
		triggers:   make(chan triggerRequest),

		submits:     make(chan submitResult, 64),
		submitSlots: make(chan struct{}, opts.SubmitConcurrency),
		stopped:     make(chan struct{}),
		dagSets:     make(chan *dagSet, 1),
	}
	s.claimer, _ = opts.Store.(Claimer)
	dbPeriod := opts.StoreHeartbeatEvery
	if s.claimer != nil {
		dbPeriod = s.beatEvery()
	}
	s.dbHB = opts.Watchdog.RegisterAdvisory("store.db", dbPeriod)
	// Advisory: a DAG folder on a hung network file system stalls the
	// loader, not the loop; /healthz and diag hangs show it, and a
	// restart would not help.
	s.dagsHB = opts.Watchdog.RegisterAdvisory("scheduler.dags", max(time.Minute, 10*opts.SyncInterval))
	s.stats.started = opts.Now()
	return s, nil
}

// Ready reports whether start-up (DAG load, reconciliation) is done.
func (s *Scheduler) Ready() bool { return s.ready.Load() }

// Instance returns the name this scheduler records itself under.
func (s *Scheduler) Instance() string { return s.opts.Instance }

// Run runs the loop and the executor until ctx ends, then drains: it
// finishes the transaction it is in, stops running tries if
// StopTasksOnShutdown is set, and records their end. It returns nil on a
// clean cancel.
func (s *Scheduler) Run(ctx context.Context) error {
	events := make(chan Event, 4096)
	// The executor outlives ctx by the drain, so the loop can still hear
	// about the tries it stops on the way out.
	execCtx, stopExec := context.WithCancel(context.WithoutCancel(ctx))
	defer stopExec()
	loopCtx, stopLoop := context.WithCancel(ctx)
	defer stopLoop()
	execDone := make(chan error, 1)
	go func() {
		err := s.opts.Executor.Run(execCtx, events)
		if err != nil {
			stopLoop()
		}
		execDone <- err
	}()
	loading := make(chan struct{})
	if s.opts.DAGDir != "" {
		go func() {
			defer close(loading)
			s.loadDAGFolder(loopCtx)
		}()
	} else {
		close(loading)
	}
	loopErr := s.loop(loopCtx, events)
	stopLoop()
	<-loading
	close(s.stopped)
	stopExec()
	execErr := <-execDone
	if loopErr != nil {
		return loopErr
	}
	if execErr != nil {
		return fmt.Errorf("executor %s: %w", s.opts.Executor.Name(), execErr)
	}
	return nil
}

func (s *Scheduler) loop(ctx context.Context, events <-chan Event) error {
	s.labels = newPhaseLabels(ctx)
	pprof.SetGoroutineLabels(s.labels.base)
	defer pprof.SetGoroutineLabels(ctx)
	ctx = s.labels.base
	var err error
	s.phase(ctx, "start", func(ctx context.Context) { err = s.start(ctx) })
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	s.ready.Store(true)
	defer s.ready.Store(false)
	timer := time.NewTimer(0)
	defer timer.Stop()
	var batch []Event
	var submitted []submitResult
	for {
		s.hb.Beat()
		s.iterate(ctx, batch, submitted)
		batch, submitted = batch[:0], submitted[:0]

		timer.Reset(s.nextWake().Sub(s.opts.Now()))
		select {
		case <-ctx.Done():
			s.phase(ctx, "drain", func(ctx context.Context) { s.drain(ctx, events) })
			// The last beat says this process stopped on purpose, so
			// `vigil status` does not report its silence as a hang.
			s.writeHeartbeat(context.WithoutCancel(ctx), s.opts.Now(), true)
			s.releaseLease(context.WithoutCancel(ctx))
			return nil
		case ev := <-events:
			batch = append(batch, ev)
			batch = drainAvailable(events, batch)
		case r := <-s.submits:
			submitted = drainSubmits(s.submits, append(submitted, r))
		case req := <-s.triggers:
			s.phase(ctx, "trigger", func(ctx context.Context) { s.trigger(ctx, req) })
		case set := <-s.dagSets:
			// A DAG file changed: store it now, unless the store is
			// failing and the sync is backing off.
			s.dagPending = set
			if s.syncBackoff == 0 {
				s.nextSync = s.opts.Now()
			}
		case <-timer.C:
		}
	}
}

// maxEventBatch bounds the events applied in one store transaction.
const maxEventBatch = 2048

func drainAvailable(events <-chan Event, batch []Event) []Event {
	for len(batch) < maxEventBatch {
		select {
		case ev := <-events:
			batch = append(batch, ev)
		default:
			return batch
		}
	}
	return batch
}

func drainSubmits(ch <-chan submitResult, rs []submitResult) []submitResult {
	for {
		select {
		case r := <-ch:
			rs = append(rs, r)
		default:
			return rs
		}
	}
}

// iterate is one turn of the loop. Each step tolerates a failing store or
// executor: what could not be done is kept and tried again next turn.
func (s *Scheduler) iterate(ctx context.Context, batch []Event, submitted []submitResult) {
	start := s.opts.Now()
	now := start
	if s.ha() {
		// Let go first, then beat: a scheduler that was frozen past
		// its lease (a paused VM) must drop runs another may own by now
		// before a fresh beat makes the lease look held again.
		s.phase(ctx, "lease", func(ctx context.Context) {
			s.checkLease(now)
			s.renewLease(ctx, now)
		})
	}
	if !now.Before(s.nextSync) {
		s.phase(ctx, "sync", func(ctx context.Context) { s.sync(ctx, now) })
		s.phase(ctx, "ops", func(ctx context.Context) { s.applyOps(ctx, now) })
		s.nextSync = now.Add(max(s.opts.SyncInterval, s.syncBackoff))
		if !now.Before(s.nextResync) {
			s.phase(ctx, "reconcile", func(ctx context.Context) {
				s.sweepOrphans(ctx)
				s.markStale(now)
			})
			s.nextResync = now.Add(s.opts.ResyncInterval)
		}
		if len(s.unresolved) > 0 {
			s.phase(ctx, "reconcile", func(ctx context.Context) { s.reconcile(ctx) })
		}
	}
	if s.ha() {
		s.phase(ctx, "claim", func(ctx context.Context) { s.claimRuns(ctx, now) })
	}
	s.phase(ctx, "events", func(ctx context.Context) { s.handleEvents(ctx, batch) })
	s.phase(ctx, "submits", func(ctx context.Context) { s.handleSubmits(ctx, submitted) })
	if s.holdsLease(now) {
		s.phase(ctx, "schedule", func(ctx context.Context) { s.createScheduledRuns(ctx, now) })
	}
	s.phase(ctx, "timeouts", func(ctx context.Context) {
		s.enforceTimeouts(ctx, now)
		s.enforceRunTimeouts(ctx, now)
	})
	s.phase(ctx, "dispatch", func(ctx context.Context) { s.dispatch(ctx, now) })
	s.phase(ctx, "finish", func(ctx context.Context) { s.finishRuns(ctx, now) })
	if !now.Before(s.nextStore) {
		s.phase(ctx, "heartbeat", func(ctx context.Context) { s.writeHeartbeat(ctx, now, false) })
		s.nextStore = now.Add(s.opts.StoreHeartbeatEvery)
	}
	s.stats.iterations.Add(1)
	took := s.opts.Now().Sub(start)
	s.stats.observeIteration(took)
	s.publishGauges()
	if s.opts.ObserveIteration != nil {
		s.opts.ObserveIteration(took)
	}
}

// nextWake is the earliest instant something is due: a schedule tick, a
// retry, a submit backoff, an execution timeout, the next sync, or the
// heartbeat's half period.
func (s *Scheduler) nextWake() time.Time {
	now := s.opts.Now()
	wake := now.Add(s.opts.HeartbeatPeriod / 2)
	earlier := func(t time.Time) {
		if !t.IsZero() && t.Before(wake) {
			wake = t
		}
	}
	earlier(s.nextSync)
	earlier(s.nextStore)
	if s.ha() {
		earlier(s.nextBeat)
		earlier(s.nextClaim)
	}
	for _, d := range s.dags {
		if t := s.nextTick(d, now); !t.IsZero() {
			earlier(later(t, d.notBefore))
		}
	}
	for _, t := range s.timed {
		earlier(t)
	}
	for _, t := range s.deadlines {
		earlier(t)
	}
	for _, rs := range s.runs {
		earlier(s.runDeadline(rs))
	}
	if len(s.candidates) > 0 || (s.slotFreed && len(s.blocked) > 0) {
		return now
	}
	return wake
}

// storeCtx bounds one store call.
func (s *Scheduler) storeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opts.StoreTimeout)
}

// execCtx bounds one executor call.
func (s *Scheduler) execCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opts.ExecutorTimeout)
}

func (s *Scheduler) writeHeartbeat(ctx context.Context, now time.Time, stopped bool) {
	host, _ := os.Hostname()
	cctx, cancel := s.storeCtx(ctx)
	defer cancel()
	hb := HeartbeatRecord{
		Component: "scheduler",
		Instance:  s.opts.Instance,
		Host:      host,
		PID:       os.Getpid(),
		Period:    s.opts.StoreHeartbeatEvery,
		LastBeat:  now,
		StartedAt: s.stats.started,
	}
	if stopped {
		hb.StoppedAt = now
	}
	if err := s.opts.Store.WriteHeartbeat(cctx, hb); err != nil {
		s.log.Warn("write heartbeat to store", zap.Error(err))
		return
	}
	if !s.ha() {
		s.dbHB.Beat()
	}
}
