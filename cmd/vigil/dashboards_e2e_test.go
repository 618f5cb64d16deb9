package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/executor/kube/kubetest"
)

// dashboardQueries returns every query string of the dashboards in
// deploy/dashboards: PromQL expressions and Pyroscope label selectors.
func dashboardQueries(t *testing.T) (promql, pyroscope []string) {
	t.Helper()
	files, err := filepath.Glob("../../deploy/dashboards/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards under deploy/dashboards (%v)", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Panels []struct {
				Title   string
				Targets []struct {
					Expr          string `json:"expr"`
					LabelSelector string `json:"labelSelector"`
					ProfileTypeID string `json:"profileTypeId"`
				}
			}
		}
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, p := range d.Panels {
			if len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", f, p.Title)
			}
			for _, q := range p.Targets {
				if q.Expr != "" {
					promql = append(promql, q.Expr)
				}
				if q.LabelSelector != "" {
					pyroscope = append(pyroscope, q.LabelSelector)
				}
			}
		}
	}
	return promql, pyroscope
}

var (
	metricName = regexp.MustCompile(`\bvigil_[a-z_]+`)
	byLabels   = regexp.MustCompile(`by \(([^)]*)\)`)
)

// TestDashboardsMatchMetrics runs a scheduler on the Kubernetes executor
// against the test apiserver, runs a DAG, scrapes /metrics, and checks
// every metric a dashboard panel queries is exported, with every label
// it groups by (bar the ones Prometheus adds: namespace, pod, le).
func TestDashboardsMatchMetrics(t *testing.T) {
	cs := kubetest.Client(t)
	ns := kubetest.Namespace(t, cs)
	promql, _ := dashboardQueries(t)
	e := newEnv(t, map[string]string{"chain.yaml": `id: chain
tasks:
  - id: a
    command: ["true"]
  - id: b
    depends_on: [a]
    command: ["true"]
`})
	tmpl := filepath.Join(e.dir, "pod.yaml")
	if err := os.WriteFile(tmpl, []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    sim.kwok.local/run-duration: 1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	health := freeAddr(t)
	e.extra = []string{"--executor", "kubernetes", "--kubeconfig", os.Getenv("KUBECONFIG"), "-n", ns,
		"--default-image", "busybox:1.36", "--pod-template", tmpl, "--health-addr", health, "--runtime-dir", filepath.Join(e.dir, "run")}
	e.start()
	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		_, err := e.vigil("dags", "trigger", "chain")
		return err == nil
	})
	e.waitFor("the run to finish", 90*time.Second, func() bool { return allSucceeded(e.tasks("chain"), 2) })

	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + health + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	// name → label names seen on it
	exported := map[string]map[string]bool{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, _ := strings.Cut(line, "{")
		name = strings.Fields(name)[0]
		if exported[name] == nil {
			exported[name] = map[string]bool{}
		}
		labels, _, _ := strings.Cut(rest, "}")
		for _, kv := range strings.Split(labels, ",") {
			if k, _, ok := strings.Cut(kv, "="); ok {
				exported[name][strings.TrimSpace(k)] = true
			}
		}
	}
	added := map[string]bool{"namespace": true, "pod": true, "le": true}
	for _, q := range promql {
		names := metricName.FindAllString(q, -1)
		if len(names) == 0 {
			t.Errorf("query %q reads no vigil metric", q)
		}
		for _, name := range names {
			labels, ok := exported[name]
			if !ok {
				t.Errorf("dashboard queries %s, which the scheduler does not export (query %q)", name, q)
				continue
			}
			for _, m := range byLabels.FindAllStringSubmatch(q, -1) {
				for _, l := range strings.Split(m[1], ",") {
					if l = strings.TrimSpace(l); !added[l] && !labels[l] {
						t.Errorf("dashboard groups %s by %q, a label it does not have (has %v)", name, l, keys(labels))
					}
				}
			}
		}
	}
}

// TestDashboardsMatchProfileLabels pushes profiles from a running
// scheduler to the real Pyroscope server and checks every label the
// profile dashboard selects on is one the scheduler pushes.
func TestDashboardsMatchProfileLabels(t *testing.T) {
	base := os.Getenv("PYROSCOPE_URL")
	if base == "" {
		t.Skip("PYROSCOPE_URL is not set: this test needs the real Pyroscope server; run it through `make test`")
	}
	_, selectors := dashboardQueries(t)
	if len(selectors) == 0 {
		t.Fatal("no Pyroscope query in deploy/dashboards")
	}
	e := startProfiled(t, base, "spin")
	start := time.Now().Add(-time.Minute)
	var names []string
	e.waitFor("the task labels in Pyroscope", 90*time.Second, func() bool {
		var resp struct {
			Names []string `json:"names"`
		}
		pyroscopeQuery(t, base, "LabelNames", map[string]any{
			"matchers": []string{`{service_name="vigil"}`},
			"start":    start.UnixMilli(),
			"end":      time.Now().Add(time.Minute).UnixMilli(),
		}, &resp)
		names = resp.Names
		return slices.Contains(names, "task")
	})
	selLabel := regexp.MustCompile(`(\w+)\s*=~?"`)
	for _, sel := range selectors {
		for _, m := range selLabel.FindAllStringSubmatch(sel, -1) {
			if !slices.Contains(names, m[1]) {
				t.Errorf("the profile dashboard selects on %q, which the scheduler does not push (labels %v)", m[1], names)
			}
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
