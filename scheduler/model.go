package scheduler

import (
	"fmt"
	"time"

	"github.com/vigilhq/vigil/scheduler/dag"
)

// TaskKey names a task instance: one task of one run of one DAG.
type TaskKey struct {
	DAGID  string `json:"dag_id"`
	RunID  string `json:"run_id"`
	TaskID string `json:"task_id"`
}

func (k TaskKey) String() string { return k.DAGID + "/" + k.RunID + "/" + k.TaskID }

// TryKey names one try of a task instance. Executors key their work by it,
// so submitting the same try twice starts one process or pod.
type TryKey struct {
	TaskKey
	Try int `json:"try"`
}

func (k TryKey) String() string { return fmt.Sprintf("%s#%d", k.TaskKey, k.Try) }

// TaskInstance is one task of one run, with its effective configuration and
// where it is in its life.
type TaskInstance struct {
	TaskKey
	State State `json:"state"`
	// Try is the number of the current or last try, from 1; 0 before the
	// first try was queued.
	Try int `json:"try"`
	// Spec is the task's effective configuration, fixed when the run was
	// created.
	Spec dag.TaskSpec `json:"spec"`
	// ExternalID names the process or pod of the current try, when known.
	ExternalID string    `json:"external_id"`
	ExitCode   *int      `json:"exit_code"`
	QueuedAt   time.Time `json:"queued_at"`
	StartedAt  time.Time `json:"started_at"`
	EndedAt    time.Time `json:"ended_at"`
	// RetryAt is when an up_for_retry instance may be queued again.
	RetryAt time.Time `json:"retry_at"`
	// Evictions counts the tries its platform ended through no fault of
	// the task (evicted, preempted, lost with a node): they were run again
	// without counting against Spec.Retries (see Options.MaxEvictions).
	Evictions int `json:"evictions"`
	// TryBase is the try number the instance had when it was last
	// cleared by hand (see ClearTasks): the tries before it ran for an
	// earlier attempt and do not count against Spec.Retries; its history
	// keeps them. 0 for an instance never cleared.
	TryBase   int       `json:"try_base,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
	// Version counts the instance's transitions.
	Version int `json:"version"`
}

// TryKey returns the key of the instance's current try.
func (ti TaskInstance) TryKey() TryKey { return TryKey{TaskKey: ti.TaskKey, Try: ti.Try} }

// Counted is the number of tries that count against the task's retries:
// every try since the instance was last cleared, the current one
// included, except the evicted ones.
func (ti TaskInstance) Counted() int { return ti.Try - ti.TryBase - ti.Evictions }

// CanRetry reports whether a failed current try leaves another one.
func (ti TaskInstance) CanRetry() bool { return ti.Counted() <= ti.Spec.Retries }

// defaultMaxRetryDelay caps exponential backoff when the DAG sets no cap,
// so a task with many retries never waits longer than a day.
const defaultMaxRetryDelay = 24 * time.Hour

// RetryDelay is the wait after try number try failed, before the next.
func RetryDelay(s dag.TaskSpec, try int) time.Duration {
	d := s.RetryDelay
	limit := s.MaxRetryDelay
	if s.RetryExponential {
		if limit == 0 {
			limit = defaultMaxRetryDelay
		}
		for i := 1; i < try && d < limit && d > 0; i++ {
			d *= 2
		}
	}
	if limit > 0 && d > limit {
		d = limit
	}
	return d
}

// Transition is one record of a task instance's history: the answer to "why
// is this task in this state?".
type Transition struct {
	Seq        int64     `json:"seq"` // assigned by the store, increasing
	Key        TaskKey   `json:"task"`
	Try        int       `json:"try"`
	From       State     `json:"from"`
	To         State     `json:"to"`
	At         time.Time `json:"at"`
	Actor      Actor     `json:"by"`
	Reason     string    `json:"reason"`
	ExternalID string    `json:"external_id"`
	ExitCode   *int      `json:"exit_code"`
	// Manual marks a transition an operator asked for (a clear, a mark, a
	// cancel): Actor is the operator, and the transition may be one only
	// an operator may make (ManualTransition).
	Manual bool `json:"manual,omitempty"`
	// Repeats counts how many more times the same transition happened
	// after At, the last time at LastAt (equal to At when Repeats is 0):
	// the store collapses a repeated failure into one record instead of
	// one per occurrence (see Collapse; ExpandHistory undoes it).
	Repeats int       `json:"repeats"`
	LastAt  time.Time `json:"last_at"`
}

// RunState is where a DAG run is.
type RunState string

// The states of a DAG run.
const (
	RunRunning RunState = "running"
	RunSuccess RunState = "success"
	RunFailed  RunState = "failed"
	// RunCancelled is a run an operator cancelled (`vigil runs cancel`):
	// its running tries were stopped and its waiting tasks skipped.
	RunCancelled RunState = "cancelled"
)

// RunStates lists every run state.
var RunStates = []RunState{RunRunning, RunSuccess, RunFailed, RunCancelled}

// Valid reports whether s is one of the known run states.
func (s RunState) Valid() bool {
	for _, k := range RunStates {
		if s == k {
			return true
		}
	}
	return false
}

// Run is one run of a DAG.
type Run struct {
	DAGID string `json:"dag_id"`
	RunID string `json:"run_id"`
	// LogicalDate is the schedule tick the run covers, or the trigger time
	// of a manual run.
	LogicalDate time.Time `json:"logical_date"`
	Manual      bool      `json:"manual"`
	State       RunState  `json:"state"`
	CreatedAt   time.Time `json:"created_at"`
	EndedAt     time.Time `json:"ended_at"`
	// CreatedBy is the actor that created the run.
	CreatedBy Actor `json:"created_by"`
	// Conf is what the run was triggered with (`--conf`), as given.
	Conf dag.Values `json:"conf,omitempty"`
	// Params are the run's effective params, fixed when it was created:
	// the DAG's defaults overlaid by Conf (see params.go). Nil for a run
	// stored without them, which gets the DAG's defaults as loaded now.
	Params dag.Values `json:"params,omitempty"`
	// Owner is the scheduler instance that works on the run, in a store
	// several schedulers share (see Claimer); empty for none, and always
	// empty in a store that does not track owners.
	Owner string `json:"owner,omitempty"`
}

// DAGRecord is what the store keeps of a loaded DAG.
type DAGRecord struct {
	ID   string
	File string
	// Source is the DAG's canonical encoding (dag.Encode).
	Source []byte
	// Specs holds each task's effective configuration, resolved against the
	// presets of the scheduler that loaded the DAG.
	Specs map[string]dag.TaskSpec
	// Paused DAGs get no new scheduled runs; their running tasks finish.
	Paused bool
	// Missing is set when the DAG's file no longer defines it.
	Missing   bool
	UpdatedAt time.Time
}

// LoadError is a DAG file that failed to load. It stays in the store until
// the file loads again, so `vigil dags list` can show it.
type LoadError struct {
	File    string    `json:"file"`
	Message string    `json:"message"`
	Since   time.Time `json:"since"`
}

// HeartbeatRecord is the last beat a component of a process wrote to the
// store, so that other processes (`vigil status`) can tell whether it is
// alive.
type HeartbeatRecord struct {
	Component string        `json:"component"`
	Instance  string        `json:"instance"`
	Host      string        `json:"host"`
	PID       int           `json:"pid"`
	Period    time.Duration `json:"period_ns"`
	LastBeat  time.Time     `json:"last_beat"`
	StartedAt time.Time     `json:"started_at"`
	// StoppedAt is set by the last beat of a process that stopped cleanly,
	// so its silence afterwards is not mistaken for a hang.
	StoppedAt time.Time `json:"stopped_at,omitzero"`
}
