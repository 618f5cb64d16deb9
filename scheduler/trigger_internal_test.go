package scheduler

import (
	"testing"

	"github.com/vigilhq/vigil/scheduler/dag"
)

// TestUpstreamVerdictWaits covers the decisions a rule makes while some
// upstreams still run: it waits unless the states so far already decide.
func TestUpstreamVerdictWaits(t *testing.T) {
	for _, tt := range []struct {
		name   string
		rule   dag.TriggerRule
		states []State // of upstreams u0, u1, ...
		want   verdict
	}{
		{"all_success waits", "", []State{StateSuccess, StateRunning}, upstreamWait},
		{"all_success fails at once", "", []State{StateFailed, StateRunning}, upstreamFailed},
		{"all_done waits for a retry", dag.AllDone, []State{StateFailed, StateUpForRetry}, upstreamWait},
		{"all_failed waits", dag.AllFailed, []State{StateFailed, StateQueued}, upstreamWait},
		{"all_failed skips at once", dag.AllFailed, []State{StateSuccess, StateQueued}, upstreamSkipped},
		{"one_success waits", dag.OneSuccess, []State{StateFailed, StateScheduled}, upstreamWait},
		{"one_success runs at once", dag.OneSuccess, []State{StateRunning, StateSuccess}, upstreamReady},
		{"one_failed waits", dag.OneFailed, []State{StateSuccess, StateRunning}, upstreamWait},
		{"one_failed runs at once", dag.OneFailed, []State{StateRunning, StateUpstreamFailed}, upstreamReady},
		{"none_failed waits on a skip", dag.NoneFailed, []State{StateSkipped, StateRunning}, upstreamWait},
		{"none_failed fails at once", dag.NoneFailed, []State{StateRunning, StateFailed}, upstreamFailed},
		{"always runs at once", dag.Always, []State{StateScheduled, StateRunning}, upstreamReady},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rs := &runState{tis: map[string]*TaskInstance{}}
			ti := &TaskInstance{}
			ti.Spec.TriggerRule = tt.rule
			for i, s := range tt.states {
				id := string(rune('a' + i))
				rs.tis[id] = &TaskInstance{State: s}
				ti.Spec.DependsOn = append(ti.Spec.DependsOn, id)
			}
			if got, reason := upstreamVerdict(rs, ti); got != tt.want {
				t.Errorf("verdict %d (%q), want %d", got, reason, tt.want)
			}
		})
	}
}
