// Package api is the wire format of Vigil's operations API (issue 19): the
// JSON that `vigil run` serves under /api/v1 and that the admin commands
// (`vigil dags|runs|tasks|pools|ops|status`), the web console and scripts
// read. It imports only the standard library, so a client needs nothing of
// the scheduler.
//
// Names are stable snake_case; a time that is not set is left out (never
// "0001-01-01T00:00:00Z"); durations are float seconds named *_seconds.
// The checked-in OpenAPI document (openapi.yaml) describes the same routes
// and is tested against the handlers.
package api

import "time"

// Prefix is the path every route of this version starts with.
const Prefix = "/api/v1"

// Roles a token can have. A read-only token reads everything; an operator
// token may also trigger, pause, clear, mark, cancel and set pools.
const (
	RoleReadOnly = "read-only"
	RoleOperator = "operator"
)

// Error is the body of every non-2xx response.
type Error struct {
	// Code is machine-readable: bad_request, unauthorized, forbidden,
	// not_found, conflict, unavailable, internal.
	Code string `json:"code"`
	// Message says what went wrong, naming the DAG, run or task, and what
	// to do.
	Message string `json:"message"`
}

// ErrorBody wraps Error: {"error": {...}}.
type ErrorBody struct {
	Error Error `json:"error"`
}

// Page is one page of a list. NextCursor, when not empty, is passed as
// ?cursor= to get the next page; lists take ?limit= (default 100, 0 for
// all).
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// Actor is who did something: a component ("scheduler", "reconciler",
// "api") and its instance; for the API, the token's name ("api@alice").
type Actor struct {
	Component string `json:"component"`
	Instance  string `json:"instance,omitempty"`
}

// DAG is one DAG as GET /dags lists it.
type DAG struct {
	ID          string `json:"id"`
	File        string `json:"file"`
	Description string `json:"description,omitempty"`
	// Schedule is the cron expression or preset; empty for a DAG run
	// only by hand. Timezone is its IANA zone, absent for UTC.
	Schedule string `json:"schedule,omitempty"`
	Timezone string `json:"timezone,omitempty"`
	Tasks    int    `json:"tasks"`
	Paused   bool   `json:"paused"`
	// Missing: the DAG's file no longer defines it.
	Missing bool `json:"missing"`
	// LoadError is its file's error when the file fails to load now (the
	// DAG keeps its last good version).
	LoadError string `json:"load_error,omitempty"`
	// NextRunAt is the next schedule tick a run will be created for (absent
	// when paused or unscheduled).
	NextRunAt time.Time `json:"next_run_at,omitzero"`
	// LastRun is its newest run.
	LastRun *RunSummary `json:"last_run,omitempty"`
}

// RunSummary is a run named in another object.
type RunSummary struct {
	RunID       string    `json:"run_id"`
	State       string    `json:"state"`
	LogicalDate time.Time `json:"logical_date,omitzero"`
	CreatedAt   time.Time `json:"created_at,omitzero"`
	EndedAt     time.Time `json:"ended_at,omitzero"`
}

// DAGList is GET /dags: every DAG, and the files that fail to load.
type DAGList struct {
	Items      []DAG       `json:"items"`
	LoadErrors []LoadError `json:"load_errors"`
}

// LoadError is a DAG file that fails to load, since when.
type LoadError struct {
	File    string    `json:"file"`
	Message string    `json:"message"`
	Since   time.Time `json:"since,omitzero"`
}

// DAGDetail is GET /dags/{dag}: the DAG and its tasks in file order.
type DAGDetail struct {
	DAG
	TaskList []Task `json:"task_list"`
}

// Task is one task of a DAG's definition.
type Task struct {
	ID        string   `json:"id"`
	Upstream  []string `json:"upstream,omitempty"`
	Retries   int      `json:"retries"`
	Pool      string   `json:"pool,omitempty"`
	Priority  int      `json:"priority,omitempty"`
	TriggerOn string   `json:"trigger_rule,omitempty"`
}

