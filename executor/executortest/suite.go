// Package executortest holds what tests need to check executors and to use
// one: the contract suite every scheduler.Executor passes, and Memory, an
// instant, scriptable executor for the scheduler's own tests.
//
// An executor package runs the suite from its tests:
//
//	func TestContract(t *testing.T) {
//		executortest.Run(t, executortest.Harness{
//			New:    func(t *testing.T) scheduler.Executor { ... a fresh executor ... },
//			Reopen: func(t *testing.T) scheduler.Executor { ... a new one on the same state ... },
//		})
//	}
//
// The suite runs real commands (true, sh -c 'exit 3', sleep), which Memory
// understands too, so the same cases hold for every executor.
package executortest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

// Harness gives the suite executors to test.
type Harness struct {
	// New returns a fresh executor with no tries. It is called once per
	// subtest, with that subtest's t.
	New func(t *testing.T) scheduler.Executor
	// Reopen, if set, returns a new executor on the state of the one New
	// last returned for the same t, as a scheduler restart would find it.
	// Without it the restart cases are skipped.
	Reopen func(t *testing.T) scheduler.Executor
}

// Run runs the contract suite as subtests of t.
func Run(t *testing.T, h Harness) {
	cases := []struct {
		name    string
		restart bool
		f       func(*testing.T, Harness)
	}{
		{"success", false, testSuccess},
		{"failure", false, testFailure},
		{"the run's dates are in the environment", false, testDateEnv},
		{"the run's params are in the environment", false, testParamEnv},
		{"no command is an error", false, testNoCommand},
		{"start is idempotent", false, testIdempotentStart},
		{"two tries of a task both run", false, testTwoTries},
		{"stop ends a running try", false, testStop},
		{"stop of an unknown or ended try is no error", false, testStopUnknown},
		{"adopt of an unknown try is missing", false, testAdoptUnknown},
		{"adopt of a running try reports it once", false, testAdoptOwn},
		{"run returns nil when cancelled", false, testRunCancel},
		{"events before run are kept", false, testEventsBeforeRun},
		{"logs hold the output", false, testLogs},
		{"restart: a try that ended while down is exited", true, testRestartExited},
		{"restart: a running try is adopted", true, testRestartRunning},
		{"restart: start does not run a try again", true, testRestartStart},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.restart && h.Reopen == nil {
				t.Skip("the harness has no Reopen")
			}
			c.f(t, h)
		})
	}
}

// try returns a try of a task named after the test, running argv.
func try(t *testing.T, n int, argv ...string) scheduler.Try {
	return scheduler.Try{
		Key: scheduler.TryKey{
			TaskKey: scheduler.TaskKey{DAGID: "contract", RunID: "manual__1", TaskID: strings.ReplaceAll(t.Name(), "/", ".")},
			Try:     n,
		},
		Spec: dag.TaskSpec{Command: argv},
	}
}

func start(t *testing.T, ex scheduler.Executor, tr scheduler.Try) {
	t.Helper()
	if err := ex.Start(testCtx(t), tr); err != nil {
		t.Fatalf("Start(%s): %v", tr.Key, err)
	}
}

// appendTry is a try that leaves a line in a file each time its command
// runs, so the suite can count runs of a real executor.
func appendTry(t *testing.T, n int, file string, seconds float64) scheduler.Try {
	script := fmt.Sprintf(`echo ran >>"$1"; sleep %g`, seconds)
	return try(t, n, "sh", "-c", script, "sh", file)
}

// runs counts how often a try's command ran: Memory says so itself (it runs
// nothing), a real executor's command left lines in file.
func runs(t *testing.T, ex scheduler.Executor, k scheduler.TryKey, file string) int {
	t.Helper()
	if m, ok := ex.(interface{ Runs(scheduler.TryKey) int }); ok {
		return m.Runs(k)
	}
	f, err := os.Open(file)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		n++
	}
	return n
}

