// Package scheduler is Vigil's domain: DAGs, runs, task instances, the
// states an instance goes through and the transitions between them, and
// the scheduling loop that moves them. It declares the Store and Executor
// interfaces it consumes; their implementations live in scheduler/store/...
// and executor/... .
//
// One goroutine, the loop, owns the in-memory state of the runs this
// scheduler owns. Everything that can block (executor calls, DAG parsing)
// runs off the loop and hands its result back through a channel; every
// store call has a deadline. Each turn of the loop (Scheduler.iterate):
// lease, sync and reconcile, claim, events, submits, schedules, timeouts,
// dispatch, finish, heartbeat.
//
// Files:
//
//	scheduler.go  Options, Scheduler, New, Run and the loop's turn
//	model.go      TaskKey, TryKey, TaskInstance, Run, Transition
//	state.go      State, Change and the legal transitions (Apply)
//	store.go      the Store interface (and Claimer, for several schedulers)
//	page.go       cursors of the paged lists (runs, instances, ops, history)
//	executor.go   the Executor interface, Try, Event, Observation
//	run.go        run ids: how a run came to be and the instant it covers
//	schedule.go   scheduled and triggered runs, catch-up
//	catchup.go    the catch-up limit: missed ticks' runs a few at a time
//	params.go     run params and conf: effective params, tries' env
//	dagload.go    loading the DAG folder off the loop
//	sync.go       applying DAG loads and what others changed in the store
//	dispatch.go   queueing ready instances and submitting tries off the loop
//	blocked.go    ready instances waiting for a parallelism slot, in order
//	pool.go       pools: the PoolStore interface and the ledger Apply admits by
//	poolwait.go   instances waiting for a slot of their pool
//	trigger.go    trigger rules: what upstream states let a task run
//	ops.go        operations an operator asks for (clear, mark, cancel), PlanOp
//	remedy.go     the loop applying operations: fenced, reopening ended runs
//	backfill.go   backfills: runs for the ticks of a past range of dates
//	events.go     executor events to transitions; retries; timeouts; stops
//	runtimeout.go run_timeout: a run past its bound is stopped and fails
//	evict.go      evictions, preemptions, lost nodes: retried, not counted
//	refuse.go     tries the platform refuses (forbidden, quota): backoff
//	reconcile.go  start-up, adoption, zombies and lost tries, orphans, drain
//	commit.go     storing transitions and tracking their effect in memory
//	history.go    collapsed history: repeated transitions as one record
//	notification.go  on_failure/on_retry/on_success/SLA notifications: Due
//	              (stored by Apply with the transition), SLAMisses, Outbox
//	ha.go         several schedulers on one store: lease, claims, fencing
//	audit.go      the read-only reconciliation report (store vs executor)
//	retention.go  deleting old ended runs: PurgeStore, the Retention worker
//	labels.go     goroutine labels for profiles and diag stacks
//	stats.go      counters for metrics and diagnostics
package scheduler
