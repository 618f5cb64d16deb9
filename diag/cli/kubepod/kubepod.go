// Package kubepod is diag's --pod transport: it reaches the debug API of a
// scheduler that runs in a Kubernetes pod by running `diag bridge` in that
// pod through the exec API (pods/exec), so nothing new listens on the
// pod's network and the only permissions needed are get on pods and
// deployments, list on pods and create on pods/exec.
//
// The root command installs PodDialer as the Factory's PodDialer:
//
//	diag attach --pod vigil-scheduler-7c5d -n vigil
//	diag attach --pod deploy/vigil-scheduler -n vigil --context prod
//	diag attach --pod pod/vigil-scheduler-7c5d -c scheduler --diag-path /usr/local/bin/diag
//
// A target is NAME or pod/NAME (that pod, which must be Running) or
// deploy/NAME (deployment/NAME): the newest Running and Ready pod of the
// Deployment's selector, or, when none is Ready (a stalled scheduler
// fails its probes), the newest Running one, said so in its description.
// The container is -c, else the pod's kubectl.kubernetes.io/default-container
// annotation, else its first container, as kubectl does.
//
// Each dial is one exec session, as each TCP connection would be: the
// HTTP client's connection pool reuses it for many requests. Sessions try
// the WebSocket protocol first and fall back to SPDY for older API servers,
// as kubectl does.
package kubepod

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/client"
)

// DefaultContainerAnnotation names a pod's default container for kubectl
// exec, logs and attach; diag honours it too.
const DefaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

// PodDialer is cmdutil.Factory.PodDialer: it resolves t.Pod with the
// kubectl flags in t.Kube (under ctx, which bounds the API calls) and
// returns a dial function that runs `diag bridge` in the pod, and the
// pod's description.
func PodDialer(ctx context.Context, t *cmdutil.TargetFlags) (func(context.Context) (net.Conn, error), string, error) {
	c, err := Connect(t.Kube, t.Timeout)
	if err != nil {
		return nil, "", err
	}
	p, err := c.Resolve(ctx, t.Pod, t.Container)
	if err != nil {
		return nil, "", err
	}
	return c.Dialer(p, BridgeCommand(t), t.Timeout), p.String(), nil
}

// BridgeCommand is the command line run in the pod: `diag bridge`, with
// the user's --socket and --runtime-dir, which name the socket in there.
func BridgeCommand(t *cmdutil.TargetFlags) []string {
	path := t.DiagPath
	if path == "" {
		path = "diag"
	}
	cmd := []string{path, "bridge"}
	if t.Socket != "" {
		cmd = append(cmd, "--socket", t.Socket)
	}
	if t.Dir != "" {
		cmd = append(cmd, "--runtime-dir", t.Dir)
	}
	return cmd
}

// Cluster is a client of the cluster the kubectl flags name.
type Cluster struct {
	Config    *rest.Config
	Clientset kubernetes.Interface
	// Namespace is -n, else the kubeconfig context's, else "default".
	Namespace string
}

// Connect builds a Cluster from the kubectl flags. timeout bounds every
// API request (the exec streams excepted: their setup is bounded by the
// dialer, their length by the connection).
func Connect(kube *genericclioptions.ConfigFlags, timeout time.Duration) (*Cluster, error) {
	if kube == nil {
		kube = genericclioptions.NewConfigFlags(false)
	}
	cfg, err := kube.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("--pod: kubeconfig: %w (set --kubeconfig, $KUBECONFIG or --context)", err)
	}
	ns, _, err := kube.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, fmt.Errorf("--pod: namespace: %w", err)
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = timeout
	cfg.UserAgent = "diag (" + rest.DefaultKubernetesUserAgent() + ")"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("--pod: %w", err)
	}
	return &Cluster{Config: cfg, Clientset: cs, Namespace: ns}, nil
}

// Pod is a resolved target: the pod and container diag runs in.
type Pod struct {
	Namespace string
	Name      string
	UID       string
	Container string
	// Containers is how many containers the pod has.
	Containers int
	// Owner is the target the user gave when it was not the pod itself
	// ("deploy/vigil-scheduler").
	Owner string
	// NotReady is set when the pod was chosen although not Ready.
	NotReady bool
}

// String describes p for messages: "pod vigil/vigil-scheduler-7c5d (of
// deploy/vigil-scheduler)".
func (p Pod) String() string {
	s := "pod " + p.Namespace + "/" + p.Name
	var notes []string
	if p.Owner != "" {
		notes = append(notes, "of "+p.Owner)
	}
	if p.Containers > 1 {
		notes = append(notes, "container "+p.Container)
	}
	if p.NotReady {
		notes = append(notes, "not Ready")
	}
	if len(notes) > 0 {
		s += " (" + strings.Join(notes, ", ") + ")"
	}
	return s
}

// Ref is a parsed --pod value.
type Ref struct {
	// Kind is "pod" or "deploy".
	Kind string
	Name string
}

func (r Ref) String() string { return r.Kind + "/" + r.Name }

