package kube_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vigilhq/vigil/executor/kube"
	"github.com/vigilhq/vigil/scheduler"
)

// setPodStatus writes a try's pod status through the status subresource,
// as a kubelet does.
func (f *schedRun) setPodStatus(k scheduler.TryKey, st corev1.PodStatus) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pod, err := f.direct.CoreV1().Pods(f.ns).Get(ctx, kube.PodName(k), metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	pod.Status = st
	if _, err := f.direct.CoreV1().Pods(f.ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		f.t.Fatalf("update status of pod %s: %v", pod.Name, err)
	}
}

func ended(phase corev1.PodPhase, code int32, reason, message string) corev1.PodStatus {
	now := metav1.Now()
	return corev1.PodStatus{Phase: phase, ContainerStatuses: []corev1.ContainerStatus{{
		Name: kube.ContainerName, Image: "busybox:1.36",
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: code, Reason: reason, Message: message, StartedAt: now, FinishedAt: now}},
	}}}
}

// TestRealEvictionKeepsRetries (issue 16): a task with no retries whose
// pod is evicted by the kubelet (phase Failed, reason Evicted, its
// container killed with 137), then whose container the kubelet loses
// (ContainerStatusUnknown, 137), runs a third time and succeeds. Before,
// the first eviction read as the task's failure ("exit code 137 (Error)")
// and, with no retries, failed the run.
func TestRealEvictionKeepsRetries(t *testing.T) {
	f := newSchedRun(t, "KUBECONFIG", map[string]string{"sim.kwok.local/outcome": "running"},
		"id: d\ntasks:\n  - id: x\n    command: [\"true\"]\n",
		func(o *scheduler.Options) { o.EvictionBackoff = 200 * time.Millisecond })
	runID := f.trigger()
	task := scheduler.TaskKey{DAGID: "d", RunID: runID, TaskID: "x"}
	try := func(n int) scheduler.TryKey { return scheduler.TryKey{TaskKey: task, Try: n} }

	f.waitState(task, scheduler.StateRunning, 1)
	evicted := ended(corev1.PodFailed, 137, "Error", "")
	evicted.Reason, evicted.Message = "Evicted", "The node was low on resource: memory. Threshold quantity: 100Mi, available: 12Mi."
	f.setPodStatus(try(1), evicted)

	f.waitState(task, scheduler.StateRunning, 2)
	f.setPodStatus(try(2), ended(corev1.PodFailed, 137, "ContainerStatusUnknown", "The container could not be located when the pod was terminated"))

	f.waitState(task, scheduler.StateRunning, 3)
	f.setPodStatus(try(3), ended(corev1.PodSucceeded, 0, "Completed", ""))
	if run := f.waitEnd(); run.State != scheduler.RunSuccess {
		t.Fatalf("run ended %s, want success:\n%s", run.State, strings.Join(f.history(runID, "x"), "\n"))
	}
	hist := f.history(runID, "x")
	for _, want := range []string{
		"running→up_for_retry: evicted: pod " + kube.PodName(try(1)) + " Evicted: The node was low on resource: memory. Threshold quantity: 100Mi, available: 12Mi.; will run again in 200ms, not counted against its retries (eviction 1 of at most 10)",
		"running→up_for_retry: evicted: pod " + kube.PodName(try(2)) + " container task: exit code 137 (ContainerStatusUnknown): The container could not be located when the pod was terminated; will run again in 400ms, not counted against its retries (eviction 2 of at most 10)",
		"up_for_retry→queued: retry delay elapsed; try 3 (1 of 1 counted, 2 evicted not counted)",
		"running→success: exit code 0",
	} {
		if !hasLine(hist, want) {
			t.Errorf("history lacks %q:\n%s", want, strings.Join(hist, "\n"))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ti, err := f.store.GetTaskInstance(ctx, task)
	if err != nil {
		t.Fatal(err)
	}
	if ti.Try != 3 || ti.Evictions != 2 || ti.Counted() != 1 {
		t.Errorf("task at try %d with %d evictions (%d counted), want try 3, 2 evictions, 1 counted", ti.Try, ti.Evictions, ti.Counted())
	}
	got := f.sched.Stats().Evictions
	if got[scheduler.CauseEvicted] != 1 || got[scheduler.CauseContainerLost] != 1 {
		t.Errorf("evictions by cause %v, want evicted 1 and container_lost 1", got)
	}
}

// TestRealOOMKilledUsesARetry: a container killed for using more memory
// than it was given failed on its own account: with no retries the run
// fails.
func TestRealOOMKilledUsesARetry(t *testing.T) {
	f := newSchedRun(t, "KUBECONFIG", map[string]string{"sim.kwok.local/outcome": "running"},
		"id: d\ntasks:\n  - id: x\n    command: [\"true\"]\n")
	runID := f.trigger()
	task := scheduler.TaskKey{DAGID: "d", RunID: runID, TaskID: "x"}
	f.waitState(task, scheduler.StateRunning, 1)
	f.setPodStatus(scheduler.TryKey{TaskKey: task, Try: 1}, ended(corev1.PodFailed, 137, "OOMKilled", ""))
	if run := f.waitEnd(); run.State != scheduler.RunFailed {
		t.Fatalf("run ended %s, want failed", run.State)
	}
	if hist := f.history(runID, "x"); !hasLine(hist, "running→failed: exit code 137 (OOMKilled)") {
		t.Fatalf("history does not record the OOM kill as the failure:\n%s", strings.Join(hist, "\n"))
	}
}
