package scheduler

import (
	"context"
	"fmt"
	"time"
)

// Store is the scheduler's persistent state. Every method must return by the
// context's deadline. Times come back in UTC. Implementations live under scheduler/store and pass
// the contract suite in scheduler/store/storetest.
type Store interface {
	// SaveDAG inserts or updates a DAG, including its missing mark. The
	// paused flag of an existing DAG is kept; rec.Paused is used only on
	// insert.
	SaveDAG(ctx context.Context, rec DAGRecord) error
	// SetDAGMissing marks a DAG whose file no longer defines it (or clears
	// the mark).
	SetDAGMissing(ctx context.Context, id string, missing bool) error
	SetDAGPaused(ctx context.Context, id string, paused bool) error
	GetDAG(ctx context.Context, id string) (DAGRecord, error)
	// ListDAGs returns every DAG, ordered by id.
	ListDAGs(ctx context.Context) ([]DAGRecord, error)
	// ListDAGHeads returns every DAG without its Source and Specs, ordered
	// by id: the loop polls it every sync for paused flags, and decoding a
	// 20,000-task DAG's specs takes a fifth of a second (issue 16).
	ListDAGHeads(ctx context.Context) ([]DAGRecord, error)

	// SetLoadErrors replaces the set of DAG files that failed to load. The
	// Since time of a file whose error was already recorded is kept.
	SetLoadErrors(ctx context.Context, errs []LoadError) error
	// ListLoadErrors returns the load errors, ordered by file.
	ListLoadErrors(ctx context.Context) ([]LoadError, error)

	// CreateRun inserts a run and its task instances (all in state
	// scheduled) in one transaction, and appends a transition record for
	// each instance with the given reason (From empty, To scheduled).
	// Instances are stored as NewRun builds them: try 0, version 0. It
	// returns created=false, and changes nothing, if the run already
	// exists; ErrNotFound if the DAG is unknown.
	CreateRun(ctx context.Context, run Run, tasks []TaskInstance, reason string) (created bool, err error)
	GetRun(ctx context.Context, dagID, runID string) (Run, error)
	// ListRuns returns runs, newest logical date first (a run without
	// one last), then by DAG and run id.
	ListRuns(ctx context.Context, f RunFilter) ([]Run, error)
	// LatestScheduledRun returns the scheduled (not manual) run with the
	// latest logical date, or ErrNotFound.
	LatestScheduledRun(ctx context.Context, dagID string) (Run, error)
	// SetRunState sets a run's state; EndedAt becomes at for an ended
	// state and zero for running.
	SetRunState(ctx context.Context, dagID, runID string, state RunState, at time.Time) error

	GetTaskInstance(ctx context.Context, key TaskKey) (TaskInstance, error)
	// ListTaskInstances returns instances ordered by DAG, run and task.
	ListTaskInstances(ctx context.Context, f TaskFilter) ([]TaskInstance, error)
	// Apply performs each change in one transaction through the package
	// function Apply, persisting the instance and appending its transition
	// record. A change that is illegal or conflicts gets its own error in
	// the result and does not stop the others; err is for failures of the
	// store itself, after which nothing was applied.
	Apply(ctx context.Context, changes []Change) (results []ChangeResult, err error)
	// History returns a task instance's transitions, oldest first, or
	// ErrNotFound for an unknown instance.
	History(ctx context.Context, key TaskKey) ([]Transition, error)
	// HistoryPage returns up to limit (all if 0) of a task instance's
	// transitions, oldest first, after the TransitionCursor after (from
	// the first if empty). An unknown instance has an empty page.
	HistoryPage(ctx context.Context, key TaskKey, limit int, after string) ([]Transition, error)

	// SubmitOp stores an operation an operator asks for (see ops.go) as
	// pending and returns its id. Its ID, State and result fields are
	// ignored.
	SubmitOp(ctx context.Context, op Op) (int64, error)
	// GetOp returns an operation, or ErrNotFound.
	GetOp(ctx context.Context, id int64) (Op, error)
	// ListOps returns the operations f selects, newest first.
	ListOps(ctx context.Context, f OpFilter) ([]Op, error)
	// ApplyOp records an operation's progress and stores its changes, all
	// in one transaction. It moves operation u.ID, which must still be
	// open (ErrOpClosed otherwise), to u.State with u.Result. With
	// u.Reopen, the operation's run, which must have ended
	// (ErrStateConflict otherwise), is set running again, its EndedAt
	// cleared, and in a store that tracks owners u.Owner becomes its
	// owner; with u.RunState, the ended run gets that state. The changes
	// are then applied as Apply applies them, fences included, except
	// that one failing fails them all: the error wraps that change's, and
	// nothing was stored.
	ApplyOp(ctx context.Context, u OpUpdate, changes []Change) ([]ChangeResult, error)

	WriteHeartbeat(ctx context.Context, hb HeartbeatRecord) error
	// ListHeartbeats returns heartbeats ordered by component, then
	// instance.
	ListHeartbeats(ctx context.Context) ([]HeartbeatRecord, error)

	// ID identifies the database: a random id made once, with its
	// schema, the same for every process that opens it and for a copy or
	// restored backup of it. State kept outside the database (the local
	// executor's data folder, pod labels) records it, so that state left
	// by another database is never taken for this one's (issue 16).
	ID() string

	Close() error
}

