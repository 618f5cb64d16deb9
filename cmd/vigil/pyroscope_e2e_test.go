package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestContinuousProfilingFromVigilRun pushes profiles from a running
// scheduler to the real Pyroscope server of the test environment and reads
// them back by the labels the scheduler sets: the DAG of the tasks it
// submitted and the phases of its loop.
func TestContinuousProfilingFromVigilRun(t *testing.T) {
	base := os.Getenv("PYROSCOPE_URL")
	if base == "" {
		t.Skip("PYROSCOPE_URL is not set: this test needs the real Pyroscope server; run it through `make test` (testenv/kube/with-cluster.sh)")
	}
	dagID := fmt.Sprintf("profiled%d", time.Now().UnixNano()%1_000_000_000)
	e := startProfiled(t, base, dagID)
	start := time.Now().Add(-time.Minute)
	labelValues := func(name string) []string {
		var resp struct {
			Names []string `json:"names"`
		}
		pyroscopeQuery(t, base, "LabelValues", map[string]any{
			"name":     name,
			"matchers": []string{`{service_name="vigil", __profile_type__="process_cpu:cpu:nanoseconds:cpu:nanoseconds"}`},
			"start":    start.UnixMilli(),
			"end":      time.Now().Add(time.Minute).UnixMilli(),
		}, &resp)
		return resp.Names
	}
	e.waitFor("the DAG's label in Pyroscope", 90*time.Second, func() bool { return slices.Contains(labelValues("dag"), dagID) })
	phases := labelValues("phase")
	if !slices.Contains(phases, "dispatch") {
		t.Errorf("loop phases in Pyroscope = %v, want dispatch among them", phases)
	}
	if loops := labelValues("loop"); !slices.Contains(loops, "submit") || !slices.Contains(loops, "scheduler") {
		t.Errorf("loop labels in Pyroscope = %v, want scheduler and submit", loops)
	}
}

// startProfiled runs a scheduler that pushes profiles to the Pyroscope at
// base every second, and triggers a 300-task DAG named dagID in it, enough
// work for the CPU profiles to carry the tasks' labels, and a task "hold"
// that runs 10s, so that goroutine profiles carry its labels (the local
// executor's goroutine waiting for it inherits them from the submit).
func startProfiled(t *testing.T, base, dagID string) *env {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "id: %s\nmax_active_tasks: 16\ntasks:\n", dagID)
	for i := range 300 {
		fmt.Fprintf(&b, "  - id: t%03d\n    command: [\"true\"]\n", i)
	}
	b.WriteString("  - id: hold\n    command: [\"sleep\", \"10\"]\n")
	e := newEnv(t, map[string]string{"profiled.yaml": b.String()})
	cfg := filepath.Join(e.dir, "vigil.yaml")
	if err := os.WriteFile(cfg, []byte("debug:\n  pyroscope:\n    upload_rate: 1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.extra = []string{"--config", cfg, "--pyroscope-url", base, "--runtime-dir", filepath.Join(e.dir, "run"), "--parallelism", "16"}
	e.start()
	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		_, err := e.vigil("dags", "trigger", dagID)
		return err == nil
	})
	return e
}

// pyroscopeQuery calls Pyroscope's querier.v1.QuerierService over
// Connect's JSON protocol.
func pyroscopeQuery(t *testing.T, base, method string, req, resp any) {
	t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	r, err := client.Post(base+"/querier.v1.QuerierService/"+method, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	defer r.Body.Close()
	data, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	if r.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s: %s", method, body, r.Status, data)
	}
	if err := json.Unmarshal(data, resp); err != nil {
		t.Fatalf("%s: %v: %s", method, err, data)
	}
}
