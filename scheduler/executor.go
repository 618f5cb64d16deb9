package scheduler

import (
	"context"
	"io"
	"time"

	"github.com/vigilhq/vigil/scheduler/dag"
)

// Executor runs task tries. Implementations live under executor/ and pass
// the contract suite in executor/executortest.
type Executor interface {
	// Name is the component name used in transition records
	// ("executor/local").
	Name() string
	// Start submits one try and returns once it is submitted, not when it
	// ends. Submitting the same try again must not start a second process
	// or pod; for a try that already ended, its end event is sent again,
	// possibly with no started event before it. Start must return by the
	// context's deadline.
	Start(ctx context.Context, t Try) error
	// Stop asks a try to end (SIGTERM, then SIGKILL after a grace period;
	// or a pod delete). Its end is reported as an event.
	Stop(ctx context.Context, k TryKey, reason string) error
	// Adopt is called on start-up for a try the store says is queued or
	// running: if the try is still alive the executor takes over watching
	// it and will report its end as an event; in every case it reports
	// what it found. externalID is a hint; the executor's own records win.
	Adopt(ctx context.Context, k TryKey, externalID string) (Observation, error)
	// Run delivers events until ctx ends, then returns nil. Events for
	// tries started before Run is called are kept until it is. Run has one
	// caller at a time.
	Run(ctx context.Context, events chan<- Event) error
}

// OrphanFinder is implemented by executors whose tries can outlive every
// record of them (pods): the scheduler asks at each resync for live tries
// the executor does not track, adopts those the store says are live, and
// has the others removed.
type OrphanFinder interface {
	// Untracked lists tries alive on the executor's platform that it does
	// not track, started at least minAge ago.
	Untracked(ctx context.Context, minAge time.Duration) ([]TryKey, error)
	// RemoveOrphan ends an untracked try that belongs to no live task.
	RemoveOrphan(ctx context.Context, k TryKey, reason string) error
}

// Releaser is implemented by executors that remove a try's workload once
// it ended (a succeeded pod): they must keep it until its end is on
// record, or a scheduler killed between the executor's event and the
// store's commit would find nothing after its restart, take the try for a
// zombie and run the task again. The scheduler calls Release once the
// transition that records a try's end is committed.
type Releaser interface {
	Release(k TryKey)
}

// LogReader is implemented by executors that can show a try's output.
type LogReader interface {
	Logs(ctx context.Context, k TryKey) (io.ReadCloser, error)
}

// Try is one try of a task instance, as handed to an executor.
type Try struct {
	Key  TryKey
	Spec dag.TaskSpec
	// Dates are the run's logical date and data interval, given to the
	// task in its environment (DateEnv).
	Dates RunDates
	// Params are the run's effective params, given to the task in its
	// environment (ParamEnv).
	Params dag.Values
}

// RunDates are the times a run covers. A scheduled run's logical date is
// its schedule tick, and its data interval is [previous tick, tick): the
// run that starts at a tick covers the interval that just ended, as in
// Airflow. A manual run's logical date is the time it was triggered, and
// its interval starts and ends there.
type RunDates struct {
	LogicalDate   time.Time
	IntervalStart time.Time
	IntervalEnd   time.Time
}

// DateEnv returns the variables an executor sets for a try's dates, in
// RFC 3339 UTC: VIGIL_LOGICAL_DATE, VIGIL_DATA_INTERVAL_START and
// VIGIL_DATA_INTERVAL_END. It returns none when the dates are unknown.
func (t Try) DateEnv() []dag.EnvVar {
	d := t.Dates
	if d.LogicalDate.IsZero() {
		return nil
	}
	f := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	return []dag.EnvVar{
		{Name: "VIGIL_LOGICAL_DATE", Value: f(d.LogicalDate)},
		{Name: "VIGIL_DATA_INTERVAL_START", Value: f(d.IntervalStart)},
		{Name: "VIGIL_DATA_INTERVAL_END", Value: f(d.IntervalEnd)},
	}
}

// EventKind says what happened to a try.
type EventKind string

