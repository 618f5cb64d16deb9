package attach

import (
	"bytes"
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/bundle"
	"github.com/vigilhq/vigil/diag/cli/golden"
	"github.com/vigilhq/vigil/diag/debugapi"
	"github.com/vigilhq/vigil/diag/debugserver"
	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/diag/stacks"
	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/diag/wiretrace"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var t0 = time.Date(2026, 11, 23, 3, 14, 15, 0, time.UTC)

// stalled is the screen of a scheduler whose loop is blocked in a DELETE.
func stalled() *Screen {
	loop := map[string]string{"loop": "scheduler", "phase": "timeouts", "dag": "etl", "run": "manual__1", "task": "load"}
	del := inflight.Call{ID: 7, Kind: "http", Target: "10.0.0.1:6443", Op: "DELETE /api/v1/namespaces/vigil/pods/vigil-etl-load-1",
		Detail: "delete pods", Start: t0.Add(-41 * time.Second), Labels: loop,
		Site: "github.com/vigilhq/vigil/executor/kube.(*Executor).Stop /src/executor/kube/start.go:123", Age: 41 * time.Second}
	db := inflight.Call{ID: 9, Kind: "db", Target: "sqlite:vigil.db", Op: "Apply", Start: t0.Add(-20 * time.Millisecond),
		Deadline: t0.Add(9980 * time.Millisecond), Age: 20 * time.Millisecond, Labels: map[string]string{"loop": "submit"}}
	hbs := []watchdog.Status{
		{Name: "executor.kube.events", Period: 2 * time.Second, Age: 300 * time.Millisecond, Beats: 900, LastBeat: t0},
		{Name: "scheduler.loop", Period: 2 * time.Second, Age: 41 * time.Second, Beats: 450, Stale: true},
	}
	calls := []inflight.Call{del, db}
	return &Screen{
		Target: "/run/vigil/vigil-42.sock", Taken: t0,
		Info: &debugserver.Info{Service: "vigil", Version: "v0.5.0", Revision: "0123456789abcdef", GoVersion: "go1.26.8",
			PID: 42, Host: "vigil-scheduler-7c5d", Uptime: 3*time.Hour + 12*time.Minute, Goroutines: 1234, HeapBytes: 45 << 20},
		Health: &watchdog.HealthReport{Status: "stale", Time: t0, Heartbeats: hbs},
		Calls:  calls,
		Goroutines: &debugapi.Snapshot{Goroutines: 1234, Groups: []stacks.Group{
			{Count: 1000, State: "chan receive", Labels: map[string]string{"loop": "submit", "dag": "etl"},
				Wait: stacks.Wait{Min: 3 * time.Minute, Source: "seen"},
				Stack: []stacks.Frame{{Func: "runtime.gopark", File: "/go/src/runtime/proc.go", Line: 462},
					{Func: "github.com/vigilhq/vigil/scheduler.(*Scheduler).startSubmit.func1", File: "/src/scheduler/dispatch.go", Line: 140}}},
			{Count: 4, State: "IO wait", Wait: stacks.Wait{Min: time.Hour, Source: "seen"},
				Stack: []stacks.Frame{{Func: "internal/poll.runtime_pollWait", File: "/go/src/runtime/netpoll.go", Line: 351},
					{Func: "net/http.(*conn).serve", File: "/go/src/net/http/server.go", Line: 2103}}},
			{Count: 1, State: "select", Labels: loop, Wait: stacks.Wait{Exact: true, Min: 41 * time.Second, Source: "inflight"},
				Stack: []stacks.Frame{{Func: "runtime.gopark", File: "/go/src/runtime/proc.go", Line: 462},
					{Func: "net/http.(*persistConn).roundTrip", File: "/go/src/net/http/transport.go", Line: 2900},
					{Func: "github.com/vigilhq/vigil/executor/kube.(*Executor).Stop", File: "/src/executor/kube/start.go", Line: 123}}},
		}},
		WireErrors: []wiretrace.Exchange{{Seq: 3, Client: "kube", Start: t0.Add(-90 * time.Second), Method: "GET",
			URL: "https://10.0.0.1:6443/api/v1/namespaces/vigil/configmaps/canary", Verb: "get", Resource: "configmaps", Status: 404, Duration: 3 * time.Millisecond}},
		WireMode:   "summary",
		LastBundle: &bundle.Info{Name: "vigil-20261123-031000-stale.tar.gz", Size: 3 << 20, Time: t0.Add(-4 * time.Minute), Reason: "heartbeat stale", Summary: "scheduler.loop stale 12s (period 2s)\nmore"},
		Findings:   bundle.Findings(hbs, calls),
	}
}

func TestWriteGolden(t *testing.T) {
	tests := []struct {
		name string
		scr  func() *Screen
	}{
		{"stalled", stalled},
		{"missing_parts", func() *Screen {
			return &Screen{Target: "/run/vigil/vigil-42.sock", Taken: t0, Calls: nil,
				Missing: map[string]string{"info": "dial unix: connection reset", "heartbeats": "/debug/v1/heartbeats: not available in this process: no watchdog",
					"stacks": "timeout", "wiretrace": "no wire tracer", "bundles": "bundles: no bundle directory configured"}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tt.scr(), 8); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", tt.name+".golden"), buf.Bytes(), *update)
		})
	}
}

func TestStalledFirstLineNamesTheCall(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, stalled(), 8); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	if !strings.HasPrefix(lines[3], "STALE: scheduler.loop stale 41s") || !strings.Contains(lines[3], "DELETE /api/v1/namespaces/vigil/pods/vigil-etl-load-1") || !strings.Contains(lines[3], "NO DEADLINE") {
		t.Errorf("the first finding line does not name the stale loop's call and NO DEADLINE:\n%s", buf.String())
	}
}

func TestPickKeepsLoops(t *testing.T) {
	groups := []stacks.Group{{Count: 9}, {Count: 8}, {Count: 1, Labels: map[string]string{"loop": "scheduler"}}, {Count: 1}}
	got := Pick(groups, 2)
	if len(got) != 3 || got[2].Labels["loop"] != "scheduler" {
		t.Errorf("Pick(2) = %+v; want the two largest and the loop", got)
	}
}
