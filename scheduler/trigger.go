package scheduler

import (
	"fmt"
	"strings"

	"github.com/vigilhq/vigil/scheduler/dag"
)

// verdict is what a task's trigger rule makes of its upstreams' states.
type verdict int

const (
	upstreamReady verdict = iota
	upstreamWait
	upstreamFailed  // the task becomes upstream_failed
	upstreamSkipped // the task becomes skipped
)

// upstreams counts the states of a task's upstream tasks in its run.
type upstreams struct {
	total                                int
	succeeded, failed, upFailed, skipped int
	// The first upstream, in depends_on order, in each state, to name in
	// a reason.
	firstSucceeded, firstFailed, firstSkipped, lastSkipped string
}

func (u upstreams) done() int    { return u.succeeded + u.failed + u.upFailed + u.skipped }
func (u upstreams) pending() int { return u.total - u.done() }

// String gives the counts for a reason: "1 failed, 2 succeeded".
func (u upstreams) String() string {
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{u.failed, "failed"}, {u.upFailed, "upstream_failed"}, {u.skipped, "skipped"}, {u.succeeded, "succeeded"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	return strings.Join(parts, ", ")
}

// upstreamVerdict says whether ti may run under its trigger rule (see
// dag.TriggerRule), must wait, or ends as upstream_failed or skipped, and
// the reason to record. Reasons under a rule other than all_success name
// it, so the history says why a task ran after a failure.
func upstreamVerdict(rs *runState, ti *TaskInstance) (verdict, string) {
	rule := ti.Spec.TriggerRule.Effective()
	var u upstreams
	var failedState State
	for _, up := range ti.Spec.DependsOn {
		t := rs.tis[up]
		if t == nil {
			continue // not part of this run: nothing to wait for
		}
		u.total++
		switch t.State {
		case StateSuccess:
			u.succeeded++
			if u.firstSucceeded == "" {
				u.firstSucceeded = up
			}
		case StateFailed, StateUpstreamFailed:
			if t.State == StateFailed {
				u.failed++
			} else {
				u.upFailed++
			}
			if u.firstFailed == "" {
				u.firstFailed, failedState = up, t.State
			}
		case StateSkipped:
			u.skipped++
			if u.firstSkipped == "" {
				u.firstSkipped = up
			}
			u.lastSkipped = up
		}
	}
	if u.total == 0 {
		// No upstream in the run: every rule is met.
		if len(ti.Spec.DependsOn) == 0 {
			return upstreamReady, "no dependencies"
		}
		return upstreamReady, "dependencies met"
	}
	pending := u.pending() > 0
	name := "trigger rule " + string(rule) + ": "
	switch rule {
	case dag.AllDone:
		if pending {
			return upstreamWait, ""
		}
		return upstreamReady, name + "upstream tasks done (" + u.String() + ")"
	case dag.AllFailed:
		switch {
		case u.succeeded > 0:
			return upstreamSkipped, name + fmt.Sprintf("upstream task %s succeeded", u.firstSucceeded)
		case u.skipped > 0:
			return upstreamSkipped, name + fmt.Sprintf("upstream task %s was skipped", u.firstSkipped)
		case pending:
			return upstreamWait, ""
		}
		return upstreamReady, name + "all upstream tasks failed (" + u.String() + ")"
	case dag.OneSuccess:
		switch {
		case u.succeeded > 0:
			return upstreamReady, name + fmt.Sprintf("upstream task %s succeeded", u.firstSucceeded)
		case pending:
			return upstreamWait, ""
		case u.skipped == u.total:
			return upstreamSkipped, name + "every upstream task was skipped"
		}
		return upstreamFailed, name + "no upstream task succeeded (" + u.String() + ")"
	case dag.OneFailed:
		switch {
		case u.failed+u.upFailed > 0:
			return upstreamReady, name + fmt.Sprintf("upstream task %s is %s", u.firstFailed, failedState)
		case pending:
			return upstreamWait, ""
		}
		return upstreamSkipped, name + "no upstream task failed (" + u.String() + ")"
	case dag.NoneFailed:
		switch {
		case u.failed+u.upFailed > 0:
			return upstreamFailed, name + fmt.Sprintf("upstream task %s is %s", u.firstFailed, failedState)
		case pending:
			return upstreamWait, ""
		}
		return upstreamReady, name + "no upstream task failed (" + u.String() + ")"
	case dag.Always:
		return upstreamReady, name + "runs without waiting for upstream tasks"
	}
	// all_success, and any rule this build does not know (DecodeSpec
	// refuses those): a failure propagates, a skip skips, and otherwise
	// the task waits for every upstream to succeed.
	switch {
	case u.failed+u.upFailed > 0:
		return upstreamFailed, fmt.Sprintf("upstream task %s is %s", u.firstFailed, failedState)
	case u.skipped > 0:
		return upstreamSkipped, fmt.Sprintf("upstream task %s was skipped", u.lastSkipped)
	case pending:
		return upstreamWait, ""
	}
	return upstreamReady, "dependencies met"
}
