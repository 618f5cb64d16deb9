package histcheck_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/histcheck"
)

var t0 = time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)

// step is one record: try, to-state, who, why.
type step struct {
	try    int
	to     scheduler.State
	by     string
	reason string
}

// history builds an instance's records from steps, each starting where the
// previous one left it (the first from nothing).
func history(k scheduler.TaskKey, steps ...step) []scheduler.Transition {
	var h []scheduler.Transition
	from := scheduler.State("")
	for i, s := range steps {
		h = append(h, scheduler.Transition{Seq: int64(i + 1), Key: k, Try: s.try, From: from, To: s.to, At: t0.Add(time.Duration(i) * time.Second),
			Actor: scheduler.Actor{Component: "scheduler", Instance: s.by}, Reason: s.reason})
		from = s.to
	}
	return h
}

func key(task string) scheduler.TaskKey {
	return scheduler.TaskKey{DAGID: "d", RunID: "r", TaskID: task}
}

// clean is a history that breaks nothing: a failed submit requeued, a
// failure retried, and a takeover by s2.
func clean(k scheduler.TaskKey) []scheduler.Transition {
	return history(k,
		step{0, scheduler.StateScheduled, "cli", "run triggered"},
		step{1, scheduler.StateQueued, "s1", "no dependencies"},
		step{1, scheduler.StateScheduled, "s1", "submit of try 1 failed: 503; requeued"},
		step{1, scheduler.StateQueued, "s1", "submitting try 1 again"},
		step{1, scheduler.StateRunning, "s1", "pod running"},
		step{1, scheduler.StateUpForRetry, "s1", "exit code 1; retry in 1s"},
		step{2, scheduler.StateQueued, "s1", "retry delay elapsed"},
		step{2, scheduler.StateQueued, "s2", "adopted from scheduler s1: heartbeat stale 4s: try 2 is queued"},
		step{2, scheduler.StateRunning, "s2", "pod running"},
		step{2, scheduler.StateSuccess, "s2", "exit code 0"},
	)
}

func TestCleanHistoryPasses(t *testing.T) {
	k := key("a")
	rep := histcheck.Check(histcheck.Input{
		Instances:  []scheduler.TaskInstance{{TaskKey: k, State: scheduler.StateSuccess, Try: 2}},
		History:    map[scheduler.TaskKey][]scheduler.Transition{k: clean(k)},
		Workloads:  map[scheduler.TryKey][]string{{TaskKey: k, Try: 1}: {"pod/a-1 uid1"}, {TaskKey: k, Try: 2}: {"pod/a-2 uid2"}},
		Schedulers: []string{"s1", "s2"},
		WantState:  scheduler.StateSuccess,
	})
	if len(rep.Violations) != 0 {
		t.Fatalf("violations in a clean history:\n%v", rep.Violations)
	}
	if rep.Tries != 2 || rep.Workloads != 2 || rep.Adoptions != 1 || rep.Retries != 1 || rep.Requeues != 1 || rep.Transitions != 10 {
		t.Errorf("report %+v", rep)
	}
	if got := strings.Join(rep.Schedulers(), ","); got != "s1,s2" {
		t.Errorf("schedulers %q", got)
	}
}

