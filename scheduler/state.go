package scheduler

import (
	"errors"
	"fmt"
	"time"
)

// State is where a task instance is in its life.
//
//	scheduled ──▶ queued ──▶ running ──▶ success
//	    │  ▲        │  │        │ └────▶ failed
//	    │  └────────┘  │        └──────▶ up_for_retry ──▶ queued (next try)
//	    ├─▶ upstream_failed     │
//	    └─▶ skipped             ▼
//	                      (queued may also end directly: an executor
//	                       can report a try that started and finished
//	                       between two looks)
//
// queued → scheduled is a requeue: the try was not started (a submit that
// timed out, a try lost by the executor) and will be submitted again with
// the same try number.
type State string

// The states of a task instance.
const (
	StateScheduled      State = "scheduled"
	StateQueued         State = "queued"
	StateRunning        State = "running"
	StateSuccess        State = "success"
	StateFailed         State = "failed"
	StateUpForRetry     State = "up_for_retry"
	StateSkipped        State = "skipped"
	StateUpstreamFailed State = "upstream_failed"
)

// States lists every state, in life order.
var States = []State{
	StateScheduled, StateQueued, StateRunning, StateSuccess, StateFailed,
	StateUpForRetry, StateSkipped, StateUpstreamFailed,
}

// Terminal reports whether no further transition can leave s.
func (s State) Terminal() bool {
	switch s {
	case StateSuccess, StateFailed, StateSkipped, StateUpstreamFailed:
		return true
	}
	return false
}

// Active reports whether s holds an executor slot (queued or running).
func (s State) Active() bool { return s == StateQueued || s == StateRunning }

// Valid reports whether s is one of the known states.
func (s State) Valid() bool {
	for _, k := range States {
		if s == k {
			return true
		}
	}
	return false
}

// legal is the transition table. A self-transition records a decision
// that leaves the state as it is, such as adopting a running try after a
// restart, or another scheduler's run after it went silent.
var legal = map[State][]State{
	StateScheduled:  {StateScheduled, StateQueued, StateUpstreamFailed, StateSkipped},
	StateQueued:     {StateQueued, StateRunning, StateSuccess, StateFailed, StateUpForRetry, StateScheduled, StateSkipped},
	StateRunning:    {StateRunning, StateSuccess, StateFailed, StateUpForRetry},
	StateUpForRetry: {StateUpForRetry, StateQueued, StateFailed, StateSkipped, StateUpstreamFailed},
}

// byHand adds what an operator may ask for (Change.Manual) to legal:
// clearing an ended instance (→ scheduled, to run again as a new try) and
// marking an instance succeeded or failed whatever it ended as, or before
// it started. A live try (queued, running) is marked through its own end:
// the loop stops it and records the end as the state asked for.
var byHand = map[State][]State{
	StateScheduled:      {StateSuccess, StateFailed},
	StateUpForRetry:     {StateSuccess},
	StateSuccess:        {StateScheduled, StateFailed},
	StateFailed:         {StateScheduled, StateSuccess},
	StateSkipped:        {StateScheduled, StateSuccess, StateFailed},
	StateUpstreamFailed: {StateScheduled, StateSuccess, StateFailed},
}

// ErrIllegalTransition is returned (wrapped) for a transition the state
// machine does not allow.
var ErrIllegalTransition = errors.New("illegal transition")

// ErrStateConflict is returned (wrapped) when a transition expected the
// instance in one state and found it in another: someone else moved it
// first. The caller should reload and decide again.
var ErrStateConflict = errors.New("state conflict")

// ErrNotOwner is returned (wrapped) for a change whose Owner no longer owns
// the instance's run: another scheduler took the run over, and the change
// was not applied.
var ErrNotOwner = errors.New("run owned by another scheduler")

// ErrNotFound is returned (wrapped) by a Store for a missing DAG, run or
// task instance.
var ErrNotFound = errors.New("not found")

// CheckTransition returns nil if from → to is allowed.
func CheckTransition(from, to State) error {
	for _, s := range legal[from] {
		if s == to {
			return nil
		}
	}
	return fmt.Errorf("%w: %s → %s", ErrIllegalTransition, from, to)
}

// CheckManualTransition returns nil if an operator may move an instance
// from → to: any legal transition, and those of byHand.
func CheckManualTransition(from, to State) error {
	for _, s := range byHand[from] {
		if s == to {
			return nil
		}
	}
	if err := CheckTransition(from, to); err != nil {
		return fmt.Errorf("%w (even by hand)", err)
	}
	return nil
}

