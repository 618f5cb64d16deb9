package kube

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

func tryKey(dagID, runID, task string, try int) scheduler.TryKey {
	return scheduler.TryKey{TaskKey: scheduler.TaskKey{DAGID: dagID, RunID: runID, TaskID: task}, Try: try}
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func TestPodName(t *testing.T) {
	long := strings.Repeat("very_long_identifier.", 5)
	tests := []struct {
		name string
		k    scheduler.TryKey
	}{
		{"short", tryKey("etl", "manual__2026-11-23T10:00:30.49Z", "load", 1)},
		{"long dag", tryKey(long, "r", "t", 3)},
		{"long task", tryKey("d", "r", long, 12)},
		{"both long", tryKey(long, "r", long+"x", 99)},
		{"odd characters", tryKey("My.DAG_v2", "r", "Load-Data_", 1)},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := PodName(tt.k)
			if len(name) > 63 || !dnsLabel.MatchString(name) {
				t.Fatalf("PodName(%v) = %q: not a DNS label of at most 63 characters", tt.k, name)
			}
			if again := PodName(tt.k); again != name {
				t.Fatalf("PodName is not deterministic: %q then %q", name, again)
			}
			if other, dup := seen[name]; dup {
				t.Fatalf("%q named both %s and %s", name, other, tt.name)
			}
			seen[name] = tt.name
		})
	}
	a, b := PodName(tryKey("d", "run-a", "t", 1)), PodName(tryKey("d", "run-b", "t", 1))
	if a == b {
		t.Fatalf("two runs of one task got the same pod name %q", a)
	}
	if PodName(tryKey("d", "r", "t", 1)) == PodName(tryKey("d", "r", "t", 2)) {
		t.Fatal("two tries got the same pod name")
	}
}

func newTestExecutor(t *testing.T, cs *fake.Clientset, adjust func(*Options)) *Executor {
	t.Helper()
	opts := Options{Namespace: "vigil", DefaultImage: "busybox:1.36", Instance: "test:1", Logger: zaptest.NewLogger(t)}
	if adjust != nil {
		adjust(&opts)
	}
	ex, err := New(cs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

func spec() dag.TaskSpec {
	return dag.TaskSpec{
		Command: []string{"sh", "-c"}, Args: []string{"echo hi"},
		Env:       []dag.EnvVar{{Name: "A", Value: "1"}},
		Resources: dag.Resources{Preset: "large", CPU: "2", Memory: "4Gi", MemoryLimit: "8Gi"},
	}
}

func TestBuildPod(t *testing.T) {
	tmpl := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"team": "data"}, Annotations: map[string]string{"sim.kwok.local/outcome": "failed"}},
		Spec: corev1.PodSpec{
			NodeSelector: map[string]string{"type": "kwok"},
			Containers:   []corev1.Container{{Name: ContainerName, WorkingDir: "/work"}},
		},
	}
	ex := newTestExecutor(t, fake.NewClientset(), func(o *Options) { o.Template = tmpl; o.ServiceAccount = "runner" })
	k := tryKey("etl", "manual__2026-11-23T10:00:30Z", "load", 2)
	at := time.Date(2026, 11, 23, 10, 0, 30, 0, time.UTC)
	params := dag.Values{"region": dag.String("eu-west-1"), "batch.size": {Kind: dag.KindNumber, Text: "500"}}
	pod, err := ex.buildPod(scheduler.Try{Key: k, Spec: spec(), Dates: scheduler.RunDates{LogicalDate: at, IntervalStart: at, IntervalEnd: at}, Params: params})
	if err != nil {
		t.Fatal(err)
	}
	c := pod.Spec.Containers[0]
	switch {
	case pod.Name != PodName(k) || pod.Namespace != "vigil":
		t.Errorf("name %s/%s", pod.Namespace, pod.Name)
	case pod.Labels["team"] != "data" || pod.Labels[LabelManagedBy] != ManagedBy || pod.Labels[LabelTry] != "2":
		t.Errorf("labels %v", pod.Labels)
	case pod.Annotations["sim.kwok.local/outcome"] != "failed" || pod.Annotations[AnnotationRun] != k.RunID:
		t.Errorf("annotations %v", pod.Annotations)
	case pod.Spec.RestartPolicy != corev1.RestartPolicyNever || pod.Spec.ServiceAccountName != "runner" || pod.Spec.NodeSelector["type"] != "kwok":
		t.Errorf("spec %+v", pod.Spec)
	case len(pod.Spec.Containers) != 1 || c.Image != "busybox:1.36" || c.WorkingDir != "/work" || c.Args[0] != "echo hi":
		t.Errorf("container %+v", c)
	case c.Resources.Requests.Cpu().String() != "2" || c.Resources.Requests.Memory().String() != "4Gi" || c.Resources.Limits.Memory().String() != "8Gi":
		t.Errorf("resources %+v", c.Resources)
	}
	if got, ok := TryKeyOf(pod); !ok || got != k {
		t.Errorf("TryKeyOf = %v %v, want %v", got, ok, k)
	}
	if tmpl.Name != "" || len(tmpl.Spec.Containers[0].Env) != 0 {
		t.Error("buildPod changed the template")
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if env["A"] != "1" || env["VIGIL_TRY"] != "2" || env["VIGIL_RUN_ID"] != k.RunID {
		t.Errorf("env %v", env)
	}
	for _, name := range []string{"VIGIL_LOGICAL_DATE", "VIGIL_DATA_INTERVAL_START", "VIGIL_DATA_INTERVAL_END"} {
		if env[name] != "2026-11-23T10:00:30Z" {
			t.Errorf("%s = %q, want 2026-11-23T10:00:30Z", name, env[name])
		}
	}
	for name, want := range map[string]string{
		"VIGIL_PARAM_REGION":     "eu-west-1",
		"VIGIL_PARAM_BATCH_SIZE": "500",
		"VIGIL_CONF":             `{"batch.size":500,"region":"eu-west-1"}`,
	} {
		if env[name] != want {
			t.Errorf("%s = %q, want %q", name, env[name], want)
		}
	}

	noImage := newTestExecutor(t, fake.NewClientset(), func(o *Options) { o.DefaultImage = "" })
	if _, err := noImage.buildPod(scheduler.Try{Key: k, Spec: spec()}); !errors.Is(err, scheduler.ErrTaskInvalid) {
		t.Errorf("no image: err = %v, want ErrTaskInvalid", err)
	}
}

