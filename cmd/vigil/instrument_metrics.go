package main

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigilhq/vigil/api/server"
	"github.com/vigilhq/vigil/diag/bundle"
	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/diag/wiretrace"
	"github.com/vigilhq/vigil/profiles"
)

// instrumentMetrics are the metrics the instruments feed: outbound HTTP
// latency (Kubernetes API calls by verb, resource and code), the loop's
// iteration durations, the in-flight calls, and profile uploads.
type instrumentMetrics struct {
	apiLatency *prometheus.HistogramVec
	httpTotal  *prometheus.CounterVec
	loopIter   prometheus.Histogram
	pusher     *profiles.Pusher // nil without continuous profiling
	// opsAPI counts and times the operations API's requests (served).
	opsAPI *server.Metrics
}

func newInstrumentMetrics() *instrumentMetrics {
	return &instrumentMetrics{
		apiLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vigil_kube_api_request_duration_seconds",
			Help:    "Kubernetes API request latency by verb, resource and status code (code 0: no response).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"verb", "resource", "code"}),
		httpTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_http_requests_total",
			Help: "Outbound HTTP requests by client (kube, pyroscope) and status code (0: no response).",
		}, []string{"client", "code"}),
		loopIter: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vigil_loop_iteration_duration_seconds",
			Help:    "Duration of scheduling loop iterations.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		opsAPI: server.NewMetrics(),
	}
}

func (m *instrumentMetrics) observeExchange(x wiretrace.Exchange) {
	code := strconv.Itoa(x.Status)
	m.httpTotal.WithLabelValues(x.Client, code).Inc()
	if x.Verb != "" {
		resource := x.Resource
		if x.Subresource != "" {
			resource += "/" + x.Subresource
		}
		m.apiLatency.WithLabelValues(x.Verb, resource, code).Observe(x.Duration.Seconds())
	}
}

func (m *instrumentMetrics) observeIteration(d time.Duration) { m.loopIter.Observe(d.Seconds()) }

// inflightCollector exports the in-flight registry and profile uploads at
// scrape time.
type inflightCollector struct {
	reg    *inflight.Registry
	m      *instrumentMetrics
	count  *prometheus.Desc
	nodl   *prometheus.Desc
	oldest *prometheus.Desc
	total  *prometheus.Desc
	upOK   *prometheus.Desc
	upFail *prometheus.Desc
}

func newInflightCollector(reg *inflight.Registry, m *instrumentMetrics) *inflightCollector {
	return &inflightCollector{
		reg:    reg,
		m:      m,
		count:  prometheus.NewDesc("vigil_inflight_calls", "Outbound calls (HTTP, database, executor) in flight.", nil, nil),
		nodl:   prometheus.NewDesc("vigil_inflight_calls_no_deadline", "Outbound calls in flight with no deadline.", nil, nil),
		oldest: prometheus.NewDesc("vigil_inflight_oldest_seconds", "Age of the oldest outbound call in flight.", nil, nil),
		total:  prometheus.NewDesc("vigil_inflight_calls_total", "Outbound calls begun.", nil, nil),
		upOK:   prometheus.NewDesc("vigil_profile_uploads_total", "Continuous-profiling uploads that succeeded.", nil, nil),
		upFail: prometheus.NewDesc("vigil_profile_uploads_dropped_total", "Continuous-profiling uploads that failed or were dropped.", nil, nil),
	}
}

func (c *inflightCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.count, c.nodl, c.oldest, c.total, c.upOK, c.upFail} {
		ch <- d
	}
}

func (c *inflightCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.reg.Stats()
	ch <- prometheus.MustNewConstMetric(c.count, prometheus.GaugeValue, float64(st.InFlight))
	ch <- prometheus.MustNewConstMetric(c.nodl, prometheus.GaugeValue, float64(st.NoDeadline))
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, st.Oldest.Seconds())
	ch <- prometheus.MustNewConstMetric(c.total, prometheus.CounterValue, float64(st.Total))
	var ok, dropped uint64
	if c.m.pusher != nil {
		ps := c.m.pusher.Stats()
		ok, dropped = ps.Uploaded, ps.Failed+ps.Dropped
	}
	ch <- prometheus.MustNewConstMetric(c.upOK, prometheus.CounterValue, float64(ok))
	ch <- prometheus.MustNewConstMetric(c.upFail, prometheus.CounterValue, float64(dropped))
}

// diagCollector exports the watchdog's liveness verdict and the
// diagnostic bundles written, at scrape time.
type diagCollector struct {
	in                     *instruments
	live, bundles, pending *prometheus.Desc
}

func newDiagCollector(in *instruments) *diagCollector {
	return &diagCollector{
		in: in,
		live: prometheus.NewDesc("vigil_live", "The watchdog's liveness verdict, what /livez answers: 1 ok, 0 failing "+
			"(a heartbeat stale and its bundle written; the kubelet restarts the container).", nil, nil),
		bundles: prometheus.NewDesc("vigil_diag_bundles_written_total", "Diagnostic bundles written, by reason: "+
			"stale (the watchdog, before /livez fails) or requested (diag bundle, diag restart).", []string{"reason"}, nil),
		pending: prometheus.NewDesc("vigil_pod_pending_timeouts_total", "Tries the Kubernetes executor failed because their pod stayed Pending "+
			"past the kubernetes pending_timeout (unschedulable, image pull backoff), by DAG.", []string{"dag"}, nil),
	}
}

func (c *diagCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.live
	ch <- c.bundles
	ch <- c.pending
}

func (c *diagCollector) Collect(ch chan<- prometheus.Metric) {
	live := 1.0
	if len(c.in.wd.Stale()) > 0 {
		live = 0
	}
	ch <- prometheus.MustNewConstMetric(c.live, prometheus.GaugeValue, live)
	written := c.in.bundles.Written()
	for _, reason := range []string{staleReason, bundle.ReasonRequested} {
		ch <- prometheus.MustNewConstMetric(c.bundles, prometheus.CounterValue, float64(written[reason]), reason)
	}
	if ex := c.in.kubeExec.Load(); ex != nil {
		for dag, n := range ex.PendingTimeouts() {
			ch <- prometheus.MustNewConstMetric(c.pending, prometheus.CounterValue, float64(n), dag)
		}
	}
}

// collectors are the instruments' metrics for the health server's registry.
func (in *instruments) collectors() []prometheus.Collector {
	return append([]prometheus.Collector{in.metrics.apiLatency, in.metrics.httpTotal, in.metrics.loopIter,
		newInflightCollector(in.reg, in.metrics), newDiagCollector(in)},
		in.metrics.opsAPI.Collectors()...)
}
