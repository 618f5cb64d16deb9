package soak

import (
	"context"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vigilhq/vigil/diag/cli/clitest"
	"github.com/vigilhq/vigil/executor/kube"
	"github.com/vigilhq/vigil/executor/kube/kubetest"
	"github.com/vigilhq/vigil/scheduler"
)

// TestEvictionsMidRun (issue 16): tasks with no retries run as pods (4 s
// under KWOK), and a share of the running pods (of the first two tries of
// a task) is ended by "the cluster" at a random moment of their run, in
// the three ways a cluster does:
// the kubelet's eviction (phase Failed, reason Evicted, container killed
// with 137), a container the kubelet lost (ContainerStatusUnknown, 137),
// and the scheduler's preemption (a DisruptionTarget condition, then the
// pod deleted). Every task must still succeed, each evicted try run again
// without using a retry (there are none to use), with the usual history
// check: no try ran two pods, every record legal and explained.
func TestEvictionsMidRun(t *testing.T) {
	tasks := size(40, 500)
	const runs = 2
	c := newCluster(t)
	s := clitest.Start(t, clitest.Options{
		DAGs:  map[string]string{"soak.yaml": clitest.WideDAG("soak", "defaults:\n  retries: 0\n", tasks/runs, `["true"]`)},
		Extra: []string{"--config", c.config(t, os.Getenv("KUBECONFIG"), 4*time.Second), "--executor", "kubernetes", "--instance", "s1"},
	})
	st := storeOf(t, s)
	ev := startEvicting(t, kubetest.Client(t), c.ns, 0.3)
	start := time.Now()
	trigger(t, s, "soak", runs)
	waitAllEnded(t, st, time.Duration(size(10, 30))*time.Minute)
	took := time.Since(start)
	evicted := ev.end()
	s.Kill(t)
	rep := check(t, st, c.pods, []string{"s1"})
	report(t, result{Scenario: "evictions", Tasks: rep.Instances, Faults: evicted, Took: took, Pods: c.pods.Count(),
		Retries: rep.Retries, Requeues: rep.Requeues, Adoptions: rep.Adoptions, Violations: len(rep.Violations)})
	if rep.Instances != tasks {
		t.Errorf("%d task instances, want %d", rep.Instances, tasks)
	}
	if evicted == 0 {
		t.Fatal("no pod was evicted: the scenario tested nothing")
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	tis, err := st.ListTaskInstances(ctx, scheduler.TaskFilter{})
	if err != nil {
		t.Fatal(err)
	}
	recorded := 0
	var slowest []scheduler.Transition
	for _, ti := range tis {
		recorded += ti.Evictions
		if ti.Counted() != 1 {
			t.Errorf("%s: %d tries, %d evicted: %d counted against its retries, want 1", ti.TaskKey, ti.Try, ti.Evictions, ti.Counted())
		}
		h, err := st.History(ctx, ti.TaskKey)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) > 1 && (slowest == nil || span(h) > span(slowest)) {
			slowest = h
		}
	}
	// The slowest task's history says where the time went.
	for _, r := range slowest {
		t.Logf("slowest task: %s try %d %s → %s: %s", r.At.Format("15:04:05.000"), r.Try, r.From, r.To, r.Reason)
	}
	// Every eviction the test made is on record: a pod ended by the
	// cluster just as it finished may read either way, so none may be
	// recorded that the test did not make.
	if recorded > evicted || recorded < evicted*9/10 {
		t.Errorf("%d evictions on record, the test made %d", recorded, evicted)
	}
	t.Logf("%d pods ended by the cluster, %d evictions recorded, %d retries, every task succeeded", evicted, recorded, rep.Retries)
}

func span(h []scheduler.Transition) time.Duration { return h[len(h)-1].At.Sub(h[0].At) }

// evicter ends a share of the running pods of a namespace as a cluster
// would, each at a random moment of its run.
type evicter struct {
	stop chan struct{}
	done chan struct{}
	once sync.Once
	mu   sync.Mutex
	n    int
}

