package bundle_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/bundle"
	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/diag/watchdog"
)

func TestFindingsNameTheBlockingCall(t *testing.T) {
	start := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	loop := map[string]string{"loop": "scheduler", "phase": "timeouts", "dag": "etl", "task": "extract"}
	calls := []inflight.Call{
		{Kind: "executor", Target: "kubernetes", Op: "Stop etl/r1/extract#1", Start: start, Deadline: start.Add(30 * time.Second), Age: 41 * time.Second, Labels: loop},
		{Kind: "http", Target: "127.0.0.1:16444", Op: "POST /api/v1/namespaces/x/pods", Start: start.Add(time.Second), Age: 40 * time.Second, Labels: loop, Site: "kube.(*Executor).Stop executor/kube/kube.go:120"},
		{Kind: "db", Target: "sqlite:vigil.db", Op: "Apply", Start: start.Add(2 * time.Second), Deadline: start.Add(12 * time.Second), Age: 39 * time.Second, Labels: map[string]string{"loop": "submit"}},
	}
	hbs := []watchdog.Status{
		{Name: "scheduler.loop", Period: 2 * time.Second, Age: 41 * time.Second, Stale: true},
		{Name: "executor.kube.events", Period: 2 * time.Second, Age: time.Second},
		{Name: "executor.kube.watch", Period: 30 * time.Second, Age: 100 * time.Second, Stale: true, Advisory: true},
	}
	got := bundle.Findings(hbs, calls)
	for _, want := range []string{
		"scheduler.loop stale 41s (period 2s); blocked in POST /api/v1/namespaces/x/pods on 127.0.0.1:16444 for 40s, NO DEADLINE (in executor Stop etl/r1/extract#1)",
		"executor.kube.watch (advisory) stale 1m40s (period 30s); no call in flight under this loop",
		"3 outbound call(s) in flight, oldest first",
		"db Apply on sqlite:vigil.db for 39s, deadline passed 29s ago",
		"labels loop=scheduler phase=timeouts dag=etl task=extract",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("findings lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "executor.kube.events stale") {
		t.Errorf("a fresh heartbeat reported stale:\n%s", got)
	}
}

func TestFindingsWithNothingWrong(t *testing.T) {
	got := bundle.Findings([]watchdog.Status{{Name: "scheduler.loop", Period: time.Second}}, nil)
	if got != "no heartbeat is stale\nno outbound call in flight\n" {
		t.Errorf("findings = %q", got)
	}
}