// The kinds of executor event.
const (
	// EventStarted: the try's process or pod is running.
	EventStarted EventKind = "started"
	// EventExited: the try ended; ExitCode holds its status.
	EventExited EventKind = "exited"
	// EventLost: the try ended and its status cannot be known (the process
	// vanished, the pod was deleted); Reason says what was seen.
	EventLost EventKind = "lost"
	// EventFailed: the try failed without an exit status of its own: it
	// could not start (image pull backoff, unschedulable, pending too
	// long). Reason says why.
	EventFailed EventKind = "failed"
	// EventEvicted: the try was ended by its platform through no fault of
	// its own: evicted (node pressure, the Eviction API), preempted by a
	// more important workload, or lost with its node. Cause says which, in
	// one word (the Cause values); Reason in the platform's words. The
	// scheduler runs the task again without counting the try against its
	// retries, up to Options.MaxEvictions times.
	EventEvicted EventKind = "evicted"
)

// The causes an EventEvicted (or a PhaseEvicted observation) gives: a
// small fixed set, the label values of the evictions metric.
const (
	CauseEvicted       = "evicted"        // node pressure, the Eviction API
	CausePreempted     = "preempted"      // a higher-priority pod took its place
	CauseNodeLost      = "node_lost"      // its node stopped answering or was removed
	CauseNodeShutdown  = "node_shutdown"  // its node shut down
	CauseContainerLost = "container_lost" // the kubelet lost its container (ContainerStatusUnknown, exit 137)
	CauseOther         = "other"          // a disruption the executor has no word for
)

// Event is something an executor saw happen to a try.
type Event struct {
	Key        TryKey
	Kind       EventKind
	ExternalID string
	ExitCode   int
	// Reason is a human-readable account ("exit code 3", "killed by
	// SIGKILL", "pod deleted externally").
	Reason string
	// Cause is, for EventEvicted, what ended the try: one of the Cause
	// values.
	Cause string
	At    time.Time
}

// Phase is what an executor found when asked about a try.
type Phase string

// The phases an Observation reports.
const (
	// PhaseRunning: the try is alive and now watched; its end will come as
	// an event.
	PhaseRunning Phase = "running"
	// PhaseExited: the try ended while nobody watched; ExitCode holds its
	// status.
	PhaseExited Phase = "exited"
	// PhaseMissing: the executor has no trace of the try.
	PhaseMissing Phase = "missing"
	// PhaseLost: the try existed but ended without a known status.
	PhaseLost Phase = "lost"
	// PhaseEvicted: the try was ended by its platform through no fault of
	// its own (see EventEvicted); Cause says how.
	PhaseEvicted Phase = "evicted"
)

// Observation is what an executor found when asked about a try.
type Observation struct {
	Phase      Phase
	ExternalID string
	ExitCode   int
	Reason     string
	// Cause is, for PhaseEvicted, one of the Cause values.
	Cause string
}

// Inventory is implemented by executors that can list the tries on their
// platform (pods), live or finished: the read-only reconciliation report
// (Audit, `diag tasks`) compares it with the store.
type Inventory interface {
	Inventory(ctx context.Context) ([]Workload, error)
}

// Workload is one try's process or pod as its platform shows it.
type Workload struct {
	Key        TryKey `json:"try_key"`
	ExternalID string `json:"external_id"`
	// Phase is the platform's word: Pending, Running, Succeeded, Failed.
	Phase   string    `json:"phase"`
	Created time.Time `json:"created"`
	// Ended is when the workload finished, if it did and the platform
	// says when.
	Ended    time.Time `json:"ended,omitzero"`
	Deleting bool      `json:"deleting,omitempty"`
	// Reason says why a workload that has not started waits, in the
	// platform's words ("Unschedulable: 0/3 nodes are available: ...",
	// "container task: ImagePullBackOff: ...").
	Reason string `json:"reason,omitempty"`
	// Tracked is whether the executor is watching it for a try.
	Tracked bool `json:"tracked"`
	// PID, Command and OutputBytes describe a local process: the
	// wrapper's pid (the process group), the task's command line and
	// the size of its output so far.
	PID         int      `json:"pid,omitempty"`
	Command     []string `json:"command,omitempty"`
	OutputBytes int64    `json:"output_bytes,omitempty"`
}

// Finished reports whether the workload has ended.
func (w Workload) Finished() bool { return w.Phase == "Succeeded" || w.Phase == "Failed" }
