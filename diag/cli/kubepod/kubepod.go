// Package kubepod is diag's --pod transport: it reaches the debug API of a
// scheduler that runs in a Kubernetes pod by running `diag bridge` in that
// pod through the exec API (pods/exec), so nothing new listens on the
// pod's network and the only permissions needed are get on pods,
// deployments and statefulsets, list on pods and create on pods/exec.
//
// The root command installs PodDialer as the Factory's PodDialer:
//
//	diag attach --pod vigil-scheduler-7c5d -n vigil
//	diag attach --pod deploy/vigil-scheduler -n vigil --context prod
//	diag attach --pod statefulset/vigil-scheduler -n vigil --request-timeout 5s
//	diag attach --pod pod/vigil-scheduler-7c5d -c scheduler --diag-path /usr/local/bin/diag
//
// A target is NAME or pod/NAME (that pod, which must be Running) or
// deploy/NAME (deployment/NAME) or statefulset/NAME (sts/NAME): the
// newest Running and Ready pod of the workload's selector, or, when none
// is Ready (a stalled scheduler fails its probes), the newest Running
// one, said so in its description.
//
// The cluster and credentials come from the kubectl flags
// (genericclioptions.ConfigFlags: --kubeconfig, --context, -n, --server,
// --token, --as, --request-timeout ...). Every API call has a deadline:
// --request-timeout if given, else diag's --timeout.
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
	"io/fs"
	"net"
	"os"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/client"
	"github.com/vigilhq/vigil/internal/exitcode"
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
	// RequestTimeout bounds each API call (10s when 0).
	RequestTimeout time.Duration
}

// call bounds one API call.
func (c *Cluster) call(ctx context.Context) (context.Context, context.CancelFunc) {
	d := c.RequestTimeout
	if d <= 0 {
		d = 10 * time.Second
	}
	return context.WithTimeout(ctx, d)
}

