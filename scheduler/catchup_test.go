package scheduler_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/scheduler"
)

// TestCatchupCapped runs a scheduler whose clock stands 60 hours after the
// start date of two hourly DAGs with catch-up, as after a scheduler down
// for two and a half days: 61 ticks each. Their tries hang until the test
// ends them. At no point are more of a DAG's runs active than its cap
// (the scheduler's MaxCatchupRuns, 3, or the DAG's max_catchup_runs, 2);
// the runs are created oldest first, the next ones as earlier ones end,
// until all 61 exist; the scheduler logs the throttling with the DAG, the
// ticks left and the cap, then the end of the catch-up; each catch-up
// run's record says how many ticks were due.
func TestCatchupCapped(t *testing.T) {
	start := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	now := start.Add(60 * time.Hour)
	const ticks = 61
	h := newHarness(t, map[string]string{
		"opt.yaml": "id: opt\nschedule: \"@hourly\"\nstart_date: 2026-11-28\ncatchup: true\n" +
			"tasks:\n  - id: x\n    command: [\"true\"]\n",
		"key.yaml": "id: key\nschedule: \"@hourly\"\nstart_date: 2026-11-28\ncatchup: true\nmax_catchup_runs: 2\nmax_active_runs: 32\n" +
			"tasks:\n  - id: x\n    command: [\"true\"]\n",
	})
	h.exec = executortest.NewMemory(executortest.MemoryOptions{Outcome: func(scheduler.Try) (executortest.Outcome, bool) {
		return executortest.Outcome{Hang: true}, true
	}})
	core, logs := observer.New(zapcore.InfoLevel)
	h.start(func(o *scheduler.Options) {
		o.Now = func() time.Time { return now }
		o.MaxCatchupRuns = 3
		o.Logger = zap.New(zapcore.NewTee(core, zaptest.NewLogger(t).Core()))
	})
	caps := map[string]int{"opt": 3, "key": 2}

	// check asserts that the DAG's runs are the oldest ticks, in order,
	// at most cap of them running, and returns how many there are.
	check := func(dagID string) (created, running int) {
		t.Helper()
		runs, err := h.store.ListRuns(h.ctx(), scheduler.RunFilter{DAGID: dagID})
		if err != nil {
			t.Fatal(err)
		}
		for i, run := range runs { // newest first
			if want := start.Add(time.Duration(len(runs)-1-i) * time.Hour); !run.LogicalDate.Equal(want) {
				t.Fatalf("%s: run %d of %d covers %v, want %v: catch-up runs are not made oldest first", dagID, i, len(runs), run.LogicalDate, want)
			}
			if run.State == scheduler.RunRunning {
				running++
			}
		}
		if running > caps[dagID] {
			t.Fatalf("%s has %d runs running, more than its catch-up cap %d", dagID, running, caps[dagID])
		}
		return len(runs), running
	}

	for dagID, limit := range caps {
		h.waitFor(dagID+" at its cap", func() bool { _, running := check(dagID); return running == limit })
	}
	// The loop turns many times (sync every 50ms) with every DAG at its
	// cap; none may go past it.
	time.Sleep(300 * time.Millisecond)
	for dagID, limit := range caps {
		if created, running := check(dagID); created != limit || running != limit {
			t.Fatalf("%s: %d runs created, %d running with all tries hanging; want %d, its cap", dagID, created, running, limit)
		}
	}

	// End the running tries, round after round, until every tick has a
	// run and every run ended.
	var mu sync.Mutex
	finished := map[scheduler.TryKey]bool{}
	h.waitFor("every tick's run to be created and end", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, k := range h.exec.Running() {
			if !finished[k] {
				finished[k] = true
				if err := h.exec.Finish(k, 0); err != nil {
					t.Fatal(err)
				}
			}
		}
		done := true
		for dagID := range caps {
			created, running := check(dagID)
			done = done && created == ticks && running == 0
		}
		return done
	})

	for dagID, limit := range caps {
		throttled := logs.FilterMessage("catch-up throttled: missed ticks wait for earlier runs to end").FilterField(zap.String("dag", dagID)).All()
		if len(throttled) != 1 {
			t.Errorf("%s: %d throttling log lines, want 1", dagID, len(throttled))
			continue
		}
		f := throttled[0].ContextMap()
		if f["cap"] != int64(limit) || f["ticks_left"] != "58" && f["ticks_left"] != "59" {
			// 61 ticks, cap 2 or 3 created: 59 or 58 left.
			t.Errorf("%s: throttling logged with %v; want cap %d and the ticks left", dagID, f, limit)
		}
		if n := logs.FilterMessage("catch-up done: no missed ticks left").FilterField(zap.String("dag", dagID)).Len(); n != 1 {
			t.Errorf("%s: %d catch-up done log lines, want 1", dagID, n)
		}
	}
	first := h.history("key", scheduler.ScheduledRunID(start), "x")
	if len(first) == 0 || !strings.Contains(first[0], "catch-up: 61 ticks due from this one, at most 2 runs active at once") {
		t.Errorf("the first catch-up run's record does not say how many ticks were due:\n%s", strings.Join(first, "\n"))
	}
	last := h.history("key", scheduler.ScheduledRunID(now), "x")
	if len(last) == 0 || strings.Contains(last[0], "catch-up") {
		t.Errorf("the run of the latest tick is recorded as a catch-up run:\n%s", strings.Join(last, "\n"))
	}
}

