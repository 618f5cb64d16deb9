package kube_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/executor/kube"
	"github.com/vigilhq/vigil/executor/kube/kubetest"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/store/sqlite"
)

const createDeadline = 2 * time.Second

// schedRun is a scheduler with the Kubernetes executor on a SQLite store,
// running one DAG file; newFaultRun reaches the apiserver through a
// toxiproxy proxy of its own, newSchedRun directly.
type schedRun struct {
	t      *testing.T
	direct kubernetes.Interface
	ns     string
	store  *sqlite.Store
	sched  *scheduler.Scheduler
	wd     *watchdog.Watchdog
	ended  chan scheduler.Run
	// faults is the test's own proxy in front of the apiserver, for
	// newFaultRun's runs.
	faults *kubetest.Faults
}

func newFaultRun(t *testing.T, n int) *schedRun {
	t.Helper()
	var dagText strings.Builder
	fmt.Fprintf(&dagText, "id: fault\ntasks:\n")
	for i := range n {
		fmt.Fprintf(&dagText, "  - id: t%d\n    command: [\"true\"]\n", i)
	}
	faults := kubetest.NewFaults(t)
	f := newSchedRunConfig(t, faults.Config(), map[string]string{"sim.kwok.local/run-duration": "1s"}, dagText.String())
	f.faults = faults
	return f
}

// newSchedRun runs a scheduler with the Kubernetes executor, reaching the
// apiserver through the kubeconfig in $env, whose pods carry annotations,
// on one DAG file.
func newSchedRun(t *testing.T, env string, annotations map[string]string, dagText string, adjust ...func(*scheduler.Options)) *schedRun {
	t.Helper()
	return newSchedRunConfig(t, kubetest.Config(t, env), annotations, dagText, adjust...)
}

// newSchedRunConfig is newSchedRun with the scheduler's client config
// given (a transport that counts, a user to impersonate).
func newSchedRunConfig(t *testing.T, cfg *rest.Config, annotations map[string]string, dagText string, adjust ...func(*scheduler.Options)) *schedRun {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := &schedRun{t: t, direct: kubetest.Client(t), ended: make(chan scheduler.Run, 1)}
	f.ns = kubetest.Namespace(t, f.direct)
	ex, err := kube.New(cs, kube.Options{
		Namespace: f.ns, DefaultImage: "busybox:1.36", Instance: "sched-test",
		Template: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Annotations: annotations}},
		Timeouts: kube.Timeouts{Create: createDeadline, Get: createDeadline, Delete: createDeadline},
		Logger:   zaptest.NewLogger(t).Named("executor"),
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "dags"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dags", "dag.yaml"), []byte(dagText), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if f.store, err = sqlite.Open(ctx, filepath.Join(dir, "vigil.db"), sqlite.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.store.Close() })
	f.wd = watchdog.New(watchdog.Options{})
	opts := scheduler.Options{
		Store: f.store, Executor: ex, Logger: zaptest.NewLogger(t).Named("scheduler"), Watchdog: f.wd,
		DAGDir: filepath.Join(dir, "dags"), SyncInterval: 200 * time.Millisecond,
		HeartbeatPeriod: 500 * time.Millisecond, ExecutorTimeout: 2 * createDeadline, SubmitBackoff: time.Second,
		OnRunEnd: func(r scheduler.Run) { f.ended <- r },
	}
	for _, a := range adjust {
		a(&opts)
	}
	f.sched, err = scheduler.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.sched.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })
	for !f.sched.Ready() {
		time.Sleep(10 * time.Millisecond)
	}
	return f
}

// watchHeartbeats fails the test if any heartbeat goes stale during d.
func (f *schedRun) watchHeartbeats(d time.Duration) {
	f.t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if stale := f.wd.Stale(); len(stale) > 0 {
			f.t.Fatalf("heartbeat %s went stale (age %s) during the fault", stale[0].Name, stale[0].Age)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// finish waits for the run to end and checks one pod per task, all on
// try 1 or later but never two for one try.
func (f *schedRun) finish(n int) {
	f.t.Helper()
	select {
	case run := <-f.ended:
		if run.State != scheduler.RunSuccess {
			f.t.Fatalf("run ended %s", run.State)
		}
	case <-time.After(3 * time.Minute):
		f.t.Fatal("run did not finish within 3 minutes of the fault ending")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	pods, err := f.direct.CoreV1().Pods(f.ns).List(ctx, metav1.ListOptions{LabelSelector: kube.LabelManagedBy + "=" + kube.ManagedBy})
	if err != nil {
		f.t.Fatal(err)
	}
	perTry := map[string]int{}
	for _, p := range pods.Items {
		perTry[p.Labels[kube.LabelTask]+"#"+p.Labels[kube.LabelTry]]++
	}
	for k, c := range perTry {
		if c != 1 {
			f.t.Errorf("try %s has %d pods", k, c)
		}
	}
	if len(pods.Items) != n {
		f.t.Errorf("%d pods for %d tasks: %v", len(pods.Items), n, perTry)
	}
}

// requeues counts transitions that requeued a try after a failed submit.
func (f *schedRun) requeues(runID string, n int) int {
	f.t.Helper()
	count := 0
	for i := range n {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		hist, err := f.store.History(ctx, scheduler.TaskKey{DAGID: "fault", RunID: runID, TaskID: fmt.Sprintf("t%d", i)})
		cancel()
		if err != nil {
			f.t.Fatal(err)
		}
		for _, tr := range hist {
			if tr.From == scheduler.StateQueued && tr.To == scheduler.StateScheduled && strings.Contains(tr.Reason, "submit of try") {
				count++
			}
		}
	}
	return count
}

// TestRealBlackHoleDuringCreates is incident 1: the apiserver stops
// answering while pods are created. Each create returns at its deadline,
// the try is requeued, the loop's heartbeat never goes stale and no loop
// turn lasts longer than a create deadline (P7); once the fault ends every
// task completes with exactly one pod per try.
func TestRealBlackHoleDuringCreates(t *testing.T) {
	const n = 4
	f := newFaultRun(t, n)
	remove := f.faults.Toxic("blackhole", "timeout", "upstream", map[string]int{"timeout": 0})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	runID, err := f.sched.Trigger(ctx, "fault")
	if err != nil {
		t.Fatal(err)
	}
	f.watchHeartbeats(3 * createDeadline)
	if got := f.requeues(runID, n); got < n {
		t.Errorf("%d requeues recorded during the black hole, want at least one per task (%d)", got, n)
	}
	remove()
	f.finish(n)
	if max := f.sched.Stats().MaxIteration; max > createDeadline {
		t.Errorf("longest loop turn %s, longer than the create deadline %s", max, createDeadline)
	}
	t.Logf("P7: longest scheduling-loop turn during the black hole: %s (create deadline %s)", f.sched.Stats().MaxIteration, createDeadline)
}

// TestRealCreatedButClientTimedOut: the server creates the pod but its
// answer comes after the create deadline. The retry of the same try finds
// the pod (AlreadyExists) instead of making a second one.
func TestRealCreatedButClientTimedOut(t *testing.T) {
	const n = 3
	f := newFaultRun(t, n)
	remove := f.faults.Toxic("slow-answers", "latency", "downstream", map[string]int{"latency": int(3 * createDeadline / time.Millisecond)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	runID, err := f.sched.Trigger(ctx, "fault")
	if err != nil {
		t.Fatal(err)
	}
	f.watchHeartbeats(3 * createDeadline)
	remove()
	f.finish(n)
	t.Logf("%d submits requeued after the client timed out", f.requeues(runID, n))
}
