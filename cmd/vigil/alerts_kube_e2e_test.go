package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/vigilhq/vigil/executor/kube/kubetest"
	"github.com/vigilhq/vigil/internal/toxiproxy"
	"github.com/vigilhq/vigil/scheduler"
)

// TestAlertsTellRBACFromQuota stages both refusals of issue 16 on the
// test apiserver, each on a real `vigil run` of its own: one scheduler's
// user may not create pods (RBAC: forbidden), the other's namespace has a
// ResourceQuota its task does not fit (exceeded quota). From their
// scrapes, VigilTasksForbidden fires for the first's DAG only and
// VigilTasksWaitingForQuota for the second's only; nothing else fires.
func TestAlertsTellRBACFromQuota(t *testing.T) {
	promtoolPath(t)
	kubetest.Config(t, "KUBECONFIG") // skips without the test control plane
	cs := kubetest.Client(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	// Forbidden: a user that may watch and delete pods but not create them.
	nsF := kubetest.Namespace(t, cs)
	user := fmt.Sprintf("vigil-alerts-no-create-%d", time.Now().UnixNano())
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "vigil-executor"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch", "delete"}},
		{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}},
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"create", "get", "update", "list", "watch"}},
	}}
	if _, err := cs.RbacV1().Roles(nsF).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().RoleBindings(nsF).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "vigil-executor"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kcF := impersonatingKubeconfig(t, os.Getenv("KUBECONFIG"), user)

	// Quota: requests.cpu 1 in the namespace, a task asking for 2.
	nsQ := kubetest.Namespace(t, cs)
	quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "alerts", Namespace: nsQ},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourceRequestsCPU: resource.MustParse("1")}}}
	if _, err := cs.CoreV1().ResourceQuotas(nsQ).Create(ctx, quota, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	stage := func(dagID, kubeconfig, ns, resources string) []string {
		e := newEnv(t, map[string]string{dagID + ".yaml": "id: " + dagID + "\ntasks:\n  - id: load\n    command: [\"true\"]\n" + resources})
		health := freeAddr(t)
		e.extra = []string{"--executor", "kubernetes", "--kubeconfig", kubeconfig, "-n", ns, "--default-image", "busybox:1.36",
			"--health-addr", health}
		e.start()
		e.waitFor("the DAG to load", 30*time.Second, func() bool {
			_, err := e.vigil("dags", "trigger", dagID)
			return err == nil
		})
		scrapes := []string{scrapeMetrics(t, health)}
		e.waitFor(dagID+"'s task to be refused", 60*time.Second, func() bool {
			s := scrapeMetrics(t, health)
			scrapes = append(scrapes, s)
			return strings.Contains(s, `vigil_tasks_refused{dag="`+dagID+`"`)
		})
		for range 3 { // refused, and still refused
			time.Sleep(time.Second)
			scrapes = append(scrapes, scrapeMetrics(t, health))
		}
		if ti := e.tasks(dagID)["load"]; ti.State != "queued" {
			t.Errorf("%s/load is %s, want queued (refused)", dagID, ti.State)
		}
		return scrapes
	}
	forbidden := stage("etl", kcF, nsF, "")
	if last := forbidden[len(forbidden)-1]; !strings.Contains(last, `vigil_tasks_refused{dag="etl",reason="forbidden"} 1`) {
		t.Errorf("forbidden scrape:\n%s", grepLines(last, "refus"))
	}
	checkAlerts(t, forbidden, []firing{
		{"VigilTasksForbidden", map[string]string{"instance": alertInstance, "dag": "etl", "reason": "forbidden", "severity": "critical"}},
	})
	waiting := stage("report", os.Getenv("KUBECONFIG"), nsQ, "    resources: {cpu: \"2\", memory: 64Mi}\n")
	if last := waiting[len(waiting)-1]; !strings.Contains(last, `vigil_tasks_refused{dag="report",reason="quota"} 1`) {
		t.Errorf("quota scrape:\n%s", grepLines(last, "refus"))
	}
	checkAlerts(t, waiting, []firing{
		{"VigilTasksWaitingForQuota", map[string]string{"instance": alertInstance, "dag": "report", "reason": "quota", "severity": "warning"}},
	})
}

