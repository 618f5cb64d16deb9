package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/api/server"
	"github.com/vigilhq/vigil/console"
	"github.com/vigilhq/vigil/diag/debugserver"
	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/executor/local"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
	"github.com/vigilhq/vigil/scheduler/store/sqlite"
)

const etlYAML = `
id: etl
description: Extract, load, report.
schedule: "@hourly"
params:
  region: eu-west-1
tasks:
  - id: extract
    command: [sh, -c, 'echo extracting']
  - id: load
    depends_on: [extract]
    retries: 1
    command: [sh, -c, 'exit 3']
  - id: report
    depends_on: [load]
    command: [sh, -c, 'echo report']
`

// Tokens of the fixture: alice is an operator, bob reads.
const (
	aliceSecret = "alice-secret-0123456789abcdef"
	bobSecret   = "bob-secret-0123456789abcdef00"
)

// The fixture's run: r1, a manual run whose extract succeeded (with a log
// of try 1), load failed and report is upstream_failed; and the scheduled
// run of tick.
var tick = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

type fixture struct {
	t     *testing.T
	st    *sqlite.Store
	srv   *server.Server
	http  *httptest.Server
	rec   scheduler.DAGRecord
	wd    *watchdog.Watchdog
	reg   *inflight.Registry
	store func() scheduler.Store
}

type fixtureOpts struct {
	storeTimeout time.Duration
	noStore      bool
	metrics      *server.Metrics
	logger       *zap.Logger // zaptest's by default
}

func newFixture(t *testing.T, o fixtureOpts) *fixture {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "vigil.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, st: st}
	f.rec = saveDAG(t, st, "dags/etl.yaml", etlYAML)

	now := time.Now()
	run, tis, err := scheduler.NewManualRun(f.rec, "r1", now.Add(-time.Minute), nil, scheduler.Actor{Component: "cli", Instance: "laptop"}, now.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateRun(ctx, run, tis, "fixture"); err != nil {
		t.Fatal(err)
	}
	exit3 := 3
	sched := scheduler.Actor{Component: "scheduler", Instance: "test"}
	steps := []struct {
		task     string
		from, to scheduler.State
		exit     *int
	}{
		{"extract", scheduler.StateScheduled, scheduler.StateQueued, nil},
		{"extract", scheduler.StateQueued, scheduler.StateRunning, nil},
		{"extract", scheduler.StateRunning, scheduler.StateSuccess, nil},
		{"load", scheduler.StateScheduled, scheduler.StateQueued, nil},
		{"load", scheduler.StateQueued, scheduler.StateRunning, nil},
		{"load", scheduler.StateRunning, scheduler.StateFailed, &exit3},
		{"report", scheduler.StateScheduled, scheduler.StateUpstreamFailed, nil},
	}
	for _, s := range steps {
		res, err := st.Apply(ctx, []scheduler.Change{{Key: scheduler.TaskKey{DAGID: "etl", RunID: "r1", TaskID: s.task},
			From: s.from, To: s.to, Reason: "fixture", Actor: sched, At: now, ExitCode: s.exit}})
		if err != nil || res[0].Err != nil {
			t.Fatalf("apply %s %s→%s: %v %v", s.task, s.from, s.to, err, res)
		}
	}
	if err := st.SetRunState(ctx, "etl", "r1", scheduler.RunFailed, now); err != nil {
		t.Fatal(err)
	}
	srun, stis, err := scheduler.NewRun(f.rec, scheduler.ScheduledRunID(tick), tick, false, sched, tick)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateRun(ctx, srun, stis, "fixture"); err != nil {
		t.Fatal(err)
	}
	if err := st.SetPool(ctx, scheduler.Pool{Name: "warehouse", Slots: 4, UpdatedAt: now, UpdatedBy: sched}); err != nil {
		t.Fatal(err)
	}
	if err := st.WriteHeartbeat(ctx, scheduler.HeartbeatRecord{Component: "scheduler", Instance: "test", Host: "h", PID: 1,
		Period: 5 * time.Second, LastBeat: now, StartedAt: now}); err != nil {
		t.Fatal(err)
	}

	// The local executor's log of extract's try 1, where it keeps it.
	tasks := filepath.Join(dir, "tasks")
	logDir := filepath.Join(tasks, "etl", "r1", "extract", "try-1")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(logDir, "output.log"), []byte("extracting\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ex, err := local.New(local.Options{Dir: tasks})
	if err != nil {
		t.Fatal(err)
	}

	f.wd = watchdog.New(watchdog.Options{})
	f.wd.Register("scheduler.loop", time.Hour).Beat()
	f.reg = inflight.New(inflight.Options{})
	dbg, err := debugserver.New(debugserver.Options{Dir: filepath.Join(dir, "run")}, debugserver.Sources{
		Service: "vigil", Instance: "test", Watchdog: f.wd, Inflight: f.reg})
	if err != nil {
		t.Fatal(err)
	}
	f.store = func() scheduler.Store { return st }
	if o.noStore {
		f.store = func() scheduler.Store { return nil }
	}
	logger := o.logger
	if logger == nil {
		logger = zaptest.NewLogger(t)
	}
	f.srv, err = server.New(server.Options{
		Store:    f.store,
		Logs:     func() scheduler.LogReader { return ex },
		Tokens:   []server.Token{{Name: "alice", Role: api.RoleOperator, Secret: aliceSecret}, {Name: "bob", Role: api.RoleReadOnly, Secret: bobSecret}},
		Instance: "test",
		Watchdog: f.wd,
		Inflight: f.reg,
		Debug:    dbg.Handler(),
		// The console's flame graph, as vigil run adds it.
		Extra: []server.Route{{Method: http.MethodGet, Pattern: strings.TrimPrefix(console.FlameGraphPath, api.Prefix),
			Role: api.RoleReadOnly, Handler: console.FlameGraphs()}},
		Metrics:      o.metrics,
		Logger:       logger,
		StoreTimeout: o.storeTimeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.http = httptest.NewServer(f.srv.Handler())
	t.Cleanup(f.http.Close)
	return f
}

// saveDAG stores a DAG as the scheduler loads it.
func saveDAG(t *testing.T, st scheduler.Store, file, src string) scheduler.DAGRecord {
	t.Helper()
	d, err := dag.Parse(file, []byte(src), dag.DefaultPresets())
	if err != nil {
		t.Fatal(err)
	}
	enc, err := dag.Encode(d)
	if err != nil {
		t.Fatal(err)
	}
	specs, err := d.Specs(dag.DefaultPresets())
	if err != nil {
		t.Fatal(err)
	}
	rec := scheduler.DAGRecord{ID: d.ID, File: file, Source: enc, Specs: specs, UpdatedAt: time.Now()}
	if err := st.SaveDAG(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// do sends a request as token (none if empty) and returns the status,
// headers and body.
func (f *fixture) do(method, path, token string, body any) (int, http.Header, []byte) {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	ctx, cancel := context.WithTimeout(f.t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, f.http.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.http.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// apiError decodes an error body.
func apiError(t *testing.T, b []byte) api.Error {
	t.Helper()
	var eb api.ErrorBody
	if err := json.Unmarshal(b, &eb); err != nil || eb.Error.Code == "" {
		t.Fatalf("not an error body: %s (%v)", b, err)
	}
	return eb.Error
}