// Connect builds a Cluster from the kubectl flags. Every API request is
// bounded by --request-timeout when given, else by timeout (the exec
// streams excepted: their setup is bounded by the dialer, their length
// by the connection).
func Connect(kube *genericclioptions.ConfigFlags, timeout time.Duration) (*Cluster, error) {
	if kube == nil {
		kube = genericclioptions.NewConfigFlags(false)
	}
	// With no kubeconfig, client-go would try http://localhost:8080 and
	// report a refused connection, which says nothing of the cause.
	if noConfig(kube) {
		return nil, noConfigError(kube)
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
	// ToRESTConfig set cfg.Timeout from --request-timeout; 0 (the
	// default, and kubectl's "no timeout") keeps diag's deadline: no call
	// waits forever.
	if cfg.Timeout > 0 {
		timeout = cfg.Timeout
	}
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = timeout
	cfg.UserAgent = "diag (" + rest.DefaultKubernetesUserAgent() + ")"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("--pod: %w", err)
	}
	return &Cluster{Config: cfg, Clientset: cs, Namespace: ns, RequestTimeout: timeout}, nil
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

// ParseTarget parses NAME, pod/NAME, deploy/NAME or statefulset/NAME
// (also po/, pods/, deployment/, deployments/, sts/, statefulsets/).
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
	case "sts", "statefulset", "statefulsets", "statefulset.apps", "statefulsets.apps":
		kind = "statefulset"
	default:
		return Ref{}, cmdutil.Usagef("--pod %q: %s is not a pod, a deployment or a statefulset; want NAME, pod/NAME, deploy/NAME or statefulset/NAME", s, kind)
	}
	if name == "" || strings.Contains(name, "/") {
		return Ref{}, cmdutil.Usagef("--pod %q: want NAME, pod/NAME, deploy/NAME or statefulset/NAME", s)
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
		cctx, cancel := c.call(ctx)
		pod, err = c.Clientset.CoreV1().Pods(c.Namespace).Get(cctx, ref.Name, metav1.GetOptions{})
		cancel()
		if err != nil {
			return Pod{}, c.apiError("get pod "+ref.Name, err)
		}
		if pod.Status.Phase != corev1.PodRunning || pod.DeletionTimestamp != nil {
			return Pod{}, fmt.Errorf("%w: pod %s/%s is %s, not Running (kubectl describe pod %s -n %s)",
				client.ErrNoScheduler, c.Namespace, pod.Name, phase(pod), pod.Name, c.Namespace)
		}
	case "deploy", "statefulset":
		pod, notReady, err = c.workloadPod(ctx, ref)
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

// workloadPod picks the newest Running, Ready pod of the Deployment or
// StatefulSet ref names; with none Ready, the newest Running one
// (notReady true).
func (c *Cluster) workloadPod(ctx context.Context, ref Ref) (pod *corev1.Pod, notReady bool, err error) {
	name := ref.Name
	var selector *metav1.LabelSelector
	cctx, cancel := c.call(ctx)
	switch ref.Kind {
	case "statefulset":
		var sts *appsv1.StatefulSet
		sts, err = c.Clientset.AppsV1().StatefulSets(c.Namespace).Get(cctx, name, metav1.GetOptions{})
		if err == nil {
			selector = sts.Spec.Selector
		}
	default:
		var d *appsv1.Deployment
		d, err = c.Clientset.AppsV1().Deployments(c.Namespace).Get(cctx, name, metav1.GetOptions{})
		if err == nil {
			selector = d.Spec.Selector
		}
	}
	cancel()
	if err != nil {
		kind := "deployment"
		if ref.Kind == "statefulset" {
			kind = "statefulset"
		}
		return nil, false, c.apiError("get "+kind+" "+name, err)
	}
	sel, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		return nil, false, fmt.Errorf("%s: selector: %w", ref, err)
	}
	cctx, cancel = c.call(ctx)
	list, err := c.Clientset.CoreV1().Pods(c.Namespace).List(cctx, metav1.ListOptions{LabelSelector: sel.String()})
	cancel()
	if err != nil {
		return nil, false, c.apiError("list pods of "+ref.String(), err)
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
	return nil, false, fmt.Errorf("%w: %s in namespace %s has no Running pod (%s; selector %s)",
		client.ErrNoScheduler, ref, c.Namespace, what, sel)
}

// apiError words an API error for --pod: a missing object is "no
// scheduler found" (exit status 3), a refusal says which permission.
func (c *Cluster) apiError(what string, err error) error {
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%w: %s in namespace %s: not found (wrong -n or --context?)", client.ErrNoScheduler, what, c.Namespace)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s in namespace %s: %w (--pod needs get on pods, deployments and statefulsets, list on pods and create on pods/exec)", what, c.Namespace, err)
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

// noConfig reports whether there is nothing to say where the cluster is:
// no --server, no cluster in any kubeconfig, not in a pod.
func noConfig(kube *genericclioptions.ConfigFlags) bool {
	if kube.APIServer != nil && *kube.APIServer != "" {
		return false
	}
	raw, err := kube.ToRawKubeConfigLoader().RawConfig()
	if err != nil || len(raw.Clusters) > 0 {
		return false // a broken kubeconfig: ToRESTConfig says how
	}
	_, err = rest.InClusterConfig()
	return err != nil
}

// noConfigError says what was looked at and what to do, with exit
// status 3 (no scheduler or API found).
func noConfigError(kube *genericclioptions.ConfigFlags) error {
	var looked []string
	if kube.KubeConfig != nil && *kube.KubeConfig != "" {
		looked = append(looked, "--kubeconfig "+*kube.KubeConfig)
	}
	if env := os.Getenv(clientcmd.RecommendedConfigPathEnvVar); env != "" {
		looked = append(looked, "$KUBECONFIG ("+env+")")
	} else {
		looked = append(looked, "$KUBECONFIG (unset)")
	}
	looked = append(looked, clientcmd.RecommendedHomeFile+" ("+statWord(clientcmd.RecommendedHomeFile)+")")
	if os.Getenv("KUBERNETES_SERVICE_HOST") == "" {
		looked = append(looked, "the in-cluster config (not in a pod: $KUBERNETES_SERVICE_HOST is unset)")
	} else {
		looked = append(looked, "the in-cluster config (unusable)")
	}
	return exitcode.With(exitcode.Unreachable, fmt.Errorf(
		"--pod: no kubeconfig found: looked at %s. Give --kubeconfig FILE or set $KUBECONFIG, "+
			"or --server URL with --token; or run diag inside the scheduler's pod: kubectl exec deploy/vigil-scheduler -- diag attach",
		strings.Join(looked, ", ")))
}

func statWord(path string) string {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return "does not exist"
	} else if err != nil {
		return err.Error()
	}
	return "empty or without a cluster"
}
