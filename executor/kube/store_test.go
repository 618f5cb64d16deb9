package kube_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vigilhq/vigil/executor/kube"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

// TestRealPodsOfAnotherDatabase (issue 16): two schedulers of different
// databases in one namespace. A's pods carry A's store id; B, whose runs
// have the same ids (scheduled runs are named by their date), never takes
// A's pod for its own try: not on Adopt, not on Start (AlreadyExists),
// not in its untracked or inventory lists, and it gets no event from it.
func TestRealPodsOfAnotherDatabase(t *testing.T) {
	a := newReal(t, map[string]string{"sim.kwok.local/outcome": "running"}, func(o *kube.Options) { o.StoreID = "db-a" })
	k := a.start("shared")
	a.until(k, scheduler.EventStarted, 60*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pod, err := a.cs.CoreV1().Pods(a.ns).Get(ctx, kube.PodName(k), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := pod.Labels[kube.LabelStore]; got != "db-a" {
		t.Fatalf("pod label %s = %q, want db-a", kube.LabelStore, got)
	}

	b, err := kube.New(a.cs, kube.Options{Namespace: a.ns, DefaultImage: "busybox:1.36", Instance: "b", StoreID: "db-b", Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	bEvents := make(chan scheduler.Event, 64)
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(runCtx, bEvents) }()
	t.Cleanup(func() { stop(); <-done })

	obs, err := b.Adopt(ctx, k, "")
	if err != nil || obs.Phase != scheduler.PhaseMissing || !strings.Contains(obs.Reason, "another database") {
		t.Errorf("B adopts A's pod: %+v, %v; want missing, saying whose pod it is", obs, err)
	}
	err = b.Start(ctx, scheduler.Try{Key: k, Spec: dag.TaskSpec{Command: []string{"true"}}})
	if !errors.Is(err, scheduler.ErrTaskInvalid) || !strings.Contains(err.Error(), "another database") {
		t.Errorf("B starts a try whose pod name A's pod has: %v; want ErrTaskInvalid naming the other database", err)
	}
	// B's informer has synced once it lists the namespace's canary-free
	// state; give it the time a pod event takes to arrive.
	deadline := time.After(5 * time.Second)
	for wait := true; wait; {
		select {
		case ev := <-bEvents:
			if ev.Key == k {
				t.Errorf("B got an event from A's pod: %+v", ev)
			}
		case <-deadline:
			wait = false
		}
	}
	untracked, err := b.Untracked(ctx, 0)
	if err != nil || slices.Contains(untracked, k) {
		t.Errorf("B's untracked tries %v (%v) hold A's try", untracked, err)
	}
	inv, err := b.Inventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range inv {
		if w.Key == k {
			t.Errorf("B's inventory holds A's pod: %+v", w)
		}
	}
	if obs, err := a.ex.Adopt(ctx, k, ""); err != nil || obs.Phase != scheduler.PhaseRunning {
		t.Errorf("A adopts its own pod: %+v, %v; want running", obs, err)
	}
}
