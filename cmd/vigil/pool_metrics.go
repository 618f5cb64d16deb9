package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigilhq/vigil/scheduler"
)

// poolCollector exports the pools at scrape time, read from the store:
// every scheduler sharing it reports the same values (aggregate them with
// max by (pool)).
type poolCollector struct {
	ctx                                             context.Context
	sched                                           func() *scheduler.Scheduler
	slots, occupied, queued, running, scheduled, up *prometheus.Desc
}

// poolScrapeTimeout bounds the store read of one scrape.
const poolScrapeTimeout = 2 * time.Second

func newPoolCollector(ctx context.Context, s func() *scheduler.Scheduler) *poolCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("vigil_"+name, help, labels, nil)
	}
	return &poolCollector{
		ctx:       ctx,
		sched:     s,
		slots:     d("pool_slots", "Slots of each pool; -1 for no limit; absent for a pool tasks name that does not exist.", "pool"),
		occupied:  d("pool_occupied", "Slots of each pool taken by its queued and running tasks, across every scheduler sharing the store.", "pool"),
		queued:    d("pool_tasks_queued", "Queued task instances of each pool, across every scheduler sharing the store.", "pool"),
		running:   d("pool_tasks_running", "Running task instances of each pool, across every scheduler sharing the store.", "pool"),
		scheduled: d("pool_tasks_scheduled", "Task instances of each pool waiting to be queued (for upstreams or a slot), across every scheduler sharing the store.", "pool"),
		up:        d("pool_scrape_ok", "1 if the pools could be read from the store at this scrape."),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.slots, c.occupied, c.queued, c.running, c.scheduled, c.up} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v int, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	sched := c.sched()
	if sched == nil {
		return // the store is not open yet
	}
	ctx, cancel := context.WithTimeout(c.ctx, poolScrapeTimeout)
	defer cancel()
	pools, err := sched.Pools(ctx)
	if err != nil {
		gauge(c.up, 0)
		return
	}
	gauge(c.up, 1)
	for _, p := range pools {
		if !p.Missing {
			gauge(c.slots, p.Slots, p.Name)
		}
		gauge(c.occupied, p.Occupied, p.Name)
		gauge(c.queued, p.Queued, p.Name)
		gauge(c.running, p.Running, p.Name)
		gauge(c.scheduled, p.Scheduled, p.Name)
	}
}
