package scheduler_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/scheduler"
)

func TestScheduledRuns(t *testing.T) {
	start := time.Now().UTC().Add(-5 * time.Second).Truncate(time.Second)
	h := newHarness(t, map[string]string{
		// catch-up: a run for each of the missed seconds since start_date.
		"catchup.yaml": fmt.Sprintf("id: catchup\nschedule: \"@every 1s\"\nstart_date: %s\ncatchup: true\ntasks:\n  - id: x\n    command: [\"true\"]\n", start.Format(time.RFC3339)),
		// no catch-up, start date long ago: only the latest tick runs.
		"latest.yaml": "id: latest\nschedule: \"@every 1s\"\nstart_date: 2020-01-01\ntasks:\n  - id: x\n    command: [\"true\"]\n",
	})
	h.start(nil)
	h.waitFor("catch-up runs", func() bool {
		runs, err := h.store.ListRuns(h.ctx(), scheduler.RunFilter{DAGID: "catchup"})
		return err == nil && len(runs) >= 6
	})
	runs, err := h.store.ListRuns(h.ctx(), scheduler.RunFilter{DAGID: "catchup"})
	if err != nil {
		t.Fatal(err)
	}
	oldest := runs[len(runs)-1]
	if !oldest.LogicalDate.Equal(start) || oldest.RunID != scheduler.ScheduledRunID(start) || oldest.Manual {
		t.Errorf("oldest catch-up run %s at %v, want the start date %v", oldest.RunID, oldest.LogicalDate, start)
	}
	for i := 1; i < len(runs); i++ {
		if gap := runs[i-1].LogicalDate.Sub(runs[i].LogicalDate); gap != time.Second {
			t.Errorf("runs %s and %s are %v apart, want 1s: a tick was skipped or doubled", runs[i].RunID, runs[i-1].RunID, gap)
		}
	}

	h.waitFor("a run of latest", func() bool {
		runs, err := h.store.ListRuns(h.ctx(), scheduler.RunFilter{DAGID: "latest"})
		return err == nil && len(runs) >= 1
	})
	runs, err = h.store.ListRuns(h.ctx(), scheduler.RunFilter{DAGID: "latest"})
	if err != nil {
		t.Fatal(err)
	}
	if first := runs[len(runs)-1]; time.Since(first.LogicalDate) > 10*time.Second {
		t.Errorf("without catch-up the first run covers %v; want the latest tick, not the start date", first.LogicalDate)
	}
}

