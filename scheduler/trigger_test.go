package scheduler_test

import (
	"strings"
	"testing"

	"github.com/vigilhq/vigil/scheduler"
)

// TestTriggerRules runs, for every trigger rule, a DAG whose task r has
// upstreams in the states the case names, on a real scheduler and store,
// and checks where r ends, the reason its history records, and the run's
// state: a run with a failed task fails even when a cleanup task after it
// succeeded.
func TestTriggerRules(t *testing.T) {
	// Upstream tasks, by the state they end in.
	const (
		ok      = "  - {id: ok, command: [\"true\"]}\n"
		ok2     = "  - {id: ok2, command: [\"true\"]}\n"
		bad     = "  - {id: bad, command: [\"false\"]}\n"
		bad2    = "  - {id: bad2, command: [\"false\"]}\n"
		badDown = "  - {id: bad_down, depends_on: [bad], command: [\"true\"]}\n" // upstream_failed
		// skip is skipped: its upstream ok succeeded and it wants all to fail.
		skip = "  - {id: skip, depends_on: [ok], trigger_rule: all_failed, command: [\"true\"]}\n"
	)
	for _, tt := range []struct {
		name  string
		tasks string // the upstreams
		rule  string
		deps  string
		want  scheduler.State
		// reason is the prefix of the reason for r's first transition.
		reason string
		run    scheduler.RunState
	}{
		{"all_success default ok", ok + ok2, "", "ok, ok2", scheduler.StateSuccess, "dependencies met", scheduler.RunSuccess},
		{"all_success failed", ok + bad, "all_success", "ok, bad", scheduler.StateUpstreamFailed, "upstream task bad is failed", scheduler.RunFailed},
		{"all_success skipped", ok + skip, "", "ok, skip", scheduler.StateSkipped, "upstream task skip was skipped", scheduler.RunSuccess},

		{"all_done cleanup after failure", ok + ok2 + bad, "all_done", "ok, ok2, bad", scheduler.StateSuccess, "trigger rule all_done: upstream tasks done (1 failed, 2 succeeded)", scheduler.RunFailed},
		{"all_done after upstream_failed and skip", ok + bad + badDown + skip, "all_done", "bad_down, skip", scheduler.StateSuccess, "trigger rule all_done: upstream tasks done (1 upstream_failed, 1 skipped)", scheduler.RunFailed},

		{"all_failed all failed", bad + bad2 + badDown, "all_failed", "bad, bad2, bad_down", scheduler.StateSuccess, "trigger rule all_failed: all upstream tasks failed (2 failed, 1 upstream_failed)", scheduler.RunFailed},
		{"all_failed one succeeded", ok + bad, "all_failed", "ok, bad", scheduler.StateSkipped, "trigger rule all_failed: upstream task ok succeeded", scheduler.RunFailed},

		{"one_success", ok + bad, "one_success", "bad, ok", scheduler.StateSuccess, "trigger rule one_success: upstream task ok succeeded", scheduler.RunFailed},
		{"one_success none succeeded", bad + skip + ok, "one_success", "bad, skip", scheduler.StateUpstreamFailed, "trigger rule one_success: no upstream task succeeded (1 failed, 1 skipped)", scheduler.RunFailed},
		{"one_success all skipped", ok + skip, "one_success", "skip", scheduler.StateSkipped, "trigger rule one_success: every upstream task was skipped", scheduler.RunSuccess},

		{"one_failed", ok + bad, "one_failed", "ok, bad", scheduler.StateSuccess, "trigger rule one_failed: upstream task bad is failed", scheduler.RunFailed},
		{"one_failed none failed", ok + ok2, "one_failed", "ok, ok2", scheduler.StateSkipped, "trigger rule one_failed: no upstream task failed (2 succeeded)", scheduler.RunSuccess},

		{"none_failed with a skip", ok + skip, "none_failed", "ok, skip", scheduler.StateSuccess, "trigger rule none_failed: no upstream task failed (1 skipped, 1 succeeded)", scheduler.RunSuccess},
		{"none_failed failed", ok + bad + badDown, "none_failed", "ok, bad_down", scheduler.StateUpstreamFailed, "trigger rule none_failed: upstream task bad_down is upstream_failed", scheduler.RunFailed},

		{"always", bad, "always", "bad", scheduler.StateSuccess, "trigger rule always: runs without waiting for upstream tasks", scheduler.RunFailed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rule := ""
			if tt.rule != "" {
				rule = ", trigger_rule: " + tt.rule
			}
			src := "id: rules\ntasks:\n" + tt.tasks +
				"  - {id: r, depends_on: [" + tt.deps + "]" + rule + ", command: [\"true\"]}\n"
			h := newHarness(t, map[string]string{"rules.yaml": src})
			h.start(nil)
			runID := h.trigger("rules")
			if run := h.waitRun("rules", runID); run.State != tt.run {
				t.Errorf("run ended %s, want %s", run.State, tt.run)
			}
			if ti := h.task("rules", runID, "r"); ti.State != tt.want {
				t.Errorf("r ended %s, want %s\nhistory:\n%s", ti.State, tt.want, strings.Join(h.history("rules", runID, "r"), "\n"))
			}
			wantHistory(t, h.history("rules", runID, "r")[:2], "→scheduled", "scheduled→")
			if got := h.history("rules", runID, "r")[1]; !strings.Contains(got, ": "+tt.reason) {
				t.Errorf("r's decision is %q, want the reason %q", got, tt.reason)
			}
		})
	}
}

// TestTriggerRulesDoNotWait checks that always runs r while its upstream
// still runs, and one_success as soon as one upstream succeeded: r ends
// before the slow upstream does.
func TestTriggerRulesDoNotWait(t *testing.T) {
	for _, tt := range []struct{ rule, tasks, deps string }{
		{"always", "", "slow"},
		{"one_success", "  - {id: ok, command: [\"true\"]}\n", "ok, slow"},
	} {
		t.Run(tt.rule, func(t *testing.T) {
			src := "id: nowait\ntasks:\n  - {id: slow, command: [sleep, \"2\"]}\n" + tt.tasks +
				"  - {id: r, depends_on: [" + tt.deps + "], trigger_rule: " + tt.rule + ", command: [\"true\"]}\n"
			h := newHarness(t, map[string]string{"nowait.yaml": src})
			h.start(nil)
			runID := h.trigger("nowait")
			if run := h.waitRun("nowait", runID); run.State != scheduler.RunSuccess {
				t.Fatalf("run ended %s", run.State)
			}
			r, slow := h.task("nowait", runID, "r"), h.task("nowait", runID, "slow")
			if !r.EndedAt.Before(slow.EndedAt) {
				t.Errorf("r ended at %v, not before slow ended at %v: it waited", r.EndedAt, slow.EndedAt)
			}
		})
	}
}
