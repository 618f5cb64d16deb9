package attach

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vigilhq/vigil/diag/cli/golden"
	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/diag/stacks"
	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/diag/wiretrace"
)

// crowded is a stalled screen with more than fits in 80x24: long
// function names, task ids and call targets, many calls, goroutine groups
// and wire errors.
func crowded(heartbeats int) *Screen {
	scr := stalled()
	long := "github.com/vigilhq/vigil/executor/kube.(*Executor).waitForPodDeletionWithAVeryLongName.func17.1"
	for i := range 40 {
		task := fmt.Sprintf("extract_customer_orders_from_the_regional_warehouse_partition_%03d", i)
		scr.Calls = append(scr.Calls, inflight.Call{ID: uint64(100 + i), Kind: "http", Target: "kube-apiserver.kube-system.svc.cluster.local:6443",
			Op: "GET /api/v1/namespaces/data-pipelines-production/pods/" + task, Age: time.Duration(40-i) * time.Second,
			Labels: map[string]string{"loop": "submit", "dag": "warehouse_nightly_rebuild", "task": task},
			Site:   long + " /src/executor/kube/wait.go:412", Deadline: t0.Add(time.Minute), Start: t0.Add(-time.Duration(40-i) * time.Second)})
		scr.Goroutines.Groups = append(scr.Goroutines.Groups, stacks.Group{Count: 10 + i, State: "chan receive",
			Labels: map[string]string{"dag": "warehouse_nightly_rebuild", "task": task},
			Wait:   stacks.Wait{Min: time.Duration(i) * time.Minute, Source: "seen"},
			Stack:  []stacks.Frame{{Func: "runtime.gopark", File: "/go/src/runtime/proc.go", Line: 462}, {Func: long, File: "/src/executor/kube/wait.go", Line: 400 + int64(i)}}})
		scr.WireErrors = append(scr.WireErrors, wiretrace.Exchange{Seq: uint64(i), Client: "kube", Start: t0.Add(-time.Minute), Method: "GET",
			URL: "https://kube-apiserver.kube-system.svc.cluster.local:6443/api/v1/namespaces/data-pipelines-production/pods/" + task, Status: 500, Duration: time.Second})
	}
	scr.Goroutines.Goroutines += 4000
	for i := len(scr.Health.Heartbeats); i < heartbeats; i++ {
		scr.Health.Heartbeats = append([]watchdog.Status{{Name: fmt.Sprintf("executor.kube.informer.%02d", i), Period: 2 * time.Second, Age: time.Second, Beats: 10}}, scr.Health.Heartbeats...)
	}
	return scr
}

// TestWriteFit80x24: the --watch screen on an 80x24 terminal keeps the
// stale line and every heartbeat, cuts long names with "…" and never
// writes a line wider than 80 columns or more lines than fit.
func TestWriteFit80x24(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteFit(&buf, crowded(0), 8, 80, 24); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "fit_80x24.golden"), buf.Bytes(), *update)
	checkFits(t, buf.String(), 80, 24)
	for _, want := range []string{"STALE: scheduler.loop stale 41s", "HEARTBEATS", "scheduler.loop", "executor.kube.events", "…", "[+39: diag hangs]", "LAST BUNDLE"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("screen lacks %q:\n%s", want, buf.String())
		}
	}
}

// TestWriteFitSizes checks the same at other sizes, and with more
// heartbeats than lines: the stale one stays.
func TestWriteFitSizes(t *testing.T) {
	tests := []struct {
		w, h, heartbeats int
	}{
		{80, 24, 0}, {80, 24, 30}, {120, 40, 0}, {60, 15, 0}, {200, 60, 5}, {80, 24, 18},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dx%d-%dheartbeats", tt.w, tt.h, tt.heartbeats), func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteFit(&buf, crowded(tt.heartbeats), 8, tt.w, tt.h); err != nil {
				t.Fatal(err)
			}
			checkFits(t, buf.String(), tt.w, tt.h)
			for _, want := range []string{"STALE: ", "HEARTBEATS", "scheduler.loop ", "STALE\n"} {
				if !strings.Contains(buf.String(), want) {
					t.Errorf("screen lacks %q:\n%s", want, buf.String())
				}
			}
		})
	}
	t.Run("healthy and empty", func(t *testing.T) {
		var buf bytes.Buffer
		scr := &Screen{Target: "/run/vigil/vigil-42.sock", Taken: t0, Calls: nil,
			Health:  &watchdog.HealthReport{Status: "ok", Heartbeats: []watchdog.Status{{Name: "scheduler.loop", Period: time.Second, Age: time.Second, Beats: 3}}},
			Missing: map[string]string{"info": "dial unix: connection reset", "stacks": "timeout"}}
		if err := WriteFit(&buf, scr, 8, 80, 24); err != nil {
			t.Fatal(err)
		}
		checkFits(t, buf.String(), 80, 24)
		for _, want := range []string{"(info: dial unix", "scheduler.loop", "GOROUTINES: (stacks: timeout)", "CALLS IN FLIGHT (0, oldest first): none"} {
			if !strings.Contains(buf.String(), want) {
				t.Errorf("screen lacks %q:\n%s", want, buf.String())
			}
		}
	})
}

// checkFits: no line wider than w, and at most h-1 lines, so the screen
// redrawn from the top never scrolls.
func checkFits(t *testing.T, out string, w, h int) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) > h-1 {
		t.Errorf("%d lines on a %d-line terminal:\n%s", len(lines), h, out)
	}
	for i, l := range lines {
		if n := utf8.RuneCountInString(l); n > w {
			t.Errorf("line %d is %d columns wide (> %d): %q", i+1, n, w, l)
		}
		if strings.Contains(l, "\t") {
			t.Errorf("line %d holds a tab: %q", i+1, l)
		}
	}
}

// TestWriteFitManyHeartbeats: with more heartbeats than lines, the stale
// ones come first and a last line says how many more there are.
func TestWriteFitManyHeartbeats(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteFit(&buf, crowded(30), 8, 80, 24); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "fit_80x24_heartbeats.golden"), buf.Bytes(), *update)
	checkFits(t, buf.String(), 80, 24)
	out := buf.String()
	hb := strings.Index(out, "HEARTBEAT ")
	if hb < 0 || !strings.HasPrefix(out[hb:][strings.Index(out[hb:], "\n")+1:], "scheduler.loop ") {
		t.Errorf("the stale heartbeat is not the first row:\n%s", out)
	}
	if !strings.Contains(out, "more: diag health") {
		t.Errorf("no line says how many heartbeats are not shown:\n%s", out)
	}
}
