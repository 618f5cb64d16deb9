package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/store/sqlite"
)

// harness runs a real Scheduler on a real SQLite store with the in-memory
// executor, on a DAG folder of its own.
type harness struct {
	t      *testing.T
	store  *sqlite.Store
	exec   *executortest.Memory
	wd     *watchdog.Watchdog
	dagDir string
	sched  *scheduler.Scheduler
	cancel context.CancelFunc
	done   chan error
}

func newHarness(t *testing.T, dags map[string]string) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{t: t, dagDir: filepath.Join(dir, "dags"), exec: executortest.NewMemory(executortest.MemoryOptions{})}
	if err := os.MkdirAll(h.dagDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range dags {
		h.writeDAG(name, text)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "vigil.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h.store = st
	return h
}

func (h *harness) writeDAG(name, text string) {
	h.t.Helper()
	if err := os.WriteFile(filepath.Join(h.dagDir, name), []byte(text), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// start runs a scheduler; opts may adjust its options.
func (h *harness) start(adjust func(*scheduler.Options)) {
	h.t.Helper()
	h.wd = watchdog.New(watchdog.Options{})
	opts := scheduler.Options{
		Store:           h.store,
		Executor:        h.exec,
		Logger:          zaptest.NewLogger(h.t),
		Watchdog:        h.wd,
		DAGDir:          h.dagDir,
		SyncInterval:    50 * time.Millisecond,
		HeartbeatPeriod: 200 * time.Millisecond,
		SubmitBackoff:   50 * time.Millisecond,
		DrainTimeout:    5 * time.Second,
	}
	if adjust != nil {
		adjust(&opts)
	}
	s, err := scheduler.New(opts)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.sched, h.cancel, h.done = s, cancel, make(chan error, 1)
	go func() { h.done <- s.Run(ctx) }()
	h.t.Cleanup(func() { h.stop() })
	h.waitFor("scheduler ready", func() bool { return s.Ready() })
}

// stop cancels the scheduler and returns what Run returned.
func (h *harness) stop() error {
	if h.cancel == nil {
		return nil
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		return err
	case <-time.After(20 * time.Second):
		h.t.Fatal("scheduler did not stop within 20s of cancel")
		return nil
	}
}

func (h *harness) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	h.t.Cleanup(cancel)
	return ctx
}

func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// trigger creates a manual run the way `vigil dags trigger` does.
func (h *harness) trigger(dagID string) string {
	h.t.Helper()
	var rec scheduler.DAGRecord
	h.waitFor("dag "+dagID+" loaded", func() bool {
		var err error
		rec, err = h.store.GetDAG(h.ctx(), dagID)
		return err == nil
	})
	now := time.Now()
	run, tis, err := scheduler.NewRun(rec, scheduler.ManualRunID(now), now, true, scheduler.Actor{Component: "test"}, now)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.store.CreateRun(h.ctx(), run, tis, "triggered by test"); err != nil {
		h.t.Fatal(err)
	}
	return run.RunID
}

func (h *harness) waitRun(dagID, runID string) scheduler.Run {
	h.t.Helper()
	var run scheduler.Run
	h.waitFor("run "+runID+" to end", func() bool {
		var err error
		run, err = h.store.GetRun(h.ctx(), dagID, runID)
		return err == nil && run.State != scheduler.RunRunning
	})
	return run
}

func (h *harness) task(dagID, runID, taskID string) scheduler.TaskInstance {
	h.t.Helper()
	ti, err := h.store.GetTaskInstance(h.ctx(), scheduler.TaskKey{DAGID: dagID, RunID: runID, TaskID: taskID})
	if err != nil {
		h.t.Fatal(err)
	}
	return ti
}

// history returns a task's transitions as "from→to: reason" lines.
func (h *harness) history(dagID, runID, taskID string) []string {
	h.t.Helper()
	hist, err := h.store.History(h.ctx(), scheduler.TaskKey{DAGID: dagID, RunID: runID, TaskID: taskID})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, tr := range hist {
		out = append(out, fmt.Sprintf("%s→%s: %s", tr.From, tr.To, tr.Reason))
	}
	return out
}

func wantHistory(t *testing.T, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("history has %d entries, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Fatalf("history[%d] = %q, want prefix %q\nwhole history:\n%s", i, got[i], want[i], strings.Join(got, "\n"))
		}
	}
}

const chain = `
id: chain
tasks:
  - id: a
    command: ["true"]
  - id: b
    depends_on: [a]
    command: ["true"]
  - id: c
    depends_on: [b]
    command: ["true"]
`

func TestChainRunsInOrder(t *testing.T) {
	h := newHarness(t, map[string]string{"chain.yaml": chain})
	h.start(nil)
	runID := h.trigger("chain")
	if run := h.waitRun("chain", runID); run.State != scheduler.RunSuccess {
		t.Fatalf("run ended %s", run.State)
	}
	wantHistory(t, h.history("chain", runID, "b"),
		"→scheduled: triggered by test",
		"scheduled→queued: dependencies met",
		"queued→running: ",
		"running→success: exit code 0",
	)
	a, b := h.task("chain", runID, "a"), h.task("chain", runID, "b")
	if !b.QueuedAt.After(a.EndedAt) && !b.QueuedAt.Equal(a.EndedAt) {
		t.Errorf("b queued at %v before a ended at %v", b.QueuedAt, a.EndedAt)
	}
}

func TestRetryThenSuccess(t *testing.T) {
	h := newHarness(t, map[string]string{"flaky.yaml": `
id: flaky
tasks:
  - id: f
    command: [sh, -c, "exit 3"]
    retries: 2
    retry_delay: 100ms
`})
	h.exec = executortest.NewMemory(executortest.MemoryOptions{Outcome: func(tr scheduler.Try) (executortest.Outcome, bool) {
		if tr.Key.Try >= 2 {
			return executortest.Outcome{ExitCode: 0}, true
		}
		return executortest.Outcome{}, false
	}})
	h.start(nil)
	runID := h.trigger("flaky")
	h.waitRun("flaky", runID)
	wantHistory(t, h.history("flaky", runID, "f"),
		"→scheduled",
		"scheduled→queued: no dependencies",
		"queued→running",
		"running→up_for_retry: exit code 3; retry 1 of 2 in 100ms",
		"up_for_retry→queued: retry delay elapsed; try 2 of 3",
		"queued→running",
		"running→success",
	)
	if ti := h.task("flaky", runID, "f"); ti.Try != 2 || ti.State != scheduler.StateSuccess {
		t.Fatalf("task ended %s on try %d", ti.State, ti.Try)
	}
}

func TestFailurePropagatesDownstream(t *testing.T) {
	h := newHarness(t, map[string]string{"fail.yaml": `
id: fail
tasks:
  - id: a
    command: ["false"]
  - id: b
    depends_on: [a]
    command: ["true"]
  - id: c
    depends_on: [b]
    command: ["true"]
`})
	h.start(nil)
	runID := h.trigger("fail")
	if run := h.waitRun("fail", runID); run.State != scheduler.RunFailed {
		t.Fatalf("run ended %s, want failed", run.State)
	}
	wantHistory(t, h.history("fail", runID, "a"), "→scheduled", "scheduled→queued", "queued→running", "running→failed: exit code 1")
	wantHistory(t, h.history("fail", runID, "b"), "→scheduled", "scheduled→upstream_failed: upstream task a is failed")
	wantHistory(t, h.history("fail", runID, "c"), "→scheduled", "scheduled→upstream_failed: upstream task b is upstream_failed")
	if n := h.exec.Starts(scheduler.TryKey{TaskKey: scheduler.TaskKey{DAGID: "fail", RunID: runID, TaskID: "b"}, Try: 1}); n != 0 {
		t.Errorf("b was submitted %d times", n)
	}
}

func TestExecutionTimeout(t *testing.T) {
	h := newHarness(t, map[string]string{"slow.yaml": `
id: slow
tasks:
  - id: s
    command: [sleep, "30"]
    execution_timeout: 200ms
`})
	h.start(nil)
	runID := h.trigger("slow")
	h.waitRun("slow", runID)
	wantHistory(t, h.history("slow", runID, "s"),
		"→scheduled", "scheduled→queued", "queued→running",
		"running→failed: execution timeout 200ms exceeded (",
	)
}

func TestParallelismLimit(t *testing.T) {
	var tasks strings.Builder
	tasks.WriteString("id: wide\nmax_active_tasks: 100\ntasks:\n")
	for i := range 12 {
		fmt.Fprintf(&tasks, "  - id: t%02d\n    command: [sleep, \"0.05\"]\n", i)
	}
	h := newHarness(t, map[string]string{"wide.yaml": tasks.String()})
	h.start(func(o *scheduler.Options) { o.Parallelism = 3 })
	runID := h.trigger("wide")
	if run := h.waitRun("wide", runID); run.State != scheduler.RunSuccess {
		t.Fatalf("run ended %s", run.State)
	}
	// Sweep the recorded transitions: at no instant were more than 3
	// instances queued or running.
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	tis, err := h.store.ListTaskInstances(h.ctx(), scheduler.TaskFilter{DAGID: "wide", RunID: runID})
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range tis {
		edges = append(edges, edge{ti.QueuedAt, +1}, edge{ti.EndedAt, -1})
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].at.Equal(edges[j].at) {
			return edges[i].delta < edges[j].delta
		}
		return edges[i].at.Before(edges[j].at)
	})
	active, peak := 0, 0
	for _, e := range edges {
		active += e.delta
		peak = max(peak, active)
	}
	if peak > 3 || peak < 2 {
		t.Fatalf("peak concurrency %d, want ≤ 3 (and > 1: tasks did overlap)", peak)
	}
}

