// Package e2e runs diag's read commands against a live `vigil run`.
package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/diag/cli/clitest"
	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/runbooks"
)

func TestMain(m *testing.M) { clitest.Main(m) }

func TestReadCommandsOnHealthyScheduler(t *testing.T) {
	s := clitest.Start(t, clitest.Options{})
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"attach", []string{"attach"}, 0, []string{"HEARTBEATS", "scheduler.loop", "CALLS IN FLIGHT", "GOROUTINES", "loop=scheduler", "LAST BUNDLE"}},
		{"health", []string{"health"}, 0, []string{"status: ok", "scheduler.loop"}},
		{"hangs", []string{"hangs"}, 0, []string{"Nothing can hang"}},
		{"stacks", []string{"stacks", "--match", "loop=scheduler"}, 0, []string{"scheduler.(*Scheduler).loop"}},
		{"version", []string{"version", "--scheduler"}, 0, []string{"diag test", "scheduler "}},
		{"bad flag", []string{"attach", "--nope"}, 2, nil},
		{"bad output", []string{"health", "-o", "xml"}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := clitest.Run(t, s, tt.args...)
			if r.Code != tt.code {
				t.Fatalf("diag %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(tt.args, " "), r.Code, tt.code, r.Out, r.Err)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.Out, w) {
					t.Errorf("diag %s: output lacks %q:\n%s", strings.Join(tt.args, " "), w, r.Out)
				}
			}
		})
	}
	t.Run("health -o json", func(t *testing.T) {
		r := clitest.Run(t, s, "health", "-o", "json")
		var rep watchdog.HealthReport
		if err := json.Unmarshal([]byte(r.Out), &rep); err != nil || rep.Status != "ok" || len(rep.Heartbeats) == 0 {
			t.Errorf("health -o json: %v %+v\n%s", err, rep, r.Out)
		}
	})
	t.Run("no scheduler", func(t *testing.T) {
		r := clitest.Run(t, nil, "attach", "--runtime-dir", t.TempDir())
		if r.Code != 3 || !strings.Contains(r.Err, "no running scheduler found") {
			t.Errorf("attach with no scheduler: exit %d, stderr %q; want 3 and a hint", r.Code, r.Err)
		}
	})
}

// runbookCommand returns the first command of a runbook as diag
// arguments; it fails t if the page's first command is not a diag one.
func runbookCommand(t *testing.T, page string) []string {
	t.Helper()
	tool, args, err := runbooks.FirstCommand(page)
	if err != nil {
		t.Fatal(err)
	}
	if tool != "diag" {
		t.Fatalf("runbooks/%s starts with %s, not diag", page, tool)
	}
	return args
}