func TestStartIsIdempotent(t *testing.T) {
	cs := fake.NewClientset()
	ex := newTestExecutor(t, cs, nil)
	k := tryKey("etl", "r1", "load", 1)
	for range 2 {
		if err := ex.Start(t.Context(), scheduler.Try{Key: k, Spec: spec()}); err != nil {
			t.Fatalf("Start: %v", err)
		}
	}
	pods, err := cs.CoreV1().Pods("vigil").List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 1 {
		t.Fatalf("%d pods after starting one try twice, want 1", len(pods.Items))
	}
}

func TestStartErrors(t *testing.T) {
	gr := schema.GroupResource{Resource: "pods"}
	tests := []struct {
		name        string
		createErr   error
		existing    *corev1.Pod
		wantInvalid bool
		retryAfter  time.Duration
		refused     string
	}{
		{name: "rejected spec fails the task", createErr: apierrors.NewInvalid(schema.GroupKind{Kind: "Pod"}, "x", nil), wantInvalid: true},
		{name: "bad request fails the task", createErr: apierrors.NewBadRequest("spec.containers[0].image: Required value"), wantInvalid: true},
		{name: "timeout requeues", createErr: apierrors.NewTimeoutError("create took too long", 1), retryAfter: time.Second},
		{name: "throttled requeues after the server's Retry-After", createErr: apierrors.NewTooManyRequests("slow down", 5), retryAfter: 5 * time.Second},
		{name: "server error requeues", createErr: apierrors.NewInternalError(errors.New("etcd leader changed"))},
		{name: "RBAC refuses", createErr: apierrors.NewForbidden(gr, "x", errors.New(`User "vigil" cannot create resource "pods" in API group "" in the namespace "vigil"`)),
			refused: scheduler.RefusedForbidden},
		{name: "quota used up", createErr: apierrors.NewForbidden(gr, "x", errors.New("exceeded quota: q, requested: pods=1, used: pods=0, limited: pods=0")),
			refused: scheduler.RefusedQuota},
		{name: "a pod of another try under our name", createErr: apierrors.NewAlreadyExists(gr, PodName(tryKey("etl", "r1", "load", 1))),
			existing: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: PodName(tryKey("etl", "r1", "load", 1)), Namespace: "vigil"}}, wantInvalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var objs []runtime.Object
			if tt.existing != nil {
				objs = append(objs, tt.existing)
			}
			cs := fake.NewClientset(objs...)
			cs.PrependReactor("create", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, tt.createErr
			})
			ex := newTestExecutor(t, cs, nil)
			err := ex.Start(t.Context(), scheduler.Try{Key: tryKey("etl", "r1", "load", 1), Spec: spec()})
			if err == nil {
				t.Fatal("Start succeeded")
			}
			if got := errors.Is(err, scheduler.ErrTaskInvalid); got != tt.wantInvalid {
				t.Fatalf("ErrTaskInvalid = %v, want %v (err %v)", got, tt.wantInvalid, err)
			}
			var ref *scheduler.RefusedError
			if errors.As(err, &ref) != (tt.refused != "") || (ref != nil && ref.Reason != tt.refused) {
				t.Fatalf("refused: %v, want %q (err %v)", ref, tt.refused, err)
			}
			var ra interface{ RetryAfter() time.Duration }
			if gotRA := errors.As(err, &ra); gotRA != (tt.retryAfter > 0) || (gotRA && ra.RetryAfter() != tt.retryAfter) {
				t.Fatalf("retry after: %v %v, want %v", gotRA, ra, tt.retryAfter)
			}
		})
	}
}

