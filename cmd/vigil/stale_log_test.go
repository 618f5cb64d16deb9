package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/vigilhq/vigil/diag/bundle"
	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/diag/watchdog"
)

// staleInstruments returns the daemon's instruments with the scheduler
// loop's heartbeat stale behind a DELETE in flight, and the log they
// write. adjust may change the configuration first.
func staleInstruments(t *testing.T, adjust func(*config)) (*instruments, *observer.ObservedLogs) {
	t.Helper()
	cfg := defaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Debug.BundleDir = filepath.Join(t.TempDir(), "bundles")
	cfg.Debug.RuntimeDir = filepath.Join(t.TempDir(), "run")
	cfg.Debug.BundleProfile = 100 * time.Millisecond
	cfg.Debug.FlightRecorder = 0
	if adjust != nil {
		adjust(&cfg)
	}
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	wd := watchdog.New(watchdog.Options{Now: clock})
	wd.Register("scheduler.loop", 2*time.Second).Beat()
	mu.Lock()
	now = now.Add(41 * time.Second)
	mu.Unlock()
	core, logs := observer.New(zap.InfoLevel)
	in, err := newInstruments(cfg, "stale-test", zap.New(core), zap.NewAtomicLevel(), wd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.close)
	ctx := pprof.WithLabels(context.Background(), pprof.Labels("loop", "scheduler"))
	end := in.reg.Begin(ctx, inflight.Call{Kind: "http", Target: "127.0.0.1:16443", Op: "DELETE /api/v1/namespaces/x/pods/p"})
	t.Cleanup(end)
	return in, logs
}

func staleStatus(in *instruments) []watchdog.Status {
	var stale []watchdog.Status
	for _, s := range in.wd.Snapshot() {
		if s.Stale {
			stale = append(stale, s)
		}
	}
	return stale
}

// breakFolder puts a file where a folder should be: the bundle cannot be
// written there, even by root.
func breakFolder(t *testing.T, dir string) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
}

const blockedLine = "scheduler.loop stale 41s (period 2s); blocked in DELETE /api/v1/namespaces/x/pods/p on 127.0.0.1:16443"

// The bundle folder cannot be written: the watchdog's bundle goes to the
// runtime folder's bundles/, and the log says where and why; what was
// stuck is logged first (issue 16).
func TestStaleBundleGoesToAFallback(t *testing.T) {
	var bundleDir, runtimeDir string
	in, logs := staleInstruments(t, func(c *config) { bundleDir, runtimeDir = c.Debug.BundleDir, c.Debug.RuntimeDir })
	breakFolder(t, bundleDir)
	in.onStale(context.Background(), staleStatus(in))

	if got := logs.FilterMessage("heartbeat stale: writing a diagnostic bundle before /livez fails").All(); len(got) != 1 ||
		!strings.HasPrefix(got[0].ContextMap()["finding"].(string), blockedLine) {
		t.Errorf("stale log = %+v, want the finding %q", got, blockedLine)
	}
	moved := logs.FilterMessage("bundle folder unwritable; the bundle went to a fallback folder").All()
	if len(moved) != 1 {
		t.Fatalf("no log of the fallback; logs: %+v", logs.All())
	}
	path := moved[0].ContextMap()["path"].(string)
	if filepath.Dir(path) != filepath.Join(runtimeDir, "bundles") || !strings.Contains(moved[0].ContextMap()["dir_error"].(string), bundleDir) {
		t.Errorf("fallback log = %v, want the bundle under %s/bundles and the folder's error", moved[0].ContextMap(), runtimeDir)
	}
	files, err := bundle.ReadFiles(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(files["SUMMARY.txt"]), blockedLine) {
		t.Errorf("SUMMARY.txt = %s", files["SUMMARY.txt"])
	}
	if list, err := in.bundles.List(); err != nil || len(list) != 1 {
		t.Errorf("List = %v, %v; want the bundle in the fallback", list, err)
	}
}

// No folder takes the bundle: the summary of what was stuck is in the log
// anyway.
func TestStaleSummaryLoggedWhenNoFolderTakesTheBundle(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var bundleDir, runtimeDir string
	in, logs := staleInstruments(t, func(c *config) { bundleDir, runtimeDir = c.Debug.BundleDir, c.Debug.RuntimeDir })
	breakFolder(t, bundleDir)
	breakFolder(t, filepath.Join(runtimeDir, "bundles"))
	breakFolder(t, filepath.Join(tmp, "vigil-bundles-"+strconv.Itoa(os.Getuid())))
	in.onStale(context.Background(), staleStatus(in))

	failed := logs.FilterMessage("diagnostic bundle not written; what was stuck is in this log only").All()
	if len(failed) != 1 {
		t.Fatalf("no log of the failed bundle; logs: %+v", logs.All())
	}
	m := failed[0].ContextMap()
	if summary, _ := m["summary"].(string); !strings.Contains(summary, blockedLine) || !strings.Contains(summary, "1 outbound call(s) in flight") {
		t.Errorf("summary logged = %q, want the blocked line and the calls", summary)
	}
	if e, _ := m["error"].(string); !strings.Contains(e, "no folder took the bundle") {
		t.Errorf("error logged = %q", e)
	}
}
