package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
)

// pageTests hold stores to keyset paging: walking a list a page at a
// time, each page after the cursor of the last one's end, gives the whole
// list in its order, once each, whatever the page size.
var pageTests = []struct {
	name string
	test func(t *testing.T, s scheduler.Store)
}{
	{"PageRuns", testPageRuns},
	{"PageTaskInstances", testPageTaskInstances},
	{"PageOps", testPageOps},
	{"PageHistory", testPageHistory},
	{"PageBadCursor", testPageBadCursor},
}

// walk reads a list by pages of size n through page (a page after a
// cursor) and the cursor of an item, and checks it equals all.
func walk[T any](t *testing.T, what string, all []T, n int, page func(after string) ([]T, error), cursor func(T) string) {
	t.Helper()
	var got []T
	after := ""
	for i := 0; ; i++ {
		items, err := page(after)
		if err != nil {
			t.Fatalf("%s page %d: %v", what, i, err)
		}
		if len(items) > n {
			t.Fatalf("%s page %d: %d items, over the limit %d", what, i, len(items), n)
		}
		got = append(got, items...)
		if len(items) < n {
			break
		}
		if i > len(all)+1 {
			t.Fatalf("%s: pages never end (%d items so far)", what, len(got))
		}
		after = cursor(items[len(items)-1])
	}
	if len(got) == 0 && len(all) == 0 {
		return
	}
	mustEqual(t, what, got, all)
}

func testPageRuns(t *testing.T, s scheduler.Store) {
	seedRuns(t, s)
	// Ties on the logical date, broken by DAG then run id, and runs with
	// none, which come last.
	createRun(t, s, newRun("b", "r2", t0.Add(time.Hour), false), "t")
	createRun(t, s, newRun("a", "r0", t0.Add(time.Hour), false), "t")
	for _, r := range []scheduler.Run{newRun("b", "z1", time.Time{}, true), newRun("a", "z2", time.Time{}, true)} {
		r.CreatedAt = t0
		createRun(t, s, r, "t")
	}
	filters := []scheduler.RunFilter{
		{},
		{DAGID: "a"},
		{States: []scheduler.RunState{scheduler.RunRunning}},
		{DAGID: "b", States: []scheduler.RunState{scheduler.RunRunning, scheduler.RunSuccess}},
	}
	for _, f := range filters {
		all, err := s.ListRuns(t.Context(), f)
		if err != nil {
			t.Fatalf("ListRuns: %v", err)
		}
		for n := 1; n <= 3; n++ {
			walk(t, fmt.Sprintf("runs %+v by %d", f, n), all, n, func(after string) ([]scheduler.Run, error) {
				p := f
				p.Limit, p.After = n, after
				return s.ListRuns(t.Context(), p)
			}, scheduler.RunCursor)
		}
	}
	all, err := s.ListRuns(t.Context(), scheduler.RunFilter{})
	if err != nil {
		t.Fatalf("ListRuns: %v", err)
	}
	if last := all[len(all)-1]; !last.LogicalDate.IsZero() {
		t.Errorf("ListRuns: last run %s/%s has a logical date; runs without one come last", last.DAGID, last.RunID)
	}
}

