package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/internal/buildinfo"
	"github.com/vigilhq/vigil/scheduler"
)

// schedulerCollector exports the loop's counters and the heartbeats at
// scrape time, so the loop itself does no metrics work.
type schedulerCollector struct {
	// sched returns the scheduler, nil until the store is open.
	sched func() *scheduler.Scheduler
	wd    *watchdog.Watchdog

	iterations, transitions, runs, storeErrors, submitErrors, runsClaimed, runsLost *prometheus.Desc
	lastIter, maxIter, hbAge, hbStale, ready                                        *prometheus.Desc
	tasks, runsOpen, evictions                                                      *prometheus.Desc
	dagParses                                                                       *prometheus.Desc
	submitFailures, refusedNow, zombies, runTimeouts, taskEnds                      *prometheus.Desc
	dagFailing                                                                      *prometheus.Desc
}

func newSchedulerCollector(s func() *scheduler.Scheduler, wd *watchdog.Watchdog) *schedulerCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("vigil_"+name, help, labels, nil)
	}
	return &schedulerCollector{
		sched:        s,
		wd:           wd,
		iterations:   d("loop_iterations_total", "Scheduling loop iterations."),
		transitions:  d("task_transitions_total", "Task state transitions recorded by this process."),
		runs:         d("runs_created_total", "DAG runs created by this process."),
		storeErrors:  d("store_errors_total", "Store calls that failed and were retried."),
		submitErrors: d("submit_errors_total", "Executor submits that failed and were requeued."),
		runsClaimed:  d("runs_claimed_total", "Runs this scheduler took from no owner or from a silent scheduler (several schedulers on one PostgreSQL)."),
		runsLost:     d("runs_lost_total", "Runs this scheduler let go of: another took them, or its beats stopped reaching the store."),
		lastIter:     d("loop_last_iteration_seconds", "Duration of the last scheduling loop iteration."),
		maxIter:      d("loop_max_iteration_seconds", "Longest scheduling loop iteration since start."),
		hbAge:        d("heartbeat_age_seconds", "Time since each heartbeat last beat.", "name"),
		hbStale:      d("heartbeat_stale", "1 if the heartbeat is stale.", "name"),
		ready:        d("ready", "1 once start-up reconciliation is done."),
		tasks: d("tasks", "Task instances this scheduler tracks, by where they are: active (queued or running), "+
			"blocked (ready, waiting for a parallelism slot or a slot of its pool), waiting (retry delay or submit backoff), submitting (executor start in flight), "+
			"refused (queued, the executor refuses it: forbidden or waiting for quota).", "state"),
		runsOpen: d("runs_open", "DAG runs this scheduler tracks that have not ended."),
		evictions: d("task_evictions_total", "Tries their platform ended through no fault of the task, by reason: "+
			"evicted, preempted, node_lost, node_shutdown, container_lost, other. Run again without using a retry, up to --max-evictions per task.", "reason"),
		submitFailures: d("task_submit_failures_total", "Executor starts that failed, by DAG and reason: forbidden (RBAC or an admission policy), "+
			"quota (the namespace's quota is used up), error (any other failure).", "dag", "reason"),
		refusedNow:  d("tasks_refused", "Queued tries waiting out a refusal of the executor, by DAG and reason (forbidden, quota).", "dag", "reason"),
		zombies:     d("zombies_total", "Tries found live in the store with no workload left (failed or retried by the reconciler), by DAG.", "dag"),
		runTimeouts: d("runs_timed_out_total", "Runs found past their DAG's run_timeout (stopped, and failed), by DAG.", "dag"),
		taskEnds:    d("task_ends_total", "Task instances this scheduler ended, by DAG and state (success, failed, upstream_failed, skipped).", "dag", "state"),
		dagFailing:  d("dag_files_failing", "DAG files that did not load at the last sync (their DAGs keep their last good version; vigil dags list names them)."),
		dagParses:   d("dag_files_parsed_total", "DAG files parsed: new files and files whose content changed (an unchanged folder is not parsed again)."),
	}
}

func (c *schedulerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.iterations, c.transitions, c.runs, c.storeErrors, c.submitErrors, c.runsClaimed, c.runsLost, c.lastIter, c.maxIter, c.hbAge, c.hbStale, c.ready, c.tasks, c.runsOpen, c.dagParses, c.evictions,
		c.submitFailures, c.refusedNow, c.zombies, c.runTimeouts, c.taskEnds, c.dagFailing} {
		ch <- d
	}
}

func (c *schedulerCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	sched := c.sched()
	if sched == nil {
		// Still opening the store: not ready, and no loop to count.
		gauge(c.ready, 0)
		return
	}
	st := sched.Stats()
	counter(c.iterations, st.Iterations)
	counter(c.transitions, st.Transitions)
	counter(c.runs, st.RunsCreated)
	counter(c.storeErrors, st.StoreErrors)
	counter(c.submitErrors, st.SubmitErrors)
	counter(c.runsClaimed, st.RunsClaimed)
	counter(c.runsLost, st.RunsLost)
	counter(c.dagParses, st.DAGFilesParsed)
	gauge(c.dagFailing, float64(st.DAGFilesFailing))
	gauge(c.lastIter, st.LastIteration.Seconds())
	gauge(c.maxIter, st.MaxIteration.Seconds())
	ready := 0.0
	if sched.Ready() {
		ready = 1
	}
	gauge(c.ready, ready)
	gauge(c.tasks, float64(st.Active), "active")
	gauge(c.tasks, float64(st.Blocked), "blocked")
	gauge(c.tasks, float64(st.Waiting), "waiting")
	gauge(c.tasks, float64(st.Submitting), "submitting")
	gauge(c.tasks, float64(st.Refused), "refused")
	gauge(c.runsOpen, float64(st.RunsOpen))
	for reason, n := range st.Evictions {
		ch <- prometheus.MustNewConstMetric(c.evictions, prometheus.CounterValue, float64(n), reason)
	}
	pairs := func(d *prometheus.Desc, vt prometheus.ValueType, m map[scheduler.DAGCount]int64) {
		for k, n := range m {
			labels := []string{k.DAG}
			if k.Label != "" {
				labels = append(labels, k.Label)
			}
			ch <- prometheus.MustNewConstMetric(d, vt, float64(n), labels...)
		}
	}
	pairs(c.submitFailures, prometheus.CounterValue, st.SubmitFailures)
	pairs(c.refusedNow, prometheus.GaugeValue, st.RefusedNow)
	pairs(c.zombies, prometheus.CounterValue, st.Zombies)
	pairs(c.runTimeouts, prometheus.CounterValue, st.RunTimeouts)
	pairs(c.taskEnds, prometheus.CounterValue, st.TaskEnds)
	for _, hb := range c.wd.Snapshot() {
		stale := 0.0
		if hb.Stale {
			stale = 1
		}
		gauge(c.hbAge, hb.Age.Seconds(), hb.Name)
		gauge(c.hbStale, stale, hb.Name)
	}
}

// buildInfoGauge is vigil_build_info{version,revision,go_version} 1: which
// build runs, for dashboards and for alerts that join on it.
func buildInfoGauge(b buildinfo.Info) prometheus.Collector {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "vigil_build_info",
		Help: "Always 1; its labels say which build of vigil runs (vigil version).",
	}, []string{"version", "revision", "go_version"})
	g.WithLabelValues(b.Version, b.Revision, b.GoVersion).Set(1)
	return g
}
