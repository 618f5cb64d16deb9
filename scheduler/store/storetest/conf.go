package storetest

import (
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

// testRunConf: a run's conf and effective params come back as they were
// stored, by GetRun, ListRuns and LatestScheduledRun, every kind of value
// kept; a run stored without them comes back without them, and empty
// params stay empty (not absent).
func testRunConf(t *testing.T, s scheduler.Store) {
	ctx := t.Context()
	if err := s.SaveDAG(ctx, dagRecord("etl")); err != nil {
		t.Fatalf("SaveDAG: %v", err)
	}
	num := func(s string) dag.Value { return dag.Value{Kind: dag.KindNumber, Text: s} }
	yes := dag.Value{Kind: dag.KindBool, Text: "true"}
	withConf := newRun("etl", "manual__conf", t0, true)
	withConf.Conf = dag.Values{"limit": dag.String("10"), "note": dag.String(`"quoted" ünïcode, = and \ too`)}
	withConf.Params = dag.Values{"limit": num("10"), "ratio": num("1.5"), "big": num("1e+21"), "dry-run": yes,
		"note": withConf.Conf["note"], "empty": dag.String("")}
	createRun(t, s, withConf, "extract")
	defaults := newRun("etl", "scheduled__2026-03-01", t0.Add(time.Hour), false)
	defaults.Params = dag.Values{}
	createRun(t, s, defaults, "extract")
	bare := newRun("etl", "manual__bare", t0.Add(2*time.Hour), true)
	createRun(t, s, bare, "extract")

	for _, want := range []scheduler.Run{withConf, defaults, bare} {
		got, err := s.GetRun(ctx, "etl", want.RunID)
		if err != nil {
			t.Fatalf("GetRun %s: %v", want.RunID, err)
		}
		mustEqual(t, "GetRun "+want.RunID, got, want)
	}
	if got, err := s.GetRun(ctx, "etl", defaults.RunID); err == nil && got.Params == nil {
		t.Errorf("empty params came back nil: a run with no params would be taken for one stored without them")
	}
	if got, err := s.GetRun(ctx, "etl", bare.RunID); err == nil && (got.Conf != nil || got.Params != nil) {
		t.Errorf("a run stored without conf or params came back with conf %v, params %v", got.Conf, got.Params)
	}
	runs, err := s.ListRuns(ctx, scheduler.RunFilter{DAGID: "etl"})
	if err != nil {
		t.Fatalf("ListRuns: %v", err)
	}
	mustEqual(t, "ListRuns", runs, []scheduler.Run{bare, defaults, withConf})
	latest, err := s.LatestScheduledRun(ctx, "etl")
	if err != nil {
		t.Fatalf("LatestScheduledRun: %v", err)
	}
	mustEqual(t, "LatestScheduledRun", latest, defaults)
}