func testPageTaskInstances(t *testing.T, s scheduler.Store) {
	createRun(t, s, newRun("a", "r1", t0, false), "x", "y", "z")
	createRun(t, s, newRun("a", "r2", t0.Add(time.Hour), false), "x", "y")
	createRun(t, s, newRun("b", "r1", t0, false), "y")
	if _, err := s.Apply(t.Context(), []scheduler.Change{{
		Key: key("a", "r1", "y"), From: scheduler.StateScheduled, To: scheduler.StateQueued,
		At: t0.Add(time.Minute), Actor: schedulerActor, Reason: "ready",
	}}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	filters := []scheduler.TaskFilter{
		{},
		{DAGID: "a"},
		{DAGID: "a", RunID: "r1"},
		{States: []scheduler.State{scheduler.StateScheduled}},
		{States: []scheduler.State{scheduler.StateScheduled, scheduler.StateQueued}},
	}
	for _, f := range filters {
		all, err := s.ListTaskInstances(t.Context(), f)
		if err != nil {
			t.Fatalf("ListTaskInstances: %v", err)
		}
		for n := 1; n <= 3; n++ {
			walk(t, fmt.Sprintf("tasks %+v by %d", f, n), all, n, func(after string) ([]scheduler.TaskInstance, error) {
				p := f
				p.Limit, p.After = n, after
				return s.ListTaskInstances(t.Context(), p)
			}, scheduler.TaskCursor)
		}
	}
}

func testPageOps(t *testing.T, s scheduler.Store) {
	createRun(t, s, newRun("a", "r1", t0, false), "t")
	createRun(t, s, newRun("b", "r1", t0, false), "t")
	for i, dagID := range []string{"a", "b", "a", "a", "b"} {
		submitOp(t, s, scheduler.Op{
			Kind: scheduler.OpClearRun, DAGID: dagID, RunID: "r1",
			Actor: schedulerActor, Reason: fmt.Sprint("op ", i), CreatedAt: t0.Add(time.Duration(i) * time.Second),
		})
	}
	for _, f := range []scheduler.OpFilter{{}, {DAGID: "a"}, {States: []scheduler.OpState{scheduler.OpPending}}} {
		all, err := s.ListOps(t.Context(), f)
		if err != nil {
			t.Fatalf("ListOps: %v", err)
		}
		for n := 1; n <= 3; n++ {
			walk(t, fmt.Sprintf("ops %+v by %d", f, n), all, n, func(after string) ([]scheduler.Op, error) {
				p := f
				p.Limit, p.After = n, after
				return s.ListOps(t.Context(), p)
			}, scheduler.OpCursor)
		}
	}
}

func testPageHistory(t *testing.T, s scheduler.Store) {
	createRun(t, s, newRun("a", "r1", t0, false), "t", "u")
	k := key("a", "r1", "t")
	at := t0
	for _, to := range []scheduler.State{scheduler.StateQueued, scheduler.StateRunning, scheduler.StateSuccess} {
		ti, err := s.GetTaskInstance(t.Context(), k)
		if err != nil {
			t.Fatalf("GetTaskInstance: %v", err)
		}
		at = at.Add(time.Second)
		applyOK(t, s, scheduler.Change{Key: k, From: ti.State, To: to, At: at, Actor: executorActor, Reason: "step"})
	}
	all, err := s.History(t.Context(), k)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	if len(all) < 2 {
		t.Fatalf("History: %d records, want several", len(all))
	}
	for n := 1; n <= 3; n++ {
		walk(t, fmt.Sprintf("history by %d", n), all, n, func(after string) ([]scheduler.Transition, error) {
			return s.HistoryPage(t.Context(), k, n, after)
		}, scheduler.TransitionCursor)
	}
	whole, err := s.HistoryPage(t.Context(), k, 0, "")
	if err != nil {
		t.Fatalf("HistoryPage: %v", err)
	}
	mustEqual(t, "HistoryPage without a limit", whole, all)
}

func testPageBadCursor(t *testing.T, s scheduler.Store) {
	createRun(t, s, newRun("a", "r1", t0, false), "t")
	ctx := t.Context()
	taskCursor := scheduler.TaskCursor(scheduler.TaskInstance{TaskKey: key("a", "r1", "t")})
	calls := map[string]func() error{
		"ListRuns garbage": func() error {
			_, err := s.ListRuns(ctx, scheduler.RunFilter{After: "not a cursor!"})
			return err
		},
		"ListRuns a task cursor": func() error {
			_, err := s.ListRuns(ctx, scheduler.RunFilter{After: taskCursor})
			return err
		},
		"ListTaskInstances": func() error {
			_, err := s.ListTaskInstances(ctx, scheduler.TaskFilter{After: "eyJ4Ijox"})
			return err
		},
		"ListOps": func() error {
			_, err := s.ListOps(ctx, scheduler.OpFilter{After: taskCursor})
			return err
		},
		"HistoryPage": func() error {
			_, err := s.HistoryPage(ctx, key("a", "r1", "t"), 1, taskCursor)
			return err
		},
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, scheduler.ErrBadCursor) {
			t.Errorf("%s: err = %v, want ErrBadCursor", name, err)
		}
	}
}
