package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/api/server"
)

// TestMetricsAndAuditLog: every request is counted by its route pattern
// (not its path) and status, refusals included, and every mutation is
// logged with the token that asked.
func TestMetricsAndAuditLog(t *testing.T) {
	m := server.NewMetrics()
	core, logs := observer.New(zapcore.InfoLevel)
	f := newFixture(t, fixtureOpts{metrics: m, logger: zap.New(core)})

	f.do("GET", api.Prefix+"/dags/etl", bobSecret, nil)
	f.do("GET", api.Prefix+"/dags/nope", bobSecret, nil)
	f.do("GET", api.Prefix+"/dags/etl", "", nil)
	f.do("POST", api.Prefix+"/dags/etl/pause", bobSecret, api.PauseRequest{Reason: "r"})
	f.do("POST", api.Prefix+"/dags/etl/pause", aliceSecret, api.PauseRequest{Reason: "r"})

	reg := prometheus.NewRegistry()
	reg.MustRegister(m.Collectors()...)
	want := `
# HELP vigil_api_requests_total Requests to the operations API by route pattern and status code (401 and 403: refused tokens).
# TYPE vigil_api_requests_total counter
vigil_api_requests_total{code="200",route="GET /dags/{dag}"} 1
vigil_api_requests_total{code="401",route="GET /dags/{dag}"} 1
vigil_api_requests_total{code="404",route="GET /dags/{dag}"} 1
vigil_api_requests_total{code="200",route="POST /dags/{dag}/pause"} 1
vigil_api_requests_total{code="403",route="POST /dags/{dag}/pause"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "vigil_api_requests_total"); err != nil {
		t.Error(err)
	}
	var got []string
	for _, e := range logs.FilterMessage("api request").All() {
		c := e.ContextMap()
		got = append(got, fmt.Sprint(c["route"], " ", c["token"], " ", c["code"]))
	}
	if want := "POST /dags/{dag}/pause bob 403; POST /dags/{dag}/pause alice 200"; strings.Join(got, "; ") != want {
		t.Errorf("mutations logged: %q, want %q", strings.Join(got, "; "), want)
	}
}
