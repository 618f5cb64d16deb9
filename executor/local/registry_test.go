package local_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vigilhq/vigil/executor/local"
	"github.com/vigilhq/vigil/scheduler"
)

// Two schedulers on one store and one machine, each with a state folder of
// its own: when one takes the other's run over (the other was frozen or
// stopped), its executor must find the tries the other started, through
// the shared registry, and never run them again (issue 16).

// TestRegistryAdoptsAnotherSchedulersTry: the second executor adopts the
// running try of the first and reports its end.
func TestRegistryAdoptsAnotherSchedulersTry(t *testing.T) {
	reg := t.TempDir()
	first := newExecutor(t, t.TempDir(), local.Options{Registry: reg})
	second := newExecutor(t, t.TempDir(), local.Options{Registry: reg})
	tr := try("slow", 1, "sh", "-c", "sleep 0.5; exit 3")
	if err := first.Start(ctxFor(t), tr); err != nil {
		t.Fatal(err)
	}
	obs, err := second.Adopt(ctxFor(t), tr.Key, "")
	if err != nil || obs.Phase != scheduler.PhaseRunning {
		t.Fatalf("Adopt = %+v, %v; want the first executor's try running", obs, err)
	}
	ch := events(t, second)
	if ev := next(t, ch, scheduler.EventExited); ev.ExitCode != 3 {
		t.Errorf("exit = %+v, want exit code 3", ev)
	}
}

// TestRegistryStartRunsOnce: asked to start a try the first executor has
// already run, the second reports its recorded end and runs nothing; and
// its logs are the first's.
func TestRegistryStartRunsOnce(t *testing.T) {
	reg := t.TempDir()
	first := newExecutor(t, t.TempDir(), local.Options{Registry: reg})
	second := newExecutor(t, t.TempDir(), local.Options{Registry: reg})
	count := filepath.Join(t.TempDir(), "ran")
	tr := try("once", 1, "sh", "-c", "echo x >>"+count+"; echo hello")
	ch1 := events(t, first)
	if err := first.Start(ctxFor(t), tr); err != nil {
		t.Fatal(err)
	}
	next(t, ch1, scheduler.EventExited)
	ch2 := events(t, second)
	if err := second.Start(ctxFor(t), tr); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch2, scheduler.EventExited); ev.ExitCode != 0 || !strings.Contains(ev.Reason, "not run again") {
		t.Errorf("exit = %+v, want the recorded exit 0, not run again", ev)
	}
	if b, _ := os.ReadFile(count); string(b) != "x\n" {
		t.Errorf("the command ran %d times, want once", strings.Count(string(b), "x"))
	}
	if got := logs(t, second, tr.Key); got != "hello\n" {
		t.Errorf("logs through the second executor = %q, want the first's output", got)
	}
}

// TestRegistryStartUnderWay: while another executor holds a try's start
// lock (it is starting the try, or froze while starting it), Adopt and
// Start do not guess: both say so, and are asked again later.
func TestRegistryStartUnderWay(t *testing.T) {
	reg := t.TempDir()
	ex := newExecutor(t, t.TempDir(), local.Options{Registry: reg})
	tr := try("busy", 1, "true")
	lock := filepath.Join(reg, "dag", "run", "busy", "try-1.lock")
	if err := os.MkdirAll(filepath.Dir(lock), 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(lock, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if obs, err := ex.Adopt(ctxFor(t), tr.Key, ""); err == nil || !strings.Contains(err.Error(), "starting the try") {
		t.Errorf("Adopt = %+v, %v; want an error: another scheduler is starting it", obs, err)
	}
	if err := ex.Start(ctxFor(t), tr); err == nil || !strings.Contains(err.Error(), "starting the try") {
		t.Errorf("Start = %v; want an error: another scheduler is starting it", err)
	}
	// Once the lock is free and no process was recorded, the start never
	// got as far as the command: the try runs here.
	f.Close()
	ch := events(t, ex)
	if err := ex.Start(ctxFor(t), tr); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch, scheduler.EventExited); ev.ExitCode != 0 || strings.Contains(ev.Reason, "not run again") {
		t.Errorf("exit = %+v, want a fresh run", ev)
	}
}

// TestWithoutRegistryAnotherFolderIsMissing is what issue 16 saw: without
// the registry, a try started from another state folder is not found.
func TestWithoutRegistryAnotherFolderIsMissing(t *testing.T) {
	first := newExecutor(t, t.TempDir(), local.Options{})
	second := newExecutor(t, t.TempDir(), local.Options{})
	tr := try("slow", 1, "sleep", "5")
	if err := first.Start(ctxFor(t), tr); err != nil {
		t.Fatal(err)
	}
	if obs, err := second.Adopt(ctxFor(t), tr.Key, ""); err != nil || obs.Phase != scheduler.PhaseMissing {
		t.Errorf("Adopt = %+v, %v; want missing", obs, err)
	}
}
