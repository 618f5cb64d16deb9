package scheduler

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Operations are what an operator asks of a run once diag has named the
// cause: clear tasks to run them again, mark them succeeded or failed,
// cancel a run. A command (or, later, the API) stores the request in the
// store (Store.SubmitOp) and does nothing else; the scheduler that owns
// the run applies it in its loop (remedy.go), fenced by that ownership
// like every change it makes, so an operation racing the owner or a
// failover cannot start a try twice. A run that has ended has no owner
// to race: the first scheduler to apply the operation reopens it and owns
// it (Store.ApplyOp). PlanOp, the one place an operation's effect is
// decided, serves both the loop and `--dry-run`.

// OpKind names an operation.
type OpKind string

// The operations.
const (
	// OpClearTasks clears a task of a run (and, by its args, its
	// downstream or upstream tasks): each ended one is scheduled again
	// as a new try (`vigil tasks clear`).
	OpClearTasks OpKind = "clear_tasks"
	// OpClearRun clears every ended task of a run (`vigil runs clear`).
	OpClearRun OpKind = "clear_run"
	// OpMark sets a task (and, by its args, its downstream tasks) to
	// success or failed; a live try is stopped first (`vigil tasks
	// mark`).
	OpMark OpKind = "mark"
	// OpCancelRun stops a run's live tries and skips its waiting tasks;
	// the run ends cancelled (`vigil runs cancel`).
	OpCancelRun OpKind = "cancel_run"
)

// OpState is where an operation is.
type OpState string

// The states of an operation: pending until a scheduler applies it;
// stopping while the tries it stopped have not ended yet; then done, or
// failed with the reason in its result.
const (
	OpPending  OpState = "pending"
	OpStopping OpState = "stopping"
	OpDone     OpState = "done"
	OpFailed   OpState = "failed"
)

// Open reports whether an operation still has work to do.
func (s OpState) Open() bool { return s == OpPending || s == OpStopping }

// Op is an operation an operator asked for, as the store keeps it.
type Op struct {
	ID    int64  `json:"id"`
	Kind  OpKind `json:"kind"`
	DAGID string `json:"dag_id"`
	RunID string `json:"run_id"`
	// TaskID is the task a task operation starts from.
	TaskID string `json:"task_id,omitempty"`
	Args   OpArgs `json:"args"`
	// Actor is the operator (a command's user, host and pid; an API
	// token's name) and Reason what they gave; both go into the history
	// of every instance the operation moves.
	Actor     Actor     `json:"by"`
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	State     OpState   `json:"state"`
	// Result says what the operation did, or why it failed.
	Result string    `json:"result,omitempty"`
	DoneBy string    `json:"done_by,omitempty"`
	DoneAt time.Time `json:"done_at,omitzero"`
}

// OpArgs are an operation's options.
type OpArgs struct {
	Downstream bool `json:"downstream,omitempty"`
	Upstream   bool `json:"upstream,omitempty"`
	// OnlyFailed clears only failed and upstream_failed tasks.
	OnlyFailed bool `json:"only_failed,omitempty"`
	// State is what OpMark sets: success or failed.
	State State `json:"state,omitempty"`
}

// Validate checks an operation before it is stored.
func (op Op) Validate() error {
	if op.DAGID == "" || op.RunID == "" {
		return errors.New("an operation needs a DAG and a run")
	}
	switch op.Kind {
	case OpClearTasks, OpMark:
		if op.TaskID == "" {
			return fmt.Errorf("%s needs a task", op.Kind)
		}
	case OpClearRun, OpCancelRun:
	default:
		return fmt.Errorf("unknown operation %q", op.Kind)
	}
	if op.Kind == OpMark && op.Args.State != StateSuccess && op.Args.State != StateFailed {
		return fmt.Errorf("mark --state %q: use success or failed", op.Args.State)
	}
	if op.Actor.Component == "" {
		return errors.New("an operation needs an actor")
	}
	return nil
}

