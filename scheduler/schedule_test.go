package scheduler_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

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
