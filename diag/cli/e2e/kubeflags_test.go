package e2e

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/vigilhq/vigil/diag/cli/clitest"
	"github.com/vigilhq/vigil/executor/kube/kubetest"
	"github.com/vigilhq/vigil/internal/toxiproxy"
)

// TestPodTransportKubeFlags is --pod with kubectl's flags against the
// real apiserver, KWOK as the kubelet and a real `vigil run` behind the
// exec: statefulset/NAME (and sts/NAME), --server with --token and no
// kubeconfig, --as (the apiserver refuses the impersonated user, and
// diag says which permission), --request-timeout through a black-holed
// apiserver (toxiproxy), and the completion of --pod and -n.
func TestPodTransportKubeFlags(t *testing.T) {
	cs := kubetest.Client(t) // skips without the test control plane
	kubeconfig := os.Getenv("KUBECONFIG")
	cfg := kubetest.Config(t, "KUBECONFIG")
	dyn, err := dynamic.NewForConfig(cfg)
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
	// What `diag bridge` is and where it looks, "inside the pod".
	inPod := func(args ...string) []string {
		return append(args, "-n", ns, "--diag-path", diagBin, "--socket", s.Socket)
	}
	pod := runningStatefulSet(ctx, t, cs, ns, "vigil-sts")
	mapExec(ctx, t, dyn, ns, pod)

	t.Run("statefulset", func(t *testing.T) {
		var r clitest.Result
		clitest.WaitFor(t, "diag health --pod statefulset/vigil-sts to reach the scheduler", 30*time.Second, func() bool {
			r = clitest.Run(t, s, inPod("health", "--pod", "statefulset/vigil-sts", "--kubeconfig", kubeconfig)...)
			return r.Code == 0
		})
		r = clitest.Run(t, s, inPod("attach", "--pod", "sts/vigil-sts", "--kubeconfig", kubeconfig, "--request-timeout", "5s")...)
		if r.Code != 0 {
			t.Fatalf("diag attach --pod sts/: exit %d\n%s%s", r.Code, r.Out, r.Err)
		}
		if w := "via pod " + ns + "/" + pod + " (of statefulset/vigil-sts)"; !strings.Contains(r.Out, w) {
			t.Errorf("diag attach --pod sts/: output lacks %q:\n%s", w, r.Out)
		}
		r = clitest.Run(t, s, inPod("health", "--pod", "sts/nope", "--kubeconfig", kubeconfig)...)
		if r.Code != 3 || !strings.Contains(r.Err, "get statefulset nope in namespace "+ns+": not found") {
			t.Errorf("diag health --pod sts/nope: exit %d, stderr %q; want 3 and not found", r.Code, r.Err)
		}
	})

	t.Run("server and token without kubeconfig", func(t *testing.T) {
		token, err := os.ReadFile(filepath.Join(filepath.Dir(kubeconfig), "pki", "admin.token"))
		if err != nil {
			t.Skipf("no admin token beside $KUBECONFIG (testenv/kube/cluster-up.sh writes pki/admin.token): %v", err)
		}
		dir := t.TempDir()
		empty := filepath.Join(dir, "kubeconfig")
		if err := os.WriteFile(empty, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		tls := []string{"--insecure-skip-tls-verify"}
		if cfg.CAFile != "" {
			tls = []string{"--certificate-authority", cfg.CAFile}
		} else if len(cfg.CAData) > 0 {
			ca := filepath.Join(dir, "ca.crt")
			if err := os.WriteFile(ca, cfg.CAData, 0o600); err != nil {
				t.Fatal(err)
			}
			tls = []string{"--certificate-authority", ca}
		}
		args := append([]string{"health", "--pod", pod, "--kubeconfig", empty, "--server", cfg.Host}, tls...)
		r := clitest.Run(t, s, inPod(append(args, "--token", strings.TrimSpace(string(token)))...)...)
		if r.Code != 0 {
			t.Fatalf("diag health --server --token: exit %d\n%s%s", r.Code, r.Out, r.Err)
		}
		r = clitest.Run(t, s, inPod(append(args, "--token", "not-a-token")...)...)
		if r.Code != 4 || !strings.Contains(r.Err, "Unauthorized") {
			t.Errorf("diag health --token not-a-token: exit %d, stderr %q; want 4 and Unauthorized", r.Code, r.Err)
		}
	})

	t.Run("as", func(t *testing.T) {
		user := "system:serviceaccount:" + ns + ":nobody"
		r := clitest.Run(t, s, inPod("health", "--pod", "statefulset/vigil-sts", "--kubeconfig", kubeconfig, "--as", user)...)
		for _, w := range []string{`"` + user + `" cannot get resource "statefulsets"`, "--pod needs get on pods, deployments and statefulsets"} {
			if !strings.Contains(r.Err, w) {
				t.Errorf("diag health --as %s: stderr lacks %q:\n%s", user, w, r.Err)
			}
		}
		if r.Code != 4 {
			t.Errorf("diag health --as %s: exit %d, want 4 (refused)", user, r.Code)
		}
	})

	// A black-holed apiserver: each API call ends at its deadline, which
	// client-go also sends as ?timeout= (the URL in the error shows it).
	t.Run("request timeout", func(t *testing.T) {
		u, err := url.Parse(cfg.Host)
		if err != nil {
			t.Fatal(err)
		}
		proxy := toxiproxy.New(t, u.Host) // skips without toxiproxy
		proxy.Toxic("blackhole", "timeout", "downstream", map[string]int{"timeout": 0})
		via := "https://" + proxy.Listen
		for _, tt := range []struct {
			name string
			args []string
			want string
		}{
			{"--request-timeout", []string{"--request-timeout", "2s"}, "timeout=2s"},
			{"default: --timeout", []string{"--timeout", "3s"}, "timeout=3s"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				args := append([]string{"health", "--pod", "statefulset/vigil-sts", "--kubeconfig", kubeconfig, "--server", via}, tt.args...)
				r := clitest.Run(t, s, inPod(args...)...)
				if r.Code == 0 || !strings.Contains(r.Err, "get statefulset vigil-sts") || !strings.Contains(r.Err, tt.want) {
					t.Errorf("diag %s through a black hole: exit %d, stderr %q; want a failed get bounded by %s", strings.Join(tt.args, " "), r.Code, r.Err, tt.want)
				}
			})
		}
	})

	t.Run("completion", func(t *testing.T) {
		complete := func(args ...string) []string {
			t.Helper()
			r := clitest.Run(t, nil, append([]string{"__complete"}, args...)...)
			if r.Code != 0 {
				t.Fatalf("diag __complete %s: exit %d\n%s%s", strings.Join(args, " "), r.Code, r.Out, r.Err)
			}
			lines := strings.Split(strings.TrimSpace(r.Out), "\n")
			if last := lines[len(lines)-1]; last != ":4" { // ShellCompDirectiveNoFileComp
				t.Errorf("diag __complete %s: directive %q, want :4", strings.Join(args, " "), last)
			}
			return lines[:len(lines)-1]
		}
		got := complete("health", "--kubeconfig", kubeconfig, "-n", ns, "--pod", "")
		if want := []string{pod, "statefulset/vigil-sts"}; strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("--pod completion: %q, want %q", got, want)
		}
		got = complete("attach", "--kubeconfig", kubeconfig, "-n", ns, "--pod", "sts/vig")
		if want := []string{"sts/vigil-sts"}; strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("--pod sts/ completion: %q, want %q", got, want)
		}
		got = complete("attach", "--kubeconfig", kubeconfig, "-n", ns[:len(ns)-2])
		found := false
		for _, n := range got {
			found = found || n == ns
		}
		if !found {
			t.Errorf("-n completion: %q lacks %s", got, ns)
		}
	})
}

// runningStatefulSet creates a one-replica StatefulSet whose pod KWOK
// runs until deleted, and returns the pod's name once it is Running and
// Ready.
func runningStatefulSet(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, name string) string {
	t.Helper()
	labels := map[string]string{"app": name}
	one := int32(1)
	_, err := cs.AppsV1().StatefulSets(ns).Create(ctx, &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    &one,
			ServiceName: name,
			Selector:    &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: runForever},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "scheduler", Image: "vigil"}}},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod := name + "-0"
	clitest.WaitFor(t, "pod "+pod+" of statefulset/"+name+" to run", 60*time.Second, func() bool {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
		return err == nil && runningReady(p)
	})
	return pod
}