// OpUpdate is what Store.ApplyOp records of an operation, in the
// transaction that stores its changes.
type OpUpdate struct {
	ID     int64
	State  OpState
	Result string
	By     string
	At     time.Time
	// Reopen, if set, makes the operation's ended run running again, and
	// Owner its owner in a store that tracks owners.
	Reopen bool
	Owner  string
	// RunState, if set, is stored as the ended run's state (a cancelled
	// run that ended before its cancel was recorded done).
	RunState RunState
}

// ErrOpClosed is returned (wrapped) by Store.ApplyOp for an operation that
// is no longer open: another scheduler applied it first.
var ErrOpClosed = errors.New("operation no longer open")

// OpFilter selects operations. Zero fields match everything.
type OpFilter struct {
	States []OpState
	DAGID  string
	RunID  string
	// Limit is the most operations returned; 0 for all.
	Limit int
	// After, an OpCursor, starts the list after that operation.
	After string
}

// Plan is what an operation does to a run as it stands.
type Plan struct {
	// Changes are stored at once, in one transaction.
	Changes []Change
	// Stops are the live tries to stop; each one's end is recorded as
	// its To.
	Stops []PlannedStop
	// Left are the selected instances the operation leaves as they are.
	Left []Left
	// Cancel says the run ends cancelled.
	Cancel bool
	// Reason is what every record of the operation says.
	Reason string
}

// PlannedStop is a live try an operation stops.
type PlannedStop struct {
	Try TryKey
	// From is the try's state now: queued or running.
	From State
	// To is what its end is recorded as. KeepSuccess records a try that
	// exits 0 before the stop lands as a success (a cancel); a mark
	// records To whatever the exit.
	To          State
	KeepSuccess bool
}

// Left is a selected instance an operation does not move, and why.
type Left struct {
	Task  TaskKey
	State State
	Why   string
}

// Empty reports whether the plan does nothing.
func (p Plan) Empty() bool { return len(p.Changes) == 0 && len(p.Stops) == 0 }

// Summary says what the plan does, for the operation's result and for
// --dry-run.
func (p Plan) Summary() string {
	var parts []string
	if n := len(p.Changes); n > 0 {
		var what []string
		for _, c := range p.Changes {
			what = append(what, fmt.Sprintf("%s %s→%s", c.Key.TaskID, c.From, c.To))
		}
		parts = append(parts, fmt.Sprintf("%d task(s): %s", n, strings.Join(what, ", ")))
	}
	if n := len(p.Stops); n > 0 {
		var what []string
		for _, st := range p.Stops {
			what = append(what, fmt.Sprintf("%s try %d (%s, ends %s)", st.Try.TaskID, st.Try.Try, st.From, st.To))
		}
		parts = append(parts, fmt.Sprintf("stopping %d: %s", n, strings.Join(what, ", ")))
	}
	for _, l := range p.Left {
		parts = append(parts, fmt.Sprintf("%s left %s: %s", l.Task.TaskID, l.State, l.Why))
	}
	if len(parts) == 0 {
		return "nothing to do"
	}
	return strings.Join(parts, "; ")
}

// opReason is what the records of an operation say: what was done by hand
// and the operator's reason.
func opReason(op Op) string {
	var what string
	switch op.Kind {
	case OpClearTasks, OpClearRun:
		what = "cleared by hand"
	case OpMark:
		what = fmt.Sprintf("marked %s by hand", op.Args.State)
	case OpCancelRun:
		what = "run cancelled by hand"
	}
	what += fmt.Sprintf(" (operation %d)", op.ID)
	if op.Reason != "" {
		what += ": " + op.Reason
	}
	return what
}

