package scheduler

import (
	"sync/atomic"
	"time"
)

// stats are counters the loop updates and anyone may read.
type stats struct {
	started       time.Time
	iterations    atomic.Int64
	transitions   atomic.Int64
	runsCreated   atomic.Int64
	storeErrors   atomic.Int64
	submitErrors  atomic.Int64
	runsClaimed   atomic.Int64
	runsLost      atomic.Int64
	lastIteration atomic.Int64 // nanoseconds
	maxIteration  atomic.Int64 // nanoseconds
	// dagFilesParsed is set by the DAG folder loader.
	dagFilesParsed atomic.Int64
	// dagFilesFailing is the DAG files that do not load, at the last sync.
	dagFilesFailing atomic.Int64
	// Gauges the loop sets at the end of each iteration.
	active, blocked, waiting, submitting, runsOpen, refused atomic.Int64
	evictions                                               evictionCounts
	// By DAG and one more label: counters (submit failures by reason,
	// zombies found, runs past their timeout, task ends by state) and
	// one gauge the loop publishes (refused tries by reason).
	submitFailures, zombies, runTimeouts, taskEnds pairCounts
	refusedBy                                      pairCounts
}

func (s *stats) observeIteration(d time.Duration) {
	s.lastIteration.Store(int64(d))
	for {
		old := s.maxIteration.Load()
		if int64(d) <= old || s.maxIteration.CompareAndSwap(old, int64(d)) {
			return
		}
	}
}

// Stats is a snapshot of the loop's counters, for metrics and diagnostics.
type Stats struct {
	Iterations   int64
	Transitions  int64
	RunsCreated  int64
	StoreErrors  int64
	SubmitErrors int64
	// RunsClaimed counts the runs this scheduler took from no owner or
	// from a silent scheduler; RunsLost those it let go of (another took
	// them, or its own beats stopped reaching the store).
	RunsClaimed, RunsLost int64
	LastIteration         time.Duration
	MaxIteration          time.Duration
	// Active is the task instances queued or running.
	Active int64
	// Blocked is the instances ready to run but waiting for a
	// parallelism slot or a slot of their pool; Waiting those waiting out
	// a retry delay or a submit backoff; Submitting the submits not yet
	// answered; Refused
	// the queued tries the executor refused (forbidden, quota), waiting
	// to be submitted again.
	Blocked, Waiting, Submitting, Refused int64
	// RunsOpen is the runs not yet ended.
	RunsOpen int64
	// DAGFilesParsed is the DAG files parsed since start: new files and
	// files whose content changed, not every file at every sync.
	DAGFilesParsed int64
	// DAGFilesFailing is the DAG files that did not load at the last
	// sync (their DAGs keep their last good version).
	DAGFilesFailing int64
	// Evictions counts the tries their platform ended through no fault of
	// their own, by cause (the Cause values).
	Evictions map[string]int64
	// SubmitFailures counts failed submits by DAG and reason
	// (SubmitForbidden, SubmitQuota, SubmitError).
	SubmitFailures map[DAGCount]int64
	// RefusedNow is the queued tries waiting out a refusal, by DAG and
	// reason (SubmitForbidden, SubmitQuota): a gauge.
	RefusedNow map[DAGCount]int64
	// Zombies counts the tries found live in the store with no workload
	// left (reconcile), by DAG (Label empty).
	Zombies map[DAGCount]int64
	// RunTimeouts counts the runs found past their run_timeout, by DAG
	// (Label empty).
	RunTimeouts map[DAGCount]int64
	// TaskEnds counts the task instances this scheduler ended, by DAG
	// and end state (success, failed, upstream_failed, skipped).
	TaskEnds map[DAGCount]int64
}

// Stats returns the loop's counters. It is safe to call from any goroutine.
func (s *Scheduler) Stats() Stats {
	return Stats{
		Iterations:      s.stats.iterations.Load(),
		Transitions:     s.stats.transitions.Load(),
		RunsCreated:     s.stats.runsCreated.Load(),
		StoreErrors:     s.stats.storeErrors.Load(),
		SubmitErrors:    s.stats.submitErrors.Load(),
		RunsClaimed:     s.stats.runsClaimed.Load(),
		RunsLost:        s.stats.runsLost.Load(),
		LastIteration:   time.Duration(s.stats.lastIteration.Load()),
		MaxIteration:    time.Duration(s.stats.maxIteration.Load()),
		Active:          s.stats.active.Load(),
		Blocked:         s.stats.blocked.Load(),
		Waiting:         s.stats.waiting.Load(),
		Submitting:      s.stats.submitting.Load(),
		Refused:         s.stats.refused.Load(),
		RunsOpen:        s.stats.runsOpen.Load(),
		DAGFilesParsed:  s.stats.dagFilesParsed.Load(),
		DAGFilesFailing: s.stats.dagFilesFailing.Load(),
		Evictions:       s.stats.evictionsByCause(),
		SubmitFailures:  s.stats.submitFailures.snapshot(),
		RefusedNow:      s.stats.refusedBy.snapshot(),
		Zombies:         s.stats.zombies.snapshot(),
		RunTimeouts:     s.stats.runTimeouts.snapshot(),
		TaskEnds:        s.stats.taskEnds.snapshot(),
	}
}

// publishGauges copies the loop's queue sizes into the stats.
func (s *Scheduler) publishGauges() {
	s.stats.active.Store(int64(s.active))
	s.stats.blocked.Store(int64(len(s.blocked) + s.pools.count()))
	s.stats.waiting.Store(int64(len(s.timed)))
	s.stats.submitting.Store(int64(len(s.inflight)))
	s.stats.runsOpen.Store(int64(len(s.runs)))
	s.stats.refused.Store(int64(len(s.refused)))
	refused := make(map[DAGCount]int64, len(s.refused))
	for k, r := range s.refused {
		refused[DAGCount{k.DAGID, submitReason(r.reason)}]++
	}
	s.stats.refusedBy.set(refused)
}
