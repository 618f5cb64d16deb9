package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/bundle"
	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/executor/kube/kubetest"
)

// TestStalledLoopLeavesBundle is incident 1 and 4 end to end (P5): the
// scheduler talks to the apiserver through toxiproxy; a task passes its
// execution timeout, so the loop stops its pod; the connection is then a
// black hole, so the loop blocks in the DELETE. With default settings the
// watchdog must write a bundle that names that call, and only then fail
// /livez, well before the call's own deadline ends the block.
func TestStalledLoopLeavesBundle(t *testing.T) {
	faults := kubetest.NewFaults(t) // skips without the test control plane or toxiproxy
	cs := kubetest.Client(t)
	ns := kubetest.Namespace(t, cs)
	e := newEnv(t, map[string]string{"stall.yaml": `
id: stall
tasks:
  - id: slow
    command: ["sleep", "600"]
    execution_timeout: 4s
`})
	tmpl := filepath.Join(e.dir, "pod.yaml")
	if err := os.WriteFile(tmpl, []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    sim.kwok.local/run-duration: 10m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bundles := filepath.Join(e.dir, "bundles")
	health := freeAddr(t)
	e.extra = []string{"--executor", "kubernetes", "--kubeconfig", faults.Kubeconfig, "-n", ns,
		"--default-image", "busybox:1.36", "--pod-template", tmpl,
		"--runtime-dir", filepath.Join(e.dir, "run"), "--bundle-dir", bundles, "--health-addr", health}
	d := e.start()
	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		_, err := e.vigil("dags", "trigger", "stall")
		return err == nil
	})
	e.waitFor("the task to run", 60*time.Second, func() bool { return e.tasks("stall")["slow"].State == "running" })
	if resp, err := http.Get("http://" + health + "/metrics"); err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), `vigil_kube_api_request_duration_seconds_count{code="201",resource="pods",verb="create"}`) {
			t.Errorf("/metrics lacks the pod create's API latency")
		}
	} else {
		t.Fatal(err)
	}
	// Black-hole the apiserver connection before the execution timeout
	// (4s after the pod started) makes the loop call Stop.
	faults.Toxic("blackhole", "timeout", "upstream", map[string]int{"timeout": 0})

	client := &http.Client{Timeout: 2 * time.Second}
	var livezFailed time.Time
	e.waitFor("/livez to fail", 60*time.Second, func() bool {
		resp, err := client.Get("http://" + health + "/livez")
		if err != nil {
			return false
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			livezFailed = time.Now()
			return true
		}
		return false
	})
	list, err := bundle.List(bundles)
	if err != nil || len(list) == 0 {
		t.Fatalf("/livez failed but no bundle was written in %s (%v)\nlog:\n%s", bundles, err, d.logs)
	}
	files := untar(t, list[len(list)-1].Path)
	summary := files["SUMMARY.txt"]
	t.Logf("bundle %s summary:\n%s", list[len(list)-1].Name, summary)
	if !strings.Contains(summary, "scheduler.loop stale") || !strings.Contains(summary, "blocked in DELETE /api/v1/namespaces/"+ns+"/pods/") {
		t.Errorf("the summary does not name the blocking DELETE:\n%s", summary)
	}
	for _, part := range []string{"stacks.txt", "inflight.json", "wiretrace.json", "cpu.pprof", "wall.pprof", "flightrecorder.trace", "heartbeats.json", "tasks.json", "config.yaml", "goroutine.pprof"} {
		if len(files[part]) == 0 {
			t.Errorf("bundle part %s is empty or missing (errors: %q)", part, files[part+".error.txt"])
		}
	}
	var calls []inflight.Call
	if err := json.Unmarshal([]byte(files["inflight.json"]), &calls); err != nil {
		t.Fatalf("inflight.json: %v", err)
	}
	var blockedSince time.Time
	for _, c := range calls {
		if c.Kind == "http" && strings.HasPrefix(c.Op, "DELETE ") && c.Labels["loop"] == "scheduler" {
			blockedSince = c.Start
		}
	}
	if blockedSince.IsZero() {
		t.Fatalf("no DELETE under loop=scheduler in inflight.json:\n%s", files["inflight.json"])
	}
	// P5, recorded by bench/run.sh: from the loop blocking to /livez failing.
	t.Logf("P5: loop blocked at %s; bundle written and /livez failing %.1fs later",
		blockedSince.Format(time.RFC3339Nano), livezFailed.Sub(blockedSince).Seconds())
	if !strings.Contains(d.logs.String(), "diagnostic bundle written") {
		t.Errorf("the bundle path was not logged")
	}
}

func untar(t *testing.T, path string) map[string]string {
	t.Helper()
	files, err := bundle.ReadFiles(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(files))
	for name, b := range files {
		out[name] = string(b)
	}
	return out
}
