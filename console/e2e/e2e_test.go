// Package e2e runs the web console in a real browser (Debian's chromium,
// driven by playwright-core from console.mjs) against a real `vigil run`
// serving the operations API and the console. `make test` installs both
// (testenv/browser/setup.sh) and sets VIGIL_CHROMIUM and
// VIGIL_PLAYWRIGHT; without them the tests skip.
//
// Screenshots of each page at 1280x800 and 390x844 go to docs/console/
// with VIGIL_UPDATE_SCREENSHOTS=1, else to the test's temporary folder.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/diag/cli/clitest"
	"github.com/vigilhq/vigil/executor/kube/kubetest"
)

func TestMain(m *testing.M) {
	if browser() == "" {
		clitest.Main(m) // builds vigil, runs the tests
		return
	}
	os.Exit(m.Run())
}

// browser says what is missing to run the browser tests, or "" when
// nothing is.
func browser() string {
	if os.Getenv("VIGIL_CHROMIUM") == "" || os.Getenv("VIGIL_PLAYWRIGHT") == "" {
		return "VIGIL_CHROMIUM and VIGIL_PLAYWRIGHT are unset: run `eval \"$(testenv/browser/setup.sh)\"` first (make test does)"
	}
	return ""
}

func needBrowser(t *testing.T) {
	t.Helper()
	if why := browser(); why != "" {
		t.Skip(why)
	}
}

// served is a `vigil run` with its API on a free loopback port and two
// tokens: alice (operator) and bob (read-only).
type served struct {
	*clitest.Scheduler
	URL, Operator, ReadOnly string
}

func serve(t *testing.T, dags map[string]string, extra ...string) *served {
	t.Helper()
	dir := t.TempDir()
	tok := func(name string) (secret, file string) {
		secret = fmt.Sprintf("%s-%d-console-e2e-token", name, time.Now().UnixNano())
		file = filepath.Join(dir, name+".token")
		if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return secret, file
	}
	op, opFile := tok("alice")
	ro, roFile := tok("bob")
	extra = append([]string{"--api-addr", "127.0.0.1:0",
		"--api-token", "alice:operator:" + opFile, "--api-token", "bob:read-only:" + roFile}, extra...)
	s := clitest.Start(t, clitest.Options{DAGs: dags, Extra: extra})
	s.TokenFile = opFile // the test's own commands act as alice
	// vigil run names its API's address in its local record.
	record := filepath.Join(s.RuntimeDir, fmt.Sprintf("api-%d.json", s.Cmd.Process.Pid))
	var local api.Local
	clitest.WaitFor(t, "the API's local record "+record, 30*time.Second, func() bool {
		b, err := os.ReadFile(record)
		return err == nil && json.Unmarshal(b, &local) == nil && local.Server != ""
	})
	return &served{Scheduler: s, URL: local.Server, Operator: op, ReadOnly: ro}
}

