package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"
)

// Run ids say how a run came to be and which instant it covers, so they are
// unique per DAG and the same tick seen twice maps to the same run.
const (
	scheduledPrefix = "scheduled__"
	manualPrefix    = "manual__"
)

// ScheduledRunID is the run id of the scheduled run for tick.
func ScheduledRunID(tick time.Time) string {
	return scheduledPrefix + tick.UTC().Format(time.RFC3339)
}

// ManualRunID is the run id of a run triggered by hand at t.
func ManualRunID(t time.Time) string {
	return manualPrefix + t.UTC().Format(time.RFC3339Nano)
}

// NewRun builds a run of the DAG rec and its task instances, in state
// scheduled with the effective specs the DAG was loaded with. Both the
// scheduling loop and `vigil dags trigger` create runs through it.
func NewRun(rec DAGRecord, runID string, logical time.Time, manual bool, by Actor, now time.Time) (Run, []TaskInstance, error) {
	if len(rec.Specs) == 0 {
		return Run{}, nil, fmt.Errorf("dag %s has no tasks recorded; fix its file (see `vigil dags list`)", rec.ID)
	}
	run := Run{
		DAGID:       rec.ID,
		RunID:       runID,
		LogicalDate: logical.UTC(),
		Manual:      manual,
		State:       RunRunning,
		CreatedAt:   now.UTC(),
		CreatedBy:   by,
	}
	ids := make([]string, 0, len(rec.Specs))
	for id := range rec.Specs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	tis := make([]TaskInstance, 0, len(ids))
	for _, id := range ids {
		tis = append(tis, TaskInstance{
			TaskKey:   TaskKey{DAGID: rec.ID, RunID: runID, TaskID: id},
			State:     StateScheduled,
			Spec:      rec.Specs[id],
			UpdatedAt: now.UTC(),
		})
	}
	return run, tis, nil
}

// LatestRunID returns the id of dagID's newest run, for a RUN given as
// "latest" to an admin command or the API.
func LatestRunID(ctx context.Context, st Store, dagID string) (string, error) {
	if dagID == "" {
		return "", fmt.Errorf(`run "latest" needs a DAG: %w`, ErrNoDAGForLatest)
	}
	runs, err := st.ListRuns(ctx, RunFilter{DAGID: dagID, Limit: 1})
	if err != nil {
		return "", err
	}
	if len(runs) == 0 {
		return "", fmt.Errorf("dag %s has no runs yet; trigger one with 'vigil dags trigger %s': %w", dagID, dagID, ErrNotFound)
	}
	return runs[0].RunID, nil
}

// ErrNoDAGForLatest is the error of a RUN "latest" given without its DAG.
var ErrNoDAGForLatest = errors.New("no DAG named")
