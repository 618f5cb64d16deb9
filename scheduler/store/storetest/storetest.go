// Package storetest is the contract every scheduler.Store must keep, as a
// test suite. Each implementation runs it from its own tests against a real
// instance of its database:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) scheduler.Store {
//			st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "vigil.db"), sqlite.Options{})
//			if err != nil {
//				t.Fatal(err)
//			}
//			return st
//		})
//	}
//
// Run is a named subtest per behaviour, each with a fresh, empty store, so
// `go test -run 'TestStore/ApplyLegalPath'` runs one. Run it with -race:
// one subtest applies the same transition from several goroutines.
//
// Beyond what the Store interface says, the suite holds implementations to
// a few things their callers rely on:
//   - lists come back in a fixed order: DAGs by id, load errors by file,
//     heartbeats by component and instance;
//   - times come back in UTC, equal to the nanosecond to what was written;
//   - CreateRun stores each instance as scheduler.NewRun builds it
//     (scheduled, try 0, Version 0, UpdatedAt the run's CreatedAt), records
//     its creation as the first entry of its history (from "" to scheduled,
//     try 0), and fails with scheduler.ErrNotFound for an unknown DAG;
//   - SaveDAG writes rec.Missing (only Paused is kept on update);
//   - SetRunState sets EndedAt for any state but running, and clears it for
//     running;
//   - History of an unknown instance is scheduler.ErrNotFound;
//   - Apply collapses a transition that repeats an earlier record as
//     scheduler.Collapse says (Repeats and LastAt bumped, no new record),
//     while the instance is updated and its version increases as for any
//     other; a record that never repeated has LastAt equal to At;
//   - the paged lists (runs, task instances, operations, a task's
//     history), walked a page at a time with Limit and the cursor of each
//     page's last item, give the whole list in its order, once each; a
//     cursor no list gave is scheduler.ErrBadCursor;
//   - a call with a cancelled context fails with an error wrapping
//     context.Canceled;
//   - ID is non-empty, the same on every call, and differs between two
//     new databases (each implementation also checks that reopening one
//     keeps it).
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

// Run runs the contract suite. open must return a new, empty store; Run
// closes it when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) scheduler.Store) {
	tests := []struct {
		name string
		test func(t *testing.T, s scheduler.Store)
	}{
		{"DAGSaveGetList", testDAGSaveGetList},
		{"DAGPausedKept", testDAGPausedKept},
		{"DAGMissing", testDAGMissing},
		{"LoadErrors", testLoadErrors},
		{"CreateRun", testCreateRun},
		{"CreateRunExisting", testCreateRunExisting},
		{"CreateRunUnknownDAG", testCreateRunUnknownDAG},
		{"RunConf", testRunConf},
		{"RunTimesUTC", testRunTimesUTC},
		{"ListRuns", testListRuns},
		{"LatestScheduledRun", testLatestScheduledRun},
		{"SetRunState", testSetRunState},
		{"ApplyLegalPath", testApplyLegalPath},
		{"ApplyEvicted", testApplyEvicted},
		{"ApplyIllegal", testApplyIllegal},
		{"ApplyStaleFrom", testApplyStaleFrom},
		{"ApplyNoReason", testApplyNoReason},
		{"ApplyBatchPartial", testApplyBatchPartial},
		{"ApplyUnknownKey", testApplyUnknownKey},
		{"ApplyEmpty", testApplyEmpty},
		{"ApplyConcurrentSame", testApplyConcurrentSame},
		{"ApplyConcurrentDistinct", testApplyConcurrentDistinct},
		{"HistoryCollapseCycle", testHistoryCollapseCycle},
		{"HistoryCollapseSelf", testHistoryCollapseSelf},
		{"HistoryCollapseNotSame", testHistoryCollapseNotSame},
		{"ListTaskInstances", testListTaskInstances},
		{"OpSubmitGetList", testOpSubmitGetList},
		{"ApplyOpClear", testApplyOpClear},
		{"ApplyOpWhole", testApplyOpWhole},
		{"ApplyOpReopen", testApplyOpReopen},
		{"ApplyOpConcurrent", testApplyOpConcurrent},
		{"UnknownTask", testUnknownTask},
		{"Heartbeats", testHeartbeats},
		{"CancelledContext", testCancelledContext},
	}
	tests = append(tests, poolTests...)
	tests = append(tests, pageTests...)
	tests = append(tests, retentionTests...)
	tests = append(tests, dagHistoryTests...)
	tests = append(tests, notificationTests...)
	t.Run("Identity", func(t *testing.T) { testIdentity(t, open) })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			})
			tt.test(t, s)
		})
	}
}

// t0 is the fixtures' base time. Its nanoseconds catch a store that rounds.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

var (
	schedulerActor = scheduler.Actor{Component: "scheduler", Instance: "host-a:4242"}
	executorActor  = scheduler.Actor{Component: "executor/local", Instance: "host-a:4242"}
)

