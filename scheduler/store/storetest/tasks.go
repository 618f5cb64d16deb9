package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
)

func testListTaskInstances(t *testing.T, s scheduler.Store) {
	createRun(t, s, newRun("b", "r1", t0, false), "t1")
	createRun(t, s, newRun("a", "r2", t0.Add(time.Hour), false), "t1")
	createRun(t, s, newRun("a", "r1", t0, false), "t3", "t1", "t2")
	applyOK(t, s, change(key("a", "r1", "t2"), scheduler.StateScheduled, scheduler.StateQueued, t0, schedulerActor))
	applyOK(t, s, change(key("b", "r1", "t1"), scheduler.StateScheduled, scheduler.StateSkipped, t0, schedulerActor))

	S, Q, K := scheduler.StateScheduled, scheduler.StateQueued, scheduler.StateSkipped
	tests := []struct {
		name   string
		filter scheduler.TaskFilter
		want   []string
	}{
		{"all", scheduler.TaskFilter{}, []string{"a/r1/t1", "a/r1/t2", "a/r1/t3", "a/r2/t1", "b/r1/t1"}},
		{"dag", scheduler.TaskFilter{DAGID: "a"}, []string{"a/r1/t1", "a/r1/t2", "a/r1/t3", "a/r2/t1"}},
		{"dag and run", scheduler.TaskFilter{DAGID: "a", RunID: "r1"}, []string{"a/r1/t1", "a/r1/t2", "a/r1/t3"}},
		{"run of any dag", scheduler.TaskFilter{RunID: "r1"}, []string{"a/r1/t1", "a/r1/t2", "a/r1/t3", "b/r1/t1"}},
		{"state", scheduler.TaskFilter{States: []scheduler.State{Q}}, []string{"a/r1/t2"}},
		{"states", scheduler.TaskFilter{States: []scheduler.State{Q, K}}, []string{"a/r1/t2", "b/r1/t1"}},
		{"dag and state", scheduler.TaskFilter{DAGID: "a", States: []scheduler.State{S}}, []string{"a/r1/t1", "a/r1/t3", "a/r2/t1"}},
		{"no match", scheduler.TaskFilter{DAGID: "b", States: []scheduler.State{Q}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tis, err := s.ListTaskInstances(t.Context(), tt.filter)
			if err != nil {
				t.Fatalf("ListTaskInstances: %v", err)
			}
			var got []string
			for _, ti := range tis {
				got = append(got, ti.TaskKey.String())
				mustEqual(t, "instance "+ti.TaskKey.String(), ti, getTask(t, s, ti.TaskKey))
			}
			mustEqual(t, "keys", got, tt.want)
		})
	}
}

func testUnknownTask(t *testing.T, s scheduler.Store) {
	createRun(t, s, newRun("etl", "r1", t0, false), "a")
	k := key("etl", "r1", "ghost")
	_, err := s.GetTaskInstance(t.Context(), k)
	mustBe(t, "GetTaskInstance(unknown)", err, scheduler.ErrNotFound)
	_, err = s.History(t.Context(), k)
	mustBe(t, "History(unknown)", err, scheduler.ErrNotFound)
}

func testHeartbeats(t *testing.T, s scheduler.Store) {
	ctx := t.Context()
	sched := scheduler.HeartbeatRecord{
		Component: "scheduler", Instance: "host-a:4242", Host: "host-a", PID: 4242,
		Period: 5 * time.Second, LastBeat: t0, StartedAt: t0.Add(-time.Hour),
	}
	exec := scheduler.HeartbeatRecord{
		Component: "executor/local", Instance: "host-a:4242", Host: "host-a", PID: 4242,
		Period: 2500 * time.Millisecond, LastBeat: t0, StartedAt: t0.Add(-time.Hour),
	}
	other := sched
	other.Instance, other.Host, other.PID = "host-b:7", "host-b", 7
	other.StoppedAt = t0.Add(time.Minute) // a process that stopped cleanly
	for _, hb := range []scheduler.HeartbeatRecord{sched, exec, other} {
		if err := s.WriteHeartbeat(ctx, hb); err != nil {
			t.Fatalf("WriteHeartbeat: %v", err)
		}
	}
	sched.LastBeat = t0.Add(5 * time.Second)
	if err := s.WriteHeartbeat(ctx, sched); err != nil {
		t.Fatalf("WriteHeartbeat: %v", err)
	}
	got, err := s.ListHeartbeats(ctx)
	if err != nil {
		t.Fatalf("ListHeartbeats: %v", err)
	}
	mustEqual(t, "ListHeartbeats", got, []scheduler.HeartbeatRecord{exec, sched, other})
}