func TestPausedDAGGetsNoRuns(t *testing.T) {
	h := newHarness(t, map[string]string{"p.yaml": "id: p\nschedule: \"@every 1s\"\ntasks:\n  - id: x\n    command: [\"true\"]\n"})
	h.start(nil)
	h.waitFor("dag loaded", func() bool { _, err := h.store.GetDAG(h.ctx(), "p"); return err == nil })
	if err := h.store.SetDAGPaused(h.ctx(), "p", true); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let the loop see the flag
	before, err := h.store.ListRuns(h.ctx(), scheduler.RunFilter{DAGID: "p"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond)
	after, err := h.store.ListRuns(h.ctx(), scheduler.RunFilter{DAGID: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("paused DAG got %d new runs", len(after)-len(before))
	}
}

func TestShutdownDrainStopsAndRecords(t *testing.T) {
	h := newHarness(t, map[string]string{"s.yaml": "id: s\ntasks:\n  - id: x\n    command: [sleep, \"30\"]\n"})
	h.start(func(o *scheduler.Options) { o.StopTasksOnShutdown = true })
	runID := h.trigger("s")
	h.waitFor("x running", func() bool { return h.task("s", runID, "x").State == scheduler.StateRunning })
	if err := h.stop(); err != nil {
		t.Fatalf("Run returned %v on a clean cancel, want nil", err)
	}
	wantHistory(t, h.history("s", runID, "x"),
		"→scheduled", "scheduled→queued", "queued→running",
		"running→up_for_retry: stopped: scheduler shutting down (",
	)
	hbs, err := h.store.ListHeartbeats(h.ctx())
	if err != nil || len(hbs) != 1 || hbs[0].StoppedAt.IsZero() {
		t.Fatalf("heartbeats after a clean stop = %+v (%v), want one marked stopped", hbs, err)
	}
}

func TestDAGFolderChanges(t *testing.T) {
	h := newHarness(t, map[string]string{
		"good.yaml":   "id: good\ntasks:\n  - id: x\n    command: [\"true\"]\n",
		"broken.yaml": "id: broken\ntasks:\n  - id: x\n    command: [\"true\"]\n    depends_on: [nope]\n",
	})
	h.start(nil)
	runID := h.trigger("good") // the broken file does not stop the good one
	h.waitRun("good", runID)
	errs, err := h.store.ListLoadErrors(h.ctx())
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || !strings.HasSuffix(errs[0].File, "broken.yaml") || !strings.Contains(errs[0].Message, "nope") {
		t.Fatalf("load errors = %+v, want one for broken.yaml naming the unknown dependency", errs)
	}

	// Fixing the file clears its error and loads the DAG.
	h.writeDAG("broken.yaml", "id: broken\ntasks:\n  - id: x\n    command: [\"true\"]\n")
	h.waitFor("the fixed DAG to load", func() bool {
		errs, err := h.store.ListLoadErrors(h.ctx())
		_, gerr := h.store.GetDAG(h.ctx(), "broken")
		return err == nil && len(errs) == 0 && gerr == nil
	})

	// Breaking a loaded DAG keeps its last good version runnable.
	h.writeDAG("good.yaml", "id: good\ntasks: [\n")
	h.waitFor("the error to show", func() bool {
		errs, err := h.store.ListLoadErrors(h.ctx())
		return err == nil && len(errs) == 1
	})
	if rec, err := h.store.GetDAG(h.ctx(), "good"); err != nil || rec.Missing {
		t.Fatalf("broken file's DAG: %+v %v, want it kept", rec, err)
	}
	h.waitRun("good", h.trigger("good"))

	// Removing a file marks its DAG missing.
	h.removeDAG("broken.yaml")
	h.waitFor("broken marked missing", func() bool {
		rec, err := h.store.GetDAG(h.ctx(), "broken")
		return err == nil && rec.Missing
	})
}

func TestStoreHeartbeat(t *testing.T) {
	h := newHarness(t, nil)
	h.start(nil)
	h.waitFor("a heartbeat row", func() bool {
		hbs, err := h.store.ListHeartbeats(h.ctx())
		return err == nil && len(hbs) == 1 && hbs[0].Component == "scheduler" && hbs[0].Instance == h.sched.Instance()
	})
	time.Sleep(time.Second) // idle: no DAGs, no events; the loop must still beat
	for _, s := range h.wd.Snapshot() {
		if s.Stale {
			t.Errorf("heartbeat %s is stale while the loop is idle", s.Name)
		}
	}
}

// TestZonedScheduleAcrossFallBack runs a scheduler whose clock stands just
// after Europe/Berlin's change back from summer time (2026-10-25, 03:00
// CEST becomes 02:00 CET at 01:00 UTC), with two DAGs in that zone that
// catch up from before it: an hourly one gets a run for every real hour,
// both 02:00s included, and a daily 02:30 one runs once on that day. Each
// try is given its run's logical date and data interval.
func TestZonedScheduleAcrossFallBack(t *testing.T) {
	now := time.Date(2026, 10, 26, 2, 0, 0, 0, time.UTC)
	h := newHarness(t, map[string]string{
		"hourly.yaml": "id: hourly\nschedule: \"@hourly\"\ntimezone: Europe/Berlin\nstart_date: 2026-10-24T22:00:00+02:00\ncatchup: true\nmax_active_runs: 64\n" +
			"tasks:\n  - id: x\n    command: [\"true\"]\n",
		"daily.yaml": "id: daily\nschedule: \"30 2 * * *\"\ntimezone: Europe/Berlin\nstart_date: 2026-10-24\ncatchup: true\n" +
			"tasks:\n  - id: x\n    command: [\"true\"]\n",
	})
	var mu sync.Mutex
	dates := map[string]scheduler.RunDates{}
	h.exec = executortest.NewMemory(executortest.MemoryOptions{Outcome: func(tr scheduler.Try) (executortest.Outcome, bool) {
		mu.Lock()
		defer mu.Unlock()
		dates[tr.Key.DAGID+" "+tr.Key.RunID] = tr.Dates
		return executortest.Outcome{}, false
	}})
	h.start(func(o *scheduler.Options) { o.Now = func() time.Time { return now } })

	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// The hourly DAG starts at 2026-10-24T20:00Z, so it has 31 ticks up to
	// now, one an hour; these are the ones around the change.
	want := map[string][2]string{ // run id: interval start, end
		"hourly scheduled__2026-10-25T00:00:00Z": {"2026-10-24T23:00:00Z", "2026-10-25T00:00:00Z"}, // 02:00 CEST
		"hourly scheduled__2026-10-25T01:00:00Z": {"2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z"}, // 02:00 CET
		"hourly scheduled__2026-10-25T02:00:00Z": {"2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"}, // 03:00 CET
		"daily scheduled__2026-10-25T00:30:00Z":  {"2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z"}, // the first 02:30
		"daily scheduled__2026-10-26T01:30:00Z":  {"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}, // a 25-hour day
	}
	h.waitFor("the catch-up tries", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for k := range want {
			if _, ok := dates[k]; !ok {
				return false
			}
		}
		return true
	})
	mu.Lock()
	for k, w := range want {
		_, runID, _ := strings.Cut(k, " ")
		got := dates[k]
		logical := utc(strings.TrimPrefix(runID, "scheduled__"))
		if !got.LogicalDate.Equal(logical) || !got.IntervalStart.Equal(utc(w[0])) || !got.IntervalEnd.Equal(utc(w[1])) {
			t.Errorf("%s: dates %+v, want logical date %v and interval [%s, %s)", k, got, logical, w[0], w[1])
		}
	}
	mu.Unlock()

	for dagID, n := range map[string]int{"hourly": 31, "daily": 3} {
		h.waitFor("all runs of "+dagID, func() bool {
			runs, err := h.store.ListRuns(h.ctx(), scheduler.RunFilter{DAGID: dagID})
			return err == nil && len(runs) >= n
		})
		runs, err := h.store.ListRuns(h.ctx(), scheduler.RunFilter{DAGID: dagID})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != n {
			t.Errorf("%s has %d runs, want %d", dagID, len(runs), n)
		}
		for i := 1; i < len(runs); i++ {
			if dagID == "hourly" && runs[i-1].LogicalDate.Sub(runs[i].LogicalDate) != time.Hour {
				t.Errorf("hourly runs %s and %s are not an hour apart: a tick was skipped or doubled", runs[i].RunID, runs[i-1].RunID)
			}
		}
	}

	runID, err := h.sched.Trigger(h.ctx(), "daily")
	if err != nil {
		t.Fatal(err)
	}
	h.waitFor("the manual try", func() bool {
		mu.Lock()
		defer mu.Unlock()
		_, ok := dates["daily "+runID]
		return ok
	})
	mu.Lock()
	if got := dates["daily "+runID]; !got.LogicalDate.Equal(now) || !got.IntervalStart.Equal(now) || !got.IntervalEnd.Equal(now) {
		t.Errorf("manual run %s: dates %+v, want the trigger time %v for all three", runID, got, now)
	}
	mu.Unlock()
}
