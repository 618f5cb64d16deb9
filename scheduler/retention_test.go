package scheduler_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/scheduler"
)

func TestParseAge(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "30d", want: 30 * 24 * time.Hour},
		{in: "12h", want: 12 * time.Hour},
		{in: "90m", want: 90 * time.Minute},
		{in: "1d12h", want: 36 * time.Hour},
		{in: " 2d ", want: 48 * time.Hour},
		{in: "0", bad: true},
		{in: "0d", bad: true},
		{in: "-1h", bad: true},
		{in: "d", bad: true},
		{in: "30days", bad: true},
		{in: "x1d", bad: true},
		{in: "", bad: true},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := scheduler.ParseAge(tt.in)
			if tt.bad {
				if err == nil {
					t.Fatalf("ParseAge(%q) = %s; want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseAge(%q) = %s, %v; want %s", tt.in, got, err, tt.want)
			}
		})
	}
}

const slowDAG = `
id: slow
tasks:
  - id: wait
    command: ["sleep", "3600"]
`

const quickDAG = `
id: quick
tasks:
  - id: a
    command: ["true"]
  - id: b
    depends_on: [a]
    command: ["true"]
`

// TestRetentionKeepsLiveRun: a retention worker running beside a real
// scheduler, with an age so short that every run counts as old, deletes
// the finished runs and never the running one: its instance and history
// stay, its task still finishes, and its end is recorded.
func TestRetentionKeepsLiveRun(t *testing.T) {
	h := newHarness(t, map[string]string{"slow.yaml": slowDAG, "quick.yaml": quickDAG})
	h.exec = executortest.NewMemory(executortest.MemoryOptions{Outcome: func(tr scheduler.Try) (executortest.Outcome, bool) {
		return executortest.Outcome{Hang: true}, tr.Key.DAGID == "slow"
	}})
	h.start(nil)

	live := h.trigger("slow")
	h.waitFor("the live task running", func() bool { return h.task("slow", live, "wait").State == scheduler.StateRunning })
	var finished []string
	for range 3 {
		id := h.trigger("quick")
		h.waitRun("quick", id)
		finished = append(finished, id)
		time.Sleep(2 * time.Millisecond) // distinct manual run ids
	}
	liveHistory := h.history("slow", live, "wait")

	// The clock: first an hour ahead, so that everything ended counts as
	// old; then frozen at the present, before the live run's end.
	var frozen atomic.Pointer[time.Time]
	now := func() time.Time {
		if f := frozen.Load(); f != nil {
			return *f
		}
		return time.Now().Add(time.Hour)
	}
	var mu sync.Mutex
	var removed []scheduler.RunRef
	ret, err := scheduler.NewRetention(scheduler.RetentionOptions{
		Store: h.store, Age: time.Minute, Batch: scheduler.PurgeLimit{Runs: 1}, Pause: time.Millisecond, Idle: 5 * time.Millisecond,
		Logger: zaptest.NewLogger(t), Now: now,
		Folders: func(r scheduler.RunRef) error {
			mu.Lock()
			defer mu.Unlock()
			removed = append(removed, r)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ret.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("retention Run: %v", err)
		}
	}()

	for _, id := range finished {
		h.waitFor("finished run "+id+" deleted", func() bool {
			_, err := h.store.GetRun(h.ctx(), "quick", id)
			return errors.Is(err, scheduler.ErrNotFound)
		})
		if _, err := h.store.History(h.ctx(), scheduler.TaskKey{DAGID: "quick", RunID: id, TaskID: "b"}); !errors.Is(err, scheduler.ErrNotFound) {
			t.Errorf("history of deleted run %s: %v; want ErrNotFound", id, err)
		}
	}
	// Let it go on a while with the live run older than the cutoff.
	time.Sleep(50 * time.Millisecond)
	if run, err := h.store.GetRun(h.ctx(), "slow", live); err != nil || run.State != scheduler.RunRunning {
		t.Fatalf("live run after retention: %+v, %v; want it running", run, err)
	}
	wantHistory(t, h.history("slow", live, "wait"), liveHistory...)

	past := time.Now()
	frozen.Store(&past)
	time.Sleep(20 * time.Millisecond) // a pass under the new clock
	if err := h.exec.Finish(h.task("slow", live, "wait").TryKey(), 0); err != nil {
		t.Fatal(err)
	}
	if run := h.waitRun("slow", live); run.State != scheduler.RunSuccess {
		t.Fatalf("live run ended %s; want success", run.State)
	}
	hist := h.history("slow", live, "wait")
	wantHistory(t, hist, append(liveHistory, "running→success")...)
	mu.Lock()
	defer mu.Unlock()
	for _, r := range removed {
		if r.DAGID == "slow" {
			t.Errorf("retention removed the folders of live run %s", r)
		}
	}
	if len(removed) != len(finished) {
		t.Errorf("folders removed for %d runs; want %d (%v)", len(removed), len(finished), removed)
	}
}
