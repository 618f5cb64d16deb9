package main

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigilhq/vigil/scheduler/notify"
)

// notifyCollector exports the notification sender's counts (issue 20).
type notifyCollector struct {
	sender         *atomic.Pointer[notify.Sender]
	total, pending *prometheus.Desc
}

func newNotifyCollector(s *atomic.Pointer[notify.Sender]) *notifyCollector {
	return &notifyCollector{
		sender: s,
		total: prometheus.NewDesc("vigil_notifications_total",
			"Attempts to deliver a notification, by receiver, event (failure, retry, success) and result (sent, retry, given_up).",
			[]string{"receiver", "event", "result"}, nil),
		pending: prometheus.NewDesc("vigil_notifications_pending",
			"Notifications stored and not yet sent or given up, across every scheduler sharing the store, as of the sender's last poll.", nil, nil),
	}
}

func (c *notifyCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.total; ch <- c.pending }

func (c *notifyCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.sender.Load()
	if s == nil {
		return
	}
	for k, v := range s.Counts() {
		ch <- prometheus.MustNewConstMetric(c.total, prometheus.CounterValue, float64(v), k.Receiver, k.Event, k.Result)
	}
	if p := s.Pending(); p >= 0 {
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(p))
	}
}
