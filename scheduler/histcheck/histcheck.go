// Package histcheck checks a recorded history against the promises Vigil
// makes, after a test has run the scheduler through faults: every task
// instance ended; each try ran at most one workload (pod or process); every
// transition is one the state machine allows (an operator's, one it allows
// by hand), continues from the state the previous one left, and says why;
// no try was queued twice without a requeue between; and no two schedulers
// acted on an instance at once without a recorded takeover. It reads nothing itself: the caller hands it
// the store's instances and histories and the platform's workloads, so the
// same check runs over SQLite, PostgreSQL, pods and local processes.
package histcheck

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/vigilhq/vigil/scheduler"
)

// Input is one scenario's record. Histories may hold collapsed records
// (Transition.Repeats): Check expands them first.
type Input struct {
	Instances []scheduler.TaskInstance
	// History holds each instance's transitions, oldest first.
	History map[scheduler.TaskKey][]scheduler.Transition
	// Workloads lists, per try, every workload the platform ran for it
	// (pods by UID, processes by a line each wrote); nil skips the check.
	Workloads map[scheduler.TryKey][]string
	// Schedulers are the instances that may act after a run's creation;
	// empty allows any.
	Schedulers []string
	// WantState, if set, is the state every instance must end in.
	WantState scheduler.State
}

// Report is what Check found.
type Report struct {
	Instances   int
	Transitions int
	Tries       int
	Workloads   int
	// ByScheduler counts the transitions each scheduler made.
	ByScheduler map[string]int
	// Adoptions counts records of a run or try changing hands; Retries
	// tries started again after a failure; Requeues tries sent back to
	// scheduled before they started (failed submits, lost tries).
	Adoptions, Retries, Requeues int
	// Manual counts the records of operations (clear, mark, cancel).
	Manual     int
	Violations []Violation
}

// Schedulers lists the names ByScheduler holds, sorted.
func (r Report) Schedulers() []string { return slices.Sorted(maps.Keys(r.ByScheduler)) }

// Violation is one instance that broke a promise, with its full history.
type Violation struct {
	Task      scheduler.TaskKey
	Problems  []string
	History   []scheduler.Transition
	Workloads map[int][]string // by try
}

func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", v.Task, strings.Join(v.Problems, "; "))
	for i, r := range v.History {
		fmt.Fprintf(&b, "    %3d %s try %d %s → %s by %s: %s\n", i, r.At.UTC().Format("15:04:05.000"), r.Try, orDash(string(r.From)), r.To, r.Actor, r.Reason)
	}
	for _, try := range slices.Sorted(maps.Keys(v.Workloads)) {
		fmt.Fprintf(&b, "    try %d workloads: %s\n", try, strings.Join(v.Workloads[try], ", "))
	}
	return b.String()
}

// takeover reports whether a record says a scheduler took an instance
// over: from another scheduler ("adopted from scheduler X: ..."), from its
// own previous process ("adopted after restart: ..."), or back after
// losing the store.
func takeover(reason string) bool {
	return strings.HasPrefix(reason, "adopted ") || strings.HasPrefix(reason, "claimed") ||
		strings.HasPrefix(reason, "taken back")
}

