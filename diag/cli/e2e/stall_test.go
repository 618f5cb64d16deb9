package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/cli/clitest"
	"github.com/vigilhq/vigil/diag/cli/hangs"
	"github.com/vigilhq/vigil/executor/kube/kubetest"
)

// TestStalledLoopNamed is the page an on-call engineer gets, end to end:
// the scheduler's loop blocks in a DELETE on a black-holed apiserver (the
// task passes its execution timeout, so the loop stops its pod), and
// `diag hangs` and `diag attach` must name that call, its pod and its
// deadline, with nothing but the debug socket.
func TestStalledLoopNamed(t *testing.T) {
	faults := kubetest.NewFaults(t) // skips without the test control plane or toxiproxy
	cs := kubetest.Client(t)
	ns := kubetest.Namespace(t, cs)
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "pod.yaml")
	if err := os.WriteFile(tmpl, []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    sim.kwok.local/run-duration: 10m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dags := map[string]string{"stall.yaml": "id: stall\ntasks:\n  - id: slow\n    command: [\"sleep\", \"600\"]\n    execution_timeout: 4s\n"}
	extra := []string{"--executor", "kubernetes", "--kubeconfig", faults.Kubeconfig, "-n", ns,
		"--default-image", "busybox:1.36", "--pod-template", tmpl}
	s := clitest.Start(t, clitest.Options{DAGs: dags, Extra: extra})
	clitest.WaitFor(t, "the DAG to load", 30*time.Second, func() bool {
		_, err := s.Vigil("dags", "trigger", "stall")
		return err == nil
	})
	clitest.WaitFor(t, "the task to run", 60*time.Second, func() bool { return s.TaskState(t, "stall", "slow") == "running" })

	// Healthy first: nothing can hang.
	if r := clitest.Run(t, s, "hangs"); r.Code != 0 {
		t.Fatalf("diag hangs on a healthy scheduler: exit %d\n%s%s", r.Code, r.Out, r.Err)
	}
	heal := faults.Toxic("blackhole", "timeout", "upstream", map[string]int{"timeout": 0})

	// The loop calls Stop at the execution timeout and blocks in the
	// DELETE; --older 2s reports it long before its own deadline.
	var r clitest.Result
	clitest.WaitFor(t, "diag hangs to report the blocked DELETE", 60*time.Second, func() bool {
		r = clitest.Run(t, s, "hangs", "--older", "2s", "-o", "json")
		return r.Code == 1 && strings.Contains(r.Out, `"op": "DELETE `)
	})
	var rep hangs.Report
	if err := json.Unmarshal([]byte(r.Out), &rep); err != nil {
		t.Fatalf("hangs -o json: %v\n%s", err, r.Out)
	}
	found := false
	for _, c := range rep.Calls {
		if strings.HasPrefix(c.Op, "DELETE ") && strings.Contains(c.Op, "/namespaces/"+ns+"/pods/") && c.Labels["loop"] == "scheduler" && c.Site != "" {
			found = true
		}
	}
	if !found {
		t.Errorf("hangs does not name the DELETE under loop=scheduler with its site:\n%s", r.Out)
	}
	human := clitest.Run(t, s, "hangs", "--older", "2s")
	if human.Code != 1 || !strings.Contains(human.Out, "CALLS THAT CAN HANG") || !strings.Contains(human.Out, "DELETE") {
		t.Errorf("diag hangs (human): exit %d\n%s%s", human.Code, human.Out, human.Err)
	}
	t.Logf("diag hangs:\n%s", human.Out)

	// attach: once the heartbeat is stale, its first lines say where the
	// loop is blocked.
	clitest.WaitFor(t, "attach to show the stale loop", 60*time.Second, func() bool {
		r = clitest.Run(t, s, "attach")
		return strings.Contains(r.Out, "STALE: ")
	})
	t.Logf("diag attach:\n%s", r.Out)
	head := strings.SplitN(r.Out, "HEARTBEATS", 2)[0]
	if !strings.Contains(head, "scheduler.loop stale") || !strings.Contains(head, "DELETE /api/v1/namespaces/"+ns+"/pods/") {
		t.Errorf("attach's first lines do not name the stale loop and its DELETE:\n%s", head)
	}
	if !strings.Contains(r.Out, "loop=scheduler") {
		t.Errorf("attach does not show the loop's labels")
	}
	// The drills: each runbook's first command, exactly as written, names
	// the blocked call.
	for _, page := range []string{"heartbeat-stale.md", "kube-api-slow.md"} {
		args := runbookCommand(t, page)
		clitest.WaitFor(t, "runbooks/"+page+"'s first command to name the DELETE", 60*time.Second, func() bool {
			r = clitest.Run(t, s, args...)
			return strings.Contains(r.Out, "DELETE /api/v1/namespaces/"+ns+"/pods/")
		})
	}
	if hr := clitest.Run(t, s, "health"); hr.Code != 1 || !strings.Contains(hr.Err, "scheduler.loop stale") {
		t.Errorf("diag health on a stale loop: exit %d, stderr %q; want 1 naming scheduler.loop", hr.Code, hr.Err)
	}

	// The liveness restart: /livez fails once the watchdog has written
	// its bundle; the kubelet kills the container and starts it again on
	// the same volumes. The restart-loop drill: the runbook's first
	// command, run against the new process, says why the old one died.
	livez := &http.Client{Timeout: 2 * time.Second}
	clitest.WaitFor(t, "/livez to fail", 60*time.Second, func() bool {
		resp, err := livez.Get("http://" + s.HealthAddr + "/livez")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	s.Kill(t)
	heal()
	s = clitest.Start(t, clitest.Options{Dir: s.Dir, DAGs: dags, Extra: extra})
	args := runbookCommand(t, "restart-loop.md")
	r = clitest.Run(t, s, args...)
	t.Logf("diag %s after the restart:\n%s", strings.Join(args, " "), r.Out)
	var stale string
	for line := range strings.SplitSeq(r.Out, "\n") {
		if strings.Contains(line, "scheduler.loop stale") && strings.Contains(line, "blocked in DELETE /api/v1/namespaces/"+ns+"/pods/") {
			stale = strings.Fields(line)[0]
		}
	}
	if r.Code != 0 || stale == "" {
		t.Fatalf("runbooks/restart-loop.md's first command after the restart: exit %d; no bundle naming the stale loop and its DELETE\n%s%s", r.Code, r.Out, r.Err)
	}
	saved := filepath.Join(t.TempDir(), "stale.tar.gz")
	if r = clitest.Run(t, s, "bundle", "get", stale, "-f", saved); r.Code != 0 {
		t.Fatalf("diag bundle get %s: exit %d\n%s%s", stale, r.Code, r.Out, r.Err)
	}
	if files := readBundle(t, saved); !strings.Contains(files["SUMMARY.txt"], "scheduler.loop stale") || files["inflight.json"] == "" {
		t.Errorf("the bundle from before the restart lacks its summary or calls in flight (%d files)", len(files))
	}
}
