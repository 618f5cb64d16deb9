package local_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/executor/local"
	"github.com/vigilhq/vigil/scheduler"
)

func TestStopReasons(t *testing.T) {
	ex := newExecutor(t, t.TempDir(), local.Options{KillGrace: 300 * time.Millisecond})
	ch := events(t, ex)
	cases := []struct {
		name   string
		argv   []string
		code   int
		reason string
	}{
		{"ends on SIGTERM", []string{"sh", "-c", "echo ready; exec sleep 30"}, 143, "stopped: user asked (SIGTERM)"},
		// An ignored signal stays ignored across exec, so sleep ignores it too.
		{"ignores SIGTERM", []string{"sh", "-c", "trap '' TERM; echo ready; sleep 30"}, 137, "stopped: user asked (SIGKILL after 300ms grace)"},
		{"exits cleanly on SIGTERM", []string{"sh", "-c", "trap 'exit 0' TERM; echo ready; sleep 30 & wait"}, 0, "stopped: user asked (SIGTERM, then exit code 0)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := try(strings.ReplaceAll(c.name, " ", "-"), 1, c.argv...)
			if err := ex.Start(ctxFor(t), tr); err != nil {
				t.Fatal(err)
			}
			// The command says when its trap is in place.
			waitForOutput(t, ex, tr.Key, "ready\n")
			if err := ex.Stop(ctxFor(t), tr.Key, "user asked"); err != nil {
				t.Fatal(err)
			}
			ev := next(t, ch, scheduler.EventExited)
			if ev.ExitCode != c.code || ev.Reason != c.reason {
				t.Errorf("exit = %d %q, want %d %q", ev.ExitCode, ev.Reason, c.code, c.reason)
			}
		})
	}
}

// TestStopRightAfterStart: a Stop that comes while the wrapper is still
// starting the command must still end it with SIGTERM, not leave it running
// until SIGKILL.
func TestStopRightAfterStart(t *testing.T) {
	ex := newExecutor(t, t.TempDir(), local.Options{KillGrace: 5 * time.Second})
	ch := events(t, ex)
	const n = 20
	for i := 1; i <= n; i++ {
		tr := try("quick-stop", i, "sleep", "30")
		if err := ex.Start(ctxFor(t), tr); err != nil {
			t.Fatal(err)
		}
		if err := ex.Stop(ctxFor(t), tr.Key, "at once"); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		if ev := next(t, ch, scheduler.EventExited); ev.Reason != "stopped: at once (SIGTERM)" {
			t.Errorf("exit = %d %q, want the SIGTERM to have ended it", ev.ExitCode, ev.Reason)
		}
	}
}

func TestStopAll(t *testing.T) {
	ex := newExecutor(t, t.TempDir(), local.Options{})
	ch := events(t, ex)
	for i := 1; i <= 3; i++ {
		if err := ex.Start(ctxFor(t), try("long", i, "sleep", "30")); err != nil {
			t.Fatal(err)
		}
	}
	if err := ex.StopAll(ctxFor(t), "shutdown"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if ev := next(t, ch, scheduler.EventExited); ev.Reason != "stopped: shutdown (SIGTERM)" {
			t.Errorf("exit = %+v", ev)
		}
	}
}