// events runs the executor and returns a function that waits for the next
// event.
func events(t *testing.T, ex *Executor) func() scheduler.Event {
	ch := make(chan scheduler.Event, 16)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- ex.Run(ctx, ch) }()
	t.Cleanup(func() { cancel(); <-done })
	return func() scheduler.Event {
		t.Helper()
		select {
		case ev := <-ch:
			return ev
		case <-time.After(10 * time.Second):
			t.Fatal("no event within 10s")
			return scheduler.Event{}
		}
	}
}

func setStatus(t *testing.T, cs *fake.Clientset, name string, st corev1.PodStatus) {
	t.Helper()
	pod, err := cs.CoreV1().Pods("vigil").Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.Status = st
	if _, err := cs.CoreV1().Pods("vigil").UpdateStatus(t.Context(), pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func terminated(code int32, reason string) corev1.PodStatus {
	return corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{
		Name: ContainerName, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason}},
	}}}
}

func withReason(st corev1.PodStatus, reason, message string) corev1.PodStatus {
	st.Reason, st.Message = reason, message
	return st
}

// disrupted adds the DisruptionTarget condition Kubernetes sets on a pod
// it is about to end for its own reasons.
func disrupted(st corev1.PodStatus, reason, message string) corev1.PodStatus {
	st.Conditions = append(st.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: reason, Message: message})
	return st
}

