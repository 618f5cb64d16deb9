package local_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/executor/local"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

// wait bounds every wait in these tests.
const wait = 15 * time.Second

// newExecutor returns an Executor on dir that is stopped, with all its
// tries, when the test ends: no process or goroutine outlives the test.
func newExecutor(t *testing.T, dir string, opts local.Options) *local.Executor {
	t.Helper()
	opts.Dir = dir
	opts.Logger = zaptest.NewLogger(t)
	if opts.PollInterval == 0 {
		opts.PollInterval = 20 * time.Millisecond
	}
	if opts.KillGrace == 0 {
		opts.KillGrace = 2 * time.Second
	}
	ex, err := local.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := ex.StopAll(ctx, "test over"); err != nil {
			t.Errorf("StopAll: %v", err)
		}
	})
	return ex
}

func TestContract(t *testing.T) {
	var mu sync.Mutex
	dirs := map[*testing.T]string{}
	executortest.Run(t, executortest.Harness{
		New: func(t *testing.T) scheduler.Executor {
			dir := t.TempDir()
			mu.Lock()
			dirs[t] = dir
			mu.Unlock()
			return newExecutor(t, dir, local.Options{})
		},
		Reopen: func(t *testing.T) scheduler.Executor {
			mu.Lock()
			dir := dirs[t]
			mu.Unlock()
			return newExecutor(t, dir, local.Options{})
		},
	})
}

func try(task string, n int, argv ...string) scheduler.Try {
	return scheduler.Try{
		Key:  scheduler.TryKey{TaskKey: scheduler.TaskKey{DAGID: "dag", RunID: "run", TaskID: task}, Try: n},
		Spec: dag.TaskSpec{Command: argv},
	}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

// events runs ex.Run until the test ends and returns its channel.
func events(t *testing.T, ex *local.Executor) <-chan scheduler.Event {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan scheduler.Event, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := ex.Run(ctx, ch); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(wait):
			t.Errorf("Run did not return within %s of cancel", wait)
		}
	})
	return ch
}

// next returns the next event, skipping started ones unless asked for.
func next(t *testing.T, ch <-chan scheduler.Event, kind scheduler.EventKind) scheduler.Event {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case ev := <-ch:
			if ev.Kind == kind {
				return ev
			}
			if ev.Kind != scheduler.EventStarted {
				t.Fatalf("got %+v while waiting for a %s event", ev, kind)
			}
		case <-timeout:
			t.Fatalf("no %s event within %s", kind, wait)
		}
	}
}

func logs(t *testing.T, ex *local.Executor, k scheduler.TryKey) string {
	t.Helper()
	r, err := ex.Logs(ctxFor(t), k)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEnvironmentAndOutput(t *testing.T) {
	work := t.TempDir()
	ex := newExecutor(t, t.TempDir(), local.Options{WorkDir: work})
	ch := events(t, ex)
	tr := try("env", 3, "sh", "-c", `echo "$VIGIL_DAG_ID $VIGIL_RUN_ID $VIGIL_TASK_ID $VIGIL_TRY $GREETING"; pwd; echo oops >&2`)
	tr.Spec.Env = []dag.EnvVar{{Name: "GREETING", Value: "hello"}}
	if err := ex.Start(ctxFor(t), tr); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch, scheduler.EventExited); ev.ExitCode != 0 {
		t.Fatalf("exit = %+v", ev)
	}
	want := "dag run env 3 hello\n" + work + "\noops\n"
	if got := logs(t, ex, tr.Key); got != want {
		t.Errorf("output.log = %q, want %q", got, want)
	}
}

func TestExitReasons(t *testing.T) {
	cases := []struct {
		name   string
		argv   []string
		code   int
		reason string
	}{
		{"plain failure", []string{"sh", "-c", "exit 3"}, 3, "exit code 3"},
		{"killed by SIGTERM", []string{"sh", "-c", "kill -TERM $$"}, 143, "exit code 143 (SIGTERM)"},
		{"killed by SIGKILL", []string{"sh", "-c", "kill -KILL $$"}, 137, "exit code 137 (SIGKILL)"},
		{"command not found", []string{"vigil-no-such-command"}, 127, "exit code 127"},
	}
	ex := newExecutor(t, t.TempDir(), local.Options{})
	ch := events(t, ex)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := ex.Start(ctxFor(t), try(strings.ReplaceAll(c.name, " ", "-"), 1, c.argv...)); err != nil {
				t.Fatal(err)
			}
			ev := next(t, ch, scheduler.EventExited)
			if ev.ExitCode != c.code || ev.Reason != c.reason {
				t.Errorf("exit = %d %q, want %d %q", ev.ExitCode, ev.Reason, c.code, c.reason)
			}
		})
	}
}