func testSuccess(t *testing.T, h Harness) {
	ex := h.New(t)
	events := runEvents(t, ex)
	tr := try(t, 1, "true")
	start(t, ex, tr)
	if ev := events.next(tr.Key, scheduler.EventStarted); ev.ExternalID == "" {
		t.Errorf("started event has no ExternalID: %+v", ev)
	}
	if ev := events.next(tr.Key, scheduler.EventExited); ev.ExitCode != 0 || ev.At.IsZero() {
		t.Errorf("exited event = %+v, want exit code 0 and a time", ev)
	}
	events.settle()
	if got := fmt.Sprint(events.kinds(tr.Key)); got != "[started exited]" {
		t.Errorf("events = %s, want [started exited]", got)
	}
}

func testFailure(t *testing.T, h Harness) {
	ex := h.New(t)
	events := runEvents(t, ex)
	tr := try(t, 1, "sh", "-c", "exit 3")
	start(t, ex, tr)
	events.next(tr.Key, scheduler.EventStarted)
	ev := events.next(tr.Key, scheduler.EventExited)
	if ev.ExitCode != 3 || !strings.Contains(ev.Reason, "3") {
		t.Errorf("exited event = %+v, want exit code 3 and a reason that names it", ev)
	}
}

// testDateEnv checks that the try sees its run's logical date and data
// interval (scheduler.Try.DateEnv): the command exits 0 only if the three
// variables hold them.
func testDateEnv(t *testing.T, h Harness) {
	ex := h.New(t)
	events := runEvents(t, ex)
	tr := try(t, 1, "sh", "-c", `test "$VIGIL_LOGICAL_DATE" = 2026-03-29T01:30:00Z &&
test "$VIGIL_DATA_INTERVAL_START" = 2026-03-28T01:30:00Z &&
test "$VIGIL_DATA_INTERVAL_END" = 2026-03-29T01:30:00Z || exit 7`)
	berlin := time.FixedZone("CEST", 2*3600)
	tr.Dates = scheduler.RunDates{
		// Given in another zone: the executor writes UTC.
		LogicalDate:   time.Date(2026, 3, 29, 3, 30, 0, 0, berlin),
		IntervalStart: time.Date(2026, 3, 28, 1, 30, 0, 0, time.UTC),
		IntervalEnd:   time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC),
	}
	start(t, ex, tr)
	if ev := events.next(tr.Key, scheduler.EventExited); ev.ExitCode != 0 {
		t.Errorf("exited event = %+v, want exit code 0: VIGIL_LOGICAL_DATE or VIGIL_DATA_INTERVAL_START/END is missing or wrong", ev)
	}
}

func testNoCommand(t *testing.T, h Harness) {
	ex := h.New(t)
	events := runEvents(t, ex)
	tr := try(t, 1)
	if err := ex.Start(testCtx(t), tr); !errors.Is(err, scheduler.ErrTaskInvalid) {
		t.Fatalf("Start of a spec without a command = %v, want an error wrapping scheduler.ErrTaskInvalid", err)
	}
	events.settle()
	if got := events.kinds(tr.Key); len(got) != 0 {
		t.Errorf("events after a failed Start = %v, want none", got)
	}
}

func testIdempotentStart(t *testing.T, h Harness) {
	ex := h.New(t)
	events := runEvents(t, ex)
	file := filepath.Join(t.TempDir(), "runs")
	tr := appendTry(t, 1, file, 0.2)
	start(t, ex, tr)
	start(t, ex, tr)
	events.next(tr.Key, scheduler.EventExited)
	events.settle()
	if n := events.count(tr.Key, scheduler.EventStarted); n != 1 {
		t.Errorf("%d started events, want 1:\n%s", n, events.dump())
	}
	if n := runs(t, ex, tr.Key, file); n != 1 {
		t.Errorf("the command ran %d times, want 1", n)
	}
}

