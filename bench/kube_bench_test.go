package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/vigilhq/vigil/executor/kube"
	"github.com/vigilhq/vigil/executor/kube/kubetest"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
	"github.com/vigilhq/vigil/scheduler/store/sqlite"
)

// P4 (issue 3): pods created and seen completed per second by Vigil,
// divided by the ceiling a bare client-go loop reaches creating the same
// pods at unbounded QPS on the same cluster, in the same run: >= 0.9.

const kubePods = 1000

// instant makes KWOK start and finish pods at once.
var instant = map[string]string{"sim.kwok.local/start-delay": "0s", "sim.kwok.local/run-duration": "0s"}

func unboundedClient(b *testing.B) kubernetes.Interface {
	cfg := kubetest.Config(b, "KUBECONFIG")
	cfg.QPS, cfg.Burst = -1, 0 // no client-side rate limit: the ceiling
	// Calls are bounded by their contexts; a client timeout would also
	// cut the watch short.
	cfg.Timeout = 0
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return cs
}

// bareCeiling creates n pods from 16 goroutines (Vigil's submit
// concurrency) and waits until a watch
// has seen every one succeed.
func bareCeiling(b *testing.B, cs kubernetes.Interface, ns string, n int) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	watchPods := func() watch.Interface {
		w, err := cs.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{})
		if err != nil {
			b.Fatal(err)
		}
		return w
	}
	w := watchPods()
	defer func() { w.Stop() }()
	start := time.Now()
	names := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range names {
				pod := &corev1.Pod{
					ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bare-%04d", i), Annotations: instant},
					Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
						Containers: []corev1.Container{{Name: "task", Image: "busybox:1.36", Command: []string{"true"}}}},
				}
				cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				if _, err := cs.CoreV1().Pods(ns).Create(cctx, pod, metav1.CreateOptions{}); err != nil {
					b.Error(err)
				}
				cancel()
			}
		})
	}
	go func() {
		for i := range n {
			names <- i
		}
		close(names)
	}()
	done := map[string]bool{}
	for len(done) < n {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				// A new watch lists what exists again: nothing is missed.
				w = watchPods()
				continue
			}
			if pod, isPod := ev.Object.(*corev1.Pod); isPod && ev.Type != watch.Deleted && pod.Status.Phase == corev1.PodSucceeded {
				done[pod.Name] = true
			}
		case <-ctx.Done():
			b.Fatalf("bare loop: %d of %d pods succeeded in 5m", len(done), n)
		}
	}
	elapsed := time.Since(start)
	wg.Wait()
	return elapsed
}

// vigilRun runs one DAG of n independent tasks through the scheduler and
// the Kubernetes executor and returns the time from the run's creation to
// its end.
func vigilRun(b *testing.B, cs kubernetes.Interface, ns string, n int) time.Duration {
	dir := b.TempDir()
	dags := filepath.Join(dir, "dags")
	if err := os.MkdirAll(dags, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dags, "bench.yaml"), []byte(wide(n, `["true"]`)), 0o644); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "vigil.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ex, err := kube.New(cs, kube.Options{Namespace: ns, DefaultImage: "busybox:1.36", Instance: "bench",
		Template: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Annotations: instant}}, Logger: zap.NewNop()})
	if err != nil {
		b.Fatal(err)
	}
	ended := make(chan scheduler.Run, 1)
	sched, err := scheduler.New(scheduler.Options{Store: st, Executor: ex, Logger: zap.NewNop(), DAGDir: dags,
		Parallelism: n, SubmitConcurrency: 16, Presets: dag.DefaultPresets(),
		OnRunEnd: func(r scheduler.Run) { ended <- r }})
	if err != nil {
		b.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sched.Run(runCtx) }()
	defer func() { stop(); <-done }()
	for !sched.Ready() {
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	if _, err := sched.Trigger(ctx, "bench"); err != nil {
		b.Fatal(err)
	}
	select {
	case run := <-ended:
		if run.State != scheduler.RunSuccess {
			b.Fatalf("run ended %s", run.State)
		}
	case <-ctx.Done():
		b.Fatal("vigil run did not end within 5m")
	}
	return time.Since(start)
}

func BenchmarkKubePods1000(b *testing.B) {
	cs := unboundedClient(b)
	for b.Loop() {
		b.StopTimer()
		// The cluster slows as pods pile up in etcd, so the ceiling is
		// measured before and after Vigil's run and averaged.
		before := bareCeiling(b, cs, kubetest.Namespace(b, cs), kubePods)
		vigil := vigilRun(b, cs, kubetest.Namespace(b, cs), kubePods)
		after := bareCeiling(b, cs, kubetest.Namespace(b, cs), kubePods)
		b.StartTimer()
		bareRate := (float64(kubePods)/before.Seconds() + float64(kubePods)/after.Seconds()) / 2
		vigilRate := float64(kubePods) / vigil.Seconds()
		b.ReportMetric(bareRate, "bare-pods/s")
		b.ReportMetric(vigilRate, "vigil-pods/s")
		b.ReportMetric(vigilRate/bareRate, "P4-ratio")
	}
}