func TestSubmitFailureRequeues(t *testing.T) {
	h := newHarness(t, map[string]string{"sub.yaml": "id: sub\ntasks:\n  - id: x\n    command: [\"true\"]\n"})
	var calls atomic.Int32
	h.exec = executortest.NewMemory(executortest.MemoryOptions{StartError: func(scheduler.Try) error {
		if calls.Add(1) == 1 {
			return errors.New("connection reset by peer")
		}
		return nil
	}})
	h.start(nil)
	runID := h.trigger("sub")
	h.waitRun("sub", runID)
	wantHistory(t, h.history("sub", runID, "x"),
		"→scheduled",
		"scheduled→queued: no dependencies",
		"queued→scheduled: submit of try 1 failed: ",
		"scheduled→queued: submitting try 1 again",
		"queued→running",
		"running→success",
	)
}

func TestInvalidTaskFailsWithoutRetry(t *testing.T) {
	h := newHarness(t, map[string]string{"bad.yaml": "id: bad\ntasks:\n  - id: x\n    command: [\"true\"]\n    retries: 3\n"})
	h.exec = executortest.NewMemory(executortest.MemoryOptions{StartError: func(scheduler.Try) error {
		return fmt.Errorf("pod spec rejected: spec.containers[0].image: Required value: %w", scheduler.ErrTaskInvalid)
	}})
	h.start(nil)
	runID := h.trigger("bad")
	h.waitRun("bad", runID)
	wantHistory(t, h.history("bad", runID, "x"),
		"→scheduled", "scheduled→queued",
		"queued→failed: executor/memory cannot run the task: start ",
	)
}

