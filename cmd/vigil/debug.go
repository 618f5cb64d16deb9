package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"go.yaml.in/yaml/v3"
	"golang.org/x/sync/errgroup"

	"github.com/vigilhq/vigil/diag/bundle"
	"github.com/vigilhq/vigil/diag/debugserver"
	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/diag/redact"
	"github.com/vigilhq/vigil/diag/stacks"
	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/diag/wiretrace"
	"github.com/vigilhq/vigil/executor/kube"
	"github.com/vigilhq/vigil/profiles"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/notify"
)

// instruments are the always-on diagnostics of `vigil run`: the in-flight
// registry, the wire tracer, the flight recorder, continuous profiling,
// the bundle writer, and the debug API that serves them.
type instruments struct {
	log      *zap.Logger
	wd       *watchdog.Watchdog
	reg      *inflight.Registry
	tracer   *wiretrace.Tracer
	fr       *profiles.FlightRecorder
	pusher   *profiles.Pusher
	bundles  *bundle.Writer
	server   *debugserver.Server
	tracker  *stacks.Tracker
	metrics  *instrumentMetrics
	cfg      debugConfig
	redacted []byte // the config as written into bundles
	// storeMu guards tasks, locks and audit, set by useStore once the store is
	// open: the debug API serves from the start, while the database may
	// still be out of reach.
	storeMu sync.Mutex
	// tasks returns the queued and running task instances for a bundle.
	tasks tasksFunc
	// locks names who holds the database locks others wait for; nil if
	// the store cannot tell. Set with tasks.
	locks lockReport
	// audit builds the reconciliation report; nil when the executor
	// cannot list its workloads.
	audit auditFunc
	// kubeExec is the Kubernetes executor once made (nil on the local
	// one), for its metrics.
	kubeExec atomic.Pointer[kube.Executor]
}

type (
	tasksFunc func(ctx context.Context) ([]scheduler.TaskInstance, error)
	auditFunc func(ctx context.Context, opts scheduler.AuditOptions) (scheduler.Audit, error)
)

// useStore gives the debug API and bundles what needs the store, once it
// is open; nil takes it away again (the store is about to close).
func (in *instruments) useStore(st scheduler.Store, audit auditFunc) {
	in.storeMu.Lock()
	defer in.storeMu.Unlock()
	if st == nil {
		in.tasks, in.locks, in.audit = nil, nil, nil
		return
	}
	in.tasks = func(ctx context.Context) ([]scheduler.TaskInstance, error) {
		return st.ListTaskInstances(ctx, scheduler.TaskFilter{States: []scheduler.State{scheduler.StateQueued, scheduler.StateRunning}})
	}
	in.locks, in.audit = storeLocks(st), audit
}

func (in *instruments) storeFuncs() (tasksFunc, lockReport, auditFunc) {
	in.storeMu.Lock()
	defer in.storeMu.Unlock()
	return in.tasks, in.locks, in.audit
}

