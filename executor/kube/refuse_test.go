package kube_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/vigilhq/vigil/executor/kube/kubetest"
	"github.com/vigilhq/vigil/scheduler"
)

// createCounter counts the pod creates a client sends.
type createCounter struct {
	rt http.RoundTripper
	n  *atomic.Int64
}

func (c createCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/pods") {
		c.n.Add(1)
	}
	return c.rt.RoundTrip(req)
}

// countCreates makes cfg count its pod creates in n.
func countCreates(cfg *rest.Config, n *atomic.Int64) {
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return createCounter{rt: rt, n: n} })
}

func refusalDAG(n int) string {
	var b strings.Builder
	b.WriteString("id: d\ntasks:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - id: t%d\n    command: [\"true\"]\n", i)
	}
	return b.String()
}

// records counts a task's history records that start with prefix.
func (f *schedRun) records(runID, task, prefix string) int {
	n := 0
	for _, l := range f.history(runID, task) {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// waitRecord waits until every task of the run has a record starting
// with prefix.
func (f *schedRun) waitRecord(runID string, tasks int, prefix string) {
	f.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for i := 0; i < tasks; {
		if f.records(runID, fmt.Sprintf("t%d", i), prefix) > 0 {
			i++
			continue
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("task t%d has no record %q within a minute:\n%s", i, prefix, strings.Join(f.history(runID, fmt.Sprintf("t%d", i)), "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkOneRefusal checks each task's history holds exactly one record of
// its refusal and no requeue.
func (f *schedRun) checkOneRefusal(runID string, tasks int, prefix string) {
	f.t.Helper()
	for i := range tasks {
		task := fmt.Sprintf("t%d", i)
		if n, requeues := f.records(runID, task, prefix), f.records(runID, task, "queued→scheduled"); n != 1 || requeues != 0 {
			f.t.Errorf("%s: %d records %q and %d requeues, want 1 and 0:\n%s", task, n, prefix, requeues, strings.Join(f.history(runID, task), "\n"))
		}
	}
}

// TestRealQuotaRefusalBacksOff (issue 16): with a ResourceQuota of 0 pods
// in the namespace every create is refused. Tasks wait with the reason
// "waiting for quota", one record each; the creates back off
// exponentially instead of coming every SubmitBackoff; once the quota is
// raised the tasks run.
func TestRealQuotaRefusalBacksOff(t *testing.T) {
	const tasks = 3
	cfg := kubetest.Config(t, "KUBECONFIG")
	var creates atomic.Int64
	countCreates(cfg, &creates)
	f := newSchedRunConfig(t, cfg, map[string]string{"sim.kwok.local/run-duration": "500ms"}, refusalDAG(tasks),
		func(o *scheduler.Options) { o.SubmitBackoff, o.MaxSubmitBackoff = 250*time.Millisecond, 2*time.Second })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	quotas := f.direct.CoreV1().ResourceQuotas(f.ns)
	if _, err := quotas.Create(ctx, &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "no-pods"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("0")}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Until the quota controller has counted the namespace, the apiserver
	// refuses with "status unknown for quota"; wait for its count.
	for {
		q, err := quotas.Get(ctx, "no-pods", metav1.GetOptions{})
		if err == nil && q.Status.Hard != nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the quota controller did not count the namespace within 2 minutes: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	runID := f.trigger()
	f.waitRecord(runID, tasks, "queued→queued: waiting for quota: create pod ")
	before := creates.Load()
	const window = 6 * time.Second
	time.Sleep(window)
	during := creates.Load() - before
	// A fixed 250ms backoff makes 24 creates per task in 6s; doubling to
	// 2s makes about 4.
	if perTask := float64(during) / tasks; perTask > 8 || perTask < 1 {
		t.Errorf("%.1f refused creates per task in %s; want about 4 (backoff doubling from 250ms to 2s)", perTask, window)
	}
	t.Logf("%d refused creates for %d tasks in %s (a fixed 250ms backoff would make %d)", during, tasks, window, int(window/(250*time.Millisecond))*tasks)
	f.checkOneRefusal(runID, tasks, "queued→queued: waiting for quota: ")

	q, err := quotas.Get(ctx, "no-pods", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	q.Spec.Hard[corev1.ResourcePods] = resource.MustParse("10")
	if _, err := quotas.Update(ctx, q, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if run := f.waitEnd(); run.State != scheduler.RunSuccess {
		t.Fatalf("run ended %s after the quota was raised, want success", run.State)
	}
	f.checkOneRefusal(runID, tasks, "queued→queued: waiting for quota: ")
}

// TestRealRBACRefusalBacksOff: the scheduler's user may watch pods but
// not create them. The task waits with the reason "forbidden", one
// record; once the Role allows creates it runs.
func TestRealRBACRefusalBacksOff(t *testing.T) {
	const tasks = 1
	cfg := kubetest.Config(t, "KUBECONFIG")
	user := fmt.Sprintf("vigil-test-no-create-%d", time.Now().UnixNano())
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	var creates atomic.Int64
	countCreates(cfg, &creates)
	f := newSchedRunConfig(t, cfg, map[string]string{"sim.kwok.local/run-duration": "500ms"}, refusalDAG(tasks),
		func(o *scheduler.Options) { o.SubmitBackoff, o.MaxSubmitBackoff = 250*time.Millisecond, 2*time.Second })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rbac := f.direct.RbacV1()
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "vigil-executor"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch", "delete"}},
		{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}},
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"create", "get", "update", "list", "watch"}},
	}}
	if _, err := rbac.Roles(f.ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := rbac.RoleBindings(f.ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "vigil-executor"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	runID := f.trigger()
	f.waitRecord(runID, tasks, "queued→queued: forbidden: create pod ")
	for creates.Load() < 3 {
		if ctx.Err() != nil {
			t.Fatalf("%d creates within 2 minutes, want 3", creates.Load())
		}
		time.Sleep(100 * time.Millisecond)
	}
	f.checkOneRefusal(runID, tasks, "queued→queued: forbidden: ")
	if hist := f.history(runID, "t0"); !hasLine(hist, `cannot create resource \"pods\"`) && !hasLine(hist, `cannot create resource "pods"`) {
		t.Errorf("the refusal does not give the apiserver's words:\n%s", strings.Join(hist, "\n"))
	}

	role.Rules[0].Verbs = append(role.Rules[0].Verbs, "create")
	if _, err := rbac.Roles(f.ns).Update(ctx, role, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if run := f.waitEnd(); run.State != scheduler.RunSuccess {
		t.Fatalf("run ended %s after the Role allowed creates, want success", run.State)
	}
	f.checkOneRefusal(runID, tasks, "queued→queued: forbidden: ")
}