// Change asks for one state transition of one task instance.
type Change struct {
	Key TaskKey
	// From is the state the caller saw; the change fails with
	// ErrStateConflict if the instance is no longer in it.
	From State
	To   State
	// Reason is shown to people: "exit code 3", "execution timeout 10m0s
	// exceeded". It is required.
	Reason string
	Actor  Actor
	At     time.Time
	// ExternalID names the process or pod running the try, when known.
	ExternalID string
	// ExitCode is the try's exit status, when known.
	ExitCode *int
	// Owner, if set, fences the change: a store that tracks run owners
	// (see Claimer) applies it only while Owner owns the instance's run,
	// checked in the same transaction, and fails it with ErrNotOwner
	// otherwise. Stores without owners ignore it.
	Owner string
	// Evicted marks a change to up_for_retry for a try its platform ended
	// through no fault of the task (evicted, preempted, lost with its
	// node): the instance's Evictions goes up by one, so the try does not
	// count against the task's retries, and the next try may start after
	// RetryIn instead of the task's retry delay.
	Evicted bool
	RetryIn time.Duration
	// Manual marks a change an operator asked for: Actor is the operator,
	// and the transitions of byHand are allowed too. A manual change to
	// scheduled clears the instance: its next try is a new one, the tries
	// before do not count against its retries (TryBase), and its history
	// keeps them.
	Manual bool
}

// Actor is who decided a transition: a component ("scheduler",
// "executor/local", "reconciler", "cli") and its instance (host:pid).
type Actor struct {
	Component string `json:"component"`
	Instance  string `json:"instance"`
}

func (a Actor) String() string {
	if a.Instance == "" {
		return a.Component
	}
	return a.Component + "@" + a.Instance
}

// Apply is the one place the state machine is enforced. It checks c against
// ti and returns the instance after the change and the record to append to
// its history. Stores call it inside the transaction that persists both.
func Apply(ti TaskInstance, c Change) (TaskInstance, Transition, error) {
	if c.Reason == "" {
		return ti, Transition{}, fmt.Errorf("transition %s %s → %s: a reason is required", c.Key, c.From, c.To)
	}
	if ti.State != c.From {
		return ti, Transition{}, fmt.Errorf("%w: task %s is %s, not %s", ErrStateConflict, c.Key, ti.State, c.From)
	}
	check := CheckTransition
	if c.Manual {
		check = CheckManualTransition
	}
	if err := check(c.From, c.To); err != nil {
		return ti, Transition{}, fmt.Errorf("task %s: %w", c.Key, err)
	}
	at := c.At.UTC()
	next := ti
	next.State = c.To
	next.UpdatedAt = at
	next.Version++
	if c.ExternalID != "" {
		next.ExternalID = c.ExternalID
	}
	if c.ExitCode != nil {
		code := *c.ExitCode
		next.ExitCode = &code
	}
	switch c.To {
	case StateQueued:
		// A new try after a failure, or the first since the instance was
		// created or cleared; a requeued try keeps its number.
		if c.From == StateUpForRetry || (c.From == StateScheduled && next.Try == next.TryBase) {
			next.Try++
			next.RetryAt = time.Time{}
		}
		if c.From != StateQueued {
			next.QueuedAt = at
			next.StartedAt, next.EndedAt = time.Time{}, time.Time{}
			next.ExitCode, next.ExternalID = nil, c.ExternalID
		}
	case StateRunning:
		if c.From != StateRunning {
			next.StartedAt = at
		}
	case StateUpForRetry:
		next.EndedAt = at
		// The delay grows with the tries that count: an eviction does not
		// lengthen the task's backoff.
		next.RetryAt = at.Add(RetryDelay(ti.Spec, max(1, next.Counted())))
		if c.Evicted && c.From != StateUpForRetry {
			next.Evictions++
			next.RetryAt = at.Add(max(c.RetryIn, 0))
		}
	case StateScheduled:
		next.QueuedAt = time.Time{}
		next.ExternalID = ""
		if c.From.Terminal() {
			// Cleared: a fresh start, counted from here.
			next.TryBase, next.Evictions = next.Try, 0
			next.StartedAt, next.EndedAt, next.RetryAt = time.Time{}, time.Time{}, time.Time{}
			next.ExitCode = nil
		}
	}
	if c.To.Terminal() {
		next.EndedAt = at
	}
	rec := Transition{
		Key:        c.Key,
		Try:        next.Try,
		From:       c.From,
		To:         c.To,
		At:         at,
		Actor:      c.Actor,
		Reason:     c.Reason,
		ExternalID: next.ExternalID,
		ExitCode:   next.ExitCode,
		Manual:     c.Manual,
	}
	return next, rec, nil
}