func shotsDir(t *testing.T) string {
	if os.Getenv("VIGIL_UPDATE_SCREENSHOTS") == "1" {
		dir, err := filepath.Abs("../../docs/console")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

// script runs console.mjs in MODE mode against s and fails the test with
// its output if it fails.
func script(t *testing.T, s *served, mode string, env ...string) {
	t.Helper()
	shots := shotsDir(t)
	ctx, cancel := context.WithTimeout(t.Context(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "console.mjs")
	cmd.Env = append(os.Environ(), "MODE="+mode, "VIGIL_URL="+s.URL, "VIGIL_TOKEN_OP="+s.Operator,
		"VIGIL_TOKEN_RO="+s.ReadOnly, "SHOTS_DIR="+shots)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	t.Logf("console.mjs (%s), screenshots in %s:\n%s", mode, shots, out)
	if err != nil {
		t.Fatalf("console.mjs %s: %v", mode, err)
	}
}

// flaky's task a fails its only try, and succeeds when run again.
const flakyDAG = `id: flaky
description: A task that fails once, then succeeds when cleared.
tasks:
  - id: a
    command: [sh, -c, 'if [ -f "$0" ]; then echo "second try: input fixed"; else touch "$0"; echo "first try fails: bad input"; exit 1; fi']
    args: [MARK]
  - id: b
    depends_on: [a]
    command: [sh, -c, 'echo downstream ran']
`

func TestConsole(t *testing.T) {
	needBrowser(t)
	mark := filepath.Join(t.TempDir(), "a-ran")
	dags := map[string]string{
		"flaky.yaml":   strings.Replace(flakyDAG, "MARK", mark, 1),
		"nightly.yaml": "id: nightly\nschedule: \"@daily\"\nstart_date: 2026-01-01\ntasks:\n  - id: report\n    command: [\"true\"]\n",
		"broken.yaml":  "id: broken\ntasks:\n  - id: x\n    depends_on: [nowhere]\n    command: [\"true\"]\n",
		"gone.yaml":    "id: gone\ntasks:\n  - id: x\n    command: [\"true\"]\n",
	}
	s := serve(t, dags)
	vigil := func(args ...string) {
		clitest.WaitFor(t, "vigil "+strings.Join(args, " "), 30*time.Second, func() bool {
			_, err := s.Vigil(args...)
			return err == nil
		})
	}
	vigil("dags", "pause", "nightly")
	// gone's file is deleted once it is loaded: the DAG is missing.
	if err := os.Remove(filepath.Join(s.Dir, "dags", "gone.yaml")); err != nil {
		t.Fatal(err)
	}
	clitest.WaitFor(t, "gone to be missing", 30*time.Second, func() bool {
		out, err := s.Vigil("dags", "list", "-o", "json")
		var list api.DAGList
		if err != nil || json.Unmarshal([]byte(out), &list) != nil {
			return false
		}
		for _, d := range list.Items {
			if d.ID == "gone" && d.Missing {
				return true
			}
		}
		return false
	})
	// The first run's a fails; the later runs' a succeed (the mark is
	// there): the grid shows both.
	vigil("dags", "trigger", "flaky")
	clitest.WaitFor(t, "flaky's first run to fail", 60*time.Second, func() bool { return s.TaskState(t, "flaky", "a") == "failed" })
	for range 6 { // 7 runs: two pages of 5 in the grid
		vigil("dags", "trigger", "flaky")
	}
	script(t, s, "main")
}

// TestConsoleStalledLoop: with the scheduler's loop blocked on a
// black-holed apiserver (the recipe of diag/cli/e2e TestStalledLoopNamed),
// the banner names the stale loop and the call it waits on.
func TestConsoleStalledLoop(t *testing.T) {
	needBrowser(t)
	faults := kubetest.NewFaults(t) // skips without the test control plane or toxiproxy
	cs := kubetest.Client(t)
	ns := kubetest.Namespace(t, cs)
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "pod.yaml")
	if err := os.WriteFile(tmpl, []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    sim.kwok.local/run-duration: 10m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dags := map[string]string{"stall.yaml": "id: stall\ntasks:\n  - id: slow\n    command: [\"sleep\", \"600\"]\n    execution_timeout: 4s\n"}
	s := serve(t, dags, "--executor", "kubernetes", "--kubeconfig", faults.Kubeconfig, "-n", ns,
		"--default-image", "busybox:1.36", "--pod-template", tmpl)
	clitest.WaitFor(t, "the DAG to load", 30*time.Second, func() bool {
		_, err := s.Vigil("dags", "trigger", "stall")
		return err == nil
	})
	clitest.WaitFor(t, "the task to run", 60*time.Second, func() bool { return s.TaskState(t, "stall", "slow") == "running" })
	faults.Toxic("blackhole", "timeout", "upstream", map[string]int{"timeout": 0})
	script(t, s, "stall", "STALL_EXPECT=/api/v1/namespaces/"+ns+"/pods/")
}
