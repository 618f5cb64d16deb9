package deploy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/vigilhq/vigil/executor/kube/kubetest"
)

var overlays = []string{"dev", "prod", "profiling"}

// identity are the kinds the tests create for real rather than dry-run.
var identity = map[string]bool{"ServiceAccount": true, "Role": true, "RoleBinding": true}

// createNamespace creates the rendered Namespace for real, deletes it when
// t ends, and waits until pods can be created in it.
func createNamespace(ctx context.Context, t *testing.T, cs kubernetes.Interface, r dynamic.NamespaceableResourceInterface, u *unstructured.Unstructured) {
	t.Helper()
	if _, err := r.Create(ctx, u, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", u.GetName(), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = cs.CoreV1().Namespaces().Delete(ctx, u.GetName(), metav1.DeleteOptions{})
	})
	waitDefaultSA(ctx, t, cs, u.GetName())
}

// waitDefaultSA waits for the controller-manager to make the namespace's
// default ServiceAccount (pods that name none use it).
func waitDefaultSA(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	for {
		if _, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{}); err == nil {
			return
		} else if ctx.Err() != nil {
			t.Fatalf("namespace %s has no default ServiceAccount: %v", ns, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// render runs `kubectl kustomize` on an overlay and returns its objects
// moved into namespace ns (the Namespace object renamed to it).
func render(t *testing.T, overlay, ns string) []*unstructured.Unstructured {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "kubectl", "kustomize", "overlays/"+overlay).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("kubectl kustomize overlays/%s: %v\n%s", overlay, err, ee.Stderr)
		}
		t.Fatalf("kubectl kustomize overlays/%s: %v", overlay, err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
	var objs []*unstructured.Unstructured
	for {
		var u unstructured.Unstructured
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("overlays/%s: %v", overlay, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		if u.GetKind() == "Namespace" {
			u.SetName(ns)
		} else {
			u.SetNamespace(ns)
		}
		if u.GetKind() == "RoleBinding" {
			subjects, _, _ := unstructured.NestedSlice(u.Object, "subjects")
			for _, s := range subjects {
				s.(map[string]any)["namespace"] = ns
			}
			_ = unstructured.SetNestedSlice(u.Object, subjects, "subjects")
		}
		objs = append(objs, &u)
	}
	return objs
}

// warnings collects the apiserver's warnings (Pod Security's "would
// violate" among them).
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := w.msgs
	w.msgs = nil
	return m
}

// TestOverlaysAdmittedUnderRestricted renders every overlay and creates it
// on the real apiserver: the Namespace for real (it carries the Pod
// Security labels), everything else with server-side dry-run through the
// whole admission chain. Each Deployment's pod template is also dry-run
// as a Pod, since Pod Security enforces on pods, and so is a task pod
// built from the task pod template. Any error or warning fails.
func TestOverlaysAdmittedUnderRestricted(t *testing.T) {
	cfg := kubetest.Config(t, "KUBECONFIG")
	w := &warnings{}
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = w
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	cs := kubetest.Client(t)
	for _, overlay := range overlays {
		t.Run(overlay, func(t *testing.T) {
			ns := "vigil-deploy-" + overlay + "-" + strings.ToLower(time.Now().Format("150405"))
			objs := render(t, overlay, ns)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			kinds := map[string]int{}
			for _, u := range objs {
				kinds[u.GetKind()]++
				gvk := u.GroupVersionKind()
				m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
				if err != nil {
					t.Fatalf("%s %s: %v", gvk, u.GetName(), err)
				}
				if u.GetKind() == "Namespace" {
					if labels := u.GetLabels(); labels["pod-security.kubernetes.io/enforce"] != "restricted" {
						t.Errorf("namespace labels %v; want Pod Security restricted enforced", labels)
					}
					createNamespace(ctx, t, cs, dyn.Resource(m.Resource), u)
					continue
				}
				// The identity objects are created for real: a pod is
				// admitted only if its ServiceAccount exists.
				var opts metav1.CreateOptions
				if !identity[u.GetKind()] {
					opts.DryRun = []string{metav1.DryRunAll}
				}
				if _, err := dyn.Resource(m.Resource).Namespace(ns).Create(ctx, u, opts); err != nil {
					t.Errorf("create %s %s (dry run %v): %v", u.GetKind(), u.GetName(), opts.DryRun != nil, err)
				}
				if u.GetKind() == "Deployment" {
					dryRunTemplate(ctx, t, cs, ns, u)
				}
			}
			for _, want := range []string{"Namespace", "ServiceAccount", "Role", "RoleBinding", "Deployment", "PodDisruptionBudget", "Service", "ConfigMap"} {
				if kinds[want] == 0 {
					t.Errorf("overlay %s has no %s", overlay, want)
				}
			}
			dryRunTaskPod(ctx, t, cs, ns)
			for _, msg := range w.take() {
				t.Errorf("apiserver warning: %s", msg)
			}
		})
	}
}

// dryRunTemplate creates a Deployment's pod template as a Pod, dry-run.
func dryRunTemplate(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns string, u *unstructured.Unstructured) {
	t.Helper()
	tmpl, _, err := unstructured.NestedMap(u.Object, "spec", "template")
	if err != nil {
		t.Fatal(err)
	}
	var pt corev1.PodTemplateSpec
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(tmpl, &pt); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: pt.ObjectMeta, Spec: pt.Spec}
	pod.Name, pod.Namespace = u.GetName()+"-template", ns
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Errorf("pod template of %s under Pod Security restricted: %v", u.GetName(), err)
	}
}

// dryRunTaskPod creates a task pod from base/task-pod.yaml as the
// Kubernetes executor would (the template, its task container with an
// image and command), dry-run.
func dryRunTaskPod(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	pod := taskPodTemplate(t)
	pod.Name, pod.Namespace = "task-dry-run", ns
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	pod.Spec.Containers[0].Image = "busybox:1.36"
	pod.Spec.Containers[0].Command = []string{"true"}
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Errorf("a task pod from base/task-pod.yaml under Pod Security restricted: %v", err)
	}
}

func taskPodTemplate(t *testing.T) *corev1.Pod {
	t.Helper()
	data, err := os.ReadFile("base/task-pod.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var pod corev1.Pod
	if err := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096).Decode(&pod); err != nil {
		t.Fatal(err)
	}
	if len(pod.Spec.Containers) != 1 || pod.Spec.Containers[0].Name != "task" {
		t.Fatalf("base/task-pod.yaml: want one container named task (the executor fills it in), got %+v", pod.Spec.Containers)
	}
	return &pod
}
