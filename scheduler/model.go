package scheduler

import (
	"fmt"
	"time"

	"github.com/vigilhq/vigil/scheduler/dag"
)

// TaskKey names a task instance: one task of one run of one DAG.
type TaskKey struct {
	DAGID  string
	RunID  string
	TaskID string
}

func (k TaskKey) String() string { return k.DAGID + "/" + k.RunID + "/" + k.TaskID }

// TryKey names one try of a task instance. Executors key their work by it,
// so submitting the same try twice starts one process or pod.
type TryKey struct {
	TaskKey
	Try int
}

func (k TryKey) String() string { return fmt.Sprintf("%s#%d", k.TaskKey, k.Try) }

// TaskInstance is one task of one run, with its effective configuration and
// where it is in its life.
type TaskInstance struct {
	TaskKey
	State State
	// Try is the number of the current or last try, from 1; 0 before the
	// first try was queued.
	Try int
	// Spec is the task's effective configuration, fixed when the run was
	// created.
	Spec dag.TaskSpec
	// ExternalID names the process or pod of the current try, when known.
	ExternalID string
	ExitCode   *int
	QueuedAt   time.Time
	StartedAt  time.Time
	EndedAt    time.Time
	// RetryAt is when an up_for_retry instance may be queued again.
	RetryAt   time.Time
	UpdatedAt time.Time
	// Version counts the instance's transitions.
	Version int
}

// TryKey returns the key of the instance's current try.
func (ti TaskInstance) TryKey() TryKey { return TryKey{TaskKey: ti.TaskKey, Try: ti.Try} }

// CanRetry reports whether a failed current try leaves another one.
func (ti TaskInstance) CanRetry() bool { return ti.Try <= ti.Spec.Retries }

// RetryDelay is the wait after try number try failed, before the next.
func RetryDelay(s dag.TaskSpec, try int) time.Duration {
	d := s.RetryDelay
	if s.RetryExponential {
		for i := 1; i < try && (s.MaxRetryDelay == 0 || d < s.MaxRetryDelay); i++ {
			d *= 2
		}
	}
	if s.MaxRetryDelay > 0 && d > s.MaxRetryDelay {
		d = s.MaxRetryDelay
	}
	return d
}

// Transition is one record of a task instance's history: the answer to "why
// is this task in this state?".
type Transition struct {
	Seq        int64 // assigned by the store, increasing
	Key        TaskKey
	Try        int
	From       State
	To         State
	At         time.Time
	Actor      Actor
	Reason     string
	ExternalID string
	ExitCode   *int
}

// RunState is where a DAG run is.
type RunState string

// The states of a DAG run.
const (
	RunRunning RunState = "running"
	RunSuccess RunState = "success"
	RunFailed  RunState = "failed"
)

// Run is one run of a DAG.
type Run struct {
	DAGID string
	RunID string
	// LogicalDate is the schedule tick the run covers, or the trigger time
	// of a manual run.
	LogicalDate time.Time
	Manual      bool
	State       RunState
	CreatedAt   time.Time
	EndedAt     time.Time
	// CreatedBy is the actor that created the run.
	CreatedBy Actor
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
	File    string
	Message string
	Since   time.Time
}

// HeartbeatRecord is the last beat a component of a process wrote to the
// store, so that other processes (`vigil status`) can tell whether it is
// alive.
type HeartbeatRecord struct {
	Component string
	Instance  string
	Host      string
	PID       int
	Period    time.Duration
	LastBeat  time.Time
	StartedAt time.Time
}
