package main

import (
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
)

const cleanupDAG = `
id: cleanup
tasks:
  - id: work
    retries: 0
    command: [sh, -c, 'echo "$VIGIL_TRY" >> RAN_DIR/work; exit 1']
  - id: cleanup
    depends_on: [work]
    trigger_rule: all_done
    command: [sh, -c, 'echo "$VIGIL_TRY" >> RAN_DIR/cleanup']
`

// TestCleanupTaskRunsAfterFailure runs a real `vigil run` on a DAG whose
// task work fails and whose task cleanup (trigger_rule: all_done) must run
// anyway: cleanup succeeds, its history names the rule, and the run still
// ends failed.
func TestCleanupTaskRunsAfterFailure(t *testing.T) {
	e := newEnv(t, map[string]string{"cleanup.yaml": cleanupDAG})
	e.start()
	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		out, err := e.vigil("dags", "list")
		return err == nil && strings.Contains(out, "cleanup")
	})
	e.mustVigil("dags", "trigger", "cleanup")
	var runs []scheduler.Run
	e.waitFor("the run to end", 60*time.Second, func() bool {
		out, err := e.vigil("runs", "list", "--dag", "cleanup", "-o", "json")
		if err != nil || unmarshalPage(out, &runs) != nil {
			return false
		}
		return len(runs) == 1 && runs[0].State != scheduler.RunRunning
	})
	if runs[0].State != scheduler.RunFailed {
		t.Errorf("run ended %s, want failed: its task work failed", runs[0].State)
	}
	tis := e.tasks("cleanup")
	if tis["work"].State != scheduler.StateFailed || tis["cleanup"].State != scheduler.StateSuccess {
		t.Errorf("work ended %s and cleanup %s, want failed and success", tis["work"].State, tis["cleanup"].State)
	}
	if got := e.executions("cleanup"); len(got) != 1 {
		t.Errorf("cleanup ran %d times, want once", len(got))
	}
	hist := e.mustVigil("tasks", "history", "cleanup", "latest", "cleanup")
	if !strings.Contains(hist, "trigger rule all_done: upstream tasks done (1 failed)") {
		t.Errorf("history of cleanup does not name its trigger rule:\n%s", hist)
	}
}