// slowCreateStore takes delay over every CreateRun, as a loaded database
// writing a run of hundreds of task instances does.
type slowCreateStore struct {
	scheduler.Store
	delay time.Duration
}

func (s slowCreateStore) CreateRun(ctx context.Context, run scheduler.Run, tis []scheduler.TaskInstance, reason string) (bool, error) {
	time.Sleep(s.delay)
	return s.Store.CreateRun(ctx, run, tis, reason)
}

// TestCatchupKeepsTheLoopBeating catches up a minute of @every 1s (61
// ticks) on a store that takes 100ms to create each run. One turn may
// create at most 32 runs of a DAG; at 100ms each that is 3.2s, five
// times the loop heartbeat's stale limit (3 × 200ms), and a scheduler
// only catching up would look stuck and be restarted by liveness (it
// happened: 32 runs of 400 tasks on a loaded machine). The loop stops a
// turn once it has spent a quarter of its period creating runs, so the
// heartbeat never goes stale while every tick still gets its run.
func TestCatchupKeepsTheLoopBeating(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	start := now.Add(-time.Minute)
	h := newHarness(t, map[string]string{
		"fast.yaml": "id: fast\nschedule: \"@every 1s\"\nstart_date: " + start.Format(time.RFC3339) +
			"\ncatchup: true\nmax_active_runs: 1000\nmax_catchup_runs: 1000\ntasks:\n  - id: x\n    command: [\"true\"]\n",
	})
	h.exec = executortest.NewMemory(executortest.MemoryOptions{Outcome: func(scheduler.Try) (executortest.Outcome, bool) {
		return executortest.Outcome{Hang: true}, true
	}})
	h.start(func(o *scheduler.Options) {
		o.Now = func() time.Time { return now }
		o.Store = slowCreateStore{Store: h.store, delay: 100 * time.Millisecond}
		o.MaxCatchupRuns = 1000
	})
	var worst time.Duration
	h.waitFor("all 61 catch-up runs", func() bool {
		for _, s := range h.wd.Snapshot() {
			if s.Name == "scheduler.loop" {
				worst = max(worst, s.Age)
				if s.Stale {
					t.Fatalf("the loop heartbeat went stale (%s) while catching up", s.Age)
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
		runs, err := h.store.ListRuns(h.ctx(), scheduler.RunFilter{DAGID: "fast"})
		return err == nil && len(runs) == 61
	})
	t.Logf("the loop heartbeat's oldest beat seen while catching up: %s", worst)
}
