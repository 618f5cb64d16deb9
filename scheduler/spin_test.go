package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/scheduler"
)

// The loop must sleep while it waits on something outside it: a try that
// ignores SIGTERM, a store that refuses writes. A due deadline left in
// place would wake it at once, again and again: a busy loop that looks
// alive to the heartbeat and burns a core.

// stubbornStop is an executor whose tries ignore Stop (a process that
// traps SIGTERM), until the test finishes them.
type stubbornStop struct {
	*executortest.Memory
	stops atomic.Int32
}

func (s *stubbornStop) Stop(context.Context, scheduler.TryKey, string) error {
	s.stops.Add(1)
	return nil
}

func TestTimeoutWaitsForTheStoppedTryWithoutSpinning(t *testing.T) {
	h := newHarness(t, map[string]string{"slow.yaml": "id: slow\ntasks:\n  - id: s\n    command: [sleep, \"30\"]\n    execution_timeout: 100ms\n"})
	ex := &stubbornStop{Memory: executortest.NewMemory(executortest.MemoryOptions{})}
	h.start(func(o *scheduler.Options) { o.Executor = ex })
	runID := h.trigger("slow")
	h.waitFor("the stop request", func() bool { return ex.stops.Load() > 0 })
	before := h.sched.Stats().Iterations
	time.Sleep(time.Second)
	// Idle, the loop wakes twice per heartbeat period (200ms here) and at
	// each sync (50ms): about 25 turns a second, not thousands.
	if turns := h.sched.Stats().Iterations - before; turns > 100 {
		t.Fatalf("%d loop turns in a second while waiting for a stopped try: the loop spins", turns)
	}
	if n := ex.stops.Load(); n != 1 {
		t.Fatalf("Stop called %d times, want once", n)
	}
	tk := scheduler.TryKey{TaskKey: scheduler.TaskKey{DAGID: "slow", RunID: runID, TaskID: "s"}, Try: 1}
	if err := ex.Finish(tk, 143); err != nil {
		t.Fatal(err)
	}
	h.waitRun("slow", runID)
	wantHistory(t, h.history("slow", runID, "s"), "→scheduled", "scheduled→queued", "queued→running",
		"running→failed: execution timeout 100ms exceeded (exit code 143")
}

// refusingStore fails CreateRun while refuse is set.
type refusingStore struct {
	scheduler.Store
	refuse  atomic.Bool
	refused atomic.Int32
}

func (s *refusingStore) CreateRun(ctx context.Context, run scheduler.Run, tis []scheduler.TaskInstance, reason string) (bool, error) {
	if s.refuse.Load() {
		s.refused.Add(1)
		return false, errors.New("database is locked")
	}
	return s.Store.CreateRun(ctx, run, tis, reason)
}

func TestFailingRunCreationBacksOff(t *testing.T) {
	h := newHarness(t, map[string]string{"tick.yaml": "id: tick\nschedule: \"@every 1s\"\nstart_date: 2020-01-01\ntasks:\n  - id: x\n    command: [\"true\"]\n"})
	st := &refusingStore{Store: h.store}
	st.refuse.Store(true)
	h.start(func(o *scheduler.Options) { o.Store = st })
	h.waitFor("a refused run", func() bool { return st.refused.Load() > 0 })
	time.Sleep(time.Second)
	if n := st.refused.Load(); n > 5 {
		t.Fatalf("CreateRun retried %d times in about a second: no backoff", n)
	}
	st.refuse.Store(false)
	h.waitFor("a run once the store accepts", func() bool {
		runs, err := h.store.ListRuns(h.ctx(), scheduler.RunFilter{DAGID: "tick"})
		return err == nil && len(runs) > 0
	})
}

// hangingAdopt is an executor whose Adopt never answers before its
// deadline, as an apiserver that stopped answering.
type hangingAdopt struct {
	*executortest.Memory
	asked atomic.Int32
}

func (h *hangingAdopt) Adopt(ctx context.Context, _ scheduler.TryKey, _ string) (scheduler.Observation, error) {
	h.asked.Add(1)
	<-ctx.Done()
	return scheduler.Observation{}, ctx.Err()
}

// TestResyncAgainstAHangingAPI: asking about many tries when nothing
// answers costs the loop one executor deadline, not one per try.
func TestResyncAgainstAHangingAPI(t *testing.T) {
	const tries = 8
	var tasks strings.Builder
	tasks.WriteString("id: many\ntasks:\n")
	for i := range tries {
		fmt.Fprintf(&tasks, "  - id: t%d\n    command: [sleep, \"60\"]\n", i)
	}
	h := newHarness(t, map[string]string{"many.yaml": tasks.String()})
	ex := &hangingAdopt{Memory: executortest.NewMemory(executortest.MemoryOptions{})}
	const deadline = 300 * time.Millisecond
	h.start(func(o *scheduler.Options) {
		o.Executor, o.ExecutorTimeout, o.ResyncInterval = ex, deadline, 200*time.Millisecond
	})
	h.trigger("many")
	h.waitFor("the resync to ask about every try", func() bool { return ex.asked.Load() >= tries })
	time.Sleep(2 * deadline) // let that turn finish
	// Asked one after another, the turn would take tries × deadline
	// (2.4s); asked together, one deadline.
	if longest := h.sched.Stats().MaxIteration; longest > 3*deadline {
		t.Fatalf("longest loop turn %s while the executor hung: the asks were not bounded together", longest)
	}
}
