package debugapi

import "time"

// TaskAudit is the scheduler's reconciliation report (GET /debug/v1/tasks).
// The scheduler writes its own type (scheduler.Audit), which has more
// fields than these; this is what a client reads of it, and a client of
// another version still reads the fields it knows. testdata/wire pins it.
type TaskAudit struct {
	Taken     time.Time      `json:"taken,omitzero"`
	Executor  string         `json:"executor"`
	LostAfter time.Duration  `json:"lost_after_ns"`
	Grace     time.Duration  `json:"grace_ns"`
	Live      int            `json:"live"`
	Workloads int            `json:"workloads"`
	Zombies   []AuditFinding `json:"zombies"`
	Orphans   []AuditFinding `json:"orphans"`
	Lost      []AuditFinding `json:"lost"`
	// Pending pods waited to start longer than the grace; NotStarting
	// tries were requeued again and again and never started.
	Pending     []AuditFinding `json:"pending"`
	NotStarting []AuditFinding `json:"not_starting"`
	// Running are the workloads the executor runs now (empty from a
	// scheduler older than issue 21).
	Running []Workload `json:"running"`
}

// Findings counts what the report found.
func (a TaskAudit) Findings() int {
	return len(a.Zombies) + len(a.Orphans) + len(a.Lost) + len(a.Pending) + len(a.NotStarting)
}

// AuditFinding is one task instance or workload that does not add up.
type AuditFinding struct {
	Task     TaskKey      `json:"task"`
	Try      int          `json:"try"`
	State    string       `json:"state,omitempty"`
	Workload *Workload    `json:"workload,omitempty"`
	Why      string       `json:"why"`
	History  []Transition `json:"history,omitempty"`
}

// TaskKey names a task instance.
type TaskKey struct {
	DAGID  string `json:"dag_id"`
	RunID  string `json:"run_id"`
	TaskID string `json:"task_id"`
}

func (k TaskKey) String() string { return k.DAGID + "/" + k.RunID + "/" + k.TaskID }

// TryKey names one try of a task instance.
type TryKey struct {
	TaskKey
	Try int `json:"try"`
}

// Workload is a try's pod or process as the executor sees it.
type Workload struct {
	Key        TryKey    `json:"try_key,omitzero"`
	ExternalID string    `json:"external_id"`
	Phase      string    `json:"phase"`
	Created    time.Time `json:"created,omitzero"`
	Ended      time.Time `json:"ended,omitzero"`
	Deleting   bool      `json:"deleting,omitempty"`
	Tracked    bool      `json:"tracked"`
	Reason     string    `json:"reason,omitempty"`
	// PID, Command and OutputBytes are set for a local process.
	PID         int      `json:"pid,omitempty"`
	Command     []string `json:"command,omitempty"`
	OutputBytes int64    `json:"output_bytes,omitempty"`
}

// Transition is one recorded state change.
type Transition struct {
	Try    int       `json:"try"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	At     time.Time `json:"at,omitzero"`
	Actor  Actor     `json:"by"`
	Reason string    `json:"reason"`
	// Repeats counts the times it happened again after At, the last at
	// LastAt: the scheduler's store collapses a failure that repeats.
	Repeats int       `json:"repeats"`
	LastAt  time.Time `json:"last_at,omitzero"`
}

// Actor is who made a transition.
type Actor struct {
	Component string `json:"component"`
	Instance  string `json:"instance"`
}
