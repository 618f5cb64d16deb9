package kubepod

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
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
		{"statefulset", "sts/vigil", Ref{}, true},
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