func TestStopReasons(t *testing.T) {
	ex := newExecutor(t, t.TempDir(), local.Options{KillGrace: 300 * time.Millisecond})
	ch := events(t, ex)
	cases := []struct {
		name   string
		argv   []string
		code   int
		reason string
	}{
		{"ends on SIGTERM", []string{"sleep", "30"}, 143, "stopped: user asked (SIGTERM)"},
		// An ignored signal stays ignored across exec, so sleep ignores it too.
		{"ignores SIGTERM", []string{"sh", "-c", "trap '' TERM; sleep 30"}, 137, "stopped: user asked (SIGKILL after 300ms grace)"},
		{"exits cleanly on SIGTERM", []string{"sh", "-c", "trap 'exit 0' TERM; sleep 30 & wait"}, 0, "stopped: user asked (SIGTERM, then exit code 0)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := try(strings.ReplaceAll(c.name, " ", "-"), 1, c.argv...)
			if err := ex.Start(ctxFor(t), tr); err != nil {
				t.Fatal(err)
			}
			next(t, ch, scheduler.EventStarted)
			// Let the shell install its trap before the signal comes.
			time.Sleep(200 * time.Millisecond)
			if err := ex.Stop(ctxFor(t), tr.Key, "user asked"); err != nil {
				t.Fatal(err)
			}
			ev := next(t, ch, scheduler.EventExited)
			if ev.ExitCode != c.code || ev.Reason != c.reason {
				t.Errorf("exit = %d %q, want %d %q", ev.ExitCode, ev.Reason, c.code, c.reason)
			}
		})
	}
}

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

func TestStopAll(t *testing.T) {
	ex := newExecutor(t, t.TempDir(), local.Options{})
	ch := events(t, ex)
	for i := 1; i <= 3; i++ {
		if err := ex.Start(ctxFor(t), try("long", i, "sleep", "30")); err != nil {
			t.Fatal(err)
		}
	}
	if err := ex.StopAll(ctxFor(t), "shutdown"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if ev := next(t, ch, scheduler.EventExited); ev.Reason != "stopped: shutdown (SIGTERM)" {
			t.Errorf("exit = %+v", ev)
		}
	}
}

func TestBeat(t *testing.T) {
	var beats atomic.Int64
	ex := newExecutor(t, t.TempDir(), local.Options{Beat: func() { beats.Add(1) }})
	ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
	defer cancel()
	// Nobody reads: Run must keep beating while it waits for a consumer.
	if err := ex.Start(ctxFor(t), try("t", 1, "true")); err != nil {
		t.Fatal(err)
	}
	if err := ex.Run(ctx, make(chan scheduler.Event)); err != nil {
		t.Fatal(err)
	}
	if n := beats.Load(); n < 2 {
		t.Errorf("%d beats in 1.2s of Run, want at least 2", n)
	}
}

func TestLogsOfUnknownTry(t *testing.T) {
	ex := newExecutor(t, t.TempDir(), local.Options{})
	_, err := ex.Logs(ctxFor(t), try("ghost", 2, "true").Key)
	if err == nil || !strings.Contains(err.Error(), "dag/run/ghost#2") || !strings.Contains(err.Error(), "output.log") {
		t.Errorf("Logs error = %v, want one naming the try and the file", err)
	}
}

func TestNewNeedsDir(t *testing.T) {
	if _, err := local.New(local.Options{}); err == nil {
		t.Error("New without Dir returned no error")
	}
}

// BenchmarkLocalTrue measures one try of `true` from Start to its exit
// event: the executor's overhead per task on this machine.
func BenchmarkLocalTrue(b *testing.B) {
	ex, err := local.New(local.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := make(chan scheduler.Event, 16)
	go func() { _ = ex.Run(ctx, ch) }()
	i := 0
	for b.Loop() {
		i++
		if err := ex.Start(ctx, try("true", i, "true")); err != nil {
			b.Fatal(err)
		}
		for ev := range ch {
			if ev.Kind == scheduler.EventExited {
				break
			}
		}
	}
}