// ParseTarget parses NAME, pod/NAME or deploy/NAME (also po/, pods/,
// deployment/, deployments/).
func ParseTarget(s string) (Ref, error) {
	kind, name, found := strings.Cut(s, "/")
	if !found {
		kind, name = "pod", s
	}
	switch strings.ToLower(kind) {
	case "pod", "pods", "po":
		kind = "pod"
	case "deploy", "deployment", "deployments", "deployment.apps", "deployments.apps":
		kind = "deploy"
	default:
		return Ref{}, cmdutil.Usagef("--pod %q: %s is not a pod or a deployment; want NAME, pod/NAME or deploy/NAME", s, kind)
	}
	if name == "" || strings.Contains(name, "/") {
		return Ref{}, cmdutil.Usagef("--pod %q: want NAME, pod/NAME or deploy/NAME", s)
	}
	return Ref{Kind: kind, Name: name}, nil
}

// Resolve finds the pod target names in c's namespace and the container
// to use (container, if not empty, must exist).
func (c *Cluster) Resolve(ctx context.Context, target, container string) (Pod, error) {
	ref, err := ParseTarget(target)
	if err != nil {
		return Pod{}, err
	}
	var pod *corev1.Pod
	var notReady bool
	switch ref.Kind {
	case "pod":
		pod, err = c.Clientset.CoreV1().Pods(c.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return Pod{}, c.apiError("get pod "+ref.Name, err)
		}
		if pod.Status.Phase != corev1.PodRunning || pod.DeletionTimestamp != nil {
			return Pod{}, fmt.Errorf("%w: pod %s/%s is %s, not Running (kubectl describe pod %s -n %s)",
				client.ErrNoScheduler, c.Namespace, pod.Name, phase(pod), pod.Name, c.Namespace)
		}
	case "deploy":
		pod, notReady, err = c.deploymentPod(ctx, ref.Name)
		if err != nil {
			return Pod{}, err
		}
	}
	ctr, err := pickContainer(pod, container)
	if err != nil {
		return Pod{}, err
	}
	p := Pod{Namespace: pod.Namespace, Name: pod.Name, UID: string(pod.UID), Container: ctr,
		Containers: len(pod.Spec.Containers), NotReady: notReady}
	if ref.Kind != "pod" {
		p.Owner = ref.String()
	}
	return p, nil
}

// deploymentPod picks the newest Running, Ready pod of deployment name;
// with none Ready, the newest Running one (notReady true).
func (c *Cluster) deploymentPod(ctx context.Context, name string) (pod *corev1.Pod, notReady bool, err error) {
	d, err := c.Clientset.AppsV1().Deployments(c.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, false, c.apiError("get deployment "+name, err)
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, false, fmt.Errorf("deploy/%s: selector: %w", name, err)
	}
	list, err := c.Clientset.CoreV1().Pods(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, false, c.apiError("list pods of deploy/"+name, err)
	}
	pods := list.Items
	sort.SliceStable(pods, func(i, j int) bool {
		ti, tj := pods[i].CreationTimestamp.Time, pods[j].CreationTimestamp.Time
		if !ti.Equal(tj) {
			return ti.After(tj)
		}
		return pods[i].Name < pods[j].Name
	})
	var running *corev1.Pod
	for i := range pods {
		p := &pods[i]
		if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
			continue
		}
		if ready(p) {
			return p, false, nil
		}
		if running == nil {
			running = p
		}
	}
	if running != nil {
		return running, true, nil
	}
	var seen []string
	for i := range pods {
		seen = append(seen, pods[i].Name+" "+phase(&pods[i]))
	}
	what := "no pods"
	if len(seen) > 0 {
		what = strings.Join(seen, ", ")
	}
	return nil, false, fmt.Errorf("%w: deploy/%s in namespace %s has no Running pod (%s; selector %s)",
		client.ErrNoScheduler, name, c.Namespace, what, sel)
}

// apiError words an API error for --pod: a missing object is "no
// scheduler found" (exit status 3), a refusal says which permission.
func (c *Cluster) apiError(what string, err error) error {
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%w: %s in namespace %s: not found (wrong -n or --context?)", client.ErrNoScheduler, what, c.Namespace)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s in namespace %s: %w (--pod needs get on pods and deployments, list on pods and create on pods/exec)", what, c.Namespace, err)
	}
	return fmt.Errorf("%s in namespace %s: %w", what, c.Namespace, err)
}

func pickContainer(pod *corev1.Pod, want string) (string, error) {
	var names []string
	for _, ctr := range pod.Spec.Containers {
		names = append(names, ctr.Name)
	}
	if len(names) == 0 {
		return "", fmt.Errorf("pod %s/%s has no containers", pod.Namespace, pod.Name)
	}
	if want == "" {
		want = pod.Annotations[DefaultContainerAnnotation]
		if want == "" {
			return names[0], nil
		}
	}
	for _, n := range names {
		if n == want {
			return n, nil
		}
	}
	return "", cmdutil.Usagef("pod %s/%s has no container %q (it has %s)", pod.Namespace, pod.Name, want, strings.Join(names, ", "))
}

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func phase(p *corev1.Pod) string {
	if p.DeletionTimestamp != nil {
		return "Terminating"
	}
	if p.Status.Phase == "" {
		return "Pending"
	}
	return string(p.Status.Phase)
}

// errSetup marks an exec session that did not start.
var errSetup = errors.New("exec session did not start")