func TestPodStatesBecomeEvents(t *testing.T) {
	tests := []struct {
		name     string
		statuses []corev1.PodStatus
		delete   bool
		want     []scheduler.EventKind
		reason   string
		code     int
		cause    string
	}{
		{name: "success", statuses: []corev1.PodStatus{{Phase: corev1.PodRunning}, {Phase: corev1.PodSucceeded}},
			want: []scheduler.EventKind{scheduler.EventStarted, scheduler.EventExited}, reason: "exit code 0"},
		{name: "failure with exit code", statuses: []corev1.PodStatus{{Phase: corev1.PodRunning}, terminated(3, "Error")},
			want: []scheduler.EventKind{scheduler.EventStarted, scheduler.EventExited}, reason: "exit code 3 (Error)", code: 3},
		{name: "out of memory, unseen while running", statuses: []corev1.PodStatus{terminated(137, "OOMKilled")},
			want: []scheduler.EventKind{scheduler.EventStarted, scheduler.EventExited}, reason: "exit code 137 (OOMKilled)", code: 137},
		{name: "evicted", statuses: []corev1.PodStatus{{Phase: corev1.PodFailed, Reason: "Evicted", Message: "node low on memory"}},
			want: []scheduler.EventKind{scheduler.EventStarted, scheduler.EventEvicted}, reason: "Evicted: node low on memory", cause: scheduler.CauseEvicted},
		{name: "evicted, its container killed", statuses: []corev1.PodStatus{{Phase: corev1.PodRunning}, withReason(terminated(137, "Error"), "Evicted", "The node was low on resource: memory.")},
			want: []scheduler.EventKind{scheduler.EventStarted, scheduler.EventEvicted}, reason: "Evicted: The node was low on resource: memory.", cause: scheduler.CauseEvicted},
		{name: "preempted by the kubelet", statuses: []corev1.PodStatus{{Phase: corev1.PodFailed, Reason: "Preempting", Message: "Preempted in order to admit critical pod"}},
			want: []scheduler.EventKind{scheduler.EventStarted, scheduler.EventEvicted}, reason: "Preempting: Preempted in order to admit critical pod", cause: scheduler.CausePreempted},
		{name: "preempted by the scheduler", statuses: []corev1.PodStatus{{Phase: corev1.PodRunning}, disrupted(terminated(137, "Error"), "PreemptionByScheduler", "preempted by pod x")},
			want: []scheduler.EventKind{scheduler.EventStarted, scheduler.EventEvicted}, reason: "PreemptionByScheduler: preempted by pod x", cause: scheduler.CausePreempted},
		{name: "container lost by the kubelet", statuses: []corev1.PodStatus{{Phase: corev1.PodRunning}, terminated(137, "ContainerStatusUnknown")},
			want: []scheduler.EventKind{scheduler.EventStarted, scheduler.EventEvicted}, reason: "exit code 137 (ContainerStatusUnknown)", cause: scheduler.CauseContainerLost},
		{name: "deleted with its lost node", statuses: []corev1.PodStatus{disrupted(corev1.PodStatus{Phase: corev1.PodRunning}, "DeletionByTaintManager", "Taint manager: deleting due to NoExecute taint")}, delete: true,
			want: []scheduler.EventKind{scheduler.EventStarted, scheduler.EventEvicted}, reason: "DeletionByTaintManager: Taint manager: deleting due to NoExecute taint (pod deleted)", cause: scheduler.CauseNodeLost},
		{name: "image pull backoff", statuses: []corev1.PodStatus{{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{
			Name: ContainerName, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "Back-off pulling image"}}}}}},
			want: []scheduler.EventKind{scheduler.EventFailed}, reason: "container task: ImagePullBackOff: Back-off pulling image"},
		{name: "deleted while running", statuses: []corev1.PodStatus{{Phase: corev1.PodRunning}}, delete: true,
			want: []scheduler.EventKind{scheduler.EventStarted, scheduler.EventLost}, reason: "deleted by someone else"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := fake.NewClientset()
			ex := newTestExecutor(t, cs, nil)
			next := events(t, ex)
			k := tryKey("etl", "r1", "load", 1)
			if err := ex.Start(t.Context(), scheduler.Try{Key: k, Spec: spec()}); err != nil {
				t.Fatal(err)
			}
			var got []scheduler.Event
			for _, st := range tt.statuses {
				setStatus(t, cs, PodName(k), st)
				got = append(got, next())
			}
			if tt.delete {
				if err := cs.CoreV1().Pods("vigil").Delete(t.Context(), PodName(k), metav1.DeleteOptions{}); err != nil {
					t.Fatal(err)
				}
				got = append(got, next())
			}
			for len(got) < len(tt.want) { // one status can say two things: started, then ended
				got = append(got, next())
			}
			for i, ev := range got {
				if ev.Kind != tt.want[i] || ev.Key != k {
					t.Fatalf("event %d = %s for %v, want %s", i, ev.Kind, ev.Key, tt.want[i])
				}
			}
			last := got[len(got)-1]
			if !strings.Contains(last.Reason, tt.reason) || last.ExitCode != tt.code || last.Cause != tt.cause {
				t.Fatalf("last event: reason %q code %d cause %q, want %q code %d cause %q", last.Reason, last.ExitCode, last.Cause, tt.reason, tt.code, tt.cause)
			}
		})
	}
}