// testCancelledContext checks that every call with a cancelled context
// returns, with the context's error, instead of going ahead or hanging.
func testCancelledContext(t *testing.T, s scheduler.Store) {
	createRun(t, s, newRun("etl", "r1", t0, false), "a")
	k := key("etl", "r1", "a")
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"SaveDAG", func(ctx context.Context) error { return s.SaveDAG(ctx, dagRecord("x")) }},
		{"SetDAGMissing", func(ctx context.Context) error { return s.SetDAGMissing(ctx, "etl", true) }},
		{"SetDAGPaused", func(ctx context.Context) error { return s.SetDAGPaused(ctx, "etl", true) }},
		{"GetDAG", func(ctx context.Context) error { _, err := s.GetDAG(ctx, "etl"); return err }},
		{"ListDAGs", func(ctx context.Context) error { _, err := s.ListDAGs(ctx); return err }},
		{"ListDAGHeads", func(ctx context.Context) error { _, err := s.ListDAGHeads(ctx); return err }},
		{"SetLoadErrors", func(ctx context.Context) error {
			return s.SetLoadErrors(ctx, []scheduler.LoadError{{File: "f", Message: "m", Since: t0}})
		}},
		{"ListLoadErrors", func(ctx context.Context) error { _, err := s.ListLoadErrors(ctx); return err }},
		{"CreateRun", func(ctx context.Context) error {
			_, err := s.CreateRun(ctx, newRun("etl", "r2", t0, true),
				[]scheduler.TaskInstance{{TaskKey: key("etl", "r2", "a"), Spec: richSpec()}}, "triggered")
			return err
		}},
		{"GetRun", func(ctx context.Context) error { _, err := s.GetRun(ctx, "etl", "r1"); return err }},
		{"ListRuns", func(ctx context.Context) error { _, err := s.ListRuns(ctx, scheduler.RunFilter{}); return err }},
		{"LatestScheduledRun", func(ctx context.Context) error { _, err := s.LatestScheduledRun(ctx, "etl"); return err }},
		{"SetRunState", func(ctx context.Context) error {
			return s.SetRunState(ctx, "etl", "r1", scheduler.RunFailed, t0)
		}},
		{"GetTaskInstance", func(ctx context.Context) error { _, err := s.GetTaskInstance(ctx, k); return err }},
		{"ListTaskInstances", func(ctx context.Context) error {
			_, err := s.ListTaskInstances(ctx, scheduler.TaskFilter{})
			return err
		}},
		{"Apply", func(ctx context.Context) error {
			_, err := s.Apply(ctx, []scheduler.Change{change(k, scheduler.StateScheduled, scheduler.StateQueued, t0, schedulerActor)})
			return err
		}},
		{"History", func(ctx context.Context) error { _, err := s.History(ctx, k); return err }},
		{"WriteHeartbeat", func(ctx context.Context) error {
			return s.WriteHeartbeat(ctx, scheduler.HeartbeatRecord{Component: "c", Instance: "i", LastBeat: t0})
		}},
		{"ListHeartbeats", func(ctx context.Context) error { _, err := s.ListHeartbeats(ctx); return err }},
	}
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { done <- tt.call(cancelled(t)) }()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("%s with a cancelled context: %v; want an error wrapping context.Canceled", tt.name, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s with a cancelled context has not returned after 10s", tt.name)
			}
		})
	}
	// Nothing the cancelled calls asked for happened.
	if ti := getTask(t, s, k); ti.State != scheduler.StateScheduled {
		t.Errorf("instance is %s after a cancelled Apply; want scheduled", ti.State)
	}
	if rec, err := s.GetDAG(t.Context(), "etl"); err != nil || rec.Paused || rec.Missing {
		t.Errorf("GetDAG after cancelled updates = %+v, %v; want unpaused, not missing", rec, err)
	}
}