func testTwoTries(t *testing.T, h Harness) {
	ex := h.New(t)
	events := runEvents(t, ex)
	dir := t.TempDir()
	files := []string{filepath.Join(dir, "runs-1"), filepath.Join(dir, "runs-2")}
	tries := []scheduler.Try{appendTry(t, 1, files[0], 0), appendTry(t, 2, files[1], 0)}
	for _, tr := range tries {
		start(t, ex, tr)
	}
	for i, tr := range tries {
		events.next(tr.Key, scheduler.EventStarted)
		if ev := events.next(tr.Key, scheduler.EventExited); ev.ExitCode != 0 {
			t.Errorf("try %d: exit code %d, want 0", tr.Key.Try, ev.ExitCode)
		}
		if n := runs(t, ex, tr.Key, files[i]); n != 1 {
			t.Errorf("try %d ran %d times, want 1", tr.Key.Try, n)
		}
	}
}

func testStop(t *testing.T, h Harness) {
	ex := h.New(t)
	events := runEvents(t, ex)
	tr := try(t, 1, "sleep", "30")
	start(t, ex, tr)
	events.next(tr.Key, scheduler.EventStarted)
	asked := time.Now()
	if err := ex.Stop(testCtx(t), tr.Key, "asked by the contract suite"); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	ev := events.next(tr.Key, scheduler.EventExited)
	if took := time.Since(asked); took > 5*time.Second {
		t.Errorf("the try ended %s after Stop, want promptly", took)
	}
	if ev.ExitCode == 0 || !strings.Contains(ev.Reason, "stopped") || !strings.Contains(ev.Reason, "asked by the contract suite") {
		t.Errorf("exited event = %+v, want a non-zero code and a reason that says it was stopped and why", ev)
	}
}

func testStopUnknown(t *testing.T, h Harness) {
	ex := h.New(t)
	events := runEvents(t, ex)
	unknown := try(t, 1, "true")
	if err := ex.Stop(testCtx(t), unknown.Key, "never started"); err != nil {
		t.Errorf("Stop of an unknown try: %v, want nil", err)
	}
	ended := try(t, 2, "true")
	start(t, ex, ended)
	events.next(ended.Key, scheduler.EventExited)
	if err := ex.Stop(testCtx(t), ended.Key, "already over"); err != nil {
		t.Errorf("Stop of an ended try: %v, want nil", err)
	}
	events.settle()
	if n := events.count(ended.Key, scheduler.EventExited); n != 1 {
		t.Errorf("%d exited events for the ended try after Stop, want 1:\n%s", n, events.dump())
	}
}

func testAdoptUnknown(t *testing.T, h Harness) {
	ex := h.New(t)
	k := try(t, 1, "true").Key
	obs, err := ex.Adopt(testCtx(t), k, "")
	if err != nil || obs.Phase != scheduler.PhaseMissing {
		t.Errorf("Adopt of an unknown try = %+v, %v; want phase %s", obs, err, scheduler.PhaseMissing)
	}
}

func testAdoptOwn(t *testing.T, h Harness) {
	ex := h.New(t)
	events := runEvents(t, ex)
	tr := try(t, 1, "sleep", "0.5")
	start(t, ex, tr)
	started := events.next(tr.Key, scheduler.EventStarted)
	obs, err := ex.Adopt(testCtx(t), tr.Key, started.ExternalID)
	if err != nil || obs.Phase != scheduler.PhaseRunning {
		t.Errorf("Adopt of a running try = %+v, %v; want phase %s", obs, err, scheduler.PhaseRunning)
	}
	events.next(tr.Key, scheduler.EventExited)
	events.settle()
	if n := events.count(tr.Key, scheduler.EventExited); n != 1 {
		t.Errorf("%d exited events, want 1:\n%s", n, events.dump())
	}
}

func testRunCancel(t *testing.T, h Harness) {
	ex := h.New(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- ex.Run(ctx, make(chan scheduler.Event)) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(eventWait):
		t.Fatalf("Run did not return within %s of cancel", eventWait)
	}
}

