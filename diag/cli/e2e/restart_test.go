package e2e

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/cli/clitest"
	"github.com/vigilhq/vigil/executor/kube/kubetest"
)

// TestRestartLocal restarts a local `vigil run` the way an on-call
// engineer would: a healthy scheduler is refused without --force and left
// alone with --if-stalled; --force writes a bundle with the reason, then
// SIGTERM ends the process, which drains and exits well before --grace.
func TestRestartLocal(t *testing.T) {
	s := clitest.Start(t, clitest.Options{})

	t.Run("healthy is refused", func(t *testing.T) {
		r := clitest.Run(t, s, "restart", "--reason", "test")
		if r.Code != 2 || !strings.Contains(r.Err, "healthy") || !strings.Contains(r.Err, "--force") {
			t.Fatalf("restart of a healthy scheduler: exit %d, stderr %q; want 2 and a hint", r.Code, r.Err)
		}
		mustRun(t, s)
	})
	t.Run("if-stalled leaves a healthy one alone", func(t *testing.T) {
		r := clitest.Run(t, s, "restart", "--if-stalled", "--reason", "test")
		if r.Code != 0 || !strings.Contains(r.Out, "nothing to do") {
			t.Fatalf("restart --if-stalled of a healthy scheduler: exit %d\n%s%s", r.Code, r.Out, r.Err)
		}
		mustRun(t, s)
		if b := bundles(t, s.BundleDir); len(b) != 0 {
			t.Errorf("restart --if-stalled wrote bundles on a healthy scheduler: %v", b)
		}
	})
	t.Run("force and if-stalled", func(t *testing.T) {
		if r := clitest.Run(t, s, "restart", "--force", "--if-stalled"); r.Code != 2 {
			t.Fatalf("restart --force --if-stalled: exit %d, want 2\n%s", r.Code, r.Err)
		}
	})
	t.Run("force", func(t *testing.T) {
		r := clitest.Run(t, s, "restart", "--force", "--reason", "test", "--grace", "30s")
		if r.Code != 0 {
			t.Fatalf("restart --force: exit %d\n%s%s", r.Code, r.Out, r.Err)
		}
		t.Logf("diag restart --force:\n%s", r.Out)
		for _, w := range []string{"--force: restarting it anyway", "Bundle: vigil-bundle-", "Sent SIGTERM to pid", "Stopped: pid"} {
			if !strings.Contains(r.Out, w) {
				t.Errorf("output lacks %q", w)
			}
		}
		if strings.Contains(r.Out, "SIGKILL") {
			t.Errorf("the scheduler needed SIGKILL; it should drain on SIGTERM")
		}
		clitest.WaitFor(t, "the process to be reaped", 10*time.Second, func() bool {
			return errors.Is(s.Cmd.Process.Signal(syscall.Signal(0)), os.ErrProcessDone)
		})
		b := bundles(t, s.BundleDir)
		if len(b) != 1 || !strings.Contains(b[0], "restart-test") {
			t.Errorf("bundles after restart: %v; want one named for the reason", b)
		}
		if !strings.Contains(s.Logs(), "scheduler stopped") {
			t.Errorf("the scheduler did not log a clean stop")
		}
	})
}

// TestRestartIfStalled is the runbook's `diag restart --if-stalled`, end
// to end: the scheduler's loop blocks in a DELETE on a black-holed
// apiserver (as in TestStalledLoopNamed); the heartbeat goes stale, and
// restart writes a bundle that names the blocked call, then stops the
// process.
func TestRestartIfStalled(t *testing.T) {
	faults := kubetest.NewFaults(t) // skips without the test control plane or toxiproxy
	cs := kubetest.Client(t)
	ns := kubetest.Namespace(t, cs)
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "pod.yaml")
	if err := os.WriteFile(tmpl, []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    sim.kwok.local/run-duration: 10m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := clitest.Start(t, clitest.Options{
		DAGs: map[string]string{"stall.yaml": "id: stall\ntasks:\n  - id: slow\n    command: [\"sleep\", \"600\"]\n    execution_timeout: 4s\n"},
		Extra: []string{"--executor", "kubernetes", "--kubeconfig", faults.Kubeconfig, "-n", ns,
			"--default-image", "busybox:1.36", "--pod-template", tmpl},
	})
	clitest.WaitFor(t, "the DAG to load", 30*time.Second, func() bool {
		_, err := s.Vigil("dags", "trigger", "stall")
		return err == nil
	})
	clitest.WaitFor(t, "the task to run", 60*time.Second, func() bool { return s.TaskState(t, "stall", "slow") == "running" })
	if r := clitest.Run(t, s, "restart", "--if-stalled"); r.Code != 0 || !strings.Contains(r.Out, "nothing to do") {
		t.Fatalf("restart --if-stalled before the stall: exit %d\n%s%s", r.Code, r.Out, r.Err)
	}
	faults.Toxic("restart-blackhole", "timeout", "upstream", map[string]int{"timeout": 0})
	clitest.WaitFor(t, "the loop's heartbeat to go stale", 90*time.Second, func() bool {
		return clitest.Run(t, s, "health").Code == 1
	})

	r := clitest.Run(t, s, "restart", "--if-stalled", "--reason", "loop stuck", "--grace", "5s")
	t.Logf("diag restart --if-stalled:\n%s%s", r.Out, r.Err)
	if r.Code != 0 {
		t.Fatalf("restart --if-stalled of a stalled scheduler: exit %d", r.Code)
	}
	for _, w := range []string{"Heartbeats: stale: scheduler.loop stale", "Bundle: vigil-bundle-", "Sent SIGTERM", "Stopped: pid"} {
		if !strings.Contains(r.Out, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	clitest.WaitFor(t, "the process to be reaped", 20*time.Second, func() bool {
		return errors.Is(s.Cmd.Process.Signal(syscall.Signal(0)), os.ErrProcessDone)
	})
	if b := bundles(t, s.BundleDir); !containsSubstring(b, "restart-loop-stuck") {
		t.Errorf("bundles after restart: %v; want one named for the reason", b)
	}
}

func mustRun(t *testing.T, s *clitest.Scheduler) {
	t.Helper()
	if err := s.Cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the scheduler is no longer running: %v", err)
	}
	if r := clitest.Run(t, s, "health"); r.Code != 0 {
		t.Fatalf("diag health after restart was refused: exit %d\n%s%s", r.Code, r.Out, r.Err)
	}
}

func bundles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "vigil-bundle-*.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	return m
}

func containsSubstring(xs []string, sub string) bool {
	for _, x := range xs {
		if strings.Contains(x, sub) {
			return true
		}
	}
	return false
}
