package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
)

// A store that records who paused DAGs (scheduler.DAGHistoryStore) is
// held to this too:
//   - PauseDAG sets the paused flag and appends the change in one go; for
//     an unknown DAG it is scheduler.ErrNotFound and records nothing; an
//     action other than pause or unpause is refused;
//   - DAGHistory returns a DAG's changes newest first, only that DAG's,
//     with times in UTC to the nanosecond; walked a page at a time with
//     the cursor of each page's last change it gives them all once; a
//     cursor no list gave is scheduler.ErrBadCursor.
var dagHistoryTests = []struct {
	name string
	test func(t *testing.T, s scheduler.Store)
}{
	{"DAGPauseHistory", testDAGPauseHistory},
	{"DAGHistoryPages", testDAGHistoryPages},
}

func dagHistory(t *testing.T, s scheduler.Store) scheduler.DAGHistoryStore {
	t.Helper()
	hs, ok := s.(scheduler.DAGHistoryStore)
	if !ok {
		t.Skipf("%T keeps no DAG history", s)
	}
	return hs
}

var apiActor = scheduler.Actor{Component: "api", Instance: "alice"}

func testDAGPauseHistory(t *testing.T, s scheduler.Store) {
	hs := dagHistory(t, s)
	ctx := t.Context()
	for _, id := range []string{"etl", "other"} {
		if err := s.SaveDAG(ctx, dagRecord(id)); err != nil {
			t.Fatal(err)
		}
	}
	at := t0.In(time.FixedZone("X", 3600))
	if err := hs.PauseDAG(ctx, scheduler.DAGChange{DAGID: "etl", Action: scheduler.DAGPause, Actor: apiActor, At: at, Reason: "maintenance"}); err != nil {
		t.Fatalf("PauseDAG: %v", err)
	}
	if rec, err := s.GetDAG(ctx, "etl"); err != nil || !rec.Paused {
		t.Fatalf("after a pause: %+v, %v; want paused", rec.Paused, err)
	}
	if err := hs.PauseDAG(ctx, scheduler.DAGChange{DAGID: "other", Action: scheduler.DAGPause, Actor: cliActor, At: t0}); err != nil {
		t.Fatal(err)
	}
	if err := hs.PauseDAG(ctx, scheduler.DAGChange{DAGID: "etl", Action: scheduler.DAGUnpause, Actor: cliActor, At: t0.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if rec, err := s.GetDAG(ctx, "etl"); err != nil || rec.Paused {
		t.Fatalf("after an unpause: %+v, %v; want not paused", rec.Paused, err)
	}
	err := hs.PauseDAG(ctx, scheduler.DAGChange{DAGID: "nope", Action: scheduler.DAGPause, Actor: apiActor, At: t0})
	if !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("PauseDAG of an unknown DAG: %v; want ErrNotFound", err)
	}
	if err := hs.PauseDAG(ctx, scheduler.DAGChange{DAGID: "etl", Action: "delete", Actor: apiActor, At: t0}); err == nil {
		t.Error("PauseDAG with action delete: no error")
	}
	got, err := hs.DAGHistory(ctx, "etl", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("DAGHistory(etl) = %+v; want 2 changes", got)
	}
	unpause, pause := got[0], got[1]
	if unpause.Action != scheduler.DAGUnpause || unpause.Actor != cliActor || unpause.Seq <= pause.Seq {
		t.Errorf("newest change %+v; want the unpause by %s with the higher seq", unpause, cliActor)
	}
	want := scheduler.DAGChange{Seq: pause.Seq, DAGID: "etl", Action: scheduler.DAGPause, Actor: apiActor, At: t0, Reason: "maintenance"}
	if pause != want || pause.At.Location() != time.UTC {
		t.Errorf("pause recorded as %+v; want %+v in UTC", pause, want)
	}
	if none, err := hs.DAGHistory(ctx, "nope", 0, ""); err != nil || len(none) != 0 {
		t.Errorf("DAGHistory of an unknown DAG: %v, %v; want nothing", none, err)
	}
}

func testDAGHistoryPages(t *testing.T, s scheduler.Store) {
	hs := dagHistory(t, s)
	ctx := t.Context()
	if err := s.SaveDAG(ctx, dagRecord("etl")); err != nil {
		t.Fatal(err)
	}
	const n = 7
	for i := range n {
		action := scheduler.DAGPause
		if i%2 == 1 {
			action = scheduler.DAGUnpause
		}
		if err := hs.PauseDAG(ctx, scheduler.DAGChange{DAGID: "etl", Action: action, Actor: apiActor, At: t0.Add(time.Duration(i) * time.Second), Reason: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	after := ""
	for page := 0; ; page++ {
		got, err := hs.DAGHistory(ctx, "etl", 3, after)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		for _, c := range got {
			seen = append(seen, c.Reason)
		}
		if len(got) < 3 {
			break
		}
		after = scheduler.DAGChangeCursor(got[len(got)-1])
	}
	if fmt.Sprint(seen) != "[6 5 4 3 2 1 0]" {
		t.Errorf("pages gave %v; want every change once, newest first", seen)
	}
	if _, err := hs.DAGHistory(ctx, "etl", 3, "garbage"); !errors.Is(err, scheduler.ErrBadCursor) {
		t.Errorf("a bad cursor: %v; want ErrBadCursor", err)
	}
}
