package scheduler_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/scheduler"
)

// deaf drops the events of chosen tasks, as a watch that silently stopped
// delivering would.
type deaf struct {
	*executortest.Memory
	drop map[string]bool
}

func (d *deaf) Run(ctx context.Context, out chan<- scheduler.Event) error {
	in := make(chan scheduler.Event, 64)
	done := make(chan error, 1)
	go func() { done <- d.Memory.Run(ctx, in) }()
	for {
		select {
		case ev := <-in:
			if d.drop[ev.Key.TaskID] && ev.Kind != scheduler.EventStarted {
				continue
			}
			select {
			case out <- ev:
			case <-ctx.Done():
			}
		case err := <-done:
			return err
		}
	}
}

// TestResyncFindsUnreportedEnds: tries whose end the executor never
// reported are found at resync and recorded with what the executor knows.
func TestResyncFindsUnreportedEnds(t *testing.T) {
	h := newHarness(t, map[string]string{"d.yaml": `
id: d
tasks:
  - id: ok
    command: [sleep, "0.1"]
  - id: bad
    command: [sh, -c, "exit 5"]
`})
	ex := &deaf{Memory: executortest.NewMemory(executortest.MemoryOptions{}), drop: map[string]bool{"ok": true, "bad": true}}
	h.start(func(o *scheduler.Options) { o.Executor = ex; o.ResyncInterval = 300 * time.Millisecond })
	runID := h.trigger("d")
	if run := h.waitRun("d", runID); run.State != scheduler.RunFailed {
		t.Fatalf("run ended %s, want failed (bad exits 5)", run.State)
	}
	wantHistory(t, h.history("d", runID, "ok"), "→scheduled", "scheduled→queued", "queued→running",
		"running→success: finished and its end was never reported (found at resync): exit code 0")
	hist := h.history("d", runID, "bad")
	last := hist[len(hist)-1]
	if want := "finished and its end was never reported (found at resync): exit code 5"; !strings.Contains(last, want) {
		t.Fatalf("bad's last transition %q, want it to say %q", last, want)
	}
}