// Run is one DAG run.
type Run struct {
	DAGID       string    `json:"dag_id"`
	RunID       string    `json:"run_id"`
	State       string    `json:"state"`
	LogicalDate time.Time `json:"logical_date,omitzero"`
	// Manual: triggered by hand or by the API, not by the schedule.
	Manual    bool      `json:"manual"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
	CreatedBy Actor     `json:"created_by"`
	// Conf is what the trigger passed; Params the run's effective params.
	Conf   map[string]any `json:"conf,omitempty"`
	Params map[string]any `json:"params,omitempty"`
	// Owner is the scheduler instance that runs it (several schedulers on
	// one PostgreSQL).
	Owner string `json:"owner,omitempty"`
	// TaskStates counts the run's task instances by state (GET of one run,
	// and the runs grid).
	TaskStates map[string]int `json:"task_states,omitempty"`
}

// TriggerRequest is POST /dags/{dag}/runs.
type TriggerRequest struct {
	// RunID is the new run's id; by default manual__<now>.
	RunID string `json:"run_id,omitempty"`
	// Conf is passed to the run's tasks (VIGIL_CONF, VIGIL_PARAM_*),
	// checked against the DAG's params.
	Conf map[string]any `json:"conf,omitempty"`
	// LogicalDate, with Backfill, creates the scheduled run of that tick
	// (scheduled__<tick>) as `vigil dags backfill` does; without Backfill
	// it is the manual run's logical date (default now).
	LogicalDate time.Time `json:"logical_date,omitzero"`
	Backfill    bool      `json:"backfill,omitempty"`
	Reason      string    `json:"reason,omitempty"`
}

// TriggerResponse says which run the trigger made, or that it existed.
type TriggerResponse struct {
	Run     Run  `json:"run"`
	Created bool `json:"created"`
}

// PauseRequest is POST /dags/{dag}/pause and /unpause (body optional).
type PauseRequest struct {
	Reason string `json:"reason,omitempty"`
}

// TaskInstance is one task of one run.
type TaskInstance struct {
	DAGID  string `json:"dag_id"`
	RunID  string `json:"run_id"`
	TaskID string `json:"task_id"`
	State  string `json:"state"`
	// Try is the current try (0 before the first); MaxTries is retries+1.
	Try      int `json:"try"`
	MaxTries int `json:"max_tries"`
	// TryBase counts the tries before the last clear by hand: they do not
	// count against MaxTries (absent when never cleared).
	TryBase int `json:"try_base,omitempty"`
	// Evictions are evicted tries that did not count against retries.
	Evictions  int       `json:"evictions,omitempty"`
	ExternalID string    `json:"external_id,omitempty"`
	ExitCode   *int      `json:"exit_code,omitempty"`
	Pool       string    `json:"pool,omitempty"`
	Priority   int       `json:"priority,omitempty"`
	QueuedAt   time.Time `json:"queued_at,omitzero"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	EndedAt    time.Time `json:"ended_at,omitzero"`
	RetryAt    time.Time `json:"retry_at,omitzero"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
}

// Transition is one record of a task instance's history: why it is in
// its state.
type Transition struct {
	Seq        int64     `json:"seq"`
	Try        int       `json:"try"`
	From       string    `json:"from,omitempty"`
	To         string    `json:"to"`
	At         time.Time `json:"at,omitzero"`
	By         Actor     `json:"by"`
	Reason     string    `json:"reason"`
	ExternalID string    `json:"external_id,omitempty"`
	ExitCode   *int      `json:"exit_code,omitempty"`
	// Manual: an operator's clear or mark.
	Manual bool `json:"manual,omitempty"`
	// Repeats counts later identical records collapsed into this one;
	// LastAt is the last of them.
	Repeats int       `json:"repeats,omitempty"`
	LastAt  time.Time `json:"last_at,omitzero"`
}

// TaskHistory is GET .../tasks/{task}/history: the instance and a page of
// its transitions, oldest first.
type TaskHistory struct {
	Task        TaskInstance `json:"task"`
	Transitions []Transition `json:"transitions"`
	NextCursor  string       `json:"next_cursor"`
	// Notifications are every notification of the instance, oldest
	// first, on every page (issue 20). They are not transitions: the
	// instance's state does not change with them.
	Notifications []Notification `json:"notifications,omitempty"`
}

// Notification is an event of a task instance told to a receiver, and
// how its delivery went.
type Notification struct {
	ID       int64  `json:"id"`
	Try      int    `json:"try"`
	Event    string `json:"event"` // failure, retry, success, sla_miss
	Receiver string `json:"receiver"`
	// At is the transition's time.
	At time.Time `json:"at,omitzero"`
	// State is pending, sent or given_up.
	State    string `json:"state"`
	Attempts int    `json:"attempts"`
	// StatusCode is the receiver's answer to the last attempt; Error why
	// it failed (given up: why it was given up).
	StatusCode int       `json:"status_code,omitempty"`
	Error      string    `json:"error,omitempty"`
	NextAt     time.Time `json:"next_at,omitzero"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
}

// Operation kinds (issue 17).
const (
	OpClearTasks = "clear_tasks"
	OpClearRun   = "clear_run"
	OpMark       = "mark"
	OpCancelRun  = "cancel_run"
)

