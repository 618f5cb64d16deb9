package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/exitcode"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
	"github.com/vigilhq/vigil/scheduler/store/sqlite"
)

// TestListsPage walks each paged list (runs, tasks, ops, a task's history)
// a page at a time through the real binary, following next_cursor, and
// checks the pages make up the whole list; a table prints the next
// cursor after it, and a cursor no list gave is refused (issue 18).
func TestListsPage(t *testing.T) {
	e := newEnv(t, nil)
	st, err := sqlite.Open(t.Context(), e.db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	spec := dag.TaskSpec{Command: []string{"true"}}
	if err := st.SaveDAG(ctx, scheduler.DAGRecord{ID: "etl", File: "etl.yaml", Source: []byte("id: etl\n"),
		Specs: map[string]dag.TaskSpec{"a": spec, "b": spec, "c": spec}}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	actor := scheduler.Actor{Component: "test", Instance: "paging"}
	for i := range 5 {
		run := scheduler.Run{DAGID: "etl", RunID: fmt.Sprintf("r%d", i), LogicalDate: t0.Add(time.Duration(i) * time.Hour),
			// Ended: the scheduler the commands ask leaves them as written.
			State: scheduler.RunSuccess, CreatedAt: t0, EndedAt: t0, CreatedBy: actor}
		var tis []scheduler.TaskInstance
		for _, id := range []string{"a", "b", "c"} {
			tis = append(tis, scheduler.TaskInstance{TaskKey: scheduler.TaskKey{DAGID: "etl", RunID: run.RunID, TaskID: id}, Spec: spec})
		}
		if _, err := st.CreateRun(ctx, run, tis, "test run"); err != nil {
			t.Fatal(err)
		}
		// On runs that are not there, so that the scheduler applying them
		// changes no run (it fails them).
		if _, err := st.SubmitOp(ctx, scheduler.Op{Kind: scheduler.OpClearRun, DAGID: "etl", RunID: "gone-" + run.RunID,
			Actor: actor, Reason: "test", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	k := scheduler.TaskKey{DAGID: "etl", RunID: "r0", TaskID: "a"}
	for _, to := range []scheduler.State{scheduler.StateQueued, scheduler.StateRunning} {
		ti, err := st.GetTaskInstance(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Apply(ctx, []scheduler.Change{{Key: k, From: ti.State, To: to, At: t0.Add(time.Minute), Actor: actor, Reason: "test"}}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	// The commands read through the API of a running scheduler.
	e.start()

	// items reads the ids of a page, whatever the list.
	type item struct {
		DAGID  string `json:"dag_id"`
		RunID  string `json:"run_id"`
		TaskID string `json:"task_id"`
		ID     int64  `json:"id"`
		Seq    int64  `json:"seq"`
		To     string `json:"to"`
	}
	walk := func(field string, args ...string) []item {
		var all []item
		cursor := ""
		for pages := 0; ; pages++ {
			a := append(append([]string{}, args...), "--limit", "2", "-o", "json")
			if cursor != "" {
				a = append(a, "--cursor", cursor)
			}
			var pg map[string]json.RawMessage
			out := e.mustVigil(a...)
			if err := json.Unmarshal([]byte(out), &pg); err != nil {
				t.Fatalf("vigil %s: %v\n%s", strings.Join(a, " "), err, out)
			}
			var items []item
			if err := json.Unmarshal(pg[field], &items); err != nil {
				t.Fatalf("vigil %s: %s: %v\n%s", strings.Join(a, " "), field, err, out)
			}
			if len(items) > 2 {
				t.Fatalf("vigil %s: %d items, over --limit 2", strings.Join(a, " "), len(items))
			}
			all = append(all, items...)
			if err := json.Unmarshal(pg["next_cursor"], &cursor); err != nil {
				t.Fatalf("vigil %s: next_cursor: %v\n%s", strings.Join(a, " "), err, out)
			}
			if cursor == "" {
				return all
			}
			if pages > 20 {
				t.Fatalf("vigil %s: pages never end", strings.Join(args, " "))
			}
		}
	}
	whole := func(field string, args ...string) []item {
		var pg map[string]json.RawMessage
		out := e.mustVigil(append(args, "--limit", "0", "-o", "json")...)
		if err := json.Unmarshal([]byte(out), &pg); err != nil {
			t.Fatalf("vigil %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		var items []item
		if err := json.Unmarshal(pg[field], &items); err != nil {
			t.Fatal(err)
		}
		return items
	}
	for _, tt := range []struct {
		field string
		args  []string
		n     int
	}{
		{"items", []string{"runs", "list"}, 5},
		{"items", []string{"tasks", "list", "--dag", "etl"}, 15},
		{"items", []string{"ops", "list"}, 5},
		{"transitions", []string{"tasks", "history", "etl", "r0", "a"}, 3},
	} {
		got, want := walk(tt.field, tt.args...), whole(tt.field, tt.args...)
		if len(want) != tt.n || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("vigil %s by pages of 2:\n%v\nwant %d items, as with --limit 0:\n%v", strings.Join(tt.args, " "), got, tt.n, want)
		}
	}

	out := e.mustVigil("runs", "list", "--limit", "2")
	if !strings.Contains(out, "more: add --cursor ") || strings.Count(out, "etl") != 2 {
		t.Errorf("runs list --limit 2 (a table) printed:\n%s\nwant two runs and the next cursor", out)
	}
	if out := e.mustVigil("runs", "list"); strings.Contains(out, "more:") {
		t.Errorf("runs list (all fit the default page) printed a next cursor:\n%s", out)
	}
	out, err = e.vigil("tasks", "list", "--cursor", "bogus")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitcode.Usage || !strings.Contains(out, "bad cursor") {
		t.Errorf("tasks list --cursor bogus (err %v) printed:\n%s\nwant it refused", err, out)
	}
}
