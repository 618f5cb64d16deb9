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
	"github.com/vigilhq/vigil/scheduler/dag"
)

// The scheduler and the Kubernetes executor together on the real test
// control plane: what `vigil tasks history` says for each way a pod ends.

func (f *schedRun) history(runID, task string) []string {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hist, err := f.store.History(ctx, scheduler.TaskKey{DAGID: "d", RunID: runID, TaskID: task})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, tr := range hist {
		out = append(out, string(tr.From)+"→"+string(tr.To)+": "+tr.Reason)
	}
	return out
}

func (f *schedRun) waitEnd() scheduler.Run {
	f.t.Helper()
	select {
	case run := <-f.ended:
		return run
	case <-time.After(2 * time.Minute):
		f.t.Fatal("run did not end within 2 minutes")
		return scheduler.Run{}
	}
}

func (f *schedRun) trigger() string {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	runID, err := f.sched.Trigger(ctx, "d")
	if err != nil {
		f.t.Fatal(err)
	}
	return runID
}

func hasLine(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

func TestRealRetryAfterFailure(t *testing.T) {
	f := newSchedRun(t, "KUBECONFIG",
		map[string]string{"sim.kwok.local/outcome": "failed", "sim.kwok.local/exit-code": "3", "sim.kwok.local/run-duration": "500ms"},
		"id: d\ntasks:\n  - id: x\n    command: [\"true\"]\n    retries: 1\n    retry_delay: 1s\n")
	runID := f.trigger()
	if run := f.waitEnd(); run.State != scheduler.RunFailed {
		t.Fatalf("run ended %s, want failed", run.State)
	}
	hist := f.history(runID, "x")
	for _, want := range []string{
		"running→up_for_retry: exit code 3 (Error); retry 1 of 1 in 1s",
		"up_for_retry→queued: retry delay elapsed; try 2 of 2",
		"running→failed: exit code 3 (Error); no retries left (2 tries)",
	} {
		if !hasLine(hist, want) {
			t.Errorf("history lacks %q:\n%s", want, strings.Join(hist, "\n"))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pods, err := f.direct.CoreV1().Pods(f.ns).List(ctx, metav1.ListOptions{LabelSelector: kube.LabelTask + "=x"})
	if err != nil || len(pods.Items) != 2 {
		t.Fatalf("%d pods (err %v), want one per try: 2", len(pods.Items), err)
	}
}

func TestRealZombiePodDeleted(t *testing.T) {
	f := newSchedRun(t, "KUBECONFIG", map[string]string{"sim.kwok.local/outcome": "running"},
		"id: d\ntasks:\n  - id: x\n    command: [\"true\"]\n    retries: 1\n    retry_delay: 1s\n")
	runID := f.trigger()
	key := scheduler.TryKey{TaskKey: scheduler.TaskKey{DAGID: "d", RunID: runID, TaskID: "x"}, Try: 1}
	f.waitState(key.TaskKey, scheduler.StateRunning, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.direct.CoreV1().Pods(f.ns).Delete(ctx, kube.PodName(key), metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	f.waitState(key.TaskKey, scheduler.StateRunning, 2)
	if hist := f.history(runID, "x"); !hasLine(hist, "running→up_for_retry: lost: pod "+kube.PodName(key)+" was deleted before it finished (deleted by someone else)") {
		t.Fatalf("history does not record the external delete:\n%s", strings.Join(hist, "\n"))
	}
}

// waitState waits until the instance is in state on the given try.
func (f *schedRun) waitState(k scheduler.TaskKey, state scheduler.State, try int) {
	f.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ti, err := f.store.GetTaskInstance(ctx, k)
		cancel()
		if err == nil && ti.State == state && ti.Try == try {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	f.t.Fatalf("%s not %s on try %d within a minute", k, state, try)
}

// TestRealOrphanPodRemoved: a running pod of a try no store knows (left by
// a scheduler whose database was lost, say) is deleted by the orphan
// sweep once it is older than the grace period.
func TestRealOrphanPodRemoved(t *testing.T) {
	f := newSchedRun(t, "KUBECONFIG", map[string]string{"sim.kwok.local/outcome": "running"},
		"id: d\ntasks:\n  - id: x\n    command: [\"true\"]\n",
		func(o *scheduler.Options) { o.ResyncInterval, o.OrphanGrace = time.Second, time.Second })
	// Another executor on the same namespace makes the pod; the
	// scheduler's executor does not track it.
	other, err := kube.New(f.direct, kube.Options{Namespace: f.ns, DefaultImage: "busybox:1.36",
		Template: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{"sim.kwok.local/outcome": "running"}}}})
	if err != nil {
		t.Fatal(err)
	}
	ghost := scheduler.TryKey{TaskKey: scheduler.TaskKey{DAGID: "ghost", RunID: "manual__2026-01-01T00:00:00Z", TaskID: "x"}, Try: 1}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := other.Start(ctx, scheduler.Try{Key: ghost, Spec: dag.TaskSpec{Command: []string{"true"}}}); err != nil {
		t.Fatal(err)
	}
	for {
		pod, err := f.direct.CoreV1().Pods(f.ns).Get(ctx, kube.PodName(ghost), metav1.GetOptions{})
		if err != nil || pod.DeletionTimestamp != nil {
			return // removed
		}
		if ctx.Err() != nil {
			t.Fatal("the orphaned pod was not removed within a minute")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestRealStuckTerminating: a try past its timeout whose pod never finishes
// terminating (a finalizer, a dead node) is not left running forever: the
// resync sees the pod being deleted and ends the try with that reason.
func TestRealStuckTerminating(t *testing.T) {
	f := newSchedRun(t, "KUBECONFIG", map[string]string{"sim.kwok.local/outcome": "running", "sim.kwok.local/undeletable": "true"},
		"id: d\ntasks:\n  - id: x\n    command: [\"true\"]\n    execution_timeout: 2s\n",
		func(o *scheduler.Options) { o.ResyncInterval = time.Second })
	runID := f.trigger()
	if run := f.waitEnd(); run.State != scheduler.RunFailed {
		t.Fatalf("run ended %s, want failed", run.State)
	}
	hist := f.history(runID, "x")
	if !hasLine(hist, "running→failed: zombie: try 1 ended without a recorded exit status and its end was never reported (found at resync): pod "+kube.PodName(scheduler.TryKey{TaskKey: scheduler.TaskKey{DAGID: "d", RunID: runID, TaskID: "x"}, Try: 1})+" is being deleted") {
		t.Fatalf("history does not say the pod is stuck being deleted:\n%s", strings.Join(hist, "\n"))
	}
	// The finalizer-like stage never lets it go: clear it so the namespace
	// can be deleted.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = f.direct.CoreV1().Pods(f.ns).Delete(ctx, kube.PodName(scheduler.TryKey{TaskKey: scheduler.TaskKey{DAGID: "d", RunID: runID, TaskID: "x"}, Try: 1}), metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
}