// OpArgs are an operation's options.
type OpArgs struct {
	Downstream bool `json:"downstream,omitempty"`
	Upstream   bool `json:"upstream,omitempty"`
	OnlyFailed bool `json:"only_failed,omitempty"`
	// State is what a mark sets: success or failed.
	State string `json:"state,omitempty"`
}

// OpRequest is POST /ops: clear, mark or cancel, applied by the run's
// owner at its next sync.
type OpRequest struct {
	Kind   string `json:"kind"`
	DAGID  string `json:"dag_id"`
	RunID  string `json:"run_id"`
	TaskID string `json:"task_id,omitempty"`
	Args   OpArgs `json:"args"`
	Reason string `json:"reason,omitempty"`
	// DryRun returns the plan and stores nothing.
	DryRun bool `json:"dry_run,omitempty"`
}

// Op is an operation and what it did.
type Op struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"`
	DAGID     string    `json:"dag_id"`
	RunID     string    `json:"run_id"`
	TaskID    string    `json:"task_id,omitempty"`
	Args      OpArgs    `json:"args"`
	By        Actor     `json:"by"`
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	// State is pending, done or failed.
	State  string    `json:"state"`
	Result string    `json:"result,omitempty"`
	DoneBy string    `json:"done_by,omitempty"`
	DoneAt time.Time `json:"done_at,omitzero"`
}

// OpResponse is POST /ops's answer: the stored operation, or with dry_run
// only the plan.
type OpResponse struct {
	Op   *Op   `json:"op,omitempty"`
	Plan *Plan `json:"plan,omitempty"`
}

// Plan is what an operation would do to the run as it stands.
type Plan struct {
	// Changes are state changes stored at once.
	Changes []PlanChange `json:"changes"`
	// Stops are live tries stopped first.
	Stops []PlanChange `json:"stops,omitempty"`
	// Left are selected tasks left as they are, and why.
	Left []PlanLeft `json:"left,omitempty"`
	// Cancel: the run ends cancelled.
	Cancel bool `json:"cancel,omitempty"`
}

// PlanChange is one task moved by a plan.
type PlanChange struct {
	TaskID string `json:"task_id"`
	Try    int    `json:"try,omitempty"`
	From   string `json:"from"`
	To     string `json:"to"`
}

// PlanLeft is a task a plan does not move.
type PlanLeft struct {
	TaskID string `json:"task_id"`
	State  string `json:"state"`
	Why    string `json:"why"`
}

