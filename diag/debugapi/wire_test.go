package debugapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/vigilhq/vigil/diag/debugapi"
	"github.com/vigilhq/vigil/diag/debugserver"
	"github.com/vigilhq/vigil/diag/stacks"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/wire")

// The JSON of the debug API is read by the console, by scripts (diag -o
// json) and by diag binaries of other versions: it must not change by
// accident. Each value below is serialized as the server writes it
// (two-space indent) and compared with testdata/wire/NAME.json, which was
// captured before the wire types moved into this package.

var (
	t0       = time.Date(2026, 12, 7, 0, 13, 5, 123456789, time.UTC)
	deadline = t0.Add(30 * time.Second)
)

func wireValues() map[string]any {
	summary, headers := debugapi.WireSummary, debugapi.WireHeaders
	frame := debugapi.Frame{Func: "net/http.(*persistConn).roundTrip", File: "/usr/lib/go/src/net/http/transport.go", Line: 2652}
	return map[string]any{
		"info": debugapi.Info{
			Service: "vigil", Instance: "vigil-0", Version: "v0.9.0", Revision: "0123456789abcdef", Modified: true,
			GoVersion: "go1.26.0", PID: 4242, Host: "sched-1", Args: []string{"vigil", "run", "--db", "postgres://u:[REDACTED]@db/vigil"},
			Started: t0, Uptime: 90 * time.Second, Goroutines: 57, GOMAXPROCS: 2, HeapBytes: 12 << 20,
			Socket: "/run/vigil/vigil-4242.sock", BundleDir: "/var/lib/vigil/bundles",
			Extra:   map[string]string{"executor": "kube", "db": "postgres"},
			Modules: []debugapi.Module{{Path: "go.uber.org/zap", Version: "v1.27.0"}},
		},
		"info_minimal": debugapi.Info{Service: "vigil", Version: "(devel)", GoVersion: "go1.26.0", PID: 1, Host: "h"},
		"heartbeats": debugapi.HealthReport{Status: "stale", Time: t0, Heartbeats: []debugapi.HeartbeatStatus{
			{Name: "scheduler.loop", Period: 5 * time.Second, LastBeat: t0.Add(-9 * time.Minute), Age: 9 * time.Minute, Beats: 812, Stale: true},
			{Name: "executor.sync", Period: time.Minute, Age: 2 * time.Second, Advisory: true},
		}},
		"inflight": []debugapi.Call{
			{ID: 7, Kind: "http", Target: "10.0.0.1:6443", Op: "POST /api/v1/namespaces/vigil/pods", Detail: "create pods",
				Start: t0, Labels: map[string]string{"loop": "scheduler", "dag": "etl"}, Site: "github.com/vigilhq/vigil/executor/kube.(*Executor).Start executor/kube/kube.go:210",
				Stack: []string{"net/http.(*Client).Do /go/src/net/http/client.go:590"}, Age: 9 * time.Minute, CallerSkip: 1},
			{ID: 8, Kind: "db", Target: "postgres", Op: "Apply", Start: t0, Deadline: deadline, Age: time.Second},
		},
		"inflight_empty": []debugapi.Call{},
		"stacks": debugapi.Snapshot{
			Taken: t0, Goroutines: 12, Took: 3 * time.Millisecond, Pause: 64 * time.Microsecond, Pauses: 2,
			Groups: []debugapi.Group{
				{Count: 1, Stack: []debugapi.Frame{frame, {Func: "main.main", File: "/src/main.go", Line: 10}}, CreatedBy: &frame,
					Labels: map[string]string{"loop": "scheduler"}, Wait: debugapi.Wait{Exact: true, Min: 9 * time.Minute, Max: 9 * time.Minute, Source: debugapi.WaitInflight},
					Calls: []uint64{7}, State: "IO wait", Locked: true, IDs: []uint64{1, 33}},
				{Count: 10, Stack: []debugapi.Frame{{Func: "0x4a5b20"}}, State: "select"},
			},
		},
		"stacks_parsed": debugapi.Snapshot{Goroutines: 1, Groups: []debugapi.Group{{Count: 1, Stack: []debugapi.Frame{frame},
			Wait: debugapi.Wait{Min: 3 * time.Minute, Source: debugapi.WaitRuntime}, State: "chan receive"}}},
		"wiretrace": debugapi.WireEntries{Mode: debugapi.WireHeaders, LastSeq: 12, Missed: 3, Entries: []debugapi.Exchange{{
			Seq: 12, Client: "kube", Start: t0, Method: "POST", URL: "https://10.0.0.1:6443/api/v1/namespaces/vigil/pods?timeout=30s",
			Host: "10.0.0.1:6443", Verb: "create", Group: "", Version: "v1", Resource: "pods", Subresource: "status", Namespace: "vigil", Name: "etl-1",
			Status: 201, Err: "context deadline exceeded", Streaming: true, Duration: 250 * time.Millisecond, ReqBytes: 1200, RespBytes: 3400,
			Phases:     debugapi.Phases{DNS: time.Millisecond, Connect: 2 * time.Millisecond, TLS: 3 * time.Millisecond, FirstByte: 200 * time.Millisecond, ConnReused: true},
			ReqHeaders: http.Header{"Authorization": {"[REDACTED]"}}, RespHeaders: http.Header{"Content-Type": {"application/json"}},
			ReqBody: `{"kind":"Pod"}`, RespBody: `{"kind":"Pod"}…[truncated 10 bytes]`,
		}}},
		"wiretrace_empty":  debugapi.WireEntries{Mode: debugapi.WireOff, Entries: []debugapi.Exchange{}},
		"wiretrace_mode":   debugapi.WireModeResponse{Mode: debugapi.WireBodies, Previous: &summary},
		"wiretrace_mode_1": debugapi.WireModeResponse{Mode: headers},
		"bundles": []debugapi.BundleInfo{{
			Name: "vigil-bundle-20261207T001305123Z-stale.tar.gz", Path: "/var/lib/vigil/bundles/vigil-bundle-20261207T001305123Z-stale.tar.gz",
			Size: 123456, Time: t0, Reason: "stale", Summary: "heartbeat scheduler.loop stale 9m", Took: 1500 * time.Millisecond,
			Errors: []string{"pprof/profile: busy"}, DirError: "permission denied",
		}, {Name: "vigil-bundle-20261207T001306000Z-on-demand.tar.gz", Path: "/b/x", Size: 1, Time: t0}},
		"endpoints": []debugapi.Endpoint{{Path: "/run/vigil/vigil-4242.sock", PID: 4242, Alive: true}, {Path: "/run/vigil/vigil-9.sock", PID: 9}},
		"tasks": debugapi.TaskAudit{
			Taken: t0, Executor: "kube", LostAfter: 2 * time.Minute, Grace: 30 * time.Second, Live: 4, Workloads: 3,
			Zombies: []debugapi.AuditFinding{{
				Task: debugapi.TaskKey{DAGID: "etl", RunID: "scheduled__2026-12-07", TaskID: "load"}, Try: 2, State: "running",
				Workload: &debugapi.Workload{ExternalID: "vigil/etl-load-2", Phase: "Failed", Created: t0, Ended: t0.Add(time.Minute), Deleting: true, Tracked: true, Reason: "OOMKilled"},
				Why:      "the pod failed but the store says running",
				History: []debugapi.Transition{{Try: 2, From: "queued", To: "running", At: t0, Actor: debugapi.Actor{Component: "scheduler", Instance: "vigil-0"},
					Reason: "started", Repeats: 3, LastAt: t0.Add(time.Minute)}},
			}},
			Orphans: []debugapi.AuditFinding{{Task: debugapi.TaskKey{DAGID: "a", RunID: "b", TaskID: "c"}, Try: 1,
				Workload: &debugapi.Workload{ExternalID: "vigil/x", Phase: "Running", Created: t0}, Why: "no live instance owns it"}},
			Lost: []debugapi.AuditFinding{}, Pending: nil, NotStarting: []debugapi.AuditFinding{},
			Running: []debugapi.Workload{{Key: debugapi.TryKey{TaskKey: debugapi.TaskKey{DAGID: "etl", RunID: "r", TaskID: "load"}, Try: 1},
				ExternalID: "pid:4242", Phase: "Running", Created: t0, Tracked: true, PID: 4242, Command: []string{"sleep", "60"}, OutputBytes: 12}},
		},
	}
}