// PlanOp decides what op does to run, whose instances are tis, at now.
// It changes nothing; the loop applies the plan, and --dry-run prints it.
func PlanOp(op Op, run Run, tis []TaskInstance, now time.Time) (Plan, error) {
	if err := op.Validate(); err != nil {
		return Plan{}, err
	}
	byID := make(map[string]TaskInstance, len(tis))
	for _, ti := range tis {
		byID[ti.TaskID] = ti
	}
	if op.TaskID != "" {
		if _, ok := byID[op.TaskID]; !ok {
			ids := slices.Sorted(maps.Keys(byID))
			return Plan{}, fmt.Errorf("run %s/%s has no task %q (its tasks: %s)", op.DAGID, op.RunID, op.TaskID, strings.Join(ids, ", "))
		}
	}
	p := Plan{Reason: opReason(op)}
	change := func(ti TaskInstance, to State) {
		p.Changes = append(p.Changes, Change{Key: ti.TaskKey, From: ti.State, To: to, Reason: p.Reason,
			Actor: op.Actor, At: now, Manual: true})
	}
	switch op.Kind {
	case OpClearTasks, OpClearRun:
		for _, ti := range selectTasks(op, tis, byID) {
			switch {
			case op.Args.OnlyFailed && ti.State != StateFailed && ti.State != StateUpstreamFailed:
			case ti.State.Terminal():
				change(ti, StateScheduled)
			default:
				p.Left = append(p.Left, Left{Task: ti.TaskKey, State: ti.State,
					Why: "not ended; only ended tasks are cleared (wait for it, or mark it)"})
			}
		}
	case OpMark:
		to := op.Args.State
		for _, ti := range selectTasks(op, tis, byID) {
			switch {
			case ti.State == to:
				p.Left = append(p.Left, Left{Task: ti.TaskKey, State: ti.State, Why: "already " + string(to)})
			case ti.State.Active():
				p.Stops = append(p.Stops, PlannedStop{Try: ti.TryKey(), From: ti.State, To: to})
			default:
				if err := CheckManualTransition(ti.State, to); err != nil {
					p.Left = append(p.Left, Left{Task: ti.TaskKey, State: ti.State, Why: err.Error()})
					continue
				}
				change(ti, to)
			}
		}
	case OpCancelRun:
		if run.State != RunRunning {
			return Plan{}, fmt.Errorf("run %s/%s has already ended (%s); nothing to cancel", op.DAGID, op.RunID, run.State)
		}
		p.Cancel = true
		for _, ti := range sortedTasks(tis) {
			switch {
			case ti.State == StateScheduled || ti.State == StateUpForRetry:
				change(ti, StateSkipped)
			case ti.State.Active():
				p.Stops = append(p.Stops, PlannedStop{Try: ti.TryKey(), From: ti.State, To: StateFailed, KeepSuccess: true})
			}
		}
	}
	return p, nil
}

// selectTasks returns the instances an operation names, in task order: the
// whole run, or its task and, by the args, everything downstream or
// upstream of it.
func selectTasks(op Op, tis []TaskInstance, byID map[string]TaskInstance) []TaskInstance {
	if op.Kind == OpClearRun {
		return sortedTasks(tis)
	}
	down := map[string][]string{}
	for _, ti := range tis {
		for _, up := range ti.Spec.DependsOn {
			down[up] = append(down[up], ti.TaskID)
		}
	}
	picked := map[string]bool{op.TaskID: true}
	walk := func(next func(string) []string) {
		todo := []string{op.TaskID}
		for len(todo) > 0 {
			id := todo[len(todo)-1]
			todo = todo[:len(todo)-1]
			for _, n := range next(id) {
				if !picked[n] {
					picked[n] = true
					todo = append(todo, n)
				}
			}
		}
	}
	if op.Args.Downstream {
		walk(func(id string) []string { return down[id] })
	}
	if op.Args.Upstream {
		walk(func(id string) []string { return byID[id].Spec.DependsOn })
	}
	var out []TaskInstance
	for _, ti := range sortedTasks(tis) {
		if picked[ti.TaskID] {
			out = append(out, ti)
		}
	}
	return out
}

func sortedTasks(tis []TaskInstance) []TaskInstance {
	out := slices.Clone(tis)
	slices.SortFunc(out, func(a, b TaskInstance) int { return strings.Compare(a.TaskID, b.TaskID) })
	return out
}