func newInstruments(cfg config, instance string, log *zap.Logger, lvl zap.AtomicLevel, wd *watchdog.Watchdog) (*instruments, error) {
	dc := cfg.Debug
	mode, err := wiretrace.ParseMode(dc.WireTrace)
	if err != nil {
		return nil, &usageError{fmt.Errorf("--wire-trace: %w", err)}
	}
	in := &instruments{log: log, wd: wd, cfg: dc, metrics: newInstrumentMetrics(), tracker: stacks.NewTracker()}
	in.reg = inflight.New(inflight.Options{})
	in.tracer = wiretrace.New(wiretrace.Options{Mode: mode, Registry: in.reg, Observe: in.metrics.observeExchange})
	in.redacted = redactedConfig(cfg)
	ok := false
	defer func() {
		if !ok {
			in.close()
		}
	}()
	if dc.FlightRecorder > 0 {
		in.fr, err = profiles.StartFlightRecorder(profiles.FlightRecorderOptions{Window: dc.FlightRecorder})
		if err != nil {
			return nil, fmt.Errorf("flight recorder: %w", err)
		}
	}
	if p := dc.Pyroscope; p.ServerAddress != "" {
		po := profiles.PushOptions{
			ServerAddress: p.ServerAddress,
			Service:       "vigil",
			Instance:      instance,
			DropLabels:    scheduler.UnpushedProfileLabels(),
			UploadRate:    p.UploadRate,
			MutexAndBlock: p.MutexBlock,
			WrapTransport: func(rt http.RoundTripper) http.RoundTripper {
				return in.tracer.Wrap(rt, wiretrace.WithName("pyroscope"))
			},
			Logger: log.Named("pyroscope"),
		}
		if p.TokenFile != "" {
			tok, err := os.ReadFile(p.TokenFile)
			if err != nil {
				return nil, fmt.Errorf("pyroscope token: %w", err)
			}
			po.AuthToken = strings.TrimSpace(string(tok))
		}
		in.pusher, err = profiles.StartPush(po)
		if err != nil {
			return nil, fmt.Errorf("continuous profiling: %w", err)
		}
		in.metrics.pusher = in.pusher
	}
	bundleDir := dc.BundleDir
	if bundleDir == "" {
		bundleDir = filepath.Join(cfg.DataDir, "bundles")
	}
	in.bundles, err = bundle.New(bundle.Options{
		Dir:       bundleDir,
		Fallbacks: bundleFallbacks(bundleDir, dc.RuntimeDir),
		Keep:      dc.BundleKeep,
		Protected: []string{staleReason},
		Parts:     in.bundleParts(),
		Summary:   in.findings,
	})
	if err != nil {
		return nil, err
	}
	src := debugserver.Sources{
		Service:     "vigil",
		Instance:    instance,
		Extra:       map[string]string{"executor": cfg.Executor, "db": redact.URL(cfg.DB), "dags": cfg.DAGs},
		Watchdog:    wd,
		Inflight:    in.reg,
		Stacks:      in.stacksHandler(),
		CPUProfile:  profiles.CPUProfileHandler(),
		WallProfile: profiles.WallProfileHandler(),
		WireEntries: in.tracer.EntriesHandler(),
		WireMode:    in.tracer.ModeHandler(),
		LogLevel:    lvl,
		Tasks:       http.HandlerFunc(in.serveAudit),
		Bundles:     in.bundles,
	}
	if in.fr != nil {
		src.FlightRecorder = in.fr.Handler()
	}
	src.Trace = profiles.TraceHandler(in.fr)
	in.server, err = debugserver.New(debugserver.Options{
		Dir: dc.RuntimeDir, TCPAddr: dc.Addr, TokenFile: dc.TokenFile, Logger: log.Named("debug"),
	}, src)
	if err != nil {
		return nil, err
	}
	ok = true
	return in, nil
}

// run serves the debug API and watches the heartbeats until ctx ends.
func (in *instruments) run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return in.server.Serve(gctx) })
	g.Go(func() error { return in.wd.Run(gctx, time.Second, in.onStale) })
	return g.Wait()
}

// staleReason is the reason of the bundles the watchdog writes; they are
// evicted last.
const staleReason = "stale"

// findings is the summary of a bundle after its reason line.
func (in *instruments) findings() string { return bundle.Findings(in.wd.Snapshot(), in.reg.Snapshot()) }

// bundleFallbacks are the folders a bundle goes to when the bundle folder
// cannot be written: the runtime folder's bundles/, then one in the
// temporary folder.
func bundleFallbacks(dir, runtimeDir string) []string {
	if runtimeDir == "" {
		runtimeDir = debugserver.DefaultDir()
	}
	var out []string
	for _, fb := range []string{
		filepath.Join(runtimeDir, "bundles"),
		filepath.Join(os.TempDir(), "vigil-bundles-"+strconv.Itoa(os.Getuid())),
	} {
		if filepath.Clean(fb) != filepath.Clean(dir) && !slices.Contains(out, fb) {
			out = append(out, fb)
		}
	}
	return out
}

// onStale writes the bundle the liveness failure must not throw away.
// What was stuck goes to the log first, whatever becomes of the bundle
// (issue 16: with the bundle folder unwritable it was lost).
func (in *instruments) onStale(ctx context.Context, stale []watchdog.Status) {
	names := make([]string, len(stale))
	for i, s := range stale {
		names[i] = s.Name
	}
	found := in.findings()
	first, _, _ := strings.Cut(found, "\n")
	in.log.Error("heartbeat stale: writing a diagnostic bundle before /livez fails", zap.Strings("stale", names), zap.String("finding", first))
	info, err := in.bundles.Write(ctx, staleReason)
	if err != nil {
		in.log.Error("diagnostic bundle not written; what was stuck is in this log only", zap.Error(err), zap.String("summary", found))
		return
	}
	if info.DirError != "" {
		in.log.Warn("bundle folder unwritable; the bundle went to a fallback folder", zap.String("path", info.Path), zap.String("dir_error", info.DirError))
	}
	in.log.Error("diagnostic bundle written", zap.String("path", info.Path), zap.String("finding", first),
		zap.Int64("bytes", info.Size), zap.Duration("took", info.Took), zap.Strings("part_errors", info.Errors))
}

func (in *instruments) close() {
	if in.pusher != nil {
		in.pusher.Stop()
	}
	if in.fr != nil {
		in.fr.Stop()
	}
}

func (in *instruments) captureStacks() (*stacks.Snapshot, error) {
	snap, err := stacks.Capture(stacks.Options{Calls: in.reg.Snapshot, Tracker: in.tracker})
	return snap, err
}

