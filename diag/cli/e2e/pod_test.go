package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/vigilhq/vigil/diag/cli/clitest"
	"github.com/vigilhq/vigil/diag/cli/restart"
	"github.com/vigilhq/vigil/executor/kube/kubetest"
)

// kwokExecs is KWOK's Exec resource (testenv/kube/kwok-crds.yaml): an
// Exec named like a fake pod makes `kubectl exec` in that pod run the
// command as a local process.
var kwokExecs = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "execs"}

// TestPodTransport is `diag --pod` end to end against the real apiserver,
// with KWOK as the kubelet: the pod's exec API runs a real diag binary's
// `diag bridge`, which reaches a real `vigil run` on this machine, as it
// would reach the scheduler inside the pod. Then `diag restart --pod`
// deletes a Deployment's pod and records the Event, and the Deployment
// starts a new pod.
func TestPodTransport(t *testing.T) {
	cs := kubetest.Client(t) // skips without the test control plane
	kubeconfig := os.Getenv("KUBECONFIG")
	dyn, err := dynamic.NewForConfig(kubetest.Config(t, "KUBECONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	ns := kubetest.Namespace(t, cs)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	if _, err := dyn.Resource(kwokExecs).Namespace(ns).List(ctx, metav1.ListOptions{}); apierrors.IsNotFound(err) {
		t.Skipf("the test cluster has no KWOK Exec resource, so KWOK cannot serve exec: start it with this tree's testenv/kube/with-cluster.sh (%v)", err)
	}
	diagBin := buildDiag(ctx, t)
	s := clitest.Start(t, clitest.Options{})
	// --diag-path and --socket: what `diag bridge` is and where it looks,
	// as seen from "inside the pod", which here is this machine.
	pod := func(target string, args ...string) []string {
		return append(args, "--pod", target, "-n", ns, "--kubeconfig", kubeconfig, "--diag-path", diagBin, "--socket", s.Socket)
	}
	waitReachable := func(target string) {
		t.Helper()
		var r clitest.Result
		clitest.WaitFor(t, "diag health --pod "+target+" to reach the scheduler (KWOK sees the Exec object)", 30*time.Second, func() bool {
			r = clitest.Run(t, s, pod(target, "health")...)
			return r.Code == 0
		})
	}

	t.Run("pod", func(t *testing.T) {
		runningPod(ctx, t, cs, ns, "vigil-scheduler-0", nil)
		mapExec(ctx, t, dyn, ns, "vigil-scheduler-0")
		waitReachable("vigil-scheduler-0")
		r := clitest.Run(t, s, pod("vigil-scheduler-0", "attach")...)
		if r.Code != 0 {
			t.Fatalf("diag attach --pod: exit %d\n%s%s", r.Code, r.Out, r.Err)
		}
		for _, w := range []string{"via pod " + ns + "/vigil-scheduler-0", "HEARTBEATS", "scheduler.loop", "loop=scheduler"} {
			if !strings.Contains(r.Out, w) {
				t.Errorf("diag attach --pod: output lacks %q:\n%s", w, r.Out)
			}
		}
		if r.Err != "" {
			t.Errorf("diag attach --pod wrote to stderr: %s", r.Err)
		}
	})

	t.Run("pod without exec", func(t *testing.T) {
		runningPod(ctx, t, cs, ns, "no-exec", nil)
		r := clitest.Run(t, s, pod("no-exec", "health")...)
		if r.Code != 3 || !strings.Contains(r.Err, "exec") {
			t.Errorf("diag health --pod on a pod that cannot exec: exit %d, stderr %q; want 3 (unreachable)", r.Code, r.Err)
		}
	})

	var deployPod string
	t.Run("deploy", func(t *testing.T) {
		deployPod = runningDeployment(ctx, t, cs, ns, "vigil-scheduler", "")
		mapExec(ctx, t, dyn, ns, deployPod)
		waitReachable("deploy/vigil-scheduler")
		r := clitest.Run(t, s, pod("deploy/vigil-scheduler", "attach")...)
		if r.Code != 0 {
			t.Fatalf("diag attach --pod deploy/: exit %d\n%s%s", r.Code, r.Out, r.Err)
		}
		if w := "via pod " + ns + "/" + deployPod + " (of deploy/vigil-scheduler)"; !strings.Contains(r.Out, w) {
			t.Errorf("diag attach --pod deploy/: output lacks %q:\n%s", w, r.Out)
		}
	})

	t.Run("restart", func(t *testing.T) {
		if deployPod == "" {
			t.Skip("needs the deploy subtest's pod")
		}
		dir := t.TempDir()
		r := clitest.Run(t, s, pod("deploy/vigil-scheduler", "restart", "--force", "--reason", "test", "--grace", "1s", "-f", dir)...)
		t.Logf("diag restart --pod:\n%s%s", r.Out, r.Err)
		if r.Code != 0 {
			t.Fatalf("diag restart --pod: exit %d", r.Code)
		}
		for _, w := range []string{"Scheduler: pod " + ns + "/" + deployPod + " (of deploy/vigil-scheduler)",
			"Bundle: copied here as " + dir, "Deleted pod " + ns + "/" + deployPod, "Recorded event DiagRestart"} {
			if !strings.Contains(r.Out, w) {
				t.Errorf("output lacks %q", w)
			}
		}
		// The bundle was copied out of the "pod".
		files, _ := filepath.Glob(filepath.Join(dir, "vigil-bundle-*-restart-test.tar.gz"))
		if len(files) != 1 {
			t.Fatalf("bundle copies in %s: %v; want one", dir, files)
		}
		if b, err := os.ReadFile(files[0]); err != nil || !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
			t.Errorf("the bundle copy is not a gzip file: %v", err)
		}
		bundleName := filepath.Base(files[0])

		// The Event, read back as kubectl describe pod would show it.
		evs, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{
			FieldSelector: "involvedObject.name=" + deployPod + ",reason=" + restart.EventReason})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs.Items) != 1 {
			t.Fatalf("events %s on pod %s: %d, want 1", restart.EventReason, deployPod, len(evs.Items))
		}
		ev := evs.Items[0]
		if ev.Type != corev1.EventTypeWarning || ev.InvolvedObject.Kind != "Pod" || ev.InvolvedObject.UID == "" ||
			!strings.Contains(ev.Message, ": test;") || !strings.Contains(ev.Message, "bundle "+bundleName) || !strings.Contains(ev.Message, "run by ") {
			t.Errorf("event: type %s, object %+v, message %q", ev.Type, ev.InvolvedObject, ev.Message)
		}

		// The pod is gone and the Deployment starts another.
		clitest.WaitFor(t, "pod "+deployPod+" to be deleted", 30*time.Second, func() bool {
			_, err := cs.CoreV1().Pods(ns).Get(ctx, deployPod, metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		})
		next := runningDeployment(ctx, t, cs, ns, "vigil-scheduler", deployPod)
		t.Logf("deploy/vigil-scheduler started %s after the restart", next)
	})
}

