package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/cmd/vigil/cli/dags"
	"github.com/vigilhq/vigil/internal/exitcode"
	"github.com/vigilhq/vigil/scheduler"
)

const opsDAGs = `
id: etl
tasks:
  - id: extract
    command: [sh, -c, 'echo "$VIGIL_TRY" >> RAN_DIR/extract']
  - id: load
    depends_on: [extract]
    command: [sh, -c, 'echo "$VIGIL_TRY" >> RAN_DIR/load; test -f RAN_DIR/fixed']
  - id: report
    depends_on: [load]
    command: [sh, -c, 'echo "$VIGIL_TRY" >> RAN_DIR/report']
`

const slowDAG = `
id: slow
tasks:
  - id: sleeper
    command: [sh, -c, 'echo $$ > RAN_DIR/sleeper.pid; exec sleep 60']
  - id: after
    depends_on: [sleeper]
    command: [sh, -c, 'echo "$VIGIL_TRY" >> RAN_DIR/after']
`

// TestOperationsOnARealScheduler drives clear, mark and cancel through the
// commands against a real `vigil run` (SQLite, local executor), checking
// what ran from the tasks' own marker files: a cleared task runs again as
// a new try and the ended run reopens; a mark stops a live process and
// lets the downstream run; a cancel stops the process, skips the rest
// and ends the run cancelled; an operation asked for while no scheduler
// runs is kept and applied when one starts.
func TestOperationsOnARealScheduler(t *testing.T) {
	e := newEnv(t, map[string]string{"etl.yaml": opsDAGs, "slow.yaml": slowDAG})
	d := e.start()
	e.waitFor("the DAGs to load", 30*time.Second, func() bool {
		out, err := e.vigil("dags", "list")
		return err == nil && strings.Contains(out, "etl") && strings.Contains(out, "slow")
	})
	e.mustVigil("dags", "trigger", "etl")
	e.waitRunState("etl", scheduler.RunFailed)

	// A dry run prints the plan and changes nothing.
	out := e.mustVigil("tasks", "clear", "etl", "latest", "load", "--downstream", "--dry-run")
	for _, want := range []string{"dry run: nothing changed", "load", "failed → scheduled", "report", "upstream_failed → scheduled"} {
		if !strings.Contains(out, want) {
			t.Fatalf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if ti := e.tasks("etl")["load"]; ti.State != scheduler.StateFailed {
		t.Fatalf("load is %s after a dry run; want failed", ti.State)
	}

	// Fix the cause, clear: load runs again (try 2), report for the first time.
	if err := os.WriteFile(filepath.Join(e.ran, "fixed"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out = e.mustVigil("tasks", "clear", "etl", "latest", "load", "--downstream", "--reason", "input fixed")
	if !strings.Contains(out, "done by scheduler") || !strings.Contains(out, "run reopened") {
		t.Fatalf("clear output:\n%s", out)
	}
	e.waitRunState("etl", scheduler.RunSuccess)
	for task, want := range map[string][]string{"extract": {"1"}, "load": {"1", "2"}, "report": {"1"}} {
		if got := e.executions(task); !slices.Equal(got, want) {
			t.Errorf("%s ran tries %v; want %v", task, got, want)
		}
	}
	hist := e.mustVigil("tasks", "history", "etl", "latest", "load")
	if !strings.Contains(hist, "cleared by hand (operation 1): input fixed") || !strings.Contains(hist, "api@local:") {
		t.Errorf("load's history does not say who cleared it and why:\n%s", hist)
	}

	// Mark report failed (the run ends failed), then clear the run's
	// failed tasks: report runs again, and the run succeeds.
	e.mustVigil("tasks", "mark", "etl", "latest", "report", "--state", "failed", "--reason", "numbers were wrong")
	e.waitRunState("etl", scheduler.RunFailed)
	e.mustVigil("runs", "clear", "etl", "latest", "--only-failed")
	e.waitRunState("etl", scheduler.RunSuccess)
	if got := e.executions("report"); !slices.Equal(got, []string{"1", "2"}) {
		t.Errorf("report ran tries %v; want [1 2]", got)
	}

	// Mark a sleeping task success: its process is stopped, after runs.
	e.mustVigil("dags", "trigger", "slow")
	pid := e.waitPid("sleeper.pid")
	e.mustVigil("tasks", "mark", "slow", "latest", "sleeper", "--state", "success", "--reason", "done by hand")
	e.waitFor("the sleeping process to be gone", 15*time.Second, func() bool { return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) })
	e.waitRunState("slow", scheduler.RunSuccess)
	if got := e.executions("after"); len(got) != 1 {
		t.Errorf("after ran %v; want once", got)
	}

	// Cancel a run: the process is stopped, after is skipped.
	os.Remove(filepath.Join(e.ran, "sleeper.pid"))
	time.Sleep(10 * time.Millisecond) // a new manual run id
	e.mustVigil("dags", "trigger", "slow")
	pid = e.waitPid("sleeper.pid")
	out = e.mustVigil("runs", "cancel", "slow", "latest", "--reason", "wrong day")
	e.waitFor("the sleeping process to be gone", 15*time.Second, func() bool { return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) })
	e.waitRunState("slow", scheduler.RunCancelled)
	tis := e.tasks("slow")
	if tis["sleeper"].State != scheduler.StateFailed || tis["after"].State != scheduler.StateSkipped {
		t.Errorf("after the cancel: sleeper %s, after %s; want failed, skipped\n%s", tis["sleeper"].State, tis["after"].State, out)
	}

	var ops []api.Op
	if err := unmarshalPage(e.mustVigil("ops", "list", "-o", "json"), &ops); err != nil {
		t.Fatal(err)
	}
	if len(ops) != 5 {
		t.Fatalf("ops list has %d operations; want 5", len(ops))
	}
	for _, op := range ops {
		if op.State != string(scheduler.OpDone) {
			t.Errorf("operation %d (%s) is %s: %s; want done", op.ID, op.Kind, op.State, op.Result)
		}
	}

	// No scheduler: the command cannot ask (exit 3) and says what to do.
	// An operation stored meanwhile (here by the test, on the database) is
	// kept, and the next scheduler applies it.
	if err := d.stop(t, syscall.SIGTERM, 30*time.Second); err != nil {
		t.Fatalf("scheduler exit: %v", err)
	}
	out, err := e.vigil("tasks", "clear", "etl", "latest", "extract", "--wait", "1s")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitcode.Unreachable || !strings.Contains(out, "vigil run") {
		t.Fatalf("clear with no scheduler: %v\n%s\nwant exit 3 saying to start 'vigil run'", err, out)
	}
	if err := e.withStore(func(ctx context.Context, st scheduler.Store) error {
		runs, err := st.ListRuns(ctx, scheduler.RunFilter{DAGID: "etl", Limit: 1})
		if err != nil || len(runs) != 1 {
			return fmt.Errorf("etl's runs: %v, %v", runs, err)
		}
		_, err = st.SubmitOp(ctx, scheduler.Op{Kind: scheduler.OpClearTasks, DAGID: "etl", RunID: runs[0].RunID, TaskID: "extract",
			Actor: scheduler.Actor{Component: "test"}, CreatedAt: time.Now()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	e.start()
	e.waitFor("the kept operation to be applied", 30*time.Second, func() bool {
		return slices.Equal(e.executions("extract"), []string{"1", "2"})
	})
	e.waitRunState("etl", scheduler.RunSuccess)
}

// waitRunState waits for the latest run of a DAG to be in state (read
// from the database).
func (e *env) waitRunState(dagID string, state scheduler.RunState) {
	e.t.Helper()
	e.waitFor("run of "+dagID+" to be "+string(state), 40*time.Second, func() bool {
		var runs []scheduler.Run
		err := e.withStore(func(ctx context.Context, st scheduler.Store) error {
			var err error
			runs, err = st.ListRuns(ctx, scheduler.RunFilter{DAGID: dagID, Limit: 1})
			return err
		})
		return err == nil && len(runs) == 1 && runs[0].State == state
	})
}

// waitPid waits for a task to write its pid to the file in e.ran.
func (e *env) waitPid(name string) int {
	e.t.Helper()
	var pid int
	e.waitFor("the task to start", 30*time.Second, func() bool {
		b, err := os.ReadFile(filepath.Join(e.ran, name))
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && pid > 0
	})
	return pid
}

const backfillDAG = `
id: daily
schedule: "0 0 * * *"
catchup: false
start_date: 2026-11-01T00:00:00Z
tasks:
  - id: work
    command: [sh, -c, 'echo "$VIGIL_LOGICAL_DATE" >> RAN_DIR/work; sleep 0.3; test "$VIGIL_LOGICAL_DATE" != 2026-11-03T00:00:00Z -o -f RAN_DIR/fixed']
`

// TestBackfillOnARealScheduler: `vigil dags backfill` against a real
// `vigil run`: a dry run lists the ticks; the backfill runs each tick once
// with its date as VIGIL_LOGICAL_DATE and exits 1 for the tick that
// failed; once fixed, --reprocess failed runs that tick alone again.
func TestBackfillOnARealScheduler(t *testing.T) {
	e := newEnv(t, map[string]string{"daily.yaml": backfillDAG})
	e.start()
	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		out, err := e.vigil("dags", "list")
		return err == nil && strings.Contains(out, "daily")
	})
	out := e.mustVigil("dags", "backfill", "daily", "--from", "2026-11-01", "--to", "2026-11-05", "--dry-run")
	if n := strings.Count(out, "create"); n != 5 || !strings.Contains(out, "scheduled__2026-11-05T00:00:00Z") {
		t.Fatalf("dry run lists %d creates; want 5 through 11-05:\n%s", n, out)
	}
	if got := e.ticksRan(); len(got) != 0 {
		t.Fatalf("a dry run ran %v", got)
	}
	out, err := e.vigil("dags", "backfill", "daily", "--from", "2026-11-01", "--to", "2026-11-05", "--max-active-runs", "2", "--reason", "outage")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitcode.Found || !strings.Contains(out, "4 success, 1 failed") {
		t.Fatalf("backfill: %v\n%s\nwant exit 1, 4 success and 1 failed", err, out)
	}
	want := []string{"2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z", "2026-11-04T00:00:00Z", "2026-11-05T00:00:00Z"}
	if got := e.ticksRan(); !slices.Equal(got, want) {
		t.Fatalf("ticks ran %v; want %v", got, want)
	}
	if err := os.WriteFile(filepath.Join(e.ran, "fixed"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// -o json: one document per line as the backfill goes, the summary last.
	out = e.mustVigil("dags", "backfill", "daily", "--from", "2026-11-01", "--to", "2026-11-05", "--reprocess", "failed", "-o", "json")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var events []dags.BackfillEvent
	for i, line := range lines {
		var ev dags.BackfillEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("reprocess failed -o json, line %d: %v\n%s", i+1, err, out)
		}
		events = append(events, ev)
	}
	if len(events) != 3 || events[0].Event != "started" || events[0].RunID != "scheduled__2026-11-03T00:00:00Z" ||
		events[1].Event != "ended" || events[1].State != "success" ||
		events[2].Event != "done" || events[2].Counts["success"] != 1 || events[2].Counts["skipped"] != 4 {
		t.Fatalf("reprocess failed -o json:\n%s", out)
	}
	if got := e.ticksRan(); !slices.Equal(got, slices.Insert(want, 3, "2026-11-03T00:00:00Z")) {
		t.Fatalf("ticks ran %v; want 11-03 twice", got)
	}
	hist := e.mustVigil("tasks", "history", "daily", "scheduled__2026-11-03T00:00:00Z", "work")
	if !strings.Contains(hist, "cleared by hand") || !strings.Contains(hist, "backfill by hand: outage") {
		t.Errorf("history of the reprocessed tick does not say why:\n%s", hist)
	}
}

// ticksRan returns the logical dates the daily DAG's work task ran for,
// sorted, leaving out the tick its schedule ran by itself (today's).
func (e *env) ticksRan() []string {
	var got []string
	for _, d := range e.executions("work") {
		if d < "2026-11-06" {
			got = append(got, d)
		}
	}
	slices.Sort(got)
	return got
}
