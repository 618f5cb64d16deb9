package kube_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vigilhq/vigil/executor/kube"
	"github.com/vigilhq/vigil/executor/kube/kubetest"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

// These tests run pods on the real test control plane; KWOK plays the
// kubelet and steers each pod by the sim.kwok.local annotations of the
// executor's pod template.

type real struct {
	t      *testing.T
	cs     kubernetes.Interface
	ns     string
	ex     *kube.Executor
	events chan scheduler.Event
}

func newReal(t *testing.T, annotations map[string]string, adjust func(*kube.Options)) *real {
	t.Helper()
	cs := kubetest.Client(t)
	ns := kubetest.Namespace(t, cs)
	opts := kube.Options{
		Namespace:    ns,
		DefaultImage: "busybox:1.36",
		Instance:     "test",
		Template:     &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Annotations: annotations}},
		Logger:       zaptest.NewLogger(t),
	}
	if adjust != nil {
		adjust(&opts)
	}
	ex, err := kube.New(cs, opts)
	if err != nil {
		t.Fatal(err)
	}
	r := &real{t: t, cs: cs, ns: ns, ex: ex, events: make(chan scheduler.Event, 64)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ex.Run(ctx, r.events) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return r
}

func (r *real) start(task string) scheduler.TryKey {
	r.t.Helper()
	k := scheduler.TryKey{TaskKey: scheduler.TaskKey{DAGID: "itest", RunID: "manual__2026-11-23T10:00:00Z", TaskID: task}, Try: 1}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.ex.Start(ctx, scheduler.Try{Key: k, Spec: dag.TaskSpec{Command: []string{"true"}}}); err != nil {
		r.t.Fatalf("Start: %v", err)
	}
	return k
}

// until returns the first event of kind for k, failing after within.
func (r *real) until(k scheduler.TryKey, kind scheduler.EventKind, within time.Duration) scheduler.Event {
	r.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev := <-r.events:
			if ev.Key == k && ev.Kind == kind {
				return ev
			}
			if ev.Key == k && ev.Kind != scheduler.EventStarted {
				r.t.Fatalf("got %s (%s), want %s", ev.Kind, ev.Reason, kind)
			}
		case <-deadline:
			r.t.Fatalf("no %s event for %s within %s", kind, k, within)
		}
	}
}

func TestRealPodOutcomes(t *testing.T) {
	tests := []struct {
		name        string
		annotations map[string]string
		want        scheduler.EventKind
		code        int
		reason      string
	}{
		{"success", map[string]string{"sim.kwok.local/run-duration": "1s"}, scheduler.EventExited, 0, "exit code 0"},
		{"failure with exit code", map[string]string{"sim.kwok.local/outcome": "failed", "sim.kwok.local/exit-code": "3", "sim.kwok.local/run-duration": "1s"},
			scheduler.EventExited, 3, "exit code 3 (Error)"},
		{"out of memory", map[string]string{"sim.kwok.local/outcome": "failed", "sim.kwok.local/exit-code": "137", "sim.kwok.local/reason": "OOMKilled", "sim.kwok.local/run-duration": "1s"},
			scheduler.EventExited, 137, "exit code 137 (OOMKilled)"},
		{"image pull backoff", map[string]string{"sim.kwok.local/outcome": "image-pull-backoff"}, scheduler.EventFailed, 0, "ImagePullBackOff"},
		{"pending forever", map[string]string{"sim.kwok.local/outcome": "pending"}, scheduler.EventFailed, 0, "longer than the 3s limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newReal(t, tt.annotations, func(o *kube.Options) { o.PendingTimeout = 3 * time.Second })
			k := r.start("task")
			ev := r.until(k, tt.want, 60*time.Second)
			if ev.ExitCode != tt.code || !strings.Contains(ev.Reason, tt.reason) {
				t.Fatalf("event %+v, want code %d and a reason containing %q", ev, tt.code, tt.reason)
			}
			if tt.want == scheduler.EventFailed {
				// The pod that could not start is deleted, so it stops
				// pulling or waiting.
				waitGone(t, r, kube.PodName(k))
			}
			// vigil_pod_pending_timeouts_total counts the pending timeout
			// by DAG, and nothing else.
			wantPending := map[string]int64{}
			if strings.Contains(tt.reason, "limit") {
				wantPending[k.DAGID] = 1
			}
			if got := r.ex.PendingTimeouts(); len(got) != len(wantPending) || got[k.DAGID] != wantPending[k.DAGID] {
				t.Errorf("PendingTimeouts = %v, want %v", got, wantPending)
			}
		})
	}
}

func waitGone(t *testing.T, r *real, name string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		pod, err := r.cs.CoreV1().Pods(r.ns).Get(ctx, name, metav1.GetOptions{})
		cancel()
		if err != nil || pod.DeletionTimestamp != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod %s still there 30s after its try failed", name)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestRealPodDeletedMidRun(t *testing.T) {
	r := newReal(t, map[string]string{"sim.kwok.local/outcome": "running"}, nil)
	k := r.start("zombie")
	r.until(k, scheduler.EventStarted, 60*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.cs.CoreV1().Pods(r.ns).Delete(ctx, kube.PodName(k), metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	ev := r.until(k, scheduler.EventLost, 60*time.Second)
	if !strings.Contains(ev.Reason, "deleted by someone else") {
		t.Fatalf("reason %q does not say the pod was deleted externally", ev.Reason)
	}
}

func TestRealStartIsIdempotent(t *testing.T) {
	r := newReal(t, map[string]string{"sim.kwok.local/outcome": "running"}, nil)
	k := r.start("once")
	r.start("once")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pods, err := r.cs.CoreV1().Pods(r.ns).List(ctx, metav1.ListOptions{LabelSelector: kube.LabelManagedBy + "=" + kube.ManagedBy})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 1 || pods.Items[0].Name != kube.PodName(k) {
		t.Fatalf("%d pods after two starts of one try, want exactly %s", len(pods.Items), kube.PodName(k))
	}
	obs, err := r.ex.Adopt(ctx, k, "")
	if err != nil || obs.Phase != scheduler.PhaseRunning {
		t.Fatalf("Adopt = %+v, %v; want running", obs, err)
	}
}

func TestRealStopEndsTheTry(t *testing.T) {
	r := newReal(t, map[string]string{"sim.kwok.local/outcome": "running"}, nil)
	k := r.start("stopme")
	r.until(k, scheduler.EventStarted, 60*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.ex.Stop(ctx, k, "execution timeout 1s exceeded"); err != nil {
		t.Fatal(err)
	}
	ev := r.until(k, scheduler.EventExited, 60*time.Second)
	if ev.ExitCode != 143 || !strings.Contains(ev.Reason, "stopped: execution timeout 1s exceeded") {
		t.Fatalf("stopped try reported as %+v, want exit 143 and a reason that says it was stopped and why", ev)
	}
}
