package kubepod

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vigilhq/vigil/diag/client"
	"github.com/vigilhq/vigil/executor/kube/kubetest"
)

// TestResolvePodAgainstAPIServer picks pods the way --pod deploy/NAME must,
// against a real apiserver with KWOK running the pods: the newest Running
// and Ready pod of the selector; a Ready one over a newer one that is not;
// a Running one that is not Ready when there is nothing better (a stalled
// scheduler fails its probes); none when nothing runs.
func TestResolvePodAgainstAPIServer(t *testing.T) {
	cs := kubetest.Client(t) // skips without the test control plane
	ns := kubetest.Namespace(t, cs)
	c := &Cluster{Config: kubetest.Config(t, "KUBECONFIG"), Clientset: cs, Namespace: ns}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	// Replicas 0: the test makes the pods itself, so it controls their
	// order and readiness.
	labels := map[string]string{"app": "sched"}
	var zero int32
	_, err := cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "sched"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &zero,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "sched", Image: "vigil"}}},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	resolve := func(target string) (Pod, error) {
		t.Helper()
		rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		return c.Resolve(rctx, target, "")
	}

	if _, err := resolve("deploy/sched"); !errors.Is(err, client.ErrNoScheduler) || !strings.Contains(err.Error(), "no pods") {
		t.Fatalf("deploy with no pods: %v; want ErrNoScheduler saying there are none", err)
	}
	makePod(ctx, t, cs, ns, "pending", labels, "pending")
	if _, err := resolve("deploy/sched"); !errors.Is(err, client.ErrNoScheduler) || !strings.Contains(err.Error(), "pending Pending") {
		t.Fatalf("deploy with a Pending pod: %v; want ErrNoScheduler naming it", err)
	}
	if _, err := resolve("pod/pending"); !errors.Is(err, client.ErrNoScheduler) || !strings.Contains(err.Error(), "not Running") {
		t.Fatalf("pod/pending: %v; want ErrNoScheduler", err)
	}
	if _, err := resolve("deploy/nope"); !errors.Is(err, client.ErrNoScheduler) || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("deploy/nope: %v; want ErrNoScheduler, not found", err)
	}

	makePod(ctx, t, cs, ns, "older", labels, "running")
	// Creation timestamps have a resolution of a second.
	time.Sleep(1100 * time.Millisecond)
	makePod(ctx, t, cs, ns, "newer", labels, "running")
	want := func(target, name string, notReady bool) {
		t.Helper()
		p, err := resolve(target)
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		if p.Name != name || p.NotReady != notReady || p.Container != "sched" || p.UID == "" {
			t.Fatalf("%s resolved to %+v; want pod %s (not ready: %v)", target, p, name, notReady)
		}
		if !strings.HasPrefix(p.String(), "pod "+ns+"/"+name+" (of deploy/sched") {
			t.Errorf("description %q", p.String())
		}
	}
	want("deploy/sched", "newer", false)
	setReady(ctx, t, cs, ns, "newer", false)
	want("deploy/sched", "older", false)
	setReady(ctx, t, cs, ns, "older", false)
	want("deploy/sched", "newer", true)

	p, err := resolve("older")
	if err != nil || p.Name != "older" || p.Owner != "" || p.String() != "pod "+ns+"/older" {
		t.Fatalf("bare pod name: %+v, %v", p, err)
	}
}

// makePod creates a pod that KWOK runs (outcome "running": Running and
// Ready until deleted; "pending": never scheduled to run) and waits for it.
func makePod(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, name string, labels map[string]string, outcome string) {
	t.Helper()
	_, err := cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels,
			Annotations: map[string]string{"sim.kwok.local/outcome": outcome, "sim.kwok.local/start-delay": "100ms"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "sched", Image: "vigil"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if outcome != "running" {
		return
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err == nil && p.Status.Phase == corev1.PodRunning && ready(p) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod %s/%s not Running and Ready after 60s: %v %+v", ns, name, err, p.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// setReady sets a running pod's Ready condition, as a kubelet does when
// its readiness probe fails or passes.
func setReady(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, name string, ok bool) {
	t.Helper()
	p, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	status := corev1.ConditionFalse
	if ok {
		status = corev1.ConditionTrue
	}
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodReady {
			p.Status.Conditions[i].Status = status
		}
	}
	if _, err := cs.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}