func TestAdopt(t *testing.T) {
	k := tryKey("etl", "r1", "load", 1)
	tests := []struct {
		name   string
		status *corev1.PodStatus
		want   scheduler.Phase
		code   int
	}{
		{"no pod", nil, scheduler.PhaseMissing, 0},
		{"running", &corev1.PodStatus{Phase: corev1.PodRunning}, scheduler.PhaseRunning, 0},
		{"pending", &corev1.PodStatus{Phase: corev1.PodPending}, scheduler.PhaseRunning, 0},
		{"succeeded", &corev1.PodStatus{Phase: corev1.PodSucceeded}, scheduler.PhaseExited, 0},
		{"failed", func() *corev1.PodStatus { s := terminated(4, "Error"); return &s }(), scheduler.PhaseExited, 4},
		{"evicted", func() *corev1.PodStatus {
			s := withReason(terminated(137, "Error"), "Evicted", "low on memory")
			return &s
		}(), scheduler.PhaseEvicted, 0},
		{"out of memory", func() *corev1.PodStatus { s := terminated(137, "OOMKilled"); return &s }(), scheduler.PhaseExited, 137},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := fake.NewClientset()
			ex := newTestExecutor(t, cs, nil)
			if tt.status != nil {
				pod, err := ex.buildPod(scheduler.Try{Key: k, Spec: spec()})
				if err != nil {
					t.Fatal(err)
				}
				pod.Status = *tt.status
				if _, err := cs.CoreV1().Pods("vigil").Create(t.Context(), pod, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			obs, err := ex.Adopt(t.Context(), k, "")
			if err != nil {
				t.Fatal(err)
			}
			if obs.Phase != tt.want || obs.ExitCode != tt.code {
				t.Fatalf("Adopt = %+v, want phase %s code %d", obs, tt.want, tt.code)
			}
		})
	}
}

func TestGarbageCollection(t *testing.T) {
	tests := []struct {
		name       string
		opts       func(*Options)
		status     corev1.PodStatus
		release    bool // the scheduler recorded the end
		wantDelete bool
	}{
		{"succeeded pod deleted when asked, once recorded", func(o *Options) { o.DeleteSucceeded = true }, corev1.PodStatus{Phase: corev1.PodSucceeded}, true, true},
		// A scheduler killed before it recorded the success must find the
		// pod after its restart.
		{"succeeded pod kept until its end is recorded", func(o *Options) { o.DeleteSucceeded = true }, corev1.PodStatus{Phase: corev1.PodSucceeded}, false, false},
		{"succeeded pod kept by default", nil, corev1.PodStatus{Phase: corev1.PodSucceeded}, true, false},
		{"failed pod kept for KeepFailed, then deleted", func(o *Options) { o.KeepFailed = time.Minute },
			func() corev1.PodStatus {
				s := terminated(2, "Error")
				s.ContainerStatuses[0].State.Terminated.FinishedAt = metav1.NewTime(time.Now().Add(-2 * time.Minute))
				return s
			}(), false, true},
		{"recently failed pod kept", func(o *Options) { o.KeepFailed = time.Hour },
			func() corev1.PodStatus {
				s := terminated(2, "Error")
				s.ContainerStatuses[0].State.Terminated.FinishedAt = metav1.NewTime(time.Now().Add(-time.Minute))
				return s
			}(), false, false},
		{"failed pod with no finish time kept", func(o *Options) { o.KeepFailed = time.Second }, terminated(2, "Error"), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := fake.NewClientset()
			ex := newTestExecutor(t, cs, tt.opts)
			next := events(t, ex)
			k := tryKey("etl", "r1", "load", 1)
			if err := ex.Start(t.Context(), scheduler.Try{Key: k, Spec: spec()}); err != nil {
				t.Fatal(err)
			}
			setStatus(t, cs, PodName(k), tt.status)
			next() // the end event: the pod is finished and seen
			if tt.release {
				ex.Release(k)
			}
			deadline := time.Now().Add(3 * time.Second) // housekeeping runs every second
			for time.Now().Before(deadline) {
				_, err := cs.CoreV1().Pods("vigil").Get(t.Context(), PodName(k), metav1.GetOptions{})
				if apierrors.IsNotFound(err) {
					if !tt.wantDelete {
						t.Fatal("pod deleted, want it kept")
					}
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
			if tt.wantDelete {
				t.Fatal("pod not deleted within 3s")
			}
		})
	}
}

func TestLogsThroughTheAPI(t *testing.T) {
	ex := newTestExecutor(t, fake.NewClientset(), nil)
	rc, err := ex.Logs(t.Context(), tryKey("etl", "r1", "load", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b := make([]byte, 64)
	n, _ := rc.Read(b)
	if got := string(b[:n]); got != "fake logs" { // what the fake clientset serves
		t.Fatalf("logs = %q", got)
	}
}
