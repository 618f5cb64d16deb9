package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/sync/errgroup"

	"github.com/vigilhq/vigil/diag/debugserver"
	"github.com/vigilhq/vigil/diag/redact"
	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/executor/local"
	"github.com/vigilhq/vigil/internal/buildinfo"
	"github.com/vigilhq/vigil/scheduler"
)

func (a *app) runCmd() *cobra.Command {
	var flags *overrides
	c := &cobra.Command{
		Use:   "run",
		Short: "Run the scheduler daemon",
		Long: `Run the scheduler: load the DAG folder, create runs on their schedules, run
tasks through the executor, and serve /livez, /readyz, /healthz and /metrics.

SIGTERM or Ctrl-C drains: the loop finishes the transaction it is in, running
local tasks are stopped and recorded as such, and their next try runs after
the next start.`,
		Example: `  vigil run --dags examples/dags
  vigil run --config vigil.yaml --log-format json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			cfg, err := a.loadConfig(flags)
			if err != nil {
				return err
			}
			return a.runDaemon(c.Context(), cfg)
		},
	}
	flags = bindRunFlags(c.Flags())
	return c
}

func newLogger(format, level string) (*zap.Logger, zap.AtomicLevel, error) {
	lvl, err := zap.ParseAtomicLevel(level)
	if err != nil {
		return nil, lvl, &usageError{fmt.Errorf("--log-level %q: %w", level, err)}
	}
	var cfg zap.Config
	switch format {
	case "json":
		cfg = zap.NewProductionConfig()
		cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	case "console":
		cfg = zap.NewDevelopmentConfig()
		cfg.DisableStacktrace = true
	default:
		return nil, lvl, &usageError{fmt.Errorf("--log-format %q: use console or json", format)}
	}
	cfg.Level = lvl
	log, err := cfg.Build()
	return log, lvl, err
}

func (a *app) runDaemon(ctx context.Context, cfg config) error {
	// Checked before anything is created: a mistyped --db must leave no
	// folder behind.
	if _, err := parseDB(cfg.DB); err != nil {
		return err
	}
	log, lvl, err := newLogger(cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	presets, err := cfg.presets()
	if err != nil {
		return err
	}
	receivers, err := cfg.Notifications.Load()
	if err != nil {
		return err
	}
	wd := watchdog.New(watchdog.Options{})
	instance := cfg.Instance
	if instance == "" {
		instance = scheduler.DefaultInstance()
	}
	in, err := newInstruments(cfg, instance, log, lvl, wd)
	if err != nil {
		return err
	}
	defer in.close()

	apiLn, err := listenAPI(cfg, instance, log)
	if err != nil {
		return err
	}

	log.Info("starting vigil", zap.String("instance", instance), zap.String("db", redact.URL(cfg.DB)),
		zap.String("dags", cfg.DAGs), zap.String("executor", cfg.Executor), zap.String("health_addr", cfg.HealthAddr),
		zap.String("debug_socket", in.server.Socket()), zap.String("bundle_dir", in.bundles.Dir()))

	// The probes and the debug socket serve from the start: while the
	// database is out of reach /readyz says why and diag can attach
	// (issue 16: vigil once exited 0.03 s after start).
	state := &startState{}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return runScheduler(gctx, cfg, instance, presets, receivers, log, wd, in, state) })
	g.Go(func() error { return serveHealth(gctx, cfg.HealthAddr, wd, state, log, in.collectors()...) })
	g.Go(func() error { return in.run(gctx) })
	if apiLn != nil {
		g.Go(func() error { return serveAPI(gctx, apiLn, instance, presets, wd, in, state, log) })
	}
	return g.Wait()
}

// newExecutor builds the configured executor and says whether its tries
// are stopped at shutdown: local processes are (nothing would watch them),
// pods are not (the next scheduler adopts them).
func newExecutor(ctx context.Context, cfg config, instance string, store scheduler.Store, log *zap.Logger, wd *watchdog.Watchdog, in *instruments) (scheduler.Executor, bool, error) {
	switch cfg.Executor {
	case "local":
		beat := wd.Register("executor.local.events", 2*time.Second)
		ex, err := local.New(local.Options{
			Dir:       filepath.Join(cfg.DataDir, "tasks"),
			KillGrace: cfg.KillGrace,
			Logger:    log,
			Beat:      beat.Beat,
			Registry:  tryRegistry(cfg, store.ID()),
			// The data folder is bound to the database (issue 16).
			StoreID: store.ID(),
			KnownRuns: func() ([]scheduler.Run, error) {
				ctx, cancel := context.WithTimeout(ctx, time.Minute)
				defer cancel()
				return store.ListRuns(ctx, scheduler.RunFilter{})
			},
		})
		if err != nil {
			return nil, false, fmt.Errorf("local executor: %w", err)
		}
		return ex, true, nil
	case "kubernetes":
		beat := wd.Register("executor.kube.events", 2*time.Second)
		// Advisory: a watch that stops delivering shows in /healthz and
		// the diag tools, but restarting the scheduler would not fix the
		// apiserver, so it does not fail /livez.
		watch := wd.RegisterAdvisory("executor.kube.watch", 30*time.Second)
		ex, err := newKubeExecutor(cfg.Kube, instance, store.ID(), log, beat.Beat, watch.Beat, in.tracer)
		if err != nil {
			return nil, false, err
		}
		in.kubeExec.Store(ex)
		return ex, false, nil
	}
	return nil, false, &usageError{fmt.Errorf("--executor %q: use local or kubernetes", cfg.Executor)}
}

// tryRegistry is the folder through which the local executors of the
// schedulers on this machine that share a store find each other's tries
// (see local.Options.Registry): one per store, in the user's default
// runtime folder (not --runtime-dir, which may differ between them).
// A SQLite store has one scheduler, and needs none.
func tryRegistry(cfg config, storeID string) string {
	if t, err := parseDB(cfg.DB); err != nil || !t.postgres {
		return ""
	}
	return filepath.Join(debugserver.DefaultDir(), "tries", storeID)
}

// serveHealth serves the probes and metrics until ctx ends.
func serveHealth(ctx context.Context, addr string, wd *watchdog.Watchdog, state *startState, log *zap.Logger, extra ...prometheus.Collector) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newSchedulerCollector(state.scheduler, wd), newPoolCollector(ctx, state.scheduler), newNotifyCollector(&state.notifier),
		buildInfoGauge(buildinfo.Get()))
	reg.MustRegister(extra...)
	mux := http.NewServeMux()
	mux.Handle("GET /livez", wd.LivezHandler())
	mux.Handle("GET /healthz", wd.HealthzHandler())
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if why := state.notReady(); why != "" {
			http.Error(w, "not ready: "+why, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Timeout: 10 * time.Second}))
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("health server: %w (choose another --health-addr)", err)
	}
	log.Info("health server listening", zap.String("addr", ln.Addr().String()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("health server: %w", err)
	case <-ctx.Done():
	}
	// Keep answering probes while the scheduler drains; then stop.
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("health server shutdown: %w", err)
	}
	return nil
}
