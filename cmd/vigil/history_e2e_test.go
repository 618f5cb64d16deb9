package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
	"github.com/vigilhq/vigil/scheduler/store/sqlite"
)

// TestHistoryShowsRepeats: a failing submit's requeues, collapsed by the
// store, read as one line each with their count and last time, and as
// repeats and last_at in JSON.
func TestHistoryShowsRepeats(t *testing.T) {
	e := newEnv(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := sqlite.Open(ctx, e.db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec := scheduler.DAGRecord{ID: "sub", File: "sub.yaml", Source: []byte("id: sub\n"),
		Specs: map[string]dag.TaskSpec{"x": {Command: []string{"true"}}}, UpdatedAt: time.Now()}
	if err := st.SaveDAG(ctx, rec); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.Local)
	run, tis, err := scheduler.NewRun(rec, "r1", t0, true, scheduler.Actor{Component: "test"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	// The run has ended, so the scheduler the commands ask leaves it as
	// written here.
	run.State, run.EndedAt = scheduler.RunSuccess, t0.Add(time.Minute)
	if _, err := st.CreateRun(ctx, run, tis, "triggered by test"); err != nil {
		t.Fatal(err)
	}
	k := tis[0].TaskKey
	actor := scheduler.Actor{Component: "scheduler", Instance: "vm:1"}
	step := func(sec int, from, to scheduler.State, reason string) {
		t.Helper()
		res, err := st.Apply(ctx, []scheduler.Change{{Key: k, From: from, To: to, Actor: actor,
			At: t0.Add(time.Duration(sec) * time.Second), Reason: reason}})
		if err == nil {
			err = res[0].Err
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	S, Q := scheduler.StateScheduled, scheduler.StateQueued
	step(1, S, Q, "no dependencies")
	for i := range 3 {
		step(2+2*i, Q, S, "submit of try 1 failed: connection reset by peer; requeued, next attempt in 2s")
		step(3+2*i, S, Q, "submitting try 1 again")
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// The commands read through the API of a running scheduler.
	e.start()

	out := e.mustVigil("tasks", "history", "sub", "r1", "x")
	for _, want := range []string{
		"connection reset by peer; requeued, next attempt in 2s (×3, last 12:00:06)",
		"submitting try 1 again (×3, last 12:00:07)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("history does not show %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "submitting try 1 again"); n != 1 {
		t.Errorf("the resubmit shows on %d lines, want 1:\n%s", n, out)
	}
	var got struct {
		Transitions []struct {
			Repeats int       `json:"repeats"`
			At      time.Time `json:"at"`
			LastAt  time.Time `json:"last_at"`
		} `json:"transitions"`
	}
	js := e.mustVigil("tasks", "history", "sub", "r1", "x", "-o", "json")
	if err := json.Unmarshal([]byte(js), &got); err != nil {
		t.Fatalf("%v:\n%s", err, js)
	}
	var lines []string
	for _, r := range got.Transitions {
		if r.LastAt.IsZero() {
			r.LastAt = r.At // the API leaves out last_at of a record that happened once
		}
		lines = append(lines, fmt.Sprintf("%d %s %s", r.Repeats, r.At.Sub(t0), r.LastAt.Sub(t0)))
	}
	if want := "0 0s 0s|0 1s 1s|2 2s 6s|2 3s 7s"; strings.Join(lines, "|") != want {
		t.Errorf("JSON repeats and times %q, want %q:\n%s", strings.Join(lines, "|"), want, js)
	}
}