// ChangeResult is the outcome of one Change given to Store.Apply.
type ChangeResult struct {
	// Instance is the instance after the change (unchanged on error).
	Instance TaskInstance
	Err      error
}

// RunFilter selects runs. Zero fields match everything.
type RunFilter struct {
	DAGID  string
	States []RunState
	// Owner selects the runs a scheduler owns; a store that does not track
	// owners ignores it.
	Owner string
	// Limit is the most runs returned; 0 for all.
	Limit int
	// After, a RunCursor, starts the list after that run.
	After string
}

// Claimer is implemented by stores several schedulers can share
// (PostgreSQL). Each run has an owner, the one scheduler that acts on it;
// the owner fences its changes with Change.Owner, so a scheduler that lost
// a run while it was paused or cut off cannot move it. A scheduler proves
// it is alive with Beat; one silent for longer than a stale threshold, by
// the store's clock, loses its runs to whoever claims them next.
//
// A store that does not implement Claimer serves one scheduler, which owns
// everything.
type Claimer interface {
	// Beat records that scheduler instance is alive now, by the store's
	// clock. stopped records a clean stop: its runs may be claimed at
	// once, without waiting for the stale threshold.
	Beat(ctx context.Context, instance string, stopped bool) error
	// ClaimRuns makes me the owner of up to limit running runs, taken
	// from schedulers that stopped or have not beaten for staleAfter
	// first, then (unless staleOnly) runs with no owner. Runs another
	// claimer holds at that moment are skipped, not waited for, so each
	// run goes to one scheduler. Runs me already owns are not returned.
	ClaimRuns(ctx context.Context, me string, staleAfter time.Duration, limit int, staleOnly bool) ([]Claim, error)
}

// Claim is a run a scheduler took over.
type Claim struct {
	DAGID string
	RunID string
	// From is the scheduler that owned the run; empty for none.
	From string
	// FromStopped says From stopped cleanly; otherwise StaleFor is how
	// long it had been silent (-1 if it never beat).
	FromStopped bool
	StaleFor    time.Duration
}

// Why says, for a transition record, why the run changed hands.
func (c Claim) Why() string {
	switch {
	case c.From == "":
		return "claimed (no scheduler owned the run)"
	case c.FromStopped:
		return fmt.Sprintf("adopted from scheduler %s: it stopped", c.From)
	case c.StaleFor < 0:
		return fmt.Sprintf("adopted from scheduler %s: it never beat", c.From)
	default:
		return fmt.Sprintf("adopted from scheduler %s: heartbeat stale %s", c.From, c.StaleFor.Round(time.Second))
	}
}

// TaskFilter selects task instances. Zero fields match everything.
type TaskFilter struct {
	DAGID  string
	RunID  string
	States []State
	// Limit is the most instances returned; 0 for all.
	Limit int
	// After, a TaskCursor, starts the list after that instance.
	After string
}
