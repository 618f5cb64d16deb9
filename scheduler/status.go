package scheduler

import (
	"context"
	"time"

	"github.com/vigilhq/vigil/diag/watchdog"
)

// StatusReport is what `vigil status` and the API's GET /status show:
// every scheduler's heartbeat as the store has it, and the live task
// counts.
type StatusReport struct {
	Schedulers []SchedulerStatus
	// Tasks counts the live task instances (scheduled, queued, running,
	// up for retry) by state.
	Tasks map[State]int
	// Unowned counts running runs no scheduler has claimed yet (0 in a
	// store without owners).
	Unowned int
	// Shared says the store has run owners (several schedulers).
	Shared bool
}

// SchedulerStatus is one scheduler's heartbeat seen at a moment.
type SchedulerStatus struct {
	HeartbeatRecord
	Age time.Duration
	// Stale: silent for more than three periods without a clean stop.
	Stale bool
	// Runs counts the running runs it owns.
	Runs int
}

// ReadStatus reads the status of the schedulers on st at now.
func ReadStatus(ctx context.Context, st Store, now time.Time) (StatusReport, error) {
	hbs, err := st.ListHeartbeats(ctx)
	if err != nil {
		return StatusReport{}, err
	}
	tis, err := st.ListTaskInstances(ctx, TaskFilter{States: []State{StateScheduled, StateQueued, StateRunning, StateUpForRetry}})
	if err != nil {
		return StatusReport{}, err
	}
	running, err := st.ListRuns(ctx, RunFilter{States: []RunState{RunRunning}})
	if err != nil {
		return StatusReport{}, err
	}
	owned := map[string]int{}
	for _, r := range running {
		owned[r.Owner]++
	}
	rep := StatusReport{Schedulers: []SchedulerStatus{}, Tasks: map[State]int{}}
	if _, rep.Shared = st.(Claimer); rep.Shared {
		rep.Unowned = owned[""]
	}
	for _, hb := range hbs {
		age := now.Sub(hb.LastBeat)
		rep.Schedulers = append(rep.Schedulers, SchedulerStatus{HeartbeatRecord: hb, Age: age,
			Stale: hb.StoppedAt.IsZero() && age > watchdog.DefaultFactor*hb.Period, Runs: owned[hb.Instance]})
	}
	for _, ti := range tis {
		rep.Tasks[ti.State]++
	}
	return rep, nil
}