// Check applies every rule to in.
func Check(in Input) Report {
	rep := Report{Instances: len(in.Instances), ByScheduler: map[string]int{}}
	known := map[string]bool{}
	for _, s := range in.Schedulers {
		known[s] = true
	}
	byTask := map[scheduler.TaskKey]map[int][]string{}
	for k, ws := range in.Workloads {
		if byTask[k.TaskKey] == nil {
			byTask[k.TaskKey] = map[int][]string{}
		}
		byTask[k.TaskKey][k.Try] = ws
		rep.Workloads += len(ws)
	}
	for _, ti := range in.Instances {
		// A collapsed record (a failing submit's requeues) is checked as
		// the records it stands for.
		h := scheduler.ExpandHistory(in.History[ti.TaskKey])
		rep.Transitions += len(h)
		var bad []string
		if !ti.State.Terminal() {
			bad = append(bad, fmt.Sprintf("did not end: %s", ti.State))
		} else if in.WantState != "" && ti.State != in.WantState {
			bad = append(bad, fmt.Sprintf("ended %s, want %s", ti.State, in.WantState))
		}
		bad = append(bad, checkHistory(&rep, h, known)...)
		if len(h) > 0 && h[len(h)-1].To != ti.State {
			bad = append(bad, fmt.Sprintf("the last record leaves it %s, the store says %s", h[len(h)-1].To, ti.State))
		}
		queued := map[int]bool{}
		for _, r := range h {
			if r.To == scheduler.StateQueued {
				queued[r.Try] = true
			}
		}
		rep.Tries += len(queued)
		ws := byTask[ti.TaskKey]
		if in.Workloads != nil {
			for _, try := range slices.Sorted(maps.Keys(ws)) {
				switch n := len(ws[try]); {
				case n > 1:
					bad = append(bad, fmt.Sprintf("try %d ran %d workloads", try, n))
				case !queued[try]:
					bad = append(bad, fmt.Sprintf("a workload ran for try %d, which was never queued", try))
				}
			}
		}
		if len(bad) > 0 {
			rep.Violations = append(rep.Violations, Violation{Task: ti.TaskKey, Problems: bad, History: h, Workloads: ws})
		}
	}
	have := make(map[scheduler.TaskKey]bool, len(in.Instances))
	for _, ti := range in.Instances {
		have[ti.TaskKey] = true
	}
	for k := range byTask {
		if !have[k] {
			rep.Violations = append(rep.Violations, Violation{Task: k, Workloads: byTask[k],
				Problems: []string{"workloads ran for a task instance the store does not have"}})
		}
	}
	slices.SortFunc(rep.Violations, func(a, b Violation) int { return strings.Compare(a.Task.String(), b.Task.String()) })
	return rep
}

// checkHistory applies the per-record rules to one instance's history.
func checkHistory(rep *Report, h []scheduler.Transition, known map[string]bool) []string {
	var bad []string
	owner := ""
	queuedBy := map[int]string{} // try → who queued it, until a requeue
	for i, r := range h {
		if r.Reason == "" {
			bad = append(bad, fmt.Sprintf("record %d (%s → %s) gives no reason", i, orDash(string(r.From)), r.To))
		}
		if i == 0 {
			if r.From != "" {
				bad = append(bad, fmt.Sprintf("the first record starts from %s, not from nothing", r.From))
			}
			continue // the run's creation, by whoever made it
		}
		if prev := h[i-1].To; r.From != prev {
			bad = append(bad, fmt.Sprintf("record %d starts from %s, but record %d left it %s", i, r.From, i-1, prev))
		}
		check := scheduler.CheckTransition
		if r.Manual {
			check = scheduler.CheckManualTransition
		}
		if err := check(r.From, r.To); err != nil {
			bad = append(bad, fmt.Sprintf("record %d: %v", i, err))
		}
		if r.Manual {
			// An operator's (a clear, a mark, a cancel), stored by the
			// run's owner of the moment. It leaves the instance ended, or
			// clears an ended one: no scheduler was acting on it, and the
			// next record may be by whoever owns the run by then (an
			// ended instance gets no takeover record when its run changes
			// hands).
			rep.Manual++
			owner = ""
			continue
		}
		who := r.Actor.Instance
		if len(known) > 0 && !known[who] {
			bad = append(bad, fmt.Sprintf("record %d by %s, none of the schedulers", i, r.Actor))
			continue
		}
		rep.ByScheduler[who]++
		took := takeover(r.Reason)
		if took {
			rep.Adoptions++
		}
		if owner != "" && who != owner && !took {
			bad = append(bad, fmt.Sprintf("record %d by %s while %s acted on the instance, with no takeover record", i, who, owner))
		}
		owner = who
		switch {
		case r.To == scheduler.StateQueued && r.From != scheduler.StateQueued:
			if r.From == scheduler.StateUpForRetry {
				rep.Retries++
			}
			if prev, ok := queuedBy[r.Try]; ok {
				bad = append(bad, fmt.Sprintf("try %d queued twice (by %s, then %s) with no requeue between", r.Try, prev, who))
			}
			queuedBy[r.Try] = who
		case r.From == scheduler.StateQueued && r.To == scheduler.StateScheduled:
			rep.Requeues++
			delete(queuedBy, r.Try) // the same try may be queued again
		}
	}
	return bad
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