func startEvicting(t *testing.T, cs kubernetes.Interface, ns string, share float64) *evicter {
	ev := &evicter{stop: make(chan struct{}), done: make(chan struct{})}
	t.Cleanup(func() { ev.end() })
	go func() {
		defer close(ev.done)
		due := map[string]time.Time{} // pod UID → when to end it; zero: spared
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ev.stop:
				return
			case <-tick.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: kube.LabelManagedBy + "=" + kube.ManagedBy})
			cancel()
			if err != nil {
				continue
			}
			for i := range pods.Items {
				pod := &pods.Items[i]
				if pod.Status.Phase != corev1.PodRunning || pod.DeletionTimestamp != nil {
					continue
				}
				at, seen := due[string(pod.UID)]
				if !seen {
					// The pod runs 4s: end it within its first 2. A task is
					// evicted at most twice: the eviction backoff doubles
					// (5s, 10s, 20s...), and more would only lengthen the
					// scenario.
					if k, ok := kube.TryKeyOf(pod); ok && k.Try <= 2 && rand.Float64() < share {
						at = time.Now().Add(rand.N(2 * time.Second))
					}
					due[string(pod.UID)] = at
				}
				if at.IsZero() || time.Now().Before(at) {
					continue
				}
				due[string(pod.UID)] = time.Time{}
				if disrupt(t, cs, pod, ev.count()) {
					ev.mu.Lock()
					ev.n++
					ev.mu.Unlock()
				}
			}
		}
	}()
	return ev
}

func (ev *evicter) count() int {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return ev.n
}

// end stops the evicting and returns how many pods were ended.
func (ev *evicter) end() int {
	ev.once.Do(func() { close(ev.stop) })
	<-ev.done
	return ev.count()
}

// disrupt ends a running pod in the i-th of the three ways (kubelet
// eviction, container lost, preemption), through the status subresource
// as the kubelet or the scheduler does. A pod that changed meanwhile is
// left alone (false).
func disrupt(t *testing.T, cs kubernetes.Interface, pod *corev1.Pod, i int) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pods := cs.CoreV1().Pods(pod.Namespace)
	now := metav1.Now()
	killed := func(reason, message string) []corev1.ContainerStatus {
		return []corev1.ContainerStatus{{Name: kube.ContainerName, Image: "busybox:1.36", State: corev1.ContainerState{
			Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: reason, Message: message, StartedAt: now, FinishedAt: now}}}}
	}
	p := pod.DeepCopy()
	for attempt := 0; ; attempt++ {
		disruptStatus(p, i, now, killed)
		_, err := pods.UpdateStatus(ctx, p, metav1.UpdateOptions{})
		if err == nil {
			break
		}
		// KWOK may have written the pod meanwhile (a condition): read it
		// again, once, and end it if it still runs.
		if !apierrors.IsConflict(err) || attempt > 0 {
			return false
		}
		if p, err = pods.Get(ctx, pod.Name, metav1.GetOptions{}); err != nil || p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
			return false // finished meanwhile: spared
		}
	}
	if i%3 == 2 {
		if err := pods.Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
			t.Logf("delete preempted pod %s: %v", p.Name, err)
		}
	}
	return true
}

// disruptStatus sets p's status to the i-th way of ending it.
func disruptStatus(p *corev1.Pod, i int, now metav1.Time, killed func(reason, message string) []corev1.ContainerStatus) {
	switch i % 3 {
	case 0:
		p.Status = corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted",
			Message: "The node was low on resource: memory. Threshold quantity: 100Mi, available: 12Mi.", ContainerStatuses: killed("Error", "")}
	case 1:
		p.Status = corev1.PodStatus{Phase: corev1.PodFailed,
			ContainerStatuses: killed("ContainerStatusUnknown", "The container could not be located when the pod was terminated")}
	default:
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
			Reason: "PreemptionByScheduler", Message: "soak: preempted by a pod of higher priority", LastTransitionTime: now})
	}
}
