package tasks

import (
	"bytes"
	"flag"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/cli/golden"
	"github.com/vigilhq/vigil/diag/debugapi"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func TestWriteGolden(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 3, 14, 15, 0, time.UTC)
	key := debugapi.TaskKey{DAGID: "etl", RunID: "scheduled__2026-11-23T03:00:00Z", TaskID: "load"}
	hist := []debugapi.Transition{
		{Try: 0, To: "scheduled", At: t0.Add(-14 * time.Minute), Actor: debugapi.Actor{Component: "scheduler"}, Reason: "run created"},
		{Try: 1, From: "scheduled", To: "queued", At: t0.Add(-14 * time.Minute), Actor: debugapi.Actor{Component: "scheduler"}, Reason: "no dependencies"},
		{Try: 1, From: "queued", To: "running", At: t0.Add(-13 * time.Minute), Actor: debugapi.Actor{Component: "executor/kube"}, Reason: "pod vigil-etl-load-1 running"},
	}
	report := debugapi.TaskAudit{Taken: t0, Executor: "executor/kube", LostAfter: 2 * time.Minute, Grace: 30 * time.Second, Live: 12, Workloads: 11,
		Zombies: []debugapi.AuditFinding{{Task: key, Try: 1, State: "running", Why: "running in the store for 13m0s, but executor/kube has no workload for try 1", History: hist}},
		Orphans: []debugapi.AuditFinding{{Task: debugapi.TaskKey{DAGID: "etl", RunID: "manual__x", TaskID: "load"}, Try: 2,
			Workload: &debugapi.Workload{ExternalID: "pod/vigil-etl-load-2", Phase: "Running", Created: t0.Add(-6 * time.Minute)},
			Why:      "pod/vigil-etl-load-2 Running for a task instance the store does not have"}},
		Pending: []debugapi.AuditFinding{{Task: debugapi.TaskKey{DAGID: "etl", RunID: "manual__y", TaskID: "big"}, Try: 1, State: "queued",
			Workload: &debugapi.Workload{ExternalID: "pod/vigil-etl-big-1", Phase: "Pending", Created: t0.Add(-3 * time.Minute), Tracked: true,
				Reason: "Unschedulable: 0/3 nodes are available: 3 Insufficient cpu."},
			Why: "pod/vigil-etl-big-1 Pending for 3m0s: Unschedulable: 0/3 nodes are available: 3 Insufficient cpu.",
			// A refusal recorded five times: one collapsed record.
			History: []debugapi.Transition{
				{Try: 1, From: "scheduled", To: "queued", At: t0.Add(-4 * time.Minute), Actor: debugapi.Actor{Component: "scheduler"}, Reason: "no dependencies"},
				{Try: 1, From: "queued", To: "queued", At: t0.Add(-4 * time.Minute), Actor: debugapi.Actor{Component: "scheduler"}, Reason: "quota: exceeded quota: pods",
					Repeats: 4, LastAt: t0.Add(-time.Minute)},
			}}},
		NotStarting: []debugapi.AuditFinding{{Task: debugapi.TaskKey{DAGID: "etl", RunID: "manual__z", TaskID: "extract"}, Try: 1, State: "scheduled",
			Why: `try 1 first queued 4m0s ago and never started; requeued 48 times, the last: submit of try 1 failed: pods "vigil-etl-extract-1" is forbidden: exceeded quota: pods; requeued, next attempt in 5s`}},
	}
	report.Running = []debugapi.Workload{
		{Key: debugapi.TryKey{TaskKey: key, Try: 1}, ExternalID: "pid:41234", Phase: "Running", Created: t0.Add(-13 * time.Minute), Tracked: true,
			PID: 41234, Command: []string{"python3", "-m", "etl.load", "--date", "2026-11-23", "--table", "events_by_hour_with_a_very_long_name"}, OutputBytes: 48 << 10},
		{Key: debugapi.TryKey{TaskKey: debugapi.TaskKey{DAGID: "etl", RunID: "manual__y", TaskID: "big"}, Try: 1}, ExternalID: "pod/vigil-etl-big-1",
			Phase: "Pending", Created: t0.Add(-3 * time.Minute), Tracked: true},
	}
	// A try refused six times: only its latest transitions are printed.
	for i := range 6 {
		at := t0.Add(time.Duration(i-6) * 30 * time.Second)
		report.NotStarting[0].History = append(report.NotStarting[0].History,
			debugapi.Transition{Try: 1, From: "scheduled", To: "queued", At: at, Actor: debugapi.Actor{Component: "scheduler"}, Reason: "no dependencies"},
			debugapi.Transition{Try: 1, From: "queued", To: "scheduled", At: at.Add(time.Second), Actor: debugapi.Actor{Component: "scheduler"}, Reason: "submit of try 1 failed: forbidden; requeued, next attempt in 5s"})
	}
	for name, a := range map[string]debugapi.TaskAudit{"findings": report, "clean": {Taken: t0, Executor: "executor/kube", LostAfter: 2 * time.Minute, Grace: 30 * time.Second, Live: 3, Workloads: 3}} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, a); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", name+".golden"), buf.Bytes(), *update)
		})
	}
}
