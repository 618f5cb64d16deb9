package hangs

import (
	"flag"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/golden"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/diag/stacks"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func TestWorking(t *testing.T) {
	frames := func(fns ...string) []stacks.Frame {
		var fs []stacks.Frame
		for _, f := range fns {
			fs = append(fs, stacks.Frame{Func: f})
		}
		return fs
	}
	tests := []struct {
		name string
		g    stacks.Group
		want bool
	}{
		{"loop in a phase", stacks.Group{State: "select", Labels: map[string]string{"loop": "scheduler", "phase": "dispatch"}}, true},
		{"loop between turns", stacks.Group{State: "select", Labels: map[string]string{"loop": "scheduler"}}, false},
		{"a task's submit", stacks.Group{State: "chan send", Labels: map[string]string{"loop": "submit", "task": "load"}}, true},
		{"network read", stacks.Group{State: "IO wait", Stack: frames("internal/poll.runtime_pollWait", "main.fetch")}, true},
		{"server accept", stacks.Group{State: "IO wait", Stack: frames("internal/poll.runtime_pollWait", "net.(*TCPListener).Accept", "net/http.(*Server).Serve")}, false},
		{"idle keep-alive", stacks.Group{State: "IO wait", Stack: frames("internal/poll.runtime_pollWait", "net/http.(*persistConn).readLoop")}, false},
		{"idle worker", stacks.Group{State: "chan receive", Stack: frames("runtime.gopark", "main.worker")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Working(tt.g); got != tt.want {
				t.Errorf("Working = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBlocking(t *testing.T) {
	for state, want := range map[string]bool{"IO wait": true, "chan receive": true, "select": true, "select (no cases)": true,
		"sync.Mutex.Lock": true, "semacquire": true, "running": false, "sleep": false, "GC worker (idle)": false} {
		if got := Blocking(state); got != want {
			t.Errorf("Blocking(%q) = %v, want %v", state, got, want)
		}
	}
}

func TestWriteGolden(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 3, 14, 15, 0, time.UTC)
	found := Report{
		Calls: []inflight.Call{{Kind: "http", Target: "10.0.0.1:6443", Op: "POST /api/v1/namespaces/vigil/pods", Detail: "create pods",
			Start: t0.Add(-9 * time.Minute), Age: 9 * time.Minute, Labels: map[string]string{"loop": "submit", "dag": "etl", "task": "load"},
			Site: "github.com/vigilhq/vigil/executor/kube.(*Executor).Start /src/executor/kube/start.go:61"}},
		Goroutines: []stacks.Group{{Count: 1, State: "select", Labels: map[string]string{"loop": "submit", "dag": "etl", "task": "load"},
			Wait: stacks.Wait{Exact: true, Min: 9 * time.Minute, Source: "inflight"},
			Stack: []stacks.Frame{{Func: "runtime.gopark", File: "/go/src/runtime/proc.go", Line: 462},
				{Func: "github.com/vigilhq/vigil/executor/kube.(*Executor).Start", File: "/src/executor/kube/start.go", Line: 61}}}},
		CallsInFlight: 3, GoroutinesAll: 200, Older: 30 * time.Second, MinWait: time.Minute,
	}
	clean := Report{CallsInFlight: 3, GoroutinesAll: 200, Older: 30 * time.Second, MinWait: time.Minute}
	for name, rep := range map[string]Report{"found": found, "clean": clean} {
		t.Run(name, func(t *testing.T) {
			ios, _, out, _ := iostreams.Test()
			if err := write(&Options{IO: ios, Factory: &cmdutil.Factory{}}, rep); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", name+".golden"), out.Bytes(), *update)
		})
	}
}