func (in *instruments) stacksHandler() http.Handler {
	return stacks.Handler(stacks.Options{Calls: in.reg.Snapshot, Tracker: in.tracker})
}

// bundleParts are the files of every diagnostic bundle.
func (in *instruments) bundleParts() []bundle.Part {
	jsonPart := func(name string, v func(ctx context.Context) (any, error)) bundle.Part {
		return bundle.Part{Name: name, Write: func(ctx context.Context, w io.Writer) error {
			data, err := v(ctx)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(data)
		}}
	}
	profileDur := in.cfg.BundleProfile
	parts := []bundle.Part{
		jsonPart("heartbeats.json", func(context.Context) (any, error) { return in.wd.Snapshot(), nil }),
		jsonPart("inflight.json", func(context.Context) (any, error) { return in.reg.Snapshot(), nil }),
		{Name: "stacks.txt", Write: func(ctx context.Context, w io.Writer) error {
			snap, err := in.captureStacks()
			if err != nil {
				return err
			}
			return snap.WriteText(w, stacks.TextOptions{})
		}},
		{Name: "goroutine.pprof", Write: func(ctx context.Context, w io.Writer) error { return pprof.Lookup("goroutine").WriteTo(w, 0) }},
		{Name: "heap.pprof", Write: func(ctx context.Context, w io.Writer) error { return pprof.Lookup("heap").WriteTo(w, 0) }},
		jsonPart("wiretrace.json", func(context.Context) (any, error) { return in.tracer.Entries(0, 0), nil }),
		{Name: "cpu.pprof", Write: func(ctx context.Context, w io.Writer) error { return profiles.CPUProfile(ctx, profileDur, w) }},
		{Name: "wall.pprof", Write: func(ctx context.Context, w io.Writer) error { return profiles.WallProfile(ctx, profileDur, w) }},
		{Name: "config.yaml", Write: func(ctx context.Context, w io.Writer) error { _, err := w.Write(in.redacted); return err }},
		jsonPart("info.json", func(context.Context) (any, error) {
			return debugserver.ProcessInfo("vigil", "", time.Time{}, nil), nil
		}),
		in.tasksPart(),
		in.dbLocksPart(),
	}
	if in.cfg.FlightRecorder > 0 {
		parts = append(parts, bundle.Part{Name: "flightrecorder.trace", Write: func(ctx context.Context, w io.Writer) error {
			if in.fr == nil {
				return fmt.Errorf("the flight recorder is not running")
			}
			_, err := in.fr.WriteTo(w)
			return err
		}})
	}
	return parts
}

// redactedConfig is the configuration as a bundle shows it: file paths of
// secrets stay (they say where to look), credentials in URLs and keyword
// DSNs do not.
func redactedConfig(cfg config) []byte {
	cfg.DB = redact.URL(cfg.DB)
	cfg.Debug.Pyroscope.ServerAddress = redact.URL(cfg.Debug.Pyroscope.ServerAddress)
	// A receiver's url may be its key (Slack's), and any header a token.
	rs := make([]notify.ReceiverConfig, len(cfg.Notifications.Receivers))
	for i, r := range cfg.Notifications.Receivers {
		if r.URL != "" {
			r.URL = redact.Marker
		}
		if len(r.Headers) > 0 {
			h := make(map[string]string, len(r.Headers))
			for k := range r.Headers {
				h[k] = redact.Marker
			}
			r.Headers = h
		}
		rs[i] = r
	}
	cfg.Notifications.Receivers = rs
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return []byte("# config could not be encoded: " + err.Error() + "\n")
	}
	return out
}

// serveAudit serves /debug/v1/tasks: ?lost_after= (default 2m) and
// ?grace= (default 30s).
func (in *instruments) serveAudit(w http.ResponseWriter, r *http.Request) {
	_, _, audit := in.storeFuncs()
	if audit == nil {
		http.Error(w, `{"error": "no task report: the executor cannot list its workloads (the Kubernetes executor can)"}`, http.StatusNotFound)
		return
	}
	opts := scheduler.AuditOptions{LostAfter: 2 * time.Minute, Grace: 30 * time.Second}
	for name, d := range map[string]*time.Duration{"lost_after": &opts.LostAfter, "grace": &opts.Grace} {
		if v := r.URL.Query().Get(name); v != "" {
			parsed, err := time.ParseDuration(v)
			if err != nil || parsed < 0 {
				http.Error(w, fmt.Sprintf(`{"error": %q}`, fmt.Sprintf("%s=%q: want a duration such as 2m", name, v)), http.StatusBadRequest)
				return
			}
			*d = parsed
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	report, err := audit(ctx, opts)
	if err != nil {
		http.Error(w, fmt.Sprintf(`{"error": %q}`, err.Error()), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(report)
}
