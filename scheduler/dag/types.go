package dag

import "time"

// DAG is one parsed DAG file: a set of tasks with dependencies and a
// schedule. Values are normalised by Parse (defaults filled in, lists in
// canonical order), so two DAGs that mean the same thing compare equal with
// reflect.DeepEqual.
type DAG struct {
	ID          string
	Description string
	// Schedule is a cron expression ("*/5 * * * *"), a descriptor
	// ("@hourly", "@daily", "@every 5m"), or "" for a DAG that only runs
	// when triggered.
	Schedule string
	// Timezone is the IANA zone ("Europe/Berlin") the schedule's times are
	// in; "" means UTC.
	Timezone string
	// StartDate is the first instant a scheduled run may cover (UTC).
	StartDate time.Time
	// Catchup creates a run for every missed interval since the last run;
	// without it only the most recent interval runs.
	Catchup bool
	// MaxActiveRuns bounds the runs of this DAG that are not finished.
	MaxActiveRuns int
	// MaxActiveTasks bounds the task instances of this DAG that are queued
	// or running at once, across its runs.
	MaxActiveTasks int
	Defaults       Defaults
	Tasks          []Task

	// RunTimeout bounds a run from its creation: past it the scheduler
	// stops the run's tries and fails the run. Zero means no bound.
	RunTimeout time.Duration

	// MaxCatchupRuns bounds the runs of this DAG active at once while it
	// catches up on missed ticks (with MaxActiveRuns, the lower wins);
	// zero means the scheduler's default.
	MaxCatchupRuns int
	// Params are the params the DAG declares, sorted by name; a run's
	// conf overlays their defaults (see ApplyConf).
	Params []Param
	// Notify names the receivers (from the scheduler's config) told of
	// its tasks' failures, retries and successes. A task's own list for an
	// event replaces the DAG's for that event.
	Notify Notify
	// SLA is how long after its run's start (see TaskSpec.SLA) a task may
	// take to end before its on_sla_miss receivers are told; zero is none.
	// A task's own sla replaces it.
	SLA time.Duration

	// File is the path the DAG was read from. It is not part of the
	// canonical encoding.
	File string
}

// Defaults apply to every task of a DAG that does not set the field itself.
type Defaults struct {
	Retries int
	// RetryDelay is the wait before the first retry.
	RetryDelay time.Duration
	// RetryExponential doubles the delay on every further retry, up to
	// MaxRetryDelay.
	RetryExponential bool
	MaxRetryDelay    time.Duration
	// ExecutionTimeout bounds one try; zero means no timeout.
	ExecutionTimeout time.Duration
	Resources        Resources
	// Pool names the pool whose slots a task takes while queued or
	// running; "" is DefaultPool. PoolSlots is how many (0 means 1);
	// Priority orders tasks waiting for a slot, higher first (0 by
	// default).
	Pool      string
	PoolSlots int
	Priority  int
}

// Task is one node of a DAG as written in the file. Pointer fields are
// optional overrides of the DAG's Defaults.
type Task struct {
	ID        string
	DependsOn []string
	// TriggerRule says which upstream states let the task run; "" is
	// AllSuccess.
	TriggerRule TriggerRule
	Command     []string
	Args        []string
	Env         []EnvVar
	// Image is the container image for the Kubernetes executor; the local
	// executor ignores it.
	Image            string
	Retries          *int
	RetryDelay       *time.Duration
	RetryExponential *bool
	MaxRetryDelay    *time.Duration
	ExecutionTimeout *time.Duration
	// Resources overrides the DAG default field by field.
	Resources *Resources
	Pool      *string
	PoolSlots *int
	Priority  *int
	// OnFailure, OnRetry and OnSuccess, when set, replace the DAG's
	// receivers for that event; an empty list turns the event off.
	OnFailure *[]string
	OnRetry   *[]string
	OnSuccess *[]string
	OnSLAMiss *[]string
	SLA       *time.Duration
}

// Notify names the receivers told of each event of a task. Lists are
// sorted without duplicates.
type Notify struct {
	OnFailure []string `json:",omitempty"`
	OnRetry   []string `json:",omitempty"`
	OnSuccess []string `json:",omitempty"`
	OnSLAMiss []string `json:",omitempty"`
}

// Empty reports whether n names no receiver.
func (n Notify) Empty() bool {
	return len(n.OnFailure) == 0 && len(n.OnRetry) == 0 && len(n.OnSuccess) == 0 && len(n.OnSLAMiss) == 0
}

// EnvVar is one environment variable of a task. Env is kept as an ordered
// list (sorted by name) so the encoding is canonical.
type EnvVar struct {
	Name  string
	Value string
}

// Resources is a resource request: a named preset, optionally overridden
// field by field. Quantities are Kubernetes quantities in canonical form
// ("500m", "4Gi"); an empty string means "not set".
type Resources struct {
	Preset        string
	CPU           string
	Memory        string
	CPULimit      string
	MemoryLimit   string
	EphemeralDisk string
}

// Presets maps a preset name to its resources. Preset values must not
// themselves name a preset.
type Presets map[string]Resources

// TaskSpec is a task's effective configuration: the task merged with the
// DAG defaults and its resources resolved against the presets. It is what
// the store keeps with every task instance and what executors run, so a
// stored task can always be decoded again (see EncodeSpec / DecodeSpec).
type TaskSpec struct {
	// DependsOn lists the tasks that must succeed first (sorted). It is
	// kept with the spec so a run keeps the shape it was created with
	// when the DAG file changes under it.
	DependsOn []string
	// TriggerRule is the task's rule; "" is AllSuccess. The shown form
	// leaves it out when it is "".
	TriggerRule      TriggerRule `json:",omitempty"`
	Command          []string
	Args             []string
	Env              []EnvVar
	Image            string
	Retries          int
	RetryDelay       time.Duration
	RetryExponential bool
	MaxRetryDelay    time.Duration
	ExecutionTimeout time.Duration
	// Resources is fully resolved: Preset names where it came from, the
	// quantity fields hold the effective values.
	Resources Resources
	// Pool is the pool the task takes slots of ("" is DefaultPool; see
	// PoolName), PoolSlots how many (0 is 1; see Slots). Priority orders
	// the tasks ready to run, higher first.
	Pool      string `json:",omitempty"`
	PoolSlots int    `json:",omitempty"`
	Priority  int    `json:",omitempty"`
	// Notify is the task's receivers for each event, the DAG's merged
	// with the task's own.
	Notify Notify `json:",omitempty"`
	// SLA: the task should have ended by its run's start (the later of its
	// logical date and its creation) plus SLA; past that, once per run,
	// its Notify.OnSLAMiss receivers are told. Zero is none.
	SLA time.Duration `json:",omitempty"`
}
