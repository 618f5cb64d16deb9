package scheduler_test

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

const paramsDAG = `id: p
schedule: "@hourly"
start_date: 2026-01-01
params:
  region: eu-west-1
  limit: {default: 100, description: rows per batch}
  dry-run: false
tasks:
  - id: x
    command: ["true"]
`

// TestRunParams: a run triggered through the loop with a conf, one
// triggered from outside (as `vigil dags trigger` does) and a scheduled
// one each give their tries the DAG's defaults overlaid by their conf,
// stored with the run; a run stored without params gets the defaults; a
// conf the DAG does not take is refused, and no run is made.
func TestRunParams(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 30, 0, 0, time.UTC)
	h := newHarness(t, map[string]string{"p.yaml": paramsDAG})
	var mu sync.Mutex
	seen := map[string]dag.Values{}
	h.exec = executortest.NewMemory(executortest.MemoryOptions{Outcome: func(tr scheduler.Try) (executortest.Outcome, bool) {
		mu.Lock()
		defer mu.Unlock()
		seen[tr.Key.RunID] = tr.Params
		return executortest.Outcome{}, false
	}})
	clock := now
	var cmu sync.Mutex
	h.start(func(o *scheduler.Options) {
		o.Now = func() time.Time { cmu.Lock(); defer cmu.Unlock(); clock = clock.Add(time.Millisecond); return clock }
	})
	number := func(s string) dag.Value { return dag.Value{Kind: dag.KindNumber, Text: s} }
	defaults := dag.Values{"region": dag.String("eu-west-1"), "limit": number("100"), "dry-run": {Kind: dag.KindBool, Text: "false"}}
	triggered := func(t *testing.T, runID string) dag.Values {
		t.Helper()
		h.waitRun("p", runID)
		mu.Lock()
		defer mu.Unlock()
		return seen[runID]
	}

	conf := dag.Values{"limit": dag.String("7"), "region": dag.String("us-east-1")}
	runID, err := h.sched.TriggerConf(h.ctx(), "p", conf)
	if err != nil {
		t.Fatal(err)
	}
	want := dag.Values{"region": dag.String("us-east-1"), "limit": number("7"), "dry-run": defaults["dry-run"]}
	if got := triggered(t, runID); !reflect.DeepEqual(got, want) {
		t.Errorf("try of the triggered run got params %v, want %v", got, want)
	}
	run, err := h.store.GetRun(h.ctx(), "p", runID)
	if err != nil || !reflect.DeepEqual(run.Conf, conf) || !reflect.DeepEqual(run.Params, want) {
		t.Errorf("stored run: conf %v, params %v (%v); want conf %v, params %v", run.Conf, run.Params, err, conf, want)
	}

	// From outside the loop, through the store.
	rec, err := h.store.GetDAG(h.ctx(), "p")
	if err != nil {
		t.Fatal(err)
	}
	outside, tis, err := scheduler.NewTriggeredRun(rec, dag.Values{"dry-run": dag.String("true")}, scheduler.Actor{Component: "test"}, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.CreateRun(h.ctx(), outside, tis, "triggered by test"); err != nil {
		t.Fatal(err)
	}
	want = dag.Values{"region": defaults["region"], "limit": defaults["limit"], "dry-run": {Kind: dag.KindBool, Text: "true"}}
	if got := triggered(t, outside.RunID); !reflect.DeepEqual(got, want) {
		t.Errorf("try of the run triggered from outside got params %v, want %v", got, want)
	}

	// Stored without params (an older vigil, or a path that sets none).
	bare := h.trigger("p")
	if got := triggered(t, bare); !reflect.DeepEqual(got, defaults) {
		t.Errorf("try of a run stored without params got %v, want the defaults %v", got, defaults)
	}

	// The scheduled run of the latest tick.
	tick := scheduler.ScheduledRunID(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	h.waitFor("the scheduled run", func() bool { _, err := h.store.GetRun(h.ctx(), "p", tick); return err == nil })
	if got := triggered(t, tick); !reflect.DeepEqual(got, defaults) {
		t.Errorf("try of the scheduled run got params %v, want the defaults %v", got, defaults)
	}
	if run, err := h.store.GetRun(h.ctx(), "p", tick); err != nil || run.Conf != nil || !reflect.DeepEqual(run.Params, defaults) {
		t.Errorf("stored scheduled run: conf %v, params %v (%v); want no conf and the defaults", run.Conf, run.Params, err)
	}

	before, err := h.store.ListRuns(h.ctx(), scheduler.RunFilter{DAGID: "p"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.sched.TriggerConf(h.ctx(), "p", dag.Values{"limt": dag.String("1"), "limit": dag.String("many")})
	if !errors.Is(err, scheduler.ErrInvalidConf) || !strings.Contains(err.Error(), `conf key "limt" is not a param of the DAG; did you mean "limit"?`) ||
		!strings.Contains(err.Error(), `param "limit" takes a number (its default is 100): "many" is not a number`) {
		t.Errorf("TriggerConf with a bad conf = %v; want ErrInvalidConf naming both keys", err)
	}
	_, _, err = scheduler.NewTriggeredRun(rec, dag.Values{"nope": dag.String("1")}, scheduler.Actor{Component: "test"}, now)
	if !errors.Is(err, scheduler.ErrInvalidConf) {
		t.Errorf("NewTriggeredRun with an undeclared key = %v, want ErrInvalidConf", err)
	}
	after, err := h.store.ListRuns(h.ctx(), scheduler.RunFilter{DAGID: "p"})
	if err != nil || len(after) != len(before) {
		t.Errorf("a refused conf made a run: %d runs before, %d after (%v)", len(before), len(after), err)
	}
}
