package main

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
)

const runTimeoutDAG = `
id: slow
run_timeout: 3s
tasks:
  - id: hang
    retries: 2
    command: [sh, -c, 'echo $$ > RAN_DIR/hang.pid; exec sleep 60']
`

// TestRunTimeoutStopsTheRun runs a real `vigil run` on a DAG with
// run_timeout: 3s whose task sleeps for a minute: the run ends failed soon
// after 3s, the sleeping process is gone, the task used none of its
// retries, and its history names the run timeout.
func TestRunTimeoutStopsTheRun(t *testing.T) {
	e := newEnv(t, map[string]string{"slow.yaml": runTimeoutDAG})
	e.start()
	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		out, err := e.vigil("dags", "list")
		return err == nil && strings.Contains(out, "slow")
	})
	e.mustVigil("dags", "trigger", "slow")
	var pid int
	e.waitFor("the task to start", 30*time.Second, func() bool {
		b, err := os.ReadFile(filepath.Join(e.ran, "hang.pid"))
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && pid > 0
	})
	var runs []scheduler.Run
	// sleep 60 would end the run after a minute; well before that it
	// must have been stopped by the 3s run timeout.
	e.waitFor("the run to end", 40*time.Second, func() bool {
		out, err := e.vigil("runs", "list", "--dag", "slow", "-o", "json")
		if err != nil || unmarshalPage(out, &runs) != nil {
			return false
		}
		return len(runs) == 1 && runs[0].State != scheduler.RunRunning
	})
	if runs[0].State != scheduler.RunFailed {
		t.Errorf("run ended %s, want failed", runs[0].State)
	}
	e.waitFor("the task's process to be gone", 10*time.Second, func() bool {
		return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
	})
	ti := e.tasks("slow")["hang"]
	if ti.State != scheduler.StateFailed || ti.Try != 1 {
		t.Errorf("hang ended %s on try %d, want failed on try 1 (retries unused)", ti.State, ti.Try)
	}
	hist := e.mustVigil("tasks", "history", "slow", "latest", "hang")
	if !strings.Contains(hist, "run timeout 3s exceeded") {
		t.Errorf("history of hang does not name the run timeout:\n%s", hist)
	}
}