// Pool is a concurrency limit shared by every scheduler on the store.
type Pool struct {
	Name        string `json:"name"`
	Slots       int    `json:"slots"`
	Description string `json:"description,omitempty"`
	// Occupied are the slots queued and running tasks hold now.
	Occupied  int       `json:"occupied"`
	Queued    int       `json:"queued"`
	Running   int       `json:"running"`
	Scheduled int       `json:"scheduled"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	// Missing: tasks name the pool but nobody set it; they wait until
	// someone does (added by the server, issue 19).
	Missing bool `json:"missing,omitempty"`
}

// PoolSet is PUT /pools/{pool}.
type PoolSet struct {
	Slots       int    `json:"slots"`
	Description string `json:"description,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// PoolChange is one record of GET /pools/history.
type PoolChange struct {
	Seq    int64     `json:"seq"`
	Pool   string    `json:"pool"`
	Action string    `json:"action"`
	Slots  int       `json:"slots"`
	By     string    `json:"by"`
	At     time.Time `json:"at,omitzero"`
	Reason string    `json:"reason,omitempty"`
	// PrevSlots are the slots before a set (absent for a new pool);
	// Description is the one set (added by the server, issue 19).
	PrevSlots   *int   `json:"prev_slots,omitempty"`
	Description string `json:"description,omitempty"`
}

// Status is GET /status: every scheduler's heartbeat and the live task
// counts, as `vigil status` prints them.
type Status struct {
	Schedulers []Heartbeat `json:"schedulers"`
	// Tasks counts live task instances by state.
	Tasks map[string]int `json:"tasks"`
	// RunsUnowned counts running runs no scheduler has claimed yet.
	RunsUnowned int `json:"runs_unowned"`
}

// Heartbeat is one scheduler process's last beat.
type Heartbeat struct {
	Component     string    `json:"component"`
	Instance      string    `json:"instance"`
	Host          string    `json:"host"`
	PID           int       `json:"pid"`
	PeriodSeconds float64   `json:"period_seconds"`
	LastBeat      time.Time `json:"last_beat,omitzero"`
	StartedAt     time.Time `json:"started_at,omitzero"`
	StoppedAt     time.Time `json:"stopped_at,omitzero"`
	AgeSeconds    float64   `json:"age_seconds"`
	// Stale: older than three periods and not stopped cleanly.
	Stale     bool `json:"stale"`
	RunsOwned int  `json:"runs_owned"`
	// Serving: this is the process that answered.
	Serving bool `json:"serving,omitempty"`
}

// Health is GET /health: what the console's banner says. Unlike /status it
// comes from the serving process's own watchdog, so when the scheduler's
// loop is stuck it names the call it waits on.
type Health struct {
	Instance string    `json:"instance"`
	Now      time.Time `json:"now,omitzero"`
	// Healthy: every loop beat within its deadline.
	Healthy bool `json:"healthy"`
	// Summary is one sentence for the banner, e.g. "The scheduler loop
	// has not beaten for 94s (stale after 30s): it waits on POST
	// /api/v1/namespaces/vigil/pods (kube: create pod), in flight 91s,
	// no deadline".
	Summary string `json:"summary"`
	Loops   []Loop `json:"loops"`
	// Blocking are the in-flight calls of the stale loops, oldest first.
	Blocking []Call `json:"blocking,omitempty"`
}

// Loop is one of the scheduler's loops and its last beat.
type Loop struct {
	Name              string    `json:"name"`
	LastBeat          time.Time `json:"last_beat,omitzero"`
	AgeSeconds        float64   `json:"age_seconds"`
	StaleAfterSeconds float64   `json:"stale_after_seconds"`
	Stale             bool      `json:"stale"`
	// Phase is what the loop was doing at its last beat or is doing now.
	Phase string `json:"phase,omitempty"`
}

// Call is an outbound call in flight (HTTP, database, executor).
type Call struct {
	Kind string `json:"kind"`
	// What the call is: "POST https://127.0.0.1:6443/api/v1/namespaces/vigil/pods".
	Target     string    `json:"target"`
	Site       string    `json:"site,omitempty"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	AgeSeconds float64   `json:"age_seconds"`
	// Deadline is absent for a call with none (NoDeadline).
	Deadline   time.Time         `json:"deadline,omitzero"`
	NoDeadline bool              `json:"no_deadline"`
	Labels     map[string]string `json:"labels,omitempty"`
}

// BackfillPlanRequest is POST /dags/{dag}/backfill/plan. From and To are
// as `vigil dags backfill` takes them: a date (the whole day, in the DAG's
// timezone) or an RFC 3339 time.
type BackfillPlanRequest struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Reprocess string `json:"reprocess,omitempty"`
}

// BackfillPlan is what a backfill does for each tick of the range. The
// client drives it: it creates runs with TriggerRequest{Backfill: true}
// and has existing ones cleared with OpRequest, keeping MaxActiveRuns
// running, so a backfill goes on as long as its command, not a server.
type BackfillPlan struct {
	Items []BackfillItem `json:"items"`
	// MaxActiveRuns is the DAG's max_active_runs.
	MaxActiveRuns int    `json:"max_active_runs"`
	Timezone      string `json:"timezone,omitempty"`
}

// BackfillItem is one tick of a backfill: create, clear, clear failed or
// skip (with Why).
type BackfillItem struct {
	LogicalDate time.Time `json:"logical_date,omitzero"`
	RunID       string    `json:"run_id"`
	Action      string    `json:"action"`
	Why         string    `json:"why,omitempty"`
}

// Local is the file `vigil run` writes in its runtime directory
// (RUNTIME_DIR/api-PID.json, mode 0600) so that admin commands on the same
// machine find its API with no flags, as diag finds its debug socket.
// TokenFile is the operator token it made for local use (absent when the
// API is configured with tokens of its own).
type Local struct {
	Server    string    `json:"server"`
	TokenFile string    `json:"token_file,omitempty"`
	CAFile    string    `json:"ca_file,omitempty"`
	Instance  string    `json:"instance"`
	PID       int       `json:"pid"`
	StartedAt time.Time `json:"started_at,omitzero"`
}

// WhoAmI is GET /whoami: the token's name and role, so the console shows
// operator actions only to operators.
type WhoAmI struct {
	Name     string `json:"name"`
	Role     string `json:"role"`
	Instance string `json:"instance"`
	Version  string `json:"version,omitempty"`
}

// DAGChange is one record of GET /dags/{dag}/history: a pause or unpause,
// by whom and why.
type DAGChange struct {
	Seq    int64     `json:"seq"`
	DAGID  string    `json:"dag_id"`
	Action string    `json:"action"`
	By     Actor     `json:"by"`
	At     time.Time `json:"at,omitzero"`
	Reason string    `json:"reason,omitempty"`
}
