package scheduler_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/scheduler"
)

const dailyDAG = `
id: daily
schedule: "0 0 * * *"
catchup: false
start_date: 2026-11-01T00:00:00Z
tasks:
  - id: work
    command: [work]
`

func day(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }

// maxOverlap is the most runs whose [created, ended) intervals overlap.
func maxOverlap(runs []scheduler.Run) int {
	most := 0
	for _, r := range runs {
		n := 0
		for _, o := range runs {
			if !o.CreatedAt.After(r.CreatedAt) && o.EndedAt.After(r.CreatedAt) {
				n++
			}
		}
		most = max(most, n)
	}
	return most
}

// TestBackfill: a backfill of five daily ticks creates their scheduled
// runs oldest first, never more than two running at once, each task sees
// its tick as its logical date; the tick that failed is run again by
// --reprocess failed alone; --reprocess none leaves every run; the whole
// range with --reprocess all clears every run.
func TestBackfill(t *testing.T) {
	h := newHarness(t, map[string]string{"daily.yaml": dailyDAG})
	h.exec = executortest.NewMemory(executortest.MemoryOptions{Outcome: func(tr scheduler.Try) (executortest.Outcome, bool) {
		if tr.Dates.LogicalDate.Equal(day(3)) && tr.Key.Try == 1 {
			return executortest.Outcome{ExitCode: 1, Duration: 100 * time.Millisecond}, true
		}
		return executortest.Outcome{Duration: 100 * time.Millisecond}, true
	}})
	h.start(nil)
	h.trigger("daily") // waits for the DAG to load; a manual run, not in the range
	req := scheduler.BackfillRequest{DAGID: "daily", From: day(1), To: day(5), MaxActiveRuns: 2, Actor: operator, Reason: "test"}
	var started []string
	opts := scheduler.BackfillOptions{Poll: 20 * time.Millisecond, Progress: func(it scheduler.BackfillItem) {
		if it.State == "" {
			started = append(started, it.Tick.Format("01-02"))
		}
	}}
	items, err := scheduler.Backfill(h.ctx(), h.store, req, opts)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"11-01", "11-02", "11-03", "11-04", "11-05"}; !slices.Equal(started, want) {
		t.Fatalf("started %v; want %v, oldest first", started, want)
	}
	for _, it := range items {
		want := scheduler.RunSuccess
		if it.Tick.Equal(day(3)) {
			want = scheduler.RunFailed
		}
		if it.Action != scheduler.BackfillCreate || it.State != want || it.RunID != scheduler.ScheduledRunID(it.Tick) {
			t.Errorf("item %+v; want created %s, ended %s", it, scheduler.ScheduledRunID(it.Tick), want)
		}
	}
	runs, err := h.store.ListRuns(h.ctx(), scheduler.RunFilter{DAGID: "daily"})
	if err != nil {
		t.Fatal(err)
	}
	var backfilled []scheduler.Run
	for _, r := range runs {
		if !r.Manual && !r.LogicalDate.After(day(5)) { // not the latest tick the schedule ran
			backfilled = append(backfilled, r)
		}
	}
	if len(backfilled) != 5 {
		t.Fatalf("%d scheduled runs; want 5", len(backfilled))
	}
	if n := maxOverlap(backfilled); n > 2 {
		t.Errorf("%d backfill runs ran at once; want at most 2", n)
	}

	// --reprocess failed: only the failed tick runs again.
	before := len(h.exec.Started())
	req.Reprocess = scheduler.ReprocessFailed
	items, err = scheduler.Backfill(h.ctx(), h.store, req, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		switch {
		case it.Tick.Equal(day(3)):
			if it.Action != scheduler.BackfillClearFailed || it.State != scheduler.RunSuccess {
				t.Errorf("failed tick: %+v; want cleared, ended success", it)
			}
		case it.Action != scheduler.BackfillSkip || !strings.Contains(it.Why, "run exists (success)"):
			t.Errorf("item %+v; want skipped, its run exists", it)
		}
	}
	if n := len(h.exec.Started()) - before; n != 1 {
		t.Errorf("%d tries started by --reprocess failed; want 1", n)
	}
	if ti := h.task("daily", scheduler.ScheduledRunID(day(3)), "work"); ti.Try != 2 || ti.State != scheduler.StateSuccess {
		t.Errorf("work of 11-03: %s at try %d; want success at try 2", ti.State, ti.Try)
	}

	// --reprocess none: nothing to run.
	before = len(h.exec.Started())
	req.Reprocess = scheduler.ReprocessNone
	if _, err := scheduler.Backfill(h.ctx(), h.store, req, opts); err != nil {
		t.Fatal(err)
	}
	// --reprocess all over a shorter range: each run again.
	req.Reprocess, req.From, req.To = scheduler.ReprocessAll, day(4), day(5)
	if _, err := scheduler.Backfill(h.ctx(), h.store, req, opts); err != nil {
		t.Fatal(err)
	}
	if n := len(h.exec.Started()) - before; n != 2 {
		t.Errorf("%d tries started by none then all over 2 days; want 2", n)
	}
}

// TestPlanBackfillRefuses: bad ranges, unscheduled DAGs and unknown
// reprocess values are refused with what to do.
func TestPlanBackfillRefuses(t *testing.T) {
	rec := scheduler.DAGRecord{ID: "daily", Source: []byte(dailyDAG)}
	for _, tc := range []struct {
		name string
		rec  scheduler.DAGRecord
		req  scheduler.BackfillRequest
		want string
	}{
		{"reversed", rec, scheduler.BackfillRequest{From: day(5), To: day(1)}, "is before --from"},
		{"reprocess", rec, scheduler.BackfillRequest{From: day(1), To: day(5), Reprocess: "some"}, "use none, failed or all"},
		{"no tick", rec, scheduler.BackfillRequest{From: day(1).Add(time.Hour), To: day(1).Add(2 * time.Hour)}, "no tick of"},
		{"too many", scheduler.DAGRecord{ID: "m", Source: []byte("id: m\nschedule: '* * * * *'\n")},
			scheduler.BackfillRequest{From: day(1), To: day(30)}, "more than 10000 ticks"},
		{"unscheduled", scheduler.DAGRecord{ID: "u", Source: []byte("id: u\n")}, scheduler.BackfillRequest{From: day(1), To: day(5)}, "has no schedule"},
	} {
		if _, err := scheduler.PlanBackfill(tc.rec, tc.req, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", tc.name, err, tc.want)
		}
	}
}
