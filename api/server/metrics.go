package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Metrics are the API's request counts and latencies, labelled by route
// pattern (bounded: never the path itself) and status code. vigil run
// registers them on its /metrics.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics returns the API's metrics, to register and to pass in
// Options.Metrics.
func NewMetrics() *Metrics {
	return &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_api_requests_total",
			Help: "Requests to the operations API by route pattern and status code (401 and 403: refused tokens).",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vigil_api_request_duration_seconds",
			Help:    "Time the operations API took to answer, by route pattern (logs and profiles take as long as they stream).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
	}
}

// Collectors are the metrics to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.requests, m.duration}
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (write
// deadlines of logs and profiles, flushes).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe wraps the handler of route: it counts and times each request,
// and logs every mutation with the token that asked (the API's audit
// trail beside the history records).
func (s *Server) observe(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.opts.Now()
		sw := &statusWriter{ResponseWriter: w}
		who := &tokenSlot{}
		h.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), tokenSlotKey{}, who)))
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		if m := s.opts.Metrics; m != nil {
			m.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
			m.duration.WithLabelValues(route).Observe(s.opts.Now().Sub(start).Seconds())
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			name := who.t.Name
			if name == "" {
				name = "(refused)"
			}
			s.opts.Logger.Info("api request", zap.String("route", route), zap.String("token", name),
				zap.Int("code", sw.code), zap.Duration("took", s.opts.Now().Sub(start).Round(time.Millisecond)))
		}
	})
}

// tokenSlot carries the token the auth check accepted back out to
// observe, which runs around it (so that refusals are counted too).
type tokenSlot struct{ t Token }

type tokenSlotKey struct{}
