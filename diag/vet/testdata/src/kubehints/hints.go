package kubehints

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	corev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
)

// A worker loop shares the context it is given with every iteration: a
// deadline on it would end the loop, so the fix is one per call.

func Main(cs kubernetes.Interface) {
	ctx := context.Background()
	run(ctx, cs)        // want `context.Background\(\) passed to run reaches client-go call Get at hints.go:\d+ \(through sync\) with no deadline: a dead connection blocks this call for ~15 minutes; pass a context with a deadline, one per call made inside a loop in run \(context.WithTimeout per iteration\), not on the context passed to run, which would end the loop`
	controller(ctx, cs) // want `passed to controller reaches client-go call Get at hints.go:\d+ \(through sync\) with no deadline: .*one per call made inside wait.Until \(context.WithTimeout per iteration\), not on the context passed to controller`
	once(ctx, cs)       // want `passed to once reaches client-go call Get at hints.go:\d+ \(through sync\) with no deadline: a dead connection blocks this call for ~15 minutes; pass a context with a deadline$`
}

func run(ctx context.Context, cs kubernetes.Interface) {
	for {
		sync(ctx, cs)
		time.Sleep(time.Second)
	}
}

func sync(ctx context.Context, cs kubernetes.Interface) {
	cs.CoreV1().Pods("ns").Get(ctx, "p", metav1.GetOptions{})
}

func controller(ctx context.Context, cs kubernetes.Interface) {
	wait.Until(func() { sync(ctx, cs) }, time.Second, ctx.Done())
}

func once(ctx context.Context, cs kubernetes.Interface) { sync(ctx, cs) }

func poll(cs kubernetes.Interface) {
	ctx := context.Background()
	for range 10 {
		cs.CoreV1().Pods("ns").Get(ctx, "p", metav1.GetOptions{}) // want `client-go call Get with context.Background\(\): a dead connection blocks this call for ~15 minutes; pass a context with a deadline, one per call made inside a loop in poll \(context.WithTimeout per iteration, cancel after the call\), not one on a context the whole loop shares`
	}
	cs.CoreV1().Pods("ns").Get(ctx, "p", metav1.GetOptions{}) // want `client-go call Get with context.Background\(\): a dead connection blocks this call for ~15 minutes; pass a context with a deadline$`
}

// Streams: a fixed deadline or the config's Timeout would cut them.

func logs(cs kubernetes.Interface) {
	req := cs.CoreV1().Pods("ns").GetLogs("p", &corev1.PodLogOptions{Follow: true})
	req.Stream(context.Background()) // want `client-go Stream \(a long-lived stream: logs, exec, port-forward\) with context.Background\(\): a dead connection stalls it with no error and no end; do not give it a fixed deadline or set the client's \(or config's\) Timeout, which would cut a healthy stream: pass a context you cancel when no data has arrived for a while \(an idle timeout\)`
}

func newClient() *kubernetes.Clientset {
	cfg, _ := rest.InClusterConfig()
	return kubernetes.NewForConfigOrDie(cfg) // want `rest.Config from rest.InClusterConfig\(\) \(hints.go:\d+\) has no Timeout and goes to kubernetes.NewForConfigOrDie: .*; give each request a context with a deadline, or make a second config with Timeout for the short calls: this program also opens a long-lived watch or stream \(hints.go:\d+\), which the config's Timeout would cut`
}