// buildDiag builds the diag binary that runs "in the pod".
func buildDiag(ctx context.Context, t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "diag")
	bctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(bctx, "go", "build", "-o", bin, "github.com/vigilhq/vigil/cmd/diag").CombinedOutput()
	if err != nil {
		t.Fatalf("build diag: %v\n%s", err, out)
	}
	return bin
}

// mapExec makes exec in pod run locally (KWOK's Exec resource).
func mapExec(ctx context.Context, t *testing.T, dyn dynamic.Interface, ns, pod string) {
	t.Helper()
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kwok.x-k8s.io/v1alpha1",
		"kind":       "Exec",
		"metadata":   map[string]any{"name": pod, "namespace": ns},
		"spec": map[string]any{"execs": []any{
			map[string]any{"local": map[string]any{}}, // run as kwok does, in its folder
		}},
	}}
	if _, err := dyn.Resource(kwokExecs).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create KWOK Exec for pod %s/%s: %v", ns, pod, err)
	}
}

// runningPod creates a pod that KWOK runs until it is deleted and waits
// until it is Running and Ready.
func runningPod(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, name string, labels map[string]string) {
	t.Helper()
	_, err := cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: runForever},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "scheduler", Image: "vigil"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	clitest.WaitFor(t, "pod "+name+" to run", 60*time.Second, func() bool {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		return err == nil && runningReady(p)
	})
}

// runForever are the KWOK stage annotations of a pod that runs until
// deleted (testenv/kube/kwok-stages.yaml).
var runForever = map[string]string{"sim.kwok.local/outcome": "running", "sim.kwok.local/start-delay": "100ms"}

// runningDeployment creates deployment name (one replica) unless it
// exists, and returns the name of a Running, Ready pod of it other than
// not.
func runningDeployment(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, name, not string) string {
	t.Helper()
	labels := map[string]string{"app": name}
	one := int32(1)
	_, err := cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: runForever},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "scheduler", Image: "vigil"}}},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	var found string
	clitest.WaitFor(t, "a running pod of deploy/"+name, 60*time.Second, func() bool {
		list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
		if err != nil {
			return false
		}
		for i := range list.Items {
			if p := &list.Items[i]; p.Name != not && p.DeletionTimestamp == nil && runningReady(p) {
				found = p.Name
				return true
			}
		}
		return false
	})
	return found
}

func runningReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