// impersonatingKubeconfig writes a copy of the kubeconfig at path whose
// users act as user (`as:`), and returns its path.
func impersonatingKubeconfig(t *testing.T, path, user string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, ai := range cfg.AuthInfos {
		ai.Impersonate = user
	}
	out := filepath.Join(t.TempDir(), "kubeconfig-"+user)
	if err := clientcmd.WriteToFile(*cfg, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAlertsOnAStalledLoop is the stall of TestStalledLoopLeavesBundle
// seen by the alerts: the apiserver black-holed while the loop stops a
// pod. From the scrapes, VigilHeartbeatStale fires for scheduler.loop (and
// for any other heartbeat the scrape shows stale), VigilLivenessFailing
// and VigilDiagBundleWritten{reason="stale"} fire; nothing else, except
// VigilKubeAPIErrors, left unchecked: whether the black-holed calls have
// timed out by the last scrape depends on timing.
func TestAlertsOnAStalledLoop(t *testing.T) {
	promtoolPath(t)
	faults := kubetest.NewFaults(t) // skips without the test control plane or toxiproxy
	cs := kubetest.Client(t)
	ns := kubetest.Namespace(t, cs)
	e := newEnv(t, map[string]string{"stall.yaml": `
id: stall
tasks:
  - id: slow
    command: ["sleep", "600"]
    execution_timeout: 4s
`})
	tmpl := filepath.Join(e.dir, "pod.yaml")
	if err := os.WriteFile(tmpl, []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    sim.kwok.local/run-duration: 10m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	health := freeAddr(t)
	e.extra = []string{"--executor", "kubernetes", "--kubeconfig", faults.Kubeconfig, "-n", ns,
		"--default-image", "busybox:1.36", "--pod-template", tmpl,
		"--runtime-dir", filepath.Join(e.dir, "run"), "--bundle-dir", filepath.Join(e.dir, "bundles"), "--health-addr", health}
	e.start()
	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		_, err := e.vigil("dags", "trigger", "stall")
		return err == nil
	})
	scrapes := []string{scrapeMetrics(t, health)}
	e.waitFor("the task to run", 60*time.Second, func() bool { return e.tasks("stall")["slow"].State == "running" })
	scrapes = append(scrapes, scrapeMetrics(t, health))
	faults.Toxic("blackhole", "timeout", "upstream", map[string]int{"timeout": 0})
	e.waitFor("/livez to fail", 60*time.Second, func() bool {
		s := scrapeMetrics(t, health)
		scrapes = append(scrapes, s)
		return strings.Contains(s, "\nvigil_live 0\n")
	})
	last := scrapes[len(scrapes)-1]
	if !strings.Contains(last, `vigil_diag_bundles_written_total{reason="stale"} 1`) {
		t.Errorf("the watchdog's bundle is not counted:\n%s", grepLines(last, "bundles_written"))
	}
	want := []firing{
		{"VigilLivenessFailing", map[string]string{"instance": alertInstance, "severity": "critical"}},
		{"VigilDiagBundleWritten", map[string]string{"instance": alertInstance, "reason": "stale", "severity": "warning"}},
	}
	var stale []string
	for _, l := range strings.Split(last, "\n") {
		name, ok := strings.CutPrefix(l, `vigil_heartbeat_stale{name="`)
		if ok && strings.HasSuffix(name, `"} 1`) {
			name = strings.TrimSuffix(name, `"} 1`)
			stale = append(stale, name)
			want = append(want, firing{"VigilHeartbeatStale", map[string]string{"instance": alertInstance, "name": name, "severity": "critical"}})
		}
	}
	if !slices.Contains(stale, "scheduler.loop") {
		t.Errorf("stale heartbeats %v, want scheduler.loop among them", stale)
	}
	checkAlertsIgnoring(t, scrapes, want, []string{"VigilKubeAPIErrors"})
}

// TestAlertsOnZombiesAndPendingPods: a scheduler killed while a task's
// pod runs, the pod deleted before it restarts (the restarted scheduler
// finds a try running in the store with no pod: a zombie), and a task
// whose pod no node can take (pending past pending_timeout). From the
// restarted scheduler's scrapes VigilZombieTasks fires for the first DAG
// and VigilPodsPendingTooLong for the second; nothing else.
func TestAlertsOnZombiesAndPendingPods(t *testing.T) {
	promtoolPath(t)
	kubetest.Config(t, "KUBECONFIG") // skips without the test control plane
	cs := kubetest.Client(t)
	ns := kubetest.Namespace(t, cs)
	e := newEnv(t, map[string]string{
		"etl.yaml": "id: etl\ntasks:\n  - id: load\n    command: [sleep, \"600\"]\n",
		"ml.yaml":  "id: ml\ntasks:\n  - id: train\n    command: [\"true\"]\n    resources: {cpu: 100m, memory: 10Ti}\n",
	})
	tmpl := filepath.Join(e.dir, "pod.yaml")
	if err := os.WriteFile(tmpl, []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    sim.kwok.local/run-duration: 10m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(e.dir, "vigil.yaml")
	if err := os.WriteFile(conf, []byte("kube:\n  pending_timeout: 3s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	health := freeAddr(t)
	e.extra = []string{"--config", conf, "--executor", "kubernetes", "--kubeconfig", os.Getenv("KUBECONFIG"), "-n", ns,
		"--default-image", "busybox:1.36", "--pod-template", tmpl, "--health-addr", health}
	d := e.start()
	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		_, err := e.vigil("dags", "trigger", "etl")
		return err == nil
	})
	e.waitFor("etl's task to run", 60*time.Second, func() bool { return e.tasks("etl")["load"].State == "running" })
	_ = d.stop(t, syscall.SIGKILL, 10*time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := cs.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the pod to be gone", 30*time.Second, func() bool {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		return err == nil && len(pods.Items) == 0
	})

	e.start()
	e.waitFor("the restarted scheduler's API", 30*time.Second, func() bool {
		_, err := e.vigil("dags", "trigger", "ml")
		return err == nil
	})
	scrapes := []string{scrapeMetrics(t, health)}
	e.waitFor("the zombie and the pending timeout to be counted", 90*time.Second, func() bool {
		s := scrapeMetrics(t, health)
		scrapes = append(scrapes, s)
		return strings.Contains(s, `vigil_zombies_total{dag="etl"} 1`) && strings.Contains(s, `vigil_pod_pending_timeouts_total{dag="ml"} 1`)
	})
	if h := e.history("etl", "load"); !strings.Contains(h, "zombie") {
		t.Errorf("etl/load's history does not say zombie:\n%s", h)
	}
	checkAlerts(t, scrapes, []firing{
		{"VigilZombieTasks", map[string]string{"instance": alertInstance, "dag": "etl", "severity": "warning"}},
		{"VigilPodsPendingTooLong", map[string]string{"instance": alertInstance, "dag": "ml", "severity": "warning"}},
	})
}

// TestAlertsOnFailingSubmits: the kube executor reaches the apiserver
// through a toxiproxy proxy of the test's own; once the scheduler is
// ready, a reset_peer toxic resets every connection, so each pod creation
// fails with a connection reset (neither forbidden nor quota) and the try
// is requeued after the submit backoff. From the scrapes taken while the
// failures go on, VigilTaskSubmitsFailing fires for the DAG with reason
// "error"; nothing else. promtool checks 5 minutes after the last scrape:
// the rule counts failures over the last 10 minutes, so it names an
// incident that is still going on.
func TestAlertsOnFailingSubmits(t *testing.T) {
	promtoolPath(t)
	kubetest.Config(t, "KUBECONFIG") // skips without the test control plane
	cs := kubetest.Client(t)
	ns := kubetest.Namespace(t, cs)
	cfg, err := clientcmd.LoadFromFile(os.Getenv("KUBECONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	var proxy *toxiproxy.Proxy
	for _, c := range cfg.Clusters {
		u, err := url.Parse(c.Server)
		if err != nil {
			t.Fatal(err)
		}
		if proxy == nil {
			proxy = toxiproxy.New(t, u.Host) // skips without toxiproxy
		}
		u.Host = proxy.Listen
		c.Server = u.String()
	}
	kc := filepath.Join(t.TempDir(), "kubeconfig-proxied")
	if err := clientcmd.WriteToFile(*cfg, kc); err != nil {
		t.Fatal(err)
	}

	e := newEnv(t, map[string]string{"etl.yaml": "id: etl\ntasks:\n" +
		"  - id: a\n    command: [\"true\"]\n  - id: b\n    command: [\"true\"]\n  - id: c\n    command: [\"true\"]\n"})
	health := freeAddr(t)
	e.extra = []string{"--executor", "kubernetes", "--kubeconfig", kc, "-n", ns, "--default-image", "busybox:1.36",
		"--health-addr", health}
	e.start()
	e.waitFor("the scheduler to be ready", 60*time.Second, func() bool {
		code, _ := probe(health, "/readyz")
		return code == http.StatusOK
	})
	scrapes := []string{scrapeMetrics(t, health)}
	proxy.Toxic("reset", "reset_peer", "upstream", map[string]int{"timeout": 0})
	e.mustVigil("dags", "trigger", "etl")
	const failures = 15
	e.waitFor(fmt.Sprintf("%d failed submits", failures), 90*time.Second, func() bool {
		time.Sleep(500 * time.Millisecond)
		s := scrapeMetrics(t, health)
		scrapes = append(scrapes, s)
		n := 0
		_, _ = fmt.Sscanf(grepLines(s, `vigil_task_submit_failures_total{dag="etl",reason="error"} `), `vigil_task_submit_failures_total{dag="etl",reason="error"} %d`, &n)
		return n >= failures
	})
	last := scrapes[len(scrapes)-1]
	if refused := grepLines(last, `reason="forbidden"`) + grepLines(last, `reason="quota"`); refused != "" {
		t.Errorf("the resets are counted as refusals:\n%s", refused)
	}
	for id, ti := range e.tasks("etl") {
		if ti.State == scheduler.StateRunning || ti.State == scheduler.StateSuccess || ti.State == scheduler.StateFailed {
			t.Errorf("etl/%s is %s; want it waiting to be submitted again", id, ti.State)
		}
	}
	checkAlertsAt(t, scrapes, []firing{
		{"VigilTaskSubmitsFailing", map[string]string{"instance": alertInstance, "dag": "etl", "reason": "error", "severity": "warning"}},
	}, nil, 5*time.Minute)
}