func (h *harness) removeDAG(name string) {
	h.t.Helper()
	if err := os.Remove(filepath.Join(h.dagDir, name)); err != nil {
		h.t.Fatal(err)
	}
}

type throttled struct{ after time.Duration }

func (e throttled) Error() string             { return "429 Too Many Requests" }
func (e throttled) RetryAfter() time.Duration { return e.after }

func TestSubmitHonoursRetryAfter(t *testing.T) {
	h := newHarness(t, map[string]string{"sub.yaml": "id: sub\ntasks:\n  - id: x\n    command: [\"true\"]\n"})
	var calls atomic.Int32
	h.exec = executortest.NewMemory(executortest.MemoryOptions{StartError: func(scheduler.Try) error {
		if calls.Add(1) == 1 {
			return throttled{after: 300 * time.Millisecond}
		}
		return nil
	}})
	h.start(nil) // submit backoff 50ms: the server's 300ms wins
	runID := h.trigger("sub")
	h.waitRun("sub", runID)
	wantHistory(t, h.history("sub", runID, "x"),
		"→scheduled", "scheduled→queued",
		"queued→scheduled: submit of try 1 failed: ",
		"scheduled→queued", "queued→running", "running→success",
	)
	if line := h.history("sub", runID, "x")[2]; !strings.Contains(line, "429 Too Many Requests; requeued, next attempt in 300ms") {
		t.Fatalf("requeue reason %q does not give the server's delay", line)
	}
	hist, err := h.store.History(h.ctx(), scheduler.TaskKey{DAGID: "sub", RunID: runID, TaskID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if gap := hist[3].At.Sub(hist[2].At); gap < 300*time.Millisecond {
		t.Fatalf("resubmitted %s after the throttle, before the server's 300ms", gap)
	}
}

// releasing wraps an executor as a scheduler.Releaser and notes, for each
// try released, how many of its instance's transitions were on record.
type releasing struct {
	scheduler.Executor
	store    scheduler.Store
	mu       sync.Mutex
	released map[scheduler.TryKey]scheduler.State
}

func (r *releasing) Release(k scheduler.TryKey) {
	ti, err := r.store.GetTaskInstance(context.Background(), k.TaskKey)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		r.released[k] = ti.State
	}
}

// TestSucceededPodDeletedBeforeItsEndWasRecorded is the regression test of
// the first violation the fault soak found (soak/postgres_test.go, three
// schedulers, one killed): the Kubernetes executor deleted a succeeded pod
// as soon as it saw it, so a scheduler killed before recording the success
// found no pod after its restart, took the try for a zombie and ran the
// task again. The scheduler now releases a try to its executor only once
// the try's end is committed: every try is released, each after its end
// is in the store.
func TestSucceededPodDeletedBeforeItsEndWasRecorded(t *testing.T) {
	h := newHarness(t, map[string]string{"flaky.yaml": `
id: flaky
tasks:
  - id: f
    command: [sh, -c, "exit 3"]
    retries: 1
    retry_delay: 10ms
`})
	mem := executortest.NewMemory(executortest.MemoryOptions{Outcome: func(tr scheduler.Try) (executortest.Outcome, bool) {
		return executortest.Outcome{ExitCode: 3 - 3*(tr.Key.Try-1)}, true // try 1 fails, try 2 succeeds
	}})
	rel := &releasing{Executor: mem, store: h.store, released: map[scheduler.TryKey]scheduler.State{}}
	h.exec = mem
	h.start(func(o *scheduler.Options) { o.Executor = rel })
	runID := h.trigger("flaky")
	h.waitRun("flaky", runID)
	k := scheduler.TaskKey{DAGID: "flaky", RunID: runID, TaskID: "f"}
	rel.mu.Lock()
	defer rel.mu.Unlock()
	want := map[scheduler.TryKey]scheduler.State{{TaskKey: k, Try: 1}: scheduler.StateUpForRetry, {TaskKey: k, Try: 2}: scheduler.StateSuccess}
	for tk, state := range want {
		if got, ok := rel.released[tk]; !ok || got != state {
			t.Errorf("try %s released: %v, with the store saying %q; want released once the store says %s", tk, ok, got, state)
		}
	}
}
