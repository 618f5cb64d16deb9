package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vigilhq/vigil/executor/kube"
	"github.com/vigilhq/vigil/executor/kube/kubetest"
)

// TestKubeRestartMidRun kills a scheduler running tasks as pods on the real
// test control plane and starts another: the running pod is adopted, the
// run completes, and every try ran exactly one pod.
func TestKubeRestartMidRun(t *testing.T) {
	cs := kubetest.Client(t)
	ns := kubetest.Namespace(t, cs)
	e := newEnv(t, map[string]string{"chain.yaml": `
id: chain
tasks:
  - id: a
    command: ["true"]
  - id: b
    depends_on: [a]
    command: ["true"]
  - id: c
    depends_on: [b]
    command: ["true"]
`})
	// KWOK runs every pod for 4s, then succeeds.
	tmpl := filepath.Join(e.dir, "pod.yaml")
	if err := os.WriteFile(tmpl, []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    sim.kwok.local/run-duration: 4s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.extra = []string{"--executor", "kubernetes", "--kubeconfig", os.Getenv("KUBECONFIG"), "-n", ns,
		"--default-image", "busybox:1.36", "--pod-template", tmpl}
	d := e.start()
	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		_, err := e.vigil("dags", "trigger", "chain")
		return err == nil
	})
	e.waitFor("task b to run", 60*time.Second, func() bool { return e.tasks("chain")["b"].State == "running" })
	_ = d.stop(t, syscall.SIGKILL, 10*time.Second)

	e.start()
	e.waitFor("the run to finish", 90*time.Second, func() bool { return allSucceeded(e.tasks("chain"), 3) })

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: kube.LabelManagedBy + "=" + kube.ManagedBy})
	if err != nil {
		t.Fatal(err)
	}
	perTask := map[string]int{}
	for _, p := range pods.Items {
		perTask[p.Labels[kube.LabelTask]+"#"+p.Labels[kube.LabelTry]]++
	}
	if len(pods.Items) != 3 || perTask["a#1"] != 1 || perTask["b#1"] != 1 || perTask["c#1"] != 1 {
		t.Fatalf("pods per try %v (%d pods), want exactly one for each of a, b, c on try 1", perTask, len(pods.Items))
	}
	hist := e.mustVigil("tasks", "history", "chain", "latest", "b")
	if !strings.Contains(hist, "adopted after restart") {
		t.Errorf("history of b does not show the adoption:\n%s", hist)
	}
}
