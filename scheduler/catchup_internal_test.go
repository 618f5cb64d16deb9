package scheduler

import (
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler/dag"
)

// TestRunLimit: the catch-up limit applies to a DAG with catch-up while a
// later tick is due, and to the latest tick too while a catch-up is under
// way, so its last run does not go past the cap; never above
// max_active_runs; a DAG's max_catchup_runs wins over the option, and a
// negative option leaves max_active_runs alone.
func TestRunLimit(t *testing.T) {
	hourly, err := dag.ParseScheduleIn("@hourly", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 30, 12, 30, 0, 0, time.UTC)
	old, latest := now.Add(-150*time.Minute).Truncate(time.Hour), now.Truncate(time.Hour)
	for _, tt := range []struct {
		name   string
		option int // Options.MaxCatchupRuns
		d      dagState
		tick   time.Time
		want   int
	}{
		{"behind", 3, dagState{catchup: true, maxRuns: 16}, old, 3},
		{"default option", 0, dagState{catchup: true, maxRuns: 32}, old, defaultMaxCatchupRuns},
		{"latest tick, no catch-up under way", 3, dagState{catchup: true, maxRuns: 16}, latest, 16},
		{"latest tick of a catch-up", 3, dagState{catchup: true, maxRuns: 16, catchupState: catchupState{catchingUp: true}}, latest, 3},
		{"without catchup", 3, dagState{maxRuns: 16, catchupState: catchupState{catchingUp: true}}, old, 16},
		{"max_active_runs lower", 3, dagState{catchup: true, maxRuns: 2}, old, 2},
		{"the DAG's key wins", 3, dagState{catchup: true, maxRuns: 16, catchupState: catchupState{maxCatchup: 5}}, old, 5},
		{"negative option", -1, dagState{catchup: true, maxRuns: 16}, old, 16},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &Scheduler{opts: Options{MaxCatchupRuns: tt.option}}
			d := tt.d
			d.schedule = hourly
			if got := s.runLimit(&d, tt.tick, now); got != tt.want {
				t.Errorf("runLimit = %d, want %d", got, tt.want)
			}
		})
	}
}
