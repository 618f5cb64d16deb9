package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/diag/wiretrace"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
	"github.com/vigilhq/vigil/scheduler/notify"
	"github.com/vigilhq/vigil/scheduler/store/postgres"
	"github.com/vigilhq/vigil/scheduler/store/sqlite"
)

// startState is `vigil run`'s way to a working scheduler as /readyz and
// the metrics see it: first the store, which may be out of reach or
// damaged for a while, then the scheduler's own start-up.
type startState struct {
	sched atomic.Pointer[scheduler.Scheduler]
	// notifier delivers notifications once the store is open.
	notifier atomic.Pointer[notify.Sender]

	mu sync.Mutex
	// waiting says why the store is not open yet; empty before the first
	// failure.
	waiting string
	// store and logs are the open store and the executor's logs, for the
	// operations API; nil until the executor is built and once the store
	// closes.
	store scheduler.Store
	logs  scheduler.LogReader
}

// useStore gives the operations API the store and the executor's logs
// (nil, nil takes them away: the store is about to close).
func (s *startState) useStore(st scheduler.Store, logs scheduler.LogReader) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store, s.logs = st, logs
}

// openStore is the store the operations API reads, nil while it is not open.
func (s *startState) openStore() scheduler.Store {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.store
}

// logReader reads tries' logs for the operations API, nil while the
// executor is not built.
func (s *startState) logReader() scheduler.LogReader {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs
}

// scheduler returns the scheduler, nil while the store is being opened.
func (s *startState) scheduler() *scheduler.Scheduler { return s.sched.Load() }

