package scheduler_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/scheduler"
)

// refuser refuses every submit while its answer is set, and counts them.
type refuser struct {
	mu      sync.Mutex
	answer  *scheduler.RefusedError
	refused int
}

func (r *refuser) set(a *scheduler.RefusedError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer = a
}

func (r *refuser) startError(scheduler.Try) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.answer == nil {
		return nil
	}
	r.refused++
	return r.answer
}

func (r *refuser) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refused
}

// A try the executor refuses (issue 16: a 403 on pod create) stays
// queued and is submitted again with exponential backoff; its history has
// one record per distinct refusal, not two per attempt; once the refusal
// ends the task runs.
func TestRefusedSubmitBacksOff(t *testing.T) {
	h := newHarness(t, map[string]string{"q.yaml": "id: q\ntasks:\n  - id: x\n    command: [\"true\"]\n"})
	r := &refuser{}
	quota := func(used string) *scheduler.RefusedError {
		return &scheduler.RefusedError{Reason: scheduler.RefusedQuota,
			Err: errors.New(`pods "p" is forbidden: exceeded quota: q, requested: pods=1, used: pods=` + used + `, limited: pods=0`)}
	}
	r.set(quota("0"))
	h.exec = executortest.NewMemory(executortest.MemoryOptions{StartError: r.startError})
	h.start(func(o *scheduler.Options) {
		o.SubmitBackoff, o.MaxSubmitBackoff = 20*time.Millisecond, 160*time.Millisecond
	})
	runID := h.trigger("q")
	h.waitFor("six refusals", func() bool { return r.count() >= 6 })
	// The same refusal with other numbers is the same refusal.
	r.set(quota("3"))
	h.waitFor("eight refusals", func() bool { return r.count() >= 8 })
	if n := h.sched.Stats().Refused; n != 1 {
		t.Errorf("stats say %d tries refused, want 1", n)
	}
	// The metrics the alerts read tell quota from forbidden, by DAG.
	quotaKey, forbiddenKey := scheduler.DAGCount{DAG: "q", Label: scheduler.SubmitQuota}, scheduler.DAGCount{DAG: "q", Label: scheduler.SubmitForbidden}
	h.waitFor("the refused gauge to say quota", func() bool {
		st := h.sched.Stats()
		return st.RefusedNow[quotaKey] == 1 && len(st.RefusedNow) == 1
	})
	if n := h.sched.Stats().SubmitFailures[quotaKey]; n < 8 {
		t.Errorf("SubmitFailures[%v] = %d, want at least 8", quotaKey, n)
	}
	r.set(&scheduler.RefusedError{Reason: scheduler.RefusedForbidden, Err: errors.New(`pods is forbidden: User "vigil" cannot create resource "pods"`)})
	h.waitFor("ten refusals", func() bool { return r.count() >= 10 })
	h.waitFor("the refused gauge to say forbidden", func() bool {
		st := h.sched.Stats()
		return st.RefusedNow[forbiddenKey] == 1 && len(st.RefusedNow) == 1
	})
	r.set(nil)
	if run := h.waitRun("q", runID); run.State != scheduler.RunSuccess {
		t.Fatalf("run ended %s", run.State)
	}
	h.waitFor("the refused gauge to empty", func() bool { return len(h.sched.Stats().RefusedNow) == 0 })
	st := h.sched.Stats()
	if st.SubmitFailures[forbiddenKey] < 2 || st.SubmitFailures[scheduler.DAGCount{DAG: "q", Label: scheduler.SubmitError}] != 0 {
		t.Errorf("SubmitFailures = %v, want forbidden at least 2 and no error", st.SubmitFailures)
	}
	if n := st.TaskEnds[scheduler.DAGCount{DAG: "q", Label: "success"}]; n != 1 || len(st.TaskEnds) != 1 {
		t.Errorf("TaskEnds = %v, want q/success 1 only", st.TaskEnds)
	}
	wantHistory(t, h.history("q", runID, "x"),
		"→scheduled",
		"scheduled→queued: no dependencies",
		"queued→queued: waiting for quota: pods \"p\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=0, limited: pods=0; try 1 stays queued, submitted again with backoff (next in ",
		"queued→queued: forbidden: pods is forbidden: User \"vigil\" cannot create resource \"pods\"; try 1 stays queued",
		"queued→running",
		"running→success",
	)
	if n := h.sched.Stats().Refused; n != 0 {
		t.Errorf("stats say %d tries refused after the task ran, want 0", n)
	}
}

// The waits between refused submits double up to MaxSubmitBackoff: over
// a window that a fixed SubmitBackoff would fill with 40 attempts, there
// are few.
func TestRefusedSubmitBackoffIsExponential(t *testing.T) {
	h := newHarness(t, map[string]string{"q.yaml": "id: q\ntasks:\n  - id: x\n    command: [\"true\"]\n"})
	r := &refuser{}
	r.set(&scheduler.RefusedError{Reason: scheduler.RefusedForbidden, Err: errors.New("forbidden")})
	h.exec = executortest.NewMemory(executortest.MemoryOptions{StartError: r.startError})
	h.start(func(o *scheduler.Options) {
		o.SubmitBackoff, o.MaxSubmitBackoff = 25*time.Millisecond, 400*time.Millisecond
	})
	runID := h.trigger("q")
	h.waitFor("a first refusal", func() bool { return r.count() >= 1 })
	time.Sleep(time.Second)
	// 25, 50, 100, 200, 400, 400 ms (±20%) after the first: about 6
	// within the second.
	if n := r.count(); n > 10 || n < 2 {
		t.Fatalf("%d refused submits in a second with backoff from 25ms to 400ms; want about 6", n)
	}
	hist := h.history("q", runID, "x")
	if n := strings.Count(strings.Join(hist, "\n"), "queued→queued: forbidden"); n != 1 || len(hist) != 3 {
		t.Fatalf("%d refusal records in %d records, want 1 in 3:\n%s", n, len(hist), strings.Join(hist, "\n"))
	}
}
