package kubeclient

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	corev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
)

// A function that receives its context leaves the deadline to its
// caller; the finding goes where a background context is passed down.

func Main(cs kubernetes.Interface) {
	ctx := context.Background()
	run(ctx, cs)             // want `context.Background\(\) passed to run reaches client-go call Create at interproc.go:\d+ \(through sync, create\) with no deadline: a dead connection blocks this call for ~15 minutes; pass a context with a deadline`
	sync(context.TODO(), cs) // want `context.TODO\(\) passed to sync reaches client-go call Create`
	tctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	run(tctx, cs)
	safe(ctx, cs)
	var s server
	s.serve(ctx, cs)             // want `passed to server.serve reaches client-go call Get`
	go func() { run(ctx, cs) }() // want `context.Background\(\) passed to run`
}

func run(ctx context.Context, cs kubernetes.Interface)  { sync(ctx, cs) }
func sync(ctx context.Context, cs kubernetes.Interface) { create(ctx, cs) }

func create(ctx context.Context, cs kubernetes.Interface) {
	cs.CoreV1().Pods("ns").Create(ctx, &corev1.Pod{}, metav1.CreateOptions{})
}

func safe(ctx context.Context, cs kubernetes.Interface) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	cs.CoreV1().Pods("ns").Get(ctx, "p", metav1.GetOptions{})
}

type server struct{}

func (s *server) serve(ctx context.Context, cs kubernetes.Interface) {
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cs.CoreV1().Pods("ns").Get(cctx, "p", metav1.GetOptions{})
}

func loop(ctx context.Context, cs kubernetes.Interface, n int) {
	if n > 0 {
		loop(ctx, cs, n-1)
	}
	create(ctx, cs)
}

func callsLoop(cs kubernetes.Interface) {
	loop(context.Background(), cs, 3) // want `passed to loop reaches client-go call Create at interproc.go:\d+ \(through create\)`
}

func waitSynced(stop <-chan struct{}, synced cache.InformerSynced) {
	cache.WaitForCacheSync(stop, synced)
}

func startWait(synced cache.InformerSynced) {
	waitSynced(wait.NeverStop, synced) // want `wait.NeverStop passed to waitSynced reaches cache.WaitForCacheSync`
}