// notReady says why the daemon is not ready, or "" once it is.
func (s *startState) notReady() string {
	if sched := s.sched.Load(); sched != nil {
		if !sched.Ready() {
			return "loading DAGs and reconciling tasks left by the previous process"
		}
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waiting != "" {
		return s.waiting
	}
	return "opening the database"
}

func (s *startState) setWaiting(why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waiting = why
}

// Store opening is retried with a capped exponential backoff, and its
// failures are logged at a backoff of their own (a new error at once).
const (
	openTimeout  = 30 * time.Second
	checkTimeout = time.Minute // PRAGMA quick_check of a SQLite file
	retryFirst   = time.Second
	retryMax     = 30 * time.Second
	logGapFirst  = 10 * time.Second
	logGapMax    = 5 * time.Minute
)

// runScheduler opens the store, retrying until it opens or ctx ends, then
// builds the executor and the scheduler and runs them until ctx ends. It
// returns an error only for what waiting cannot fix: a configuration
// mistake, a database file another scheduler holds, a schema newer than
// this binary, a data folder of another database.
func runScheduler(ctx context.Context, cfg config, instance string, presets dag.Presets, receivers []notify.Receiver, log *zap.Logger,
	wd *watchdog.Watchdog, in *instruments, state *startState) error {
	store, err := openStoreRetrying(ctx, cfg, in, log, state)
	if err != nil || store == nil {
		return err
	}
	defer store.Close()

	exec, stopOnShutdown, err := newExecutor(ctx, cfg, instance, store, log.Named("executor"), wd, in)
	if err != nil {
		return err
	}
	var audit auditFunc
	if inv, ok := exec.(scheduler.Inventory); ok {
		audit = func(ctx context.Context, opts scheduler.AuditOptions) (scheduler.Audit, error) {
			return scheduler.BuildAudit(ctx, store, exec, inv, opts)
		}
	}
	in.useStore(store, audit)
	defer in.useStore(nil, nil) // the store closes first
	logs, _ := exec.(scheduler.LogReader)
	state.useStore(store, logs)
	defer state.useStore(nil, nil)
	sched, err := scheduler.New(scheduler.Options{
		Store:               store,
		Executor:            exec,
		Logger:              log.Named("scheduler"),
		Watchdog:            wd,
		DAGDir:              cfg.DAGs,
		Presets:             presets,
		Instance:            instance,
		Parallelism:         cfg.Parallelism,
		StaleAfter:          cfg.StaleAfter,
		ClaimBatch:          cfg.ClaimBatch,
		MaxEvictions:        cfg.MaxEvictions,
		MaxCatchupRuns:      cfg.MaxCatchupRuns,
		Receivers:           notify.Names(receivers),
		StopTasksOnShutdown: stopOnShutdown,
		DrainTimeout:        cfg.KillGrace + 20*time.Second,
		Inflight:            in.reg,
		ObserveIteration:    in.metrics.observeIteration,
	})
	if err != nil {
		return err
	}
	state.sched.Store(sched)
	run := sched.Run
	if ob, ok := store.(scheduler.Outbox); ok {
		run = withNotifier(cfg, instance, ob, store, receivers, log, wd, in, state, sched.Run)
	}
	return runWithRetention(ctx, cfg, store, log, run)
}

// withNotifier returns run with the notification sender beside it, off
// the loop: a slow or black-holed receiver never holds the loop (issue 20).
func withNotifier(cfg config, instance string, ob scheduler.Outbox, runs notify.RunLister, receivers []notify.Receiver, log *zap.Logger,
	wd *watchdog.Watchdog, in *instruments, state *startState, run func(context.Context) error) func(context.Context) error {
	// Advisory: a receiver that hangs shows in /healthz and diag, but
	// restarting the scheduler would not fix it.
	beat := wd.RegisterAdvisory("notify.sender", time.Minute)
	var longest time.Duration
	var headers []string // their values may be keys: never traced
	for _, r := range receivers {
		longest = max(longest, r.Timeout)
		for h := range r.Headers {
			headers = append(headers, h)
		}
	}
	sender := notify.New(notify.Options{
		Outbox: ob, Receivers: receivers, Instance: instance, Log: log.Named("notify"), ConsoleURL: cfg.Notifications.ConsoleURL,
		Client: &http.Client{
			Timeout: longest + 5*time.Second, // backstop: each request has its receiver's deadline
			Transport: in.tracer.Wrap(nil, wiretrace.WithName("notify"), wiretrace.WithSecretPath(), wiretrace.WithSecretHeaders(headers...),
				wiretrace.WithKubernetes(false)),
		},
		BaseBackoff: cfg.Notifications.RetryBackoff, MaxBackoff: cfg.Notifications.MaxRetryBackoff,
		Beat: beat.Beat,
		Runs: runs,
	})
	state.notifier.Store(sender)
	return func(ctx context.Context) error {
		g, gctx := errgroup.WithContext(ctx)
		g.Go(func() error { return sender.Run(gctx) })
		g.Go(func() error { return run(gctx) })
		return g.Wait()
	}
}

// openStoreRetrying opens the store (see openChecked) until it opens,
// ctx ends (nil, nil) or the failure is one waiting cannot fix. Meanwhile
// /readyz gives the last failure, and the log has the first, every new
// one, and the same one again at a growing interval (issue 16: a damaged
// file was logged 1.5 times a second for ever).
func openStoreRetrying(ctx context.Context, cfg config, in *instruments, log *zap.Logger, state *startState) (scheduler.Store, error) {
	var (
		since      time.Time
		delay      = retryFirst
		logGap     = logGapFirst
		nextLog    time.Time
		lastLogged string
		unlogged   int // failures since the last one logged
	)
	for attempt := 1; ; attempt++ {
		store, err := openChecked(ctx, cfg, in, log)
		if err == nil {
			if attempt > 1 {
				log.Info("database open; starting the scheduler", zap.Int("attempts", attempt), zap.Duration("waited", time.Since(since).Round(time.Millisecond)))
			}
			return store, nil
		}
		if ctx.Err() != nil {
			return nil, nil
		}
		if permanent(err) {
			return nil, err
		}
		now := time.Now()
		if since.IsZero() {
			since = now
		}
		state.setWaiting(fmt.Sprintf("cannot open the database (since %s, %d attempts; next in %s): %v",
			since.UTC().Format(time.RFC3339), attempt, delay, err))
		unlogged++
		if msg := err.Error(); msg != lastLogged || !now.Before(nextLog) {
			if msg == lastLogged {
				logGap = min(2*logGap, logGapMax)
			} else {
				logGap = logGapFirst
			}
			log.Error("cannot open the database; retrying (/readyz fails with this error; /livez, /healthz and the debug socket serve)",
				zap.Error(err), zap.Int("attempt", attempt), zap.Int("failures_since_last_log", unlogged),
				zap.Duration("failing_for", now.Sub(since).Round(time.Millisecond)), zap.Duration("next_attempt_in", delay),
				zap.Duration("next_log_of_the_same_error_in", logGap))
			lastLogged, nextLog, unlogged = msg, now.Add(logGap), 0
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(delay):
		}
		delay = min(2*delay, retryMax)
	}
}

// openChecked opens the store with a deadline and, for a SQLite file,
// checks its pages (PRAGMA quick_check) before the scheduler trusts it.
// A check that outlasts checkTimeout (a very large file) is given up with
// a warning: it bounds the start, it does not block it.
func openChecked(ctx context.Context, cfg config, in *instruments, log *zap.Logger) (scheduler.Store, error) {
	openCtx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	store, err := openStore(openCtx, cfg.DB, storeOptions{inflight: in.reg, create: true, daemon: true})
	if err != nil {
		return nil, err
	}
	checker, ok := store.(interface{ QuickCheck(context.Context) error })
	if !ok {
		return store, nil
	}
	checkCtx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	start := time.Now()
	err = checker.QuickCheck(checkCtx)
	switch {
	case err == nil:
		log.Info("database file checked (PRAGMA quick_check): ok", zap.Duration("took", time.Since(start).Round(time.Millisecond)))
	case ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded):
		log.Warn("database file check (PRAGMA quick_check) did not finish in time; starting without it", zap.Duration("limit", checkTimeout))
	default:
		store.Close()
		return nil, err
	}
	return store, nil
}

// permanent reports whether waiting cannot fix err.
func permanent(err error) bool {
	var usage *usageError
	return errors.As(err, &usage) || errors.Is(err, sqlite.ErrLocked) ||
		errors.Is(err, sqlite.ErrSchemaTooNew) || errors.Is(err, postgres.ErrSchemaTooNew)
}
