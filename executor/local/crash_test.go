package local_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/executor/local"
	"github.com/vigilhq/vigil/scheduler"
)

// crashDirEnv tells the test binary, started again by TestSchedulerKilled,
// to act as the scheduler that gets killed.
const crashDirEnv = "VIGIL_LOCAL_TEST_CRASH_DIR"

var crashTry = try("crash", 1, "sh", "-c", "sleep 1; exit 9")

// TestSchedulerKilled is the real crash: a separate process starts a try and
// is SIGKILLed while it runs. The try must survive it, record its status
// with nobody waiting for it, and be adopted by a new executor.
func TestSchedulerKilled(t *testing.T) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		runDoomedScheduler(dir)
		return
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	doomed := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSchedulerKilled$")
	doomed.Env = append(os.Environ(), crashDirEnv+"="+dir)
	doomed.Stderr = os.Stderr
	out, err := doomed.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := doomed.Start(); err != nil {
		t.Fatal(err)
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "started ") {
				line <- sc.Text()
			}
		}
		close(line)
	}()
	var id string
	select {
	case l, ok := <-line:
		if !ok {
			t.Fatal("the doomed scheduler ended without starting the try")
		}
		id = strings.TrimPrefix(l, "started ")
	case <-ctx.Done():
		t.Fatal("the doomed scheduler did not start the try in time")
	}
	if err := doomed.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = doomed.Wait()

	ex := newExecutor(t, dir, local.Options{})
	obs, err := ex.Adopt(ctxFor(t), crashTry.Key, id)
	if err != nil || obs.Phase != scheduler.PhaseRunning || obs.ExternalID != id {
		t.Fatalf("Adopt after the crash = %+v, %v; want running as %s", obs, err, id)
	}
	ch := events(t, ex)
	if ev := next(t, ch, scheduler.EventExited); ev.ExitCode != 9 {
		t.Errorf("exit = %+v, want exit code 9", ev)
	}
}

// runDoomedScheduler starts crashTry, reports it on stdout and waits to be
// killed.
func runDoomedScheduler(dir string) {
	ex, err := local.New(local.Options{Dir: dir})
	if err != nil {
		panic(err)
	}
	ch := make(chan scheduler.Event, 4)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	go func() { _ = ex.Run(ctx, ch) }()
	if err := ex.Start(ctx, crashTry); err != nil {
		panic(err)
	}
	select {
	case ev := <-ch:
		os.Stdout.WriteString("started " + ev.ExternalID + "\n")
	case <-ctx.Done():
		panic("no started event")
	}
	// The test kills us long before this.
	time.Sleep(wait)
}
