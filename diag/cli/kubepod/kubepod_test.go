package kubepod

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/internal/exitcode"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		name, in string
		want     Ref
		usage    bool
	}{
		{"bare name", "vigil-scheduler-7c5d", Ref{"pod", "vigil-scheduler-7c5d"}, false},
		{"pod/", "pod/vigil-0", Ref{"pod", "vigil-0"}, false},
		{"pods/", "pods/vigil-0", Ref{"pod", "vigil-0"}, false},
		{"po/", "po/vigil-0", Ref{"pod", "vigil-0"}, false},
		{"deploy/", "deploy/vigil-scheduler", Ref{"deploy", "vigil-scheduler"}, false},
		{"deployment/", "deployment/vigil-scheduler", Ref{"deploy", "vigil-scheduler"}, false},
		{"Deployment.apps/", "Deployment.apps/vigil", Ref{"deploy", "vigil"}, false},
		{"service", "svc/vigil", Ref{}, true},
		{"sts/", "sts/vigil", Ref{"statefulset", "vigil"}, false},
		{"statefulset/", "statefulset/vigil", Ref{"statefulset", "vigil"}, false},
		{"StatefulSets.apps/", "StatefulSets.apps/vigil", Ref{"statefulset", "vigil"}, false},
		{"daemonset", "ds/vigil", Ref{}, true},
		{"empty name", "deploy/", Ref{}, true},
		{"too many slashes", "pod/a/b", Ref{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTarget(tt.in)
			var usage *cmdutil.UsageError
			if tt.usage {
				if !errors.As(err, &usage) {
					t.Fatalf("ParseTarget(%q) = %v, %v; want a usage error", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseTarget(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestPodString(t *testing.T) {
	tests := []struct {
		name string
		pod  Pod
		want string
	}{
		{"pod", Pod{Namespace: "vigil", Name: "s-1", Container: "s", Containers: 1}, "pod vigil/s-1"},
		{"of deployment", Pod{Namespace: "vigil", Name: "s-1", Containers: 1, Owner: "deploy/s"}, "pod vigil/s-1 (of deploy/s)"},
		{"container and not ready", Pod{Namespace: "vigil", Name: "s-1", Container: "sched", Containers: 2, Owner: "deploy/s", NotReady: true},
			"pod vigil/s-1 (of deploy/s, container sched, not Ready)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.pod.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBridgeCommand(t *testing.T) {
	tests := []struct {
		name string
		t    cmdutil.TargetFlags
		want []string
	}{
		{"default", cmdutil.TargetFlags{}, []string{"diag", "bridge"}},
		{"path and socket", cmdutil.TargetFlags{DiagPath: "/bin/diag", Socket: "/run/vigil/vigil-1.sock"},
			[]string{"/bin/diag", "bridge", "--socket", "/run/vigil/vigil-1.sock"}},
		{"runtime dir", cmdutil.TargetFlags{DiagPath: "diag", Dir: "/run/vigil"}, []string{"diag", "bridge", "--runtime-dir", "/run/vigil"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := BridgeCommand(&tt.t); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("BridgeCommand = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPickContainer(t *testing.T) {
	pod := func(ann map[string]string, names ...string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", Annotations: ann}}
		for _, n := range names {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: n})
		}
		return p
	}
	tests := []struct {
		name, want, wantErr string
		pod                 *corev1.Pod
		flag                string
	}{
		{name: "first", pod: pod(nil, "sched", "sidecar"), want: "sched"},
		{name: "flag", pod: pod(nil, "sched", "sidecar"), flag: "sidecar", want: "sidecar"},
		{name: "annotation", pod: pod(map[string]string{DefaultContainerAnnotation: "sidecar"}, "sched", "sidecar"), want: "sidecar"},
		{name: "flag beats annotation", pod: pod(map[string]string{DefaultContainerAnnotation: "sidecar"}, "sched", "sidecar"), flag: "sched", want: "sched"},
		{name: "missing", pod: pod(nil, "sched"), flag: "nope", wantErr: `no container "nope" (it has sched)`},
		{name: "none", pod: pod(nil), wantErr: "has no containers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pickContainer(tt.pod, tt.flag)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("pickContainer = %q, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("pickContainer = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{max: 8}
	b.Write([]byte("hello "))
	b.Write([]byte("world, again"))
	if got := b.String(); got != "d, again" {
		t.Errorf("tail = %q, want %q", got, "d, again")
	}
}

// TestConnectRequestTimeout: --request-timeout bounds each API call; its
// default (kubectl's "0", no timeout) keeps diag's --timeout.
func TestConnectRequestTimeout(t *testing.T) {
	for _, tt := range []struct {
		name, flag string
		timeout    time.Duration
		want       time.Duration
	}{
		{"default keeps --timeout", "0", 10 * time.Second, 10 * time.Second},
		{"given", "3s", 10 * time.Second, 3 * time.Second},
		{"bare seconds", "7", 10 * time.Second, 7 * time.Second},
		{"neither", "0", 0, 10 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			kube := genericclioptions.NewConfigFlags(false)
			empty := filepath.Join(t.TempDir(), "kubeconfig")
			if err := os.WriteFile(empty, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			server, flag := "https://127.0.0.1:1", tt.flag
			kube.KubeConfig, kube.APIServer, kube.Timeout = &empty, &server, &flag
			c, err := Connect(kube, tt.timeout)
			if err != nil {
				t.Fatal(err)
			}
			if c.RequestTimeout != tt.want || c.Config.Timeout != tt.want {
				t.Errorf("--request-timeout %s, --timeout %s: request timeout %s, rest.Config.Timeout %s; want %s",
					tt.flag, tt.timeout, c.RequestTimeout, c.Config.Timeout, tt.want)
			}
		})
	}
}

// TestNoKubeconfig: with no kubeconfig anywhere and not in a pod, --pod
// says what it looked at and what to do, with exit status 3.
func TestNoKubeconfig(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	if _, err := os.Stat(clientcmd.RecommendedHomeFile); err == nil {
		t.Skipf("%s exists", clientcmd.RecommendedHomeFile)
	}
	_, err := Connect(genericclioptions.NewConfigFlags(false), time.Second)
	if err == nil {
		t.Fatal("Connect with no kubeconfig: no error")
	}
	want := "--pod: no kubeconfig found: looked at $KUBECONFIG (unset), " + clientcmd.RecommendedHomeFile +
		" (does not exist), the in-cluster config (not in a pod: $KUBERNETES_SERVICE_HOST is unset). " +
		"Give --kubeconfig FILE or set $KUBECONFIG, or --server URL with --token; " +
		"or run diag inside the scheduler's pod: kubectl exec deploy/vigil-scheduler -- diag attach"
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
	if code := cmdutil.ExitCode(err); code != exitcode.Unreachable {
		t.Errorf("exit status %d, want %d", code, exitcode.Unreachable)
	}
}
