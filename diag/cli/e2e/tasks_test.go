package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vigilhq/vigil/diag/cli/clitest"
	"github.com/vigilhq/vigil/diag/debugapi"
	"github.com/vigilhq/vigil/executor/kube"
	"github.com/vigilhq/vigil/executor/kube/kubetest"
)

// TestTasksReport runs `diag tasks` against a scheduler on the real
// apiserver: a clean run adds up; a pod made behind the scheduler's back
// for a try no task owns is reported as an orphan, with exit status 1.
func TestTasksReport(t *testing.T) {
	t.Parallel() // waits for a grace, a threshold, uploads

	kubetest.Config(t, "KUBECONFIG") // skips without the test control plane
	cs := kubetest.Client(t)
	ns := kubetest.Namespace(t, cs)
	tmpl := filepath.Join(t.TempDir(), "pod.yaml")
	if err := os.WriteFile(tmpl, []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    sim.kwok.local/run-duration: 1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := clitest.Start(t, clitest.Options{
		DAGs: map[string]string{"w.yaml": "id: w\ntasks:\n  - id: a\n    command: [\"true\"]\n"},
		Extra: []string{"--executor", "kubernetes", "--kubeconfig", os.Getenv("KUBECONFIG"), "-n", ns,
			"--default-image", "busybox:1.36", "--pod-template", tmpl},
	})
	clitest.WaitFor(t, "the DAG to load", 30*time.Second, func() bool {
		_, err := s.Vigil("dags", "trigger", "w")
		return err == nil
	})
	clitest.WaitFor(t, "the task to succeed", 60*time.Second, func() bool { return s.TaskState(t, "w", "a") == "success" })

	if r := clitest.Run(t, s, "tasks", "--grace", "0s"); r.Code != 0 || !strings.Contains(r.Out, "Everything adds up") {
		t.Fatalf("diag tasks after a clean run: exit %d\n%s%s", r.Code, r.Out, r.Err)
	}

	// A pod for try 7 of a task whose run does not exist.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "stray", Namespace: ns,
			Labels: map[string]string{kube.LabelManagedBy: kube.ManagedBy, kube.LabelDAG: "w", kube.LabelTask: "a", kube.LabelTry: "7"},
			Annotations: map[string]string{kube.AnnotationDAG: "w", kube.AnnotationRun: "no-such-run", kube.AnnotationTask: "a",
				kube.AnnotationTry: "7", "sim.kwok.local/run-duration": "10m"}},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "task", Image: "busybox:1.36"}}},
	}
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var r clitest.Result
	clitest.WaitFor(t, "diag tasks to report the stray pod", 30*time.Second, func() bool {
		r = clitest.Run(t, s, "tasks", "--grace", "0s", "-o", "json")
		return r.Code == 1
	})
	var a debugapi.TaskAudit
	if err := json.Unmarshal([]byte(r.Out), &a); err != nil {
		t.Fatalf("tasks -o json: %v\n%s", err, r.Out)
	}
	if len(a.Orphans) != 1 || a.Orphans[0].Task.RunID != "no-such-run" || a.Orphans[0].Try != 7 ||
		!strings.Contains(a.Orphans[0].Why, "pod/stray") || len(a.Zombies)+len(a.Lost) != 0 {
		t.Errorf("report: %+v", a)
	}
	human := clitest.Run(t, s, "tasks", "--grace", "0s")
	t.Logf("diag tasks:\n%s", human.Out)
	if human.Code != 1 || !strings.Contains(human.Out, "ORPHANS (1)") || !strings.Contains(human.Out, "w/no-such-run/a try 7") {
		t.Errorf("diag tasks (human): exit %d\n%s%s", human.Code, human.Out, human.Err)
	}

	// --watch -o json: one report per line, each with the orphan.
	wctx, wcancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer wcancel()
	w := clitest.RunContext(t, wctx, s, "tasks", "--grace", "0s", "--watch", "--interval", "300ms", "-o", "json")
	lines := strings.Split(strings.TrimSuffix(w.Out, "\n"), "\n")
	if w.Code != 0 || len(lines) < 2 {
		t.Fatalf("tasks --watch -o json: exit %d, %d lines\n%s%s", w.Code, len(lines), w.Out, w.Err)
	}
	for i, line := range lines {
		var a debugapi.TaskAudit
		if err := json.Unmarshal([]byte(line), &a); err != nil || len(a.Orphans) != 1 {
			t.Errorf("tasks --watch -o json, line %d: %v, %d orphans\n%s", i+1, err, len(a.Orphans), line)
		}
	}

	// The drill: the zombie runbook's first command, exactly as written,
	// names the stray pod once it is older than the command's grace.
	args := runbookCommand(t, "zombie-tasks.md")
	clitest.WaitFor(t, "runbooks/zombie-tasks.md's first command to name the orphan", 90*time.Second, func() bool {
		r = clitest.Run(t, s, args...)
		return r.Code == 1 && strings.Contains(r.Out, "w/no-such-run/a try 7") && strings.Contains(r.Out, "pod/stray")
	})
}

