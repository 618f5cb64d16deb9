package local_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/executor/local"
	"github.com/vigilhq/vigil/scheduler"
)

// TestAdoptAbandoned simulates a scheduler crash: a first executor starts a
// try and is abandoned without Stop; a second one on the same Dir adopts the
// still-running process and reports its exit code.
func TestAdoptAbandoned(t *testing.T) {
	dir := t.TempDir()
	first := newExecutor(t, dir, local.Options{})
	tr := try("slow", 1, "sh", "-c", "sleep 0.5; exit 7")
	if err := first.Start(ctxFor(t), tr); err != nil {
		t.Fatal(err)
	}
	second := newExecutor(t, dir, local.Options{})
	obs, err := second.Adopt(ctxFor(t), tr.Key, "")
	if err != nil || obs.Phase != scheduler.PhaseRunning || !strings.HasPrefix(obs.ExternalID, "pid:") {
		t.Fatalf("Adopt = %+v, %v; want running with a pid", obs, err)
	}
	ch := events(t, second)
	if ev := next(t, ch, scheduler.EventExited); ev.ExitCode != 7 || ev.Reason != "exit code 7" || ev.ExternalID != obs.ExternalID {
		t.Errorf("exit = %+v, want exit code 7 of %s", ev, obs.ExternalID)
	}
}

// TestStopAbandoned stops a try an earlier executor started, without an
// Adopt first: Stop finds it in its folder.
func TestStopAbandoned(t *testing.T) {
	dir := t.TempDir()
	first := newExecutor(t, dir, local.Options{})
	tr := try("long", 1, "sleep", "30")
	if err := first.Start(ctxFor(t), tr); err != nil {
		t.Fatal(err)
	}
	second := newExecutor(t, dir, local.Options{})
	ch := events(t, second)
	if err := second.Stop(ctxFor(t), tr.Key, "operator"); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch, scheduler.EventExited); ev.ExitCode != 143 || ev.Reason != "stopped: operator (SIGTERM)" {
		t.Errorf("exit = %+v, want 143 stopped by the operator", ev)
	}
}

// TestRecycledPid: a pid file whose pid now belongs to another process (here
// the test itself, with another start time) must not be taken for the try.
func TestRecycledPid(t *testing.T) {
	dir := t.TempDir()
	ex := newExecutor(t, dir, local.Options{})
	tr := try("recycled", 1, "true")
	tryDir := filepath.Join(dir, "dag", "run", "recycled", "try-1")
	if err := os.MkdirAll(tryDir, 0o755); err != nil {
		t.Fatal(err)
	}
	pid := os.Getpid()
	if err := os.WriteFile(filepath.Join(tryDir, "pid"), fmt.Appendf(nil, "%d 1\n", pid), 0o644); err != nil {
		t.Fatal(err)
	}
	obs, err := ex.Adopt(ctxFor(t), tr.Key, fmt.Sprintf("pid:%d", pid))
	want := fmt.Sprintf("process %d ended without recording an exit status", pid)
	if err != nil || obs.Phase != scheduler.PhaseLost || obs.Reason != want {
		t.Errorf("Adopt = %+v, %v; want lost: %s", obs, err, want)
	}
	// Stop must not signal the process that now has the pid: this one.
	if err := ex.Stop(ctxFor(t), tr.Key, "no"); err != nil {
		t.Errorf("Stop: %v", err)
	}
	// Start does not run a try whose process vanished; it reports it lost.
	ch := events(t, ex)
	if err := ex.Start(ctxFor(t), tr); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch, scheduler.EventLost); ev.Reason != want {
		t.Errorf("lost event = %+v, want reason %q", ev, want)
	}
}

// TestInterruptedStart: a folder with no pid is a start that never got to
// run its command; it counts as missing and a Start runs it.
func TestInterruptedStart(t *testing.T) {
	dir := t.TempDir()
	ex := newExecutor(t, dir, local.Options{})
	tr := try("interrupted", 1, "sh", "-c", "echo ran")
	if err := os.MkdirAll(filepath.Join(dir, "dag", "run", "interrupted", "try-1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if obs, err := ex.Adopt(ctxFor(t), tr.Key, ""); err != nil || obs.Phase != scheduler.PhaseMissing {
		t.Errorf("Adopt = %+v, %v; want missing", obs, err)
	}
	ch := events(t, ex)
	if err := ex.Start(ctxFor(t), tr); err != nil {
		t.Fatal(err)
	}
	next(t, ch, scheduler.EventExited)
	if got := logs(t, ex, tr.Key); got != "ran\n" {
		t.Errorf("output = %q", got)
	}
}
