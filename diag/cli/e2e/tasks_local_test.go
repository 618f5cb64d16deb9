package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/cli/clitest"
	"github.com/vigilhq/vigil/diag/debugapi"
)

// TestTasksLocalExecutor runs `diag tasks` against a real `vigil run` on
// the local executor (the default): the report lists the running try's
// process, with its pid, command, start and output size, and everything
// adds up.
func TestTasksLocalExecutor(t *testing.T) {
	command := []string{"sh", "-c", "echo started-by-vigil; sleep 120"}
	s := clitest.Start(t, clitest.Options{
		DAGs: map[string]string{"l.yaml": "id: l\ntasks:\n  - id: long\n    command: [\"sh\", \"-c\", \"echo started-by-vigil; sleep 120\"]\n"},
	})
	clitest.WaitFor(t, "the DAG to load", 30*time.Second, func() bool {
		_, err := s.Vigil("dags", "trigger", "l")
		return err == nil
	})
	clitest.WaitFor(t, "the task to run", 60*time.Second, func() bool { return s.TaskState(t, "l", "long") == "running" })

	var a debugapi.TaskAudit
	clitest.WaitFor(t, "the task's output to show in diag tasks", 30*time.Second, func() bool {
		r := clitest.Run(t, s, "tasks", "--grace", "0s", "-o", "json")
		if r.Code != 0 {
			t.Fatalf("diag tasks -o json: exit %d\n%s%s", r.Code, r.Out, r.Err)
		}
		if err := json.Unmarshal([]byte(r.Out), &a); err != nil {
			t.Fatalf("diag tasks -o json: %v\n%s", err, r.Out)
		}
		return len(a.Running) == 1 && a.Running[0].OutputBytes > 0
	})
	if a.Executor != "executor/local" || a.Live != 1 || a.Workloads != 1 || a.Findings() != 0 {
		t.Errorf("report: executor %q, %d live, %d workloads, %d findings; want executor/local, 1, 1, 0", a.Executor, a.Live, a.Workloads, a.Findings())
	}
	w := a.Running[0]
	if w.Key.DAGID != "l" || w.Key.TaskID != "long" || w.Key.Try != 1 || w.Phase != "Running" || !w.Tracked {
		t.Errorf("running: %+v; want l/…/long try 1 Running, tracked", w)
	}
	if !reflect.DeepEqual(w.Command, command) {
		t.Errorf("command %q, want %q", w.Command, command)
	}
	if w.OutputBytes != int64(len("started-by-vigil\n")) {
		t.Errorf("output %d bytes, want %d", w.OutputBytes, len("started-by-vigil\n"))
	}
	if age := a.Taken.Sub(w.Created); age < 0 || age > 2*time.Minute {
		t.Errorf("started %s before the report; want a moment ago", age)
	}
	// The pid is the try's real process: its command line is the wrapper's.
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", w.PID))
	if err != nil || !strings.Contains(string(cmdline), "vigil-try") || w.ExternalID != fmt.Sprintf("pid:%d", w.PID) {
		t.Errorf("pid %d (%s): /proc cmdline %q, %v; want the try's wrapper", w.PID, w.ExternalID, cmdline, err)
	}

	r := clitest.Run(t, s, "tasks", "--grace", "0s")
	for _, want := range []string{"1 live task instances against 1 workloads of executor/local", "RUNNING (1)",
		fmt.Sprintf("pid:%d", w.PID), "sh -c echo started-by-vigil; sleep 120", "Everything adds up"} {
		if !strings.Contains(r.Out, want) {
			t.Errorf("diag tasks: output lacks %q:\n%s", want, r.Out)
		}
	}
	if r.Code != 0 {
		t.Errorf("diag tasks: exit %d, want 0\n%s", r.Code, r.Err)
	}
}
