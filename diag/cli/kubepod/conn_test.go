package kubepod

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/vigilhq/vigil/executor/kube/kubetest"
)

// TestDialSetupIsBounded dials through an "API server" that accepts the
// connection and never answers (a black hole on loopback): the dial must
// give up after its setup bound, not hang.
func TestDialSetupIsBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		var held []net.Conn // read nothing, answer nothing
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-accepted
	})
	cfg := &rest.Config{Host: "https://" + ln.Addr().String(), TLSClientConfig: rest.TLSClientConfig{Insecure: true}, Timeout: time.Second}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{Config: cfg, Clientset: cs, Namespace: "ns"}
	dial := c.Dialer(Pod{Namespace: "ns", Name: "p", Container: "c", Containers: 1}, []string{"diag", "bridge"}, 500*time.Millisecond)

	start := time.Now()
	_, err = dial(t.Context())
	var op *net.OpError
	if !errors.Is(err, errSetup) || !errors.As(err, &op) || op.Op != "dial" {
		t.Fatalf("dial through a black hole: %v; want a dial error saying the session did not start", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("dial took %s with a 500ms setup bound", took)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if _, err := dial(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("dial with a 200ms context: %v; want its deadline", err)
	}
}

// TestDialPodExec runs commands in a KWOK pod through the exec API as
// net.Conns: bytes both ways, the command's failure with its standard
// error in place of EOF, and a failure before any output as a dial error.
func TestDialPodExec(t *testing.T) {
	cs := kubetest.Client(t) // skips without the test control plane
	cfg := kubetest.Config(t, "KUBECONFIG")
	ns := kubetest.Namespace(t, cs)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	makePod(ctx, t, cs, ns, "p", nil, "running")
	execs := schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "execs"}
	_, err = dyn.Resource(execs).Namespace(ns).Create(ctx, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Exec",
		"metadata": map[string]any{"name": "p", "namespace": ns},
		"spec":     map[string]any{"execs": []any{map[string]any{"local": map[string]any{}}}},
	}}, metav1.CreateOptions{})
	if err != nil {
		t.Skipf("KWOK cannot serve exec in this test cluster (no kwok Exec resource; start it with testenv/kube/with-cluster.sh): %v", err)
	}
	c := &Cluster{Config: cfg, Clientset: cs, Namespace: ns}
	p := Pod{Namespace: ns, Name: "p", Container: "sched", Containers: 1}
	// The session lives as long as the dial's context: ctx, here.
	dial := func(cmd ...string) net.Conn {
		t.Helper()
		conn, err := c.Dialer(p, cmd, 10*time.Second)(ctx)
		if err != nil {
			t.Fatalf("dial %q: %v", cmd, err)
		}
		t.Cleanup(func() { conn.Close() })
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		return conn
	}

	// KWOK sees the Exec object through an informer: wait until exec works.
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := c.Dialer(p, []string{"true"}, 10*time.Second)(ctx)
		if err == nil {
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			_, err = io.ReadAll(conn)
			conn.Close()
			if err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("exec in pod %s/p never worked: %v", ns, err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	t.Run("both ways", func(t *testing.T) {
		conn := dial("head", "-c", "5")
		if _, err := conn.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(conn)
		if err != nil || string(b) != "hello" {
			t.Fatalf("read %q, %v; want hello and EOF", b, err)
		}
	})
	t.Run("failure after output", func(t *testing.T) {
		conn := dial("sh", "-c", "printf out; sleep 0.2; echo oops >&2; exit 3")
		b, err := io.ReadAll(conn)
		var op *net.OpError
		if string(b) != "out" || err == nil || !strings.Contains(err.Error(), "oops") || errors.As(err, &op) {
			t.Fatalf("read %q, %v; want out, then the failure with its stderr", b, err)
		}
	})
	t.Run("context ends the session", func(t *testing.T) {
		sctx, cancel := context.WithCancel(ctx)
		conn, err := c.Dialer(p, []string{"sleep", "2"}, 10*time.Second)(sctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		cancel()
		if _, err := io.ReadAll(conn); !errors.Is(err, context.Canceled) {
			t.Fatalf("read after the dial's context ended: %v; want context.Canceled", err)
		}
	})
	t.Run("failure before output", func(t *testing.T) {
		conn := dial("sh", "-c", "echo no scheduler >&2; exit 3")
		_, err := io.ReadAll(conn)
		var op *net.OpError
		if !errors.As(err, &op) || op.Op != "dial" || !strings.Contains(err.Error(), "no scheduler") {
			t.Fatalf("read: %v; want a dial error with the stderr", err)
		}
	})
}
