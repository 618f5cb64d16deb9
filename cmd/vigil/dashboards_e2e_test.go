package main

import (
	"encoding/json"
	"fmt"
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

// profileQuery is one Pyroscope query of a dashboard panel.
type profileQuery struct {
	file, panel, profileType, selector string
}

// dashboardQueries returns every query of the dashboards in
// deploy/dashboards: PromQL expressions and Pyroscope queries.
func dashboardQueries(t *testing.T) (promql []string, pyroscope []profileQuery) {
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
					pyroscope = append(pyroscope, profileQuery{filepath.Base(f), p.Title, q.ProfileTypeID, q.LabelSelector})
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
// scheduler to the real Pyroscope server and checks, for every panel of
// the profile dashboard, that each label it selects on is one the
// scheduler pushes with that panel's profile type: Go records goroutine
// labels in CPU and goroutine profiles only, so a heap panel filtered by
// dag would match nothing. It also checks the per-run "run" label is not
// pushed (one series per run would grow Pyroscope's index without bound).
func TestDashboardsMatchProfileLabels(t *testing.T) {
	base := os.Getenv("PYROSCOPE_URL")
	if base == "" {
		t.Skip("PYROSCOPE_URL is not set: this test needs the real Pyroscope server; run it through `make test`")
	}
	_, queries := dashboardQueries(t)
	if len(queries) == 0 {
		t.Fatal("no Pyroscope query in deploy/dashboards")
	}
	// A DAG of its own, and the instance label of this scheduler, keep
	// profiles other tests pushed out of the answers.
	dagID := fmt.Sprintf("spin%d", time.Now().UnixNano()%1_000_000_000)
	e := startProfiled(t, base, dagID)
	start := time.Now().Add(-time.Minute)
	query := func(method string, req map[string]any) []string {
		req["start"], req["end"] = start.UnixMilli(), time.Now().Add(time.Minute).UnixMilli()
		var resp struct {
			Names []string `json:"names"`
		}
		pyroscopeQuery(t, base, method, req, &resp)
		return resp.Names
	}
	ofDAG := fmt.Sprintf(`{service_name="vigil", dag=%q}`, dagID)
	var instances []string
	e.waitFor("the DAG's profiles in Pyroscope", 90*time.Second, func() bool {
		instances = query("LabelValues", map[string]any{"name": "instance", "matchers": []string{ofDAG}})
		return len(instances) == 1
	})
	// The tries' work runs under one pprof.Do that sets dag, run and task
	// together, so the series that carry this DAG would carry run too were
	// it not dropped.
	if names := query("LabelNames", map[string]any{"matchers": []string{ofDAG}}); slices.Contains(names, "run") || !slices.Contains(names, "task") {
		t.Errorf("labels pushed with the DAG's profiles = %v, want task and no per-run \"run\" label", names)
	}
	byType := map[string][]string{}
	refresh := func() {
		for _, q := range queries {
			byType[q.profileType] = query("LabelNames", map[string]any{"matchers": []string{
				fmt.Sprintf(`{service_name="vigil", instance=%q, __profile_type__=%q}`, instances[0], q.profileType)}})
		}
	}
	e.waitFor("every panel's profile type in Pyroscope", 60*time.Second, func() bool {
		refresh()
		return !slices.ContainsFunc(queries, func(q profileQuery) bool {
			return !slices.Contains(byType[q.profileType], "service_name")
		})
	})
	// Which labels a goroutine profile carries depends on what runs the
	// instant it is taken, so a panel's labels get until a deadline to
	// show up; a label its profile type never carries fails after it.
	selLabel := regexp.MustCompile(`(\w+)\s*=~?"`)
	gaps := func() (out []string) {
		for _, q := range queries {
			for _, m := range selLabel.FindAllStringSubmatch(q.selector, -1) {
				if !slices.Contains(byType[q.profileType], m[1]) {
					out = append(out, fmt.Sprintf("%s: panel %q selects %s profiles on %q, a label the scheduler does not push with them (labels %v)",
						q.file, q.panel, q.profileType, m[1], byType[q.profileType]))
				}
			}
		}
		return out
	}
	deadline := time.Now().Add(30 * time.Second)
	missing := gaps()
	for len(missing) > 0 && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		refresh()
		missing = gaps()
	}
	for _, m := range missing {
		t.Error(m)
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