// richSpec sets every field of a TaskSpec, so a store that loses one fails.
func richSpec() dag.TaskSpec {
	return dag.TaskSpec{
		Command:          []string{"python", "-m", "etl"},
		Args:             []string{"--date", "2026-03-01"},
		Env:              []dag.EnvVar{{Name: "MODE", Value: "full"}, {Name: "REGION", Value: "eu-west-1"}},
		Image:            "ghcr.io/acme/etl:1.4.2",
		Retries:          2,
		RetryDelay:       30 * time.Second,
		RetryExponential: true,
		MaxRetryDelay:    10 * time.Minute,
		ExecutionTimeout: 90*time.Minute + 15*time.Second,
		Resources: dag.Resources{
			Preset: "medium", CPU: "500m", Memory: "1Gi",
			CPULimit: "2", MemoryLimit: "4Gi", EphemeralDisk: "10Gi",
		},
		PoolSlots: 2, // of the default pool, which has no limit
		Priority:  7,
	}
}

func dagRecord(id string) scheduler.DAGRecord {
	return scheduler.DAGRecord{
		ID:     id,
		File:   "dags/" + id + ".yaml",
		Source: []byte("id: " + id + "\ntasks: []\n"),
		Specs: map[string]dag.TaskSpec{
			"extract": richSpec(),
			"load":    {Command: []string{"true"}},
		},
		UpdatedAt: t0,
	}
}

func newRun(dagID, runID string, logical time.Time, manual bool) scheduler.Run {
	return scheduler.Run{
		DAGID: dagID, RunID: runID, LogicalDate: logical, Manual: manual,
		State: scheduler.RunRunning, CreatedAt: logical.Add(time.Second), CreatedBy: schedulerActor,
	}
}

func key(dagID, runID, taskID string) scheduler.TaskKey {
	return scheduler.TaskKey{DAGID: dagID, RunID: runID, TaskID: taskID}
}

// createRun saves the run's DAG if it is not there yet and creates the run
// with one instance of richSpec per task id.
func createRun(t *testing.T, s scheduler.Store, run scheduler.Run, taskIDs ...string) {
	t.Helper()
	ctx := t.Context()
	if _, err := s.GetDAG(ctx, run.DAGID); errors.Is(err, scheduler.ErrNotFound) {
		if err := s.SaveDAG(ctx, dagRecord(run.DAGID)); err != nil {
			t.Fatalf("SaveDAG: %v", err)
		}
	} else if err != nil {
		t.Fatalf("GetDAG: %v", err)
	}
	tasks := make([]scheduler.TaskInstance, len(taskIDs))
	for i, id := range taskIDs {
		tasks[i] = scheduler.TaskInstance{TaskKey: key(run.DAGID, run.RunID, id), Spec: richSpec()}
	}
	created, err := s.CreateRun(ctx, run, tasks, "scheduled run")
	if err != nil || !created {
		t.Fatalf("CreateRun(%s/%s) = %v, %v; want true, nil", run.DAGID, run.RunID, created, err)
	}
}

// change is a Change with the fields every test sets.
func change(k scheduler.TaskKey, from, to scheduler.State, at time.Time, actor scheduler.Actor) scheduler.Change {
	return scheduler.Change{Key: k, From: from, To: to, At: at, Actor: actor, Reason: fmt.Sprintf("%s → %s", from, to)}
}

// apply applies changes and fails the test on a store error.
func apply(t *testing.T, s scheduler.Store, changes ...scheduler.Change) []scheduler.ChangeResult {
	t.Helper()
	results, err := s.Apply(t.Context(), changes)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(results) != len(changes) {
		t.Fatalf("Apply returned %d results for %d changes", len(results), len(changes))
	}
	return results
}

// applyOK applies one change that must succeed and returns the instance.
func applyOK(t *testing.T, s scheduler.Store, c scheduler.Change) scheduler.TaskInstance {
	t.Helper()
	r := apply(t, s, c)[0]
	if r.Err != nil {
		t.Fatalf("Apply %s %s → %s: %v", c.Key, c.From, c.To, r.Err)
	}
	return r.Instance
}

func getTask(t *testing.T, s scheduler.Store, k scheduler.TaskKey) scheduler.TaskInstance {
	t.Helper()
	ti, err := s.GetTaskInstance(t.Context(), k)
	if err != nil {
		t.Fatalf("GetTaskInstance(%s): %v", k, err)
	}
	return ti
}

func history(t *testing.T, s scheduler.Store, k scheduler.TaskKey) []scheduler.Transition {
	t.Helper()
	recs, err := s.History(t.Context(), k)
	if err != nil {
		t.Fatalf("History(%s): %v", k, err)
	}
	return recs
}

func mustEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func mustBe(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want one wrapping %q", what, err, target)
	}
}

// cancelled returns a context that is already cancelled.
func cancelled(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}

// testIdentity: every database has its own id (issue 16: a data folder
// is bound to the database by it).
func testIdentity(t *testing.T, open func(t *testing.T) scheduler.Store) {
	a, b := open(t), open(t)
	t.Cleanup(func() { a.Close(); b.Close() })
	if a.ID() == "" || b.ID() == "" {
		t.Fatalf("ID() of a new store is empty (%q, %q)", a.ID(), b.ID())
	}
	if first, again := a.ID(), a.ID(); first != again {
		t.Errorf("ID() changes between calls: %q, then %q", first, again)
	}
	if a.ID() == b.ID() {
		t.Errorf("two new databases have the same ID %q", a.ID())
	}
}
