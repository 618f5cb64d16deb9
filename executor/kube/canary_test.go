package kube_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"k8s.io/client-go/kubernetes"

	"github.com/vigilhq/vigil/executor/kube"
	"github.com/vigilhq/vigil/executor/kube/kubetest"
	"github.com/vigilhq/vigil/scheduler"
)

// TestRealWatchCanary: the watch heartbeat beats while the watch delivers
// and stops when the apiserver connection is black-holed.
func TestRealWatchCanary(t *testing.T) {
	faults := kubetest.NewFaults(t)
	toxic, err := kubernetes.NewForConfig(faults.Config())
	if err != nil {
		t.Fatal(err)
	}
	ns := kubetest.Namespace(t, kubetest.Client(t))
	var beats atomic.Int64
	ex, err := kube.New(toxic, kube.Options{Namespace: ns, Instance: "canary-test", CanaryPeriod: time.Second,
		Timeouts:  kube.Timeouts{Get: time.Second},
		WatchBeat: func() { beats.Add(1) }, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ex.Run(ctx, make(chan scheduler.Event, 16)) }()
	t.Cleanup(func() { cancel(); <-done })

	deadline := time.Now().Add(30 * time.Second)
	for beats.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d watch beats in 30s with a canary every second, want at least 2", beats.Load())
		}
		time.Sleep(100 * time.Millisecond)
	}
	faults.Toxic("blackhole", "timeout", "upstream", map[string]int{"timeout": 0})
	time.Sleep(1500 * time.Millisecond) // a write already on the wire may still land
	before := beats.Load()
	time.Sleep(4 * time.Second)
	if after := beats.Load(); after != before {
		t.Fatalf("watch beats went on through a black hole (%d → %d): the heartbeat would not notice a dead watch", before, after)
	}
}
