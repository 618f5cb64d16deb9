package kubetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/vigilhq/vigil/executor/kube"
	"github.com/vigilhq/vigil/scheduler"
)

// PodLog records every pod the apiserver ever shows in a namespace, by
// UID, for the try it was made for: the platform's side of a history
// check ("each try ran at most one pod"). It watches directly, never
// through a test's fault proxy, and sees pods however briefly they lived.
type PodLog struct {
	mu   sync.Mutex
	uids map[scheduler.TryKey]map[string]string // try → uid → "pod/name uid"
}

// RecordPods starts a PodLog for ns; it stops when the test ends.
func RecordPods(t testing.TB, cs kubernetes.Interface, ns string) *PodLog {
	t.Helper()
	l := &PodLog{uids: map[scheduler.TryKey]map[string]string{}}
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns))
	inf := f.Core().V1().Pods().Informer()
	record := func(obj any) {
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return
		}
		k, ok := kube.TryKeyOf(pod)
		if !ok {
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.uids[k] == nil {
			l.uids[k] = map[string]string{}
		}
		l.uids[k][string(pod.UID)] = fmt.Sprintf("pod/%s uid %s", pod.Name, pod.UID)
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    record,
		UpdateFunc: func(_, obj any) { record(obj) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			record(obj)
		},
	}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go inf.Run(stop)
	deadline := time.Now().Add(30 * time.Second)
	for !inf.HasSynced() {
		if time.Now().After(deadline) {
			t.Fatalf("the pod recorder for %s did not sync in 30s", ns)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return l
}

// Pods returns, per try, every pod seen for it.
func (l *PodLog) Pods() map[scheduler.TryKey][]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[scheduler.TryKey][]string, len(l.uids))
	for k, m := range l.uids {
		for _, p := range m {
			out[k] = append(out[k], p)
		}
	}
	return out
}

// Count is how many distinct pods were seen.
func (l *PodLog) Count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.uids {
		n += len(m)
	}
	return n
}
