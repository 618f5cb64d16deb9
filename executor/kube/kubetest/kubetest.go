// Package kubetest connects tests to the real test control plane that
// `make test` starts (testenv/kube: etcd, kube-apiserver, kube-scheduler,
// kube-controller-manager, KWOK, toxiproxy). Tests that need it call
// Client, which skips the test with a clear message when KUBECONFIG is not
// set, and Namespace for a throwaway namespace of their own.
package kubetest

import (
	"context"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Config returns a client config for the kubeconfig in the environment
// variable env (KUBECONFIG), with a request timeout and a QPS high enough
// not to throttle tests. Tests that cut or slow the apiserver use
// NewFaults instead.
func Config(t testing.TB, env string) *rest.Config {
	t.Helper()
	path := os.Getenv(env)
	if path == "" {
		t.Skipf("%s is not set: this test needs the real test control plane; run it through `make test` (testenv/kube/with-cluster.sh go test ...)", env)
	}
	return configFile(t, path)
}

func configFile(t testing.TB, path string) *rest.Config {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatalf("kubeconfig %s: %v", path, err)
	}
	cfg.Timeout = 15 * time.Second
	cfg.QPS, cfg.Burst = 200, 400
	return cfg
}

// Client returns a clientset for $KUBECONFIG.
func Client(t testing.TB) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(Config(t, "KUBECONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// Namespace creates a namespace for one test, waits until pods can be
// created in it (its default ServiceAccount exists), and deletes it when
// the test ends.
func Namespace(t testing.TB, cs kubernetes.Interface) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "vigil-test-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	// Cleanups run after t.Context() is cancelled: detach from it.
	cleanupCtx := context.WithoutCancel(t.Context())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(cleanupCtx, 15*time.Second)
		defer cancel()
		if err := cs.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Logf("delete namespace %s: %v", ns.Name, err)
		}
	})
	for {
		_, err := cs.CoreV1().ServiceAccounts(ns.Name).Get(ctx, "default", metav1.GetOptions{})
		if err == nil {
			return ns.Name
		}
		if ctx.Err() != nil {
			t.Fatalf("namespace %s: no default ServiceAccount after 1m (is kube-controller-manager running?): %v", ns.Name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