// TestPendingAndRefusedTasksNamed stages two incidents on the real
// apiserver, scheduler and quota admission: a task asking for more memory
// than any node has (its pod stays Pending, Unschedulable) and a task the
// namespace's ResourceQuota refuses (every submit fails; it never starts).
// The drills: runbooks/pods-pending.md's and tasks-stuck-queued.md's first
// commands, exactly as written, name each task and the cluster's reason.
func TestPendingAndRefusedTasksNamed(t *testing.T) {
	t.Parallel() // waits for a grace, a threshold, uploads

	kubetest.Config(t, "KUBECONFIG") // skips without the test control plane
	cs := kubetest.Client(t)
	ns := kubetest.Namespace(t, cs)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "drill", Namespace: ns},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourceRequestsCPU: resource.MustParse("1")}}}
	if _, err := cs.CoreV1().ResourceQuotas(ns).Create(ctx, quota, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	s := clitest.Start(t, clitest.Options{
		DAGs: map[string]string{"drill.yaml": `id: drill
tasks:
  - id: big
    command: ["true"]
    resources: {cpu: 100m, memory: 10Ti}
  - id: greedy
    command: ["true"]
    resources: {cpu: "2", memory: 64Mi}
`},
		Extra: []string{"--executor", "kubernetes", "--kubeconfig", os.Getenv("KUBECONFIG"), "-n", ns, "--default-image", "busybox:1.36"},
	})
	clitest.WaitFor(t, "the DAG to load", 30*time.Second, func() bool {
		_, err := s.Vigil("dags", "trigger", "drill")
		return err == nil
	})

	var r clitest.Result
	args := runbookCommand(t, "pods-pending.md")
	clitest.WaitFor(t, "runbooks/pods-pending.md's first command to name the unschedulable pod", 90*time.Second, func() bool {
		r = clitest.Run(t, s, args...)
		return r.Code == 1 && strings.Contains(r.Out, "PENDING (1)") && strings.Contains(r.Out, "/big try 1") &&
			strings.Contains(r.Out, "Unschedulable: 0/1 nodes are available: 1 Insufficient memory")
	})
	t.Logf("diag %s:\n%s", strings.Join(args, " "), r.Out)

	args = runbookCommand(t, "tasks-stuck-queued.md")
	clitest.WaitFor(t, "runbooks/tasks-stuck-queued.md's first command to name the refused task", 120*time.Second, func() bool {
		r = clitest.Run(t, s, args...)
		return r.Code == 1 && strings.Contains(r.Out, "NOT STARTING (1)") && strings.Contains(r.Out, "/greedy try 1") &&
			strings.Contains(r.Out, "is forbidden: exceeded quota: drill")
	})
	t.Logf("diag %s:\n%s", strings.Join(args, " "), r.Out)
}
