package deploy

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/vigilhq/vigil/executor/kube"
	"github.com/vigilhq/vigil/executor/kube/kubetest"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

// TestRoleIsEnough creates the base's ServiceAccount, Role and RoleBinding
// in a restricted namespace, takes a token of that ServiceAccount (not the
// test's cluster-admin), and runs the Kubernetes executor with it, on the
// task pod template: a task runs to its end (create, watch), a hanging
// one is adopted and stopped (get, delete), the watch canary beats
// (configmaps), and `diag restart`'s event is recorded (events). A verb
// the Role lacks fails the test with the apiserver's Forbidden.
func TestRoleIsEnough(t *testing.T) {
	admin := kubetest.Config(t, "KUBECONFIG")
	cs := kubetest.Client(t)
	dyn, err := dynamic.NewForConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	ns := "vigil-rbac-" + time.Now().Format("150405")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	for _, u := range render(t, "dev", ns) {
		var gvr schema.GroupVersionResource
		switch u.GetKind() {
		case "Namespace":
			gvr = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
		case "ServiceAccount":
			gvr = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
		case "Role":
			gvr = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"}
		case "RoleBinding":
			gvr = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}
		default:
			continue
		}
		r := dyn.Resource(gvr)
		if u.GetKind() == "Namespace" {
			createNamespace(ctx, t, cs, r, u)
			continue
		}
		if _, err := r.Namespace(ns).Create(ctx, u, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
	exp := int64(600)
	tok, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "vigil-scheduler",
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	saCfg := rest.AnonymousClientConfig(admin)
	saCfg.BearerToken = tok.Status.Token
	sa, err := kubernetes.NewForConfig(saCfg)
	if err != nil {
		t.Fatal(err)
	}

	tmpl := taskPodTemplate(t)
	tmpl.Annotations = map[string]string{"sim.kwok.local/run-duration": "1s"}
	beats := make(chan struct{}, 16)
	ex, err := kube.New(sa, kube.Options{Namespace: ns, DefaultImage: "busybox:1.36", Instance: "rbac-test", Template: tmpl,
		Logger: zaptest.NewLogger(t), WatchBeat: func() {
			select {
			case beats <- struct{}{}:
			default:
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan scheduler.Event, 64)
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ex.Run(runCtx, events) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("executor Run as the ServiceAccount: %v", err)
		}
	}()

	key := scheduler.TryKey{TaskKey: scheduler.TaskKey{DAGID: "rbac", RunID: "r1", TaskID: "a"}, Try: 1}
	if err := ex.Start(ctx, scheduler.Try{Key: key, Spec: dag.TaskSpec{Command: []string{"true"}}}); err != nil {
		t.Fatalf("Start as the ServiceAccount: %v", err)
	}
	for ended := false; !ended; {
		select {
		case ev := <-events:
			if ev.Key == key && ev.Kind == scheduler.EventExited {
				ended = true
				if ev.ExitCode != 0 {
					t.Errorf("task ended %+v", ev)
				}
			}
		case <-ctx.Done():
			t.Fatal("the task pod did not end within 2 minutes")
		}
	}
	obs, err := ex.Adopt(ctx, key, "")
	if err != nil || obs.Phase != scheduler.PhaseExited {
		t.Errorf("Adopt as the ServiceAccount = %+v, %v; want exited", obs, err)
	}
	if err := ex.Stop(ctx, key, "test"); err != nil {
		t.Errorf("Stop (pod delete) as the ServiceAccount: %v", err)
	}
	select {
	case <-beats:
	case <-ctx.Done():
		t.Error("the watch canary never beat: the ServiceAccount cannot write or watch its ConfigMap")
	}
	// diag restart, run in the pod, records a Warning Event with the pod's identity.
	ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{GenerateName: "vigil-scheduler."},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: "vigil-scheduler-x"},
		Type:           corev1.EventTypeWarning, Reason: "DiagRestart", Message: "test"}
	if _, err := sa.CoreV1().Events(ns).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		t.Errorf("create an Event as the ServiceAccount: %v", err)
	}
	// Nothing outside the namespace, and nothing it does not need.
	if _, err := sa.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{}); err == nil {
		t.Error("the ServiceAccount may list Secrets; the Role should not allow it")
	}
	if _, err := sa.CoreV1().Pods("default").List(ctx, metav1.ListOptions{}); err == nil {
		t.Error("the ServiceAccount may list pods outside its namespace")
	}
}
