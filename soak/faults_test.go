package soak

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/cli/clitest"
	"github.com/vigilhq/vigil/executor/kube/kubetest"
	"github.com/vigilhq/vigil/internal/toxiproxy"
)

// apiPath is how a scenario's scheduler reaches the apiserver: a
// kubeconfig, and the fault to switch on and off while tasks run.
type apiPath struct {
	kubeconfig string
	on, off    func()
	// hits counts the requests the fault was applied to, where the proxy
	// can tell (the HTTP fault proxy); nil otherwise.
	hits func() int
}

// viaToxiproxy puts a toxiproxy proxy of the scenario's own between the
// scheduler and the apiserver; on adds the toxic.
func viaToxiproxy(t *testing.T, kind string, attrs map[string]int) apiPath {
	t.Helper()
	cfg := kubetest.Config(t, "KUBECONFIG")
	u, err := url.Parse(cfg.Host)
	if err != nil {
		t.Fatal(err)
	}
	p := toxiproxy.New(t, u.Host)
	kc, err := os.ReadFile(os.Getenv("KUBECONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	write(t, path, strings.ReplaceAll(string(kc), "https://"+u.Host, "https://"+p.Listen))
	var remove []func()
	return apiPath{kubeconfig: path,
		on: func() {
			if kind == "cut" { // every connection dropped, new ones refused
				p.SetEnabled(false)
				return
			}
			remove = append(remove, p.Toxic(kind+"-down", kind, "downstream", attrs), p.Toxic(kind+"-up", kind, "upstream", attrs))
		},
		off: func() {
			if kind == "cut" {
				p.SetEnabled(true)
				return
			}
			for _, r := range remove {
				r()
			}
			remove = nil
		}}
}

// viaFaultProxy puts the test's HTTP fault proxy in the path; on makes it
// answer share of the requests with f.
func viaFaultProxy(t *testing.T, f kubetest.Fault, share float64) apiPath {
	t.Helper()
	p := kubetest.NewFaultProxy(t)
	return apiPath{kubeconfig: p.Kubeconfig, on: func() { p.Set(f, share) }, off: func() { p.Set(kubetest.FaultNone, 0) },
		hits: func() int { return p.Injected()[f] }}
}

// TestFaultMatrix is R1: for each fault between the scheduler and the
// apiserver, a run of tasks as pods with the fault switched on and off at
// random intervals. Afterwards the history must hold: every task
// succeeded, no try ran two pods, every record legal and explained. The
// fault-free row is the baseline the throughput is compared with.
func TestFaultMatrix(t *testing.T) {
	tasks := size(60, 500)
	const runs = 2
	faults := []struct {
		name   string
		path   func(t *testing.T) apiPath
		rhythm rhythm
	}{
		{name: "none", path: func(t *testing.T) apiPath {
			return apiPath{kubeconfig: os.Getenv("KUBECONFIG"), on: func() {}, off: func() {}}
		}},
		{name: "black hole", path: func(t *testing.T) apiPath { return viaToxiproxy(t, "timeout", map[string]int{"timeout": 0}) }},
		// Latency above the 3s request deadline.
		{name: "latency 4s", path: func(t *testing.T) apiPath { return viaToxiproxy(t, "latency", map[string]int{"latency": 4000}) }},
		{name: "connection reset", path: func(t *testing.T) apiPath { return viaToxiproxy(t, "reset_peer", map[string]int{"timeout": 200}) }},
		{name: "slicer", path: func(t *testing.T) apiPath {
			return viaToxiproxy(t, "slicer", map[string]int{"average_size": 64, "size_variation": 48, "delay": 2000})
		}},
		// Every connection dropped, the pod watch included, for under a
		// second while pods finish, every few seconds. (Flapping like the
		// others, the informer's relist backoff, up to 30s, outlasts the
		// short windows: ends are then found by the 30s resync only.)
		{name: "watch cut", path: func(t *testing.T) apiPath { return viaToxiproxy(t, "cut", nil) },
			rhythm: rhythm{200 * time.Millisecond, time.Second, 3 * time.Second, 8 * time.Second}},
		{name: "500", path: func(t *testing.T) apiPath { return viaFaultProxy(t, kubetest.Fault500, 0.3) }},
		{name: "429", path: func(t *testing.T) apiPath { return viaFaultProxy(t, kubetest.Fault429, 0.3) }},
		{name: "reply lost", path: func(t *testing.T) apiPath { return viaFaultProxy(t, kubetest.FaultLostReply, 0.3) }},
	}
	for _, f := range faults {
		t.Run(strings.ReplaceAll(f.name, " ", "-"), func(t *testing.T) {
			c := newCluster(t)
			path := f.path(t)
			s := clitest.Start(t, clitest.Options{
				DAGs:  map[string]string{"soak.yaml": flatDAG("soak", tasks/runs)},
				Extra: []string{"--config", c.config(t, path.kubeconfig, time.Second), "--executor", "kubernetes"},
			})
			st := storeOf(t, s)
			start := time.Now()
			trigger(t, s, "soak", runs)
			r := f.rhythm
			if r == (rhythm{}) {
				r = flapping
			}
			tg := toggle(t, r, path.on, path.off)
			waitAllEnded(t, st, time.Duration(size(10, 30))*time.Minute)
			took := time.Since(start)
			ons := tg.end()
			s.Kill(t)
			rep := check(t, st, c.pods, nil)
			if f.name == "none" {
				ons = 0
			}
			hits := 0
			if path.hits != nil {
				hits = path.hits()
			}
			report(t, result{Scenario: "R1 " + f.name, Tasks: rep.Instances, Faults: ons, Hits: hits, Took: took, Pods: c.pods.Count(),
				Retries: rep.Retries, Requeues: rep.Requeues, Adoptions: rep.Adoptions, Violations: len(rep.Violations)})
			if rep.Instances != tasks {
				t.Errorf("%d task instances, want %d", rep.Instances, tasks)
			}
		})
	}
}