func testEventsBeforeRun(t *testing.T, h Harness) {
	ex := h.New(t)
	ok, bad := try(t, 1, "true"), try(t, 2, "sh", "-c", "exit 3")
	start(t, ex, ok)
	start(t, ex, bad)
	// Adopt of a try the executor runs changes nothing; it only tells when
	// both have ended, so their events were produced with nobody to take them.
	for _, tr := range []scheduler.Try{ok, bad} {
		eventually(t, fmt.Sprintf("Adopt reports try %d exited", tr.Key.Try), func() bool {
			obs, err := ex.Adopt(testCtx(t), tr.Key, "")
			return err == nil && obs.Phase == scheduler.PhaseExited
		})
	}
	events := runEvents(t, ex)
	for _, want := range []struct {
		tr   scheduler.Try
		code int
	}{{ok, 0}, {bad, 3}} {
		events.next(want.tr.Key, scheduler.EventStarted)
		if ev := events.next(want.tr.Key, scheduler.EventExited); ev.ExitCode != want.code {
			t.Errorf("try %d: exit code %d, want %d", want.tr.Key.Try, ev.ExitCode, want.code)
		}
	}
}

func testLogs(t *testing.T, h Harness) {
	ex := h.New(t)
	lr, ok := ex.(scheduler.LogReader)
	if !ok {
		t.Skip("the executor is not a scheduler.LogReader")
	}
	events := runEvents(t, ex)
	tr := try(t, 1, "sh", "-c", "echo to stdout; echo to stderr >&2")
	start(t, ex, tr)
	events.next(tr.Key, scheduler.EventExited)
	r, err := lr.Logs(testCtx(t), tr.Key)
	if err != nil {
		t.Fatalf("Logs: %v", err)
	}
	defer r.Close()
	var b strings.Builder
	if _, err := bufio.NewReader(r).WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"to stdout", "to stderr"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("logs = %q, want them to hold %q", b.String(), want)
		}
	}
	if _, err := lr.Logs(testCtx(t), try(t, 9, "true").Key); err == nil {
		t.Error("Logs of a try that never ran returned no error")
	}
}

func testRestartExited(t *testing.T, h Harness) {
	before := h.New(t)
	tr := try(t, 1, "sh", "-c", "exit 4")
	start(t, before, tr)
	eventually(t, "the try has ended", func() bool {
		obs, err := before.Adopt(testCtx(t), tr.Key, "")
		return err == nil && obs.Phase == scheduler.PhaseExited
	})
	after := h.Reopen(t)
	obs, err := after.Adopt(testCtx(t), tr.Key, "")
	if err != nil || obs.Phase != scheduler.PhaseExited || obs.ExitCode != 4 {
		t.Errorf("Adopt after restart = %+v, %v; want phase %s with exit code 4", obs, err, scheduler.PhaseExited)
	}
}

func testRestartRunning(t *testing.T, h Harness) {
	before := h.New(t)
	tr := try(t, 1, "sleep", "1")
	start(t, before, tr)
	after := h.Reopen(t)
	obs, err := after.Adopt(testCtx(t), tr.Key, "")
	if err != nil || obs.Phase != scheduler.PhaseRunning || obs.ExternalID == "" {
		t.Fatalf("Adopt after restart = %+v, %v; want phase %s with an ExternalID", obs, err, scheduler.PhaseRunning)
	}
	events := runEvents(t, after)
	if ev := events.next(tr.Key, scheduler.EventExited); ev.ExitCode != 0 {
		t.Errorf("exited event = %+v, want exit code 0", ev)
	}
}

func testRestartStart(t *testing.T, h Harness) {
	before := h.New(t)
	file := filepath.Join(t.TempDir(), "runs")
	tr := appendTry(t, 1, file, 0.5)
	start(t, before, tr)
	after := h.Reopen(t)
	events := runEvents(t, after)
	start(t, after, tr)
	if ev := events.next(tr.Key, scheduler.EventExited); ev.ExitCode != 0 {
		t.Errorf("exited event = %+v, want exit code 0", ev)
	}
	if n := runs(t, after, tr.Key, file); n != 1 {
		t.Errorf("the command ran %d times, want 1", n)
	}
}