func TestWireJSON(t *testing.T) {
	for name, v := range wireValues() {
		t.Run(name, func(t *testing.T) {
			got, err := json.MarshalIndent(v, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, name, append(got, '\n'))
		})
	}
}

// TestProducerJSON: stacks.Snapshot is a type of its own over
// debugapi.Snapshot (it adds the text rendering); what the stacks
// endpoint writes must still be the wire type's JSON.
func TestProducerJSON(t *testing.T) {
	for _, name := range []string{"stacks", "stacks_parsed"} {
		snap := wireValues()[name].(debugapi.Snapshot)
		got, err := json.MarshalIndent((*stacks.Snapshot)(&snap), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, name, append(got, '\n'))
	}
}

// TestServerJSON captures what the real server writes where the server
// builds the body itself: the index, an error, the log level.
func TestServerJSON(t *testing.T) {
	srv, err := debugserver.New(debugserver.Options{Dir: t.TempDir()}, debugserver.Sources{Service: "vigil", LogLevel: zap.NewAtomicLevelAt(zap.InfoLevel)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, method, path string }{
		{"index", http.MethodGet, debugserver.Prefix},
		{"error", http.MethodGet, "/nope"},
		{"error_missing", http.MethodGet, debugserver.Prefix + "heartbeats"},
		{"loglevel", http.MethodGet, debugserver.Prefix + "loglevel"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			checkGolden(t, "server_"+tt.name, rec.Body.Bytes())
		})
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "wire", name+".json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: the JSON on the wire changed\n--- got\n%s\n--- want (%s)\n%s", name, got, path, want)
	}
}