// Each broken history must be caught, and the message must say what broke.
func TestEveryRuleCatches(t *testing.T) {
	tests := []struct {
		name      string
		state     scheduler.State
		steps     []step
		edit      func(h []scheduler.Transition)
		workloads map[int][]string
		want      string
	}{
		{name: "not ended", state: scheduler.StateRunning, want: "did not end: running", steps: []step{
			{0, scheduler.StateScheduled, "cli", "run"}, {1, scheduler.StateQueued, "s1", "go"}, {1, scheduler.StateRunning, "s1", "pod running"}}},
		{name: "two pods for one try", workloads: map[int][]string{1: {"pod/x uid1", "pod/x uid2"}}, want: "try 1 ran 2 workloads"},
		{name: "a pod for a try never queued", workloads: map[int][]string{3: {"pod/x-3 uid3"}}, want: "a workload ran for try 3, which was never queued"},
		{name: "illegal transition", state: scheduler.StateSuccess, want: "illegal transition: scheduled → running", steps: []step{
			{0, scheduler.StateScheduled, "cli", "run"}, {1, scheduler.StateRunning, "s1", "?"}, {1, scheduler.StateSuccess, "s1", "exit code 0"}}},
		{name: "broken chain", want: "record 2 starts from scheduled, but record 1 left it queued", edit: func(h []scheduler.Transition) {
			h[2].From = scheduler.StateScheduled
		}},
		{name: "no reason", want: "record 5 (running → up_for_retry) gives no reason", edit: func(h []scheduler.Transition) { h[5].Reason = "" }},
		{name: "double submit", state: scheduler.StateSuccess, want: "try 1 queued twice (by s1, then s1) with no requeue between", steps: []step{
			{0, scheduler.StateScheduled, "cli", "run"}, {1, scheduler.StateQueued, "s1", "go"}, {1, scheduler.StateRunning, "s1", "pod running"},
			{1, scheduler.StateUpForRetry, "s1", "exit 1"}, {1, scheduler.StateQueued, "s1", "again, same try"}, {1, scheduler.StateSuccess, "s1", "exit 0"}}},
		{name: "two schedulers at once", want: "record 7 by s2 while s1 acted on the instance, with no takeover record", edit: func(h []scheduler.Transition) {
			h[7].Reason = "try 2 is queued" // no longer says it was adopted
		}},
		{name: "a stranger", want: "record 1 by scheduler@s9, none of the schedulers", edit: func(h []scheduler.Transition) { h[1].Actor.Instance = "s9" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := key("a")
			h := clean(k)
			if tt.steps != nil {
				h = history(k, tt.steps...)
			}
			if tt.edit != nil {
				tt.edit(h)
			}
			state := tt.state
			if state == "" {
				state = scheduler.StateSuccess
			}
			ws := map[scheduler.TryKey][]string{}
			for try, list := range tt.workloads {
				ws[scheduler.TryKey{TaskKey: k, Try: try}] = list
			}
			rep := histcheck.Check(histcheck.Input{
				Instances: []scheduler.TaskInstance{{TaskKey: k, State: state}},
				History:   map[scheduler.TaskKey][]scheduler.Transition{k: h},
				Workloads: ws, Schedulers: []string{"s1", "s2"},
			})
			if len(rep.Violations) != 1 || !strings.Contains(rep.Violations[0].String(), tt.want) {
				t.Fatalf("violations %v, want one saying %q", rep.Violations, tt.want)
			}
			// The message carries the full history to read it by.
			if got := rep.Violations[0].String(); strings.Count(got, "\n") < len(h)+1 {
				t.Errorf("violation without the history:\n%s", got)
			}
		})
	}
}

func TestWorkloadOfNoInstance(t *testing.T) {
	rep := histcheck.Check(histcheck.Input{Workloads: map[scheduler.TryKey][]string{{TaskKey: key("ghost"), Try: 1}: {"pod/ghost uid"}}})
	if len(rep.Violations) != 1 || !strings.Contains(rep.Violations[0].String(), "the store does not have") {
		t.Fatalf("violations %v", rep.Violations)
	}
}

// A collapsed requeue cycle (the store's Repeats) is checked as the
// records it stands for: the failure ×3 and the resubmit ×2 leave the try
// scheduled, though the last record by sequence says queued; and a try
// queued twice is still caught when one of the queues is collapsed.
func TestCollapsedHistory(t *testing.T) {
	k := key("a")
	h := history(k,
		step{0, scheduler.StateScheduled, "cli", "run triggered"},
		step{1, scheduler.StateQueued, "s1", "no dependencies"},
		step{1, scheduler.StateScheduled, "s1", "submit of try 1 failed: 503; requeued"},
		step{1, scheduler.StateQueued, "s1", "submitting try 1 again"},
	)
	h[2].Repeats, h[2].LastAt = 2, t0.Add(time.Minute)
	h[3].Repeats, h[3].LastAt = 1, t0.Add(50*time.Second)
	in := histcheck.Input{
		Instances: []scheduler.TaskInstance{{TaskKey: k, State: scheduler.StateScheduled, Try: 1}},
		History:   map[scheduler.TaskKey][]scheduler.Transition{k: h},
	}
	rep := histcheck.Check(in)
	if len(rep.Violations) != 1 || len(rep.Violations[0].Problems) != 1 || !strings.Contains(rep.Violations[0].Problems[0], "did not end") {
		t.Fatalf("want only 'did not end', got %v", rep.Violations)
	}
	if rep.Requeues != 3 || rep.Transitions != 7 {
		t.Errorf("requeues %d in %d transitions, want 3 in 7", rep.Requeues, rep.Transitions)
	}

	h[2].Repeats = 1 // now the resubmit happens as often as the failure: queued twice
	h = append(h, h[3])
	h[4].Seq, h[4].Repeats, h[4].Actor.Instance = 5, 0, "s1"
	h[4].From, h[4].To, h[4].Reason = scheduler.StateQueued, scheduler.StateQueued, "refused"
	h[3].Repeats = 2
	in.History[k] = h
	in.Instances[0].State = scheduler.StateQueued
	rep = histcheck.Check(in)
	if len(rep.Violations) != 1 || !strings.Contains(strings.Join(rep.Violations[0].Problems, "; "), "try 1 queued twice") {
		t.Fatalf("want 'try 1 queued twice', got %v", rep.Violations)
	}
}
