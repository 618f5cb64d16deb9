package local_test

import (
	"context"
	"io"
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

func waitForOutput(t *testing.T, ex *local.Executor, k scheduler.TryKey, want string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		if r, err := ex.Logs(ctxFor(t), k); err == nil {
			b, _ := io.ReadAll(r)
			r.Close()
			if string(b) == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("output of %s is not %q after %s", k, want, wait)
		}
		time.Sleep(10 * time.Millisecond)
	}
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

// TestSchedulerEnvironmentNotInherited: a task sees a minimal environment
// (PATH, HOME, the locale), its own variables and Vigil's, never the
// scheduler's credentials (issue 16).
func TestSchedulerEnvironmentNotInherited(t *testing.T) {
	const secret = "pg-Secret-31337"
	t.Setenv("PGPASSWORD", secret)
	t.Setenv("VIGIL_DEBUG_TOKEN_X", secret)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("LC_TIME", "C")
	t.Setenv("HOME", "/home/vigil-test")
	ex := newExecutor(t, t.TempDir(), local.Options{})
	ch := events(t, ex)
	tr := try("env", 1, "env")
	tr.Spec.Env = []dag.EnvVar{{Name: "TASK_VAR", Value: "mine"}}
	if err := ex.Start(ctxFor(t), tr); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch, scheduler.EventExited); ev.ExitCode != 0 {
		t.Fatalf("exit = %+v", ev)
	}
	got := logs(t, ex, tr.Key)
	if strings.Contains(got, secret) {
		t.Errorf("the task saw the scheduler's credentials:\n%s", got)
	}
	for _, want := range []string{"PATH=", "HOME=/home/vigil-test\n", "LC_TIME=C\n", "TASK_VAR=mine\n", "VIGIL_TASK_ID=env\n", "VIGIL_TRY=1\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("the task's environment lacks %q:\n%s", want, got)
		}
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
		for exited := false; !exited; {
			select {
			case ev := <-ch:
				exited = ev.Kind == scheduler.EventExited
			case <-time.After(wait):
				b.Fatalf("try %d did not exit within %s", i, wait)
			}
		}
	}
}
