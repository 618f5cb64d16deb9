package kube

import (
	"errors"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/vigilhq/vigil/scheduler"
)

// TestForeignPods: a pod labelled with another database's id is not this
// scheduler's (Adopt finds its try missing, Start refuses the name), while
// a pod without the label, from before database ids, still is.
func TestForeignPods(t *testing.T) {
	k := tryKey("etl", "scheduled__2026-03-01T00:00:00Z", "load", 1)
	cs := fake.NewClientset()
	a := newTestExecutor(t, cs, func(o *Options) { o.StoreID = "db-a" })
	if err := a.Start(t.Context(), scheduler.Try{Key: k, Spec: spec()}); err != nil {
		t.Fatal(err)
	}
	b := newTestExecutor(t, cs, func(o *Options) { o.StoreID = "db-b" })
	if obs, err := b.Adopt(t.Context(), k, ""); err != nil || obs.Phase != scheduler.PhaseMissing {
		t.Errorf("B adopts A's pod: %+v, %v; want missing", obs, err)
	}
	if err := b.Start(t.Context(), scheduler.Try{Key: k, Spec: spec()}); !errors.Is(err, scheduler.ErrTaskInvalid) {
		t.Errorf("B starts over A's pod: %v; want ErrTaskInvalid", err)
	}

	pod, err := cs.CoreV1().Pods("vigil").Get(t.Context(), PodName(k), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !b.foreign(pod) || a.foreign(pod) {
		t.Errorf("foreign: to B %v, to A %v; want true, false", b.foreign(pod), a.foreign(pod))
	}
	delete(pod.Labels, LabelStore)
	if b.foreign(pod) {
		t.Errorf("a pod without %s is foreign to B; pods from before database ids must stay adoptable", LabelStore)
	}
}
