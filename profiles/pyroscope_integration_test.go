package profiles

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
)

// pyroscopeURL returns the real Pyroscope server the integration tests
// push to, or skips.
func pyroscopeURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("PYROSCOPE_URL")
	if u == "" {
		t.Skip("PYROSCOPE_URL is not set: this test pushes to a real Pyroscope server " +
			"(`make test` starts one; or run testenv/pyroscope/up.sh and export PYROSCOPE_URL=http://127.0.0.1:4040)")
	}
	return strings.TrimRight(u, "/")
}

// TestPushToPyroscope pushes labelled CPU profiles to a real Pyroscope
// (v1.x) and queries them back through its Connect API, as Grafana would:
// the dag label must be a queryable series label of the service, and
// selecting by it must find the labelled goroutine's stack.
func TestPushToPyroscope(t *testing.T) {
	base := pyroscopeURL(t)
	suffix := randomSuffix(t)
	service, dag := "vigil-profiles-test-"+suffix, "testdag-"+suffix

	p, err := StartPush(PushOptions{
		ServerAddress: base,
		Service:       service,
		Instance:      "test-" + suffix,
		ProfileTypes:  []string{"cpu", "goroutines"},
		UploadRate:    time.Second,
		UploadTimeout: 5 * time.Second,
		Logger:        zaptest.NewLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	stop := startBurning("loop", "scheduler", "dag", dag)
	defer stop()

	// Ingested series are queryable within seconds; each poll takes
	// another second of labelled CPU time.
	from := time.Now().Add(-time.Minute)
	q := &querier{t: t, base: base}
	const cpuType = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"

	// The dag label must be a label of the service's CPU series (the
	// goroutine profile carries pprof labels too, so name the type).
	var values []string
	eventually(t, 60*time.Second, func() (bool, string) {
		var resp struct {
			Names []string `json:"names"`
		}
		q.call("LabelValues", map[string]any{
			"name":     "dag",
			"matchers": []string{fmt.Sprintf(`{service_name=%q, __profile_type__=%q}`, service, cpuType)},
			"start":    from.UnixMilli(),
			"end":      time.Now().Add(time.Minute).UnixMilli(),
		}, &resp)
		values = resp.Names
		return slices.Contains(values, dag), fmt.Sprintf("dag values of service_name=%s's CPU series: %v; push stats: %+v", service, values, p.Stats())
	})

	// Selecting CPU time by the label finds the labelled goroutine.
	eventually(t, 30*time.Second, func() (bool, string) {
		var merged struct {
			Flamegraph struct {
				Names []string `json:"names"`
				Total string   `json:"total"`
			} `json:"flamegraph"`
		}
		q.call("SelectMergeStacktraces", map[string]any{
			"profileTypeID": cpuType,
			"labelSelector": fmt.Sprintf(`{service_name=%q, dag=%q, loop="scheduler"}`, service, dag),
			"start":         from.UnixMilli(),
			"end":           time.Now().Add(time.Minute).UnixMilli(),
			"maxNodes":      1024,
		}, &merged)
		found := slices.ContainsFunc(merged.Flamegraph.Names, func(n string) bool { return strings.HasSuffix(n, ".burnCPU.func1") })
		return found, fmt.Sprintf("CPU time selected by dag=%s (total %q) does not show the labelled goroutine; frames: %v",
			dag, merged.Flamegraph.Total, merged.Flamegraph.Names)
	})
	stop()
	if st := p.Stats(); st.Uploaded == 0 || st.Failed != 0 {
		t.Errorf("push stats after the server took the profiles: %+v", st)
	}
	p.Stop()
	t.Logf("push stats: %+v", p.Stats())
}

// eventually polls cond every second until it holds, or fails the test
// with cond's last description once timeout has passed.
func eventually(t *testing.T, timeout time.Duration, cond func() (ok bool, desc string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, desc := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, desc)
		}
		time.Sleep(time.Second)
	}
}

// querier calls Pyroscope's querier.v1.QuerierService over Connect's JSON
// protocol.
type querier struct {
	t    *testing.T
	base string
}

func (q *querier) call(method string, req, resp any) {
	q.t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		q.t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	r, err := client.Post(q.base+"/querier.v1.QuerierService/"+method, "application/json", bytes.NewReader(body))
	if err != nil {
		q.t.Fatalf("%s: %v", method, err)
	}
	defer r.Body.Close()
	data, err := io.ReadAll(r.Body)
	if err != nil {
		q.t.Fatalf("%s: read response: %v", method, err)
	}
	if r.StatusCode != http.StatusOK {
		q.t.Fatalf("%s %s: %s: %s", method, body, r.Status, data)
	}
	if err := json.Unmarshal(data, resp); err != nil {
		q.t.Fatalf("%s: response is not the expected JSON: %v: %s", method, err, data)
	}
}

func randomSuffix(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
