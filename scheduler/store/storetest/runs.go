package storetest

import (
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

func testCreateRun(t *testing.T, s scheduler.Store) {
	ctx := t.Context()
	if err := s.SaveDAG(ctx, dagRecord("etl")); err != nil {
		t.Fatalf("SaveDAG: %v", err)
	}
	run := newRun("etl", "scheduled__2026-03-01", t0, false)
	minimal := dag.TaskSpec{Command: []string{"true"}}
	tasks := []scheduler.TaskInstance{
		{TaskKey: key("etl", run.RunID, "extract"), Spec: richSpec()},
		{TaskKey: key("etl", run.RunID, "load"), Spec: minimal},
	}
	created, err := s.CreateRun(ctx, run, tasks, "schedule tick 2026-03-01")
	if err != nil || !created {
		t.Fatalf("CreateRun = %v, %v; want true, nil", created, err)
	}

	got, err := s.GetRun(ctx, "etl", run.RunID)
	if err != nil {
		t.Fatalf("GetRun: %v", err)
	}
	mustEqual(t, "GetRun", got, run)
	_, err = s.GetRun(ctx, "etl", "nope")
	mustBe(t, "GetRun(unknown)", err, scheduler.ErrNotFound)

	for _, task := range tasks {
		want := scheduler.TaskInstance{
			TaskKey: task.TaskKey, State: scheduler.StateScheduled, Spec: task.Spec,
			UpdatedAt: run.CreatedAt,
		}
		mustEqual(t, "instance "+task.TaskID, getTask(t, s, task.TaskKey), want)
		wantHist := []scheduler.Transition{{
			Key: task.TaskKey, From: "", To: scheduler.StateScheduled, At: run.CreatedAt, LastAt: run.CreatedAt,
			Actor: run.CreatedBy, Reason: "schedule tick 2026-03-01",
		}}
		hist := history(t, s, task.TaskKey)
		if len(hist) == 1 {
			wantHist[0].Seq = hist[0].Seq
		}
		mustEqual(t, "history of "+task.TaskID, hist, wantHist)
	}
}

func testCreateRunExisting(t *testing.T, s scheduler.Store) {
	ctx := t.Context()
	run := newRun("etl", "manual__1", t0, true)
	createRun(t, s, run, "extract")
	k := key("etl", run.RunID, "extract")
	before, beforeHist := getTask(t, s, k), history(t, s, k)

	again := run
	again.Manual = false
	again.CreatedAt = t0.Add(time.Hour)
	tasks := []scheduler.TaskInstance{
		{TaskKey: k, Spec: dag.TaskSpec{Command: []string{"other"}}},
		{TaskKey: key("etl", run.RunID, "extra"), Spec: richSpec()},
	}
	created, err := s.CreateRun(ctx, again, tasks, "triggered twice")
	if err != nil || created {
		t.Fatalf("CreateRun of an existing run = %v, %v; want false, nil", created, err)
	}
	got, err := s.GetRun(ctx, "etl", run.RunID)
	if err != nil {
		t.Fatalf("GetRun: %v", err)
	}
	mustEqual(t, "run after second CreateRun", got, run)
	mustEqual(t, "instance after second CreateRun", getTask(t, s, k), before)
	mustEqual(t, "history after second CreateRun", history(t, s, k), beforeHist)
	_, err = s.GetTaskInstance(ctx, key("etl", run.RunID, "extra"))
	mustBe(t, "instance added by second CreateRun", err, scheduler.ErrNotFound)
}

func testCreateRunUnknownDAG(t *testing.T, s scheduler.Store) {
	run := newRun("ghost", "r1", t0, true)
	tasks := []scheduler.TaskInstance{{TaskKey: key("ghost", "r1", "t"), Spec: richSpec()}}
	created, err := s.CreateRun(t.Context(), run, tasks, "triggered")
	if created {
		t.Errorf("CreateRun for an unknown DAG reported created")
	}
	mustBe(t, "CreateRun(unknown DAG)", err, scheduler.ErrNotFound)
}

func testRunTimesUTC(t *testing.T, s scheduler.Store) {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	run := newRun("etl", "r1", t0.In(zone), false)
	run.CreatedAt = run.CreatedAt.In(zone)
	createRun(t, s, run)
	got, err := s.GetRun(t.Context(), "etl", "r1")
	if err != nil {
		t.Fatalf("GetRun: %v", err)
	}
	mustEqual(t, "LogicalDate", got.LogicalDate, t0)
	mustEqual(t, "CreatedAt", got.CreatedAt, run.CreatedAt.UTC())
}

// seedRuns creates the runs the listing tests read: DAG a has two scheduled
// runs and a later manual one, DAG b one scheduled run; a's first run
// succeeded.
func seedRuns(t *testing.T, s scheduler.Store) map[string]scheduler.Run {
	runs := map[string]scheduler.Run{
		"a/r1": newRun("a", "r1", t0, false),
		"a/r2": newRun("a", "r2", t0.Add(time.Hour), false),
		"a/m1": newRun("a", "m1", t0.Add(2*time.Hour), true),
		"b/r1": newRun("b", "r1", t0.Add(30*time.Minute), false),
	}
	for _, name := range []string{"a/r1", "a/r2", "a/m1", "b/r1"} {
		createRun(t, s, runs[name], "t")
	}
	end := t0.Add(10 * time.Minute)
	if err := s.SetRunState(t.Context(), "a", "r1", scheduler.RunSuccess, end); err != nil {
		t.Fatalf("SetRunState: %v", err)
	}
	r := runs["a/r1"]
	r.State, r.EndedAt = scheduler.RunSuccess, end
	runs["a/r1"] = r
	return runs
}

func testListRuns(t *testing.T, s scheduler.Store) {
	runs := seedRuns(t, s)
	tests := []struct {
		name   string
		filter scheduler.RunFilter
		want   []string
	}{
		{"all", scheduler.RunFilter{}, []string{"a/m1", "a/r2", "b/r1", "a/r1"}},
		{"dag", scheduler.RunFilter{DAGID: "a"}, []string{"a/m1", "a/r2", "a/r1"}},
		{"state", scheduler.RunFilter{States: []scheduler.RunState{scheduler.RunSuccess}}, []string{"a/r1"}},
		{"dag and states", scheduler.RunFilter{DAGID: "a", States: []scheduler.RunState{scheduler.RunRunning, scheduler.RunFailed}}, []string{"a/m1", "a/r2"}},
		{"limit", scheduler.RunFilter{Limit: 2}, []string{"a/m1", "a/r2"}},
		{"dag and limit", scheduler.RunFilter{DAGID: "b", Limit: 5}, []string{"b/r1"}},
		{"no match", scheduler.RunFilter{DAGID: "c"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListRuns(t.Context(), tt.filter)
			if err != nil {
				t.Fatalf("ListRuns: %v", err)
			}
			var want []scheduler.Run
			for _, name := range tt.want {
				want = append(want, runs[name])
			}
			if len(got) == 0 && len(want) == 0 {
				return
			}
			mustEqual(t, "ListRuns", got, want)
		})
	}
}

func testLatestScheduledRun(t *testing.T, s scheduler.Store) {
	runs := seedRuns(t, s)
	ctx := t.Context()
	for _, tt := range []struct{ dag, want string }{{"a", "a/r2"}, {"b", "b/r1"}} {
		got, err := s.LatestScheduledRun(ctx, tt.dag)
		if err != nil {
			t.Fatalf("LatestScheduledRun(%s): %v", tt.dag, err)
		}
		mustEqual(t, "LatestScheduledRun("+tt.dag+")", got, runs[tt.want])
	}
	createRun(t, s, newRun("c", "m1", t0, true), "t")
	_, err := s.LatestScheduledRun(ctx, "c")
	mustBe(t, "LatestScheduledRun of a DAG with only manual runs", err, scheduler.ErrNotFound)
}

func testSetRunState(t *testing.T, s scheduler.Store) {
	ctx := t.Context()
	createRun(t, s, newRun("a", "r1", t0, false), "t")
	end := t0.Add(time.Hour)
	steps := []struct {
		state     scheduler.RunState
		wantEnded time.Time
	}{
		{scheduler.RunFailed, end},
		{scheduler.RunRunning, time.Time{}},
		{scheduler.RunSuccess, end},
	}
	for _, st := range steps {
		if err := s.SetRunState(ctx, "a", "r1", st.state, end); err != nil {
			t.Fatalf("SetRunState(%s): %v", st.state, err)
		}
		got, err := s.GetRun(ctx, "a", "r1")
		if err != nil {
			t.Fatalf("GetRun: %v", err)
		}
		if got.State != st.state || !got.EndedAt.Equal(st.wantEnded) {
			t.Errorf("after SetRunState(%s): state %s, ended %v; want %s, %v", st.state, got.State, got.EndedAt, st.state, st.wantEnded)
		}
	}
	err := s.SetRunState(ctx, "a", "nope", scheduler.RunFailed, end)
	mustBe(t, "SetRunState(unknown)", err, scheduler.ErrNotFound)
}
