package storetest

import (
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

func testDAGSaveGetList(t *testing.T, s scheduler.Store) {
	ctx := t.Context()
	for _, id := range []string{"b", "a", "c"} {
		if err := s.SaveDAG(ctx, dagRecord(id)); err != nil {
			t.Fatalf("SaveDAG(%s): %v", id, err)
		}
	}
	got, err := s.GetDAG(ctx, "a")
	if err != nil {
		t.Fatalf("GetDAG: %v", err)
	}
	mustEqual(t, "GetDAG", got, dagRecord("a"))

	updated := dagRecord("a")
	updated.File = "dags/moved.yaml"
	updated.Source = []byte("id: a\nschedule: '@daily'\n")
	updated.Specs = map[string]dag.TaskSpec{"only": {Command: []string{"echo", "hi"}, Retries: 1, RetryDelay: time.Minute}}
	updated.UpdatedAt = t0.Add(time.Hour)
	if err := s.SaveDAG(ctx, updated); err != nil {
		t.Fatalf("SaveDAG update: %v", err)
	}
	if got, err = s.GetDAG(ctx, "a"); err != nil {
		t.Fatalf("GetDAG: %v", err)
	}
	mustEqual(t, "GetDAG after update", got, updated)

	list, err := s.ListDAGs(ctx)
	if err != nil {
		t.Fatalf("ListDAGs: %v", err)
	}
	mustEqual(t, "ListDAGs", list, []scheduler.DAGRecord{updated, dagRecord("b"), dagRecord("c")})
	heads, err := s.ListDAGHeads(ctx)
	if err != nil {
		t.Fatalf("ListDAGHeads: %v", err)
	}
	for i := range list {
		list[i].Source, list[i].Specs = nil, nil
	}
	mustEqual(t, "ListDAGHeads", heads, list)

	_, err = s.GetDAG(ctx, "nope")
	mustBe(t, "GetDAG(unknown)", err, scheduler.ErrNotFound)
}

func testDAGPausedKept(t *testing.T, s scheduler.Store) {
	ctx := t.Context()
	paused := func(id string) bool {
		t.Helper()
		rec, err := s.GetDAG(ctx, id)
		if err != nil {
			t.Fatalf("GetDAG: %v", err)
		}
		return rec.Paused
	}
	save := func(id string, p bool) {
		t.Helper()
		rec := dagRecord(id)
		rec.Paused = p
		if err := s.SaveDAG(ctx, rec); err != nil {
			t.Fatalf("SaveDAG: %v", err)
		}
	}

	save("born-paused", true)
	if !paused("born-paused") {
		t.Errorf("a DAG inserted with Paused is not paused")
	}
	save("born-paused", false)
	if !paused("born-paused") {
		t.Errorf("SaveDAG of an existing DAG unpaused it")
	}

	save("d", false)
	if err := s.SetDAGPaused(ctx, "d", true); err != nil {
		t.Fatalf("SetDAGPaused: %v", err)
	}
	save("d", false)
	if !paused("d") {
		t.Errorf("SaveDAG lost the pause set by SetDAGPaused")
	}
	if err := s.SetDAGPaused(ctx, "d", false); err != nil {
		t.Fatalf("SetDAGPaused: %v", err)
	}
	save("d", true)
	if paused("d") {
		t.Errorf("SaveDAG of an existing DAG paused it")
	}

	mustBe(t, "SetDAGPaused(unknown)", s.SetDAGPaused(ctx, "nope", true), scheduler.ErrNotFound)
}

func testDAGMissing(t *testing.T, s scheduler.Store) {
	ctx := t.Context()
	if err := s.SaveDAG(ctx, dagRecord("d")); err != nil {
		t.Fatalf("SaveDAG: %v", err)
	}
	missing := func() bool {
		t.Helper()
		rec, err := s.GetDAG(ctx, "d")
		if err != nil {
			t.Fatalf("GetDAG: %v", err)
		}
		return rec.Missing
	}
	for _, want := range []bool{true, true, false} {
		if err := s.SetDAGMissing(ctx, "d", want); err != nil {
			t.Fatalf("SetDAGMissing(%v): %v", want, err)
		}
		if got := missing(); got != want {
			t.Errorf("after SetDAGMissing(%v), Missing = %v", want, got)
		}
	}
	if err := s.SetDAGMissing(ctx, "d", true); err != nil {
		t.Fatalf("SetDAGMissing: %v", err)
	}
	// The file defines the DAG again: the loader saves it, not missing.
	if err := s.SaveDAG(ctx, dagRecord("d")); err != nil {
		t.Fatalf("SaveDAG: %v", err)
	}
	if missing() {
		t.Errorf("SaveDAG with Missing=false left the DAG missing")
	}
	mustBe(t, "SetDAGMissing(unknown)", s.SetDAGMissing(ctx, "nope", true), scheduler.ErrNotFound)
}

func testLoadErrors(t *testing.T, s scheduler.Store) {
	ctx := t.Context()
	t1 := t0.Add(time.Minute)
	steps := []struct {
		name string
		set  []scheduler.LoadError
		want []scheduler.LoadError
	}{
		{
			name: "first",
			set: []scheduler.LoadError{
				{File: "dags/b.yaml", Message: "line 3: unknown field", Since: t0},
				{File: "dags/a.yaml", Message: "line 1: bad cron", Since: t0},
			},
			want: []scheduler.LoadError{
				{File: "dags/a.yaml", Message: "line 1: bad cron", Since: t0},
				{File: "dags/b.yaml", Message: "line 3: unknown field", Since: t0},
			},
		},
		{
			// a still fails (now differently) and keeps its Since; b
			// loads again; c is new.
			name: "replaced",
			set: []scheduler.LoadError{
				{File: "dags/a.yaml", Message: "line 2: cycle", Since: t1},
				{File: "dags/c.yaml", Message: "empty file", Since: t1},
			},
			want: []scheduler.LoadError{
				{File: "dags/a.yaml", Message: "line 2: cycle", Since: t0},
				{File: "dags/c.yaml", Message: "empty file", Since: t1},
			},
		},
		{name: "cleared", set: nil, want: nil},
	}
	for _, st := range steps {
		if err := s.SetLoadErrors(ctx, st.set); err != nil {
			t.Fatalf("%s: SetLoadErrors: %v", st.name, err)
		}
		got, err := s.ListLoadErrors(ctx)
		if err != nil {
			t.Fatalf("%s: ListLoadErrors: %v", st.name, err)
		}
		if len(got) == 0 && len(st.want) == 0 {
			continue
		}
		mustEqual(t, st.name+": ListLoadErrors", got, st.want)
	}
}
