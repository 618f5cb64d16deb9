package scheduler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Audit is a read-only reconciliation report: the store's live task
// instances set against the executor's workloads (Inventory). It changes
// nothing; the scheduler's own resync repairs what it can.
type Audit struct {
	Taken    time.Time `json:"taken"`
	Executor string    `json:"executor"`
	// LostAfter and Grace are the thresholds the report used.
	LostAfter time.Duration `json:"lost_after_ns"`
	Grace     time.Duration `json:"grace_ns"`
	// Live and Workloads are how many instances and workloads were compared.
	Live      int `json:"live"`
	Workloads int `json:"workloads"`
	// Zombies are live in the store while their workload is gone or has
	// finished; orphans are workloads no live instance owns; lost are
	// queued instances with no workload for longer than LostAfter.
	Zombies []AuditFinding `json:"zombies"`
	Orphans []AuditFinding `json:"orphans"`
	Lost    []AuditFinding `json:"lost"`
	// Pending are tries whose workload has waited to start for longer
	// than Grace, with the platform's reason (Unschedulable, an image
	// pull). NotStarting are tries first queued longer than LostAfter ago
	// and requeued since, never started: every submit failed, or the try
	// was lost again and again.
	Pending     []AuditFinding `json:"pending"`
	NotStarting []AuditFinding `json:"not_starting"`
	// Running lists the workloads that have not finished, by task: what
	// the executor runs now (a local process's pid, command and output
	// size; a pod's name and phase).
	Running []Workload `json:"running"`
}

// Findings counts what the report found.
func (a Audit) Findings() int {
	return len(a.Zombies) + len(a.Orphans) + len(a.Lost) + len(a.Pending) + len(a.NotStarting)
}

// AuditFinding is one instance or workload that does not add up, with
// the history that led there.
type AuditFinding struct {
	Task TaskKey `json:"task"`
	Try  int     `json:"try"`
	// State is the instance's state in the store; empty when the store
	// has no such instance.
	State    State        `json:"state,omitempty"`
	Workload *Workload    `json:"workload,omitempty"`
	Why      string       `json:"why"`
	History  []Transition `json:"history,omitempty"`
}

// AuditOptions configure BuildAudit.
type AuditOptions struct {
	// LostAfter: a queued instance with no workload for this long is lost.
	LostAfter time.Duration
	// Grace: nothing younger than this is reported (a transition or a
	// watch event may be on its way).
	Grace time.Duration
	// MaxHistory bounds how many findings get their history (one store
	// call each).
	MaxHistory int
	Now        func() time.Time
}

// BuildAudit compares the store's queued and running instances with inv's
// workloads.
func BuildAudit(ctx context.Context, st Store, exec Executor, inv Inventory, opts AuditOptions) (Audit, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxHistory <= 0 {
		opts.MaxHistory = 50
	}
	now := opts.Now()
	a := Audit{Taken: now, Executor: exec.Name(), LostAfter: opts.LostAfter, Grace: opts.Grace,
		Zombies: []AuditFinding{}, Orphans: []AuditFinding{}, Lost: []AuditFinding{},
		Pending: []AuditFinding{}, NotStarting: []AuditFinding{}, Running: []Workload{}}
	live, err := st.ListTaskInstances(ctx, TaskFilter{States: []State{StateQueued, StateRunning}})
	if err != nil {
		return a, fmt.Errorf("list live task instances: %w", err)
	}
	wls, err := inv.Inventory(ctx)
	if err != nil {
		return a, fmt.Errorf("list %s workloads: %w", exec.Name(), err)
	}
	a.Live, a.Workloads = len(live), len(wls)
	for _, w := range wls {
		if !w.Finished() && !w.Deleting {
			a.Running = append(a.Running, w)
		}
	}
	sort.Slice(a.Running, func(i, j int) bool { return a.Running[i].Key.String() < a.Running[j].Key.String() })
	byTry := make(map[TryKey]*Workload, len(wls))
	for i := range wls {
		byTry[wls[i].Key] = &wls[i]
	}
	owned := make(map[TryKey]bool, len(live))
	for _, ti := range live {
		k := ti.TryKey()
		owned[k] = true
		since := ti.UpdatedAt
		if now.Sub(since) < opts.Grace {
			continue
		}
		f := AuditFinding{Task: ti.TaskKey, Try: ti.Try, State: ti.State}
		w := byTry[k]
		switch {
		case w == nil && ti.State == StateRunning:
			f.Why = fmt.Sprintf("running in the store for %s, but %s has no workload for try %d", roundAge(now.Sub(ti.StartedAt)), exec.Name(), ti.Try)
			a.Zombies = append(a.Zombies, f)
		case w == nil && now.Sub(ti.QueuedAt) >= opts.LostAfter:
			f.Why = fmt.Sprintf("queued %s ago and %s has no workload for try %d", roundAge(now.Sub(ti.QueuedAt)), exec.Name(), ti.Try)
			a.Lost = append(a.Lost, f)
		case w != nil && w.Finished() && !w.Ended.IsZero() && now.Sub(w.Ended) >= opts.Grace:
			f.Workload = w
			f.Why = fmt.Sprintf("%s in the store, but %s %s %s ago and its end was never recorded", ti.State, w.ExternalID, w.Phase, roundAge(now.Sub(w.Ended)))
			a.Zombies = append(a.Zombies, f)
		case w != nil && w.Phase == "Pending" && !w.Deleting && now.Sub(w.Created) >= opts.Grace:
			f.Workload = w
			f.Why = fmt.Sprintf("%s Pending for %s: %s", w.ExternalID, roundAge(now.Sub(w.Created)), orDefault(w.Reason, "no reason given yet"))
			a.Pending = append(a.Pending, f)
		}
	}
	for i := range wls {
		w := &wls[i]
		if owned[w.Key] || w.Finished() || w.Deleting || now.Sub(w.Created) < opts.Grace {
			continue
		}
		f := AuditFinding{Task: w.Key.TaskKey, Try: w.Key.Try, Workload: w}
		ti, err := st.GetTaskInstance(ctx, w.Key.TaskKey)
		switch {
		case err == nil:
			f.State = ti.State
			f.Why = fmt.Sprintf("%s %s for try %d, but the task is %s at try %d", w.ExternalID, w.Phase, w.Key.Try, ti.State, ti.Try)
		case errors.Is(err, ErrNotFound):
			f.Why = fmt.Sprintf("%s %s for a task instance the store does not have", w.ExternalID, w.Phase)
		default:
			return a, fmt.Errorf("get task instance %s: %w", w.Key.TaskKey, err)
		}
		a.Orphans = append(a.Orphans, f)
	}
	budget := opts.MaxHistory
	if err := notStarting(ctx, st, &a, opts, now, &budget); err != nil {
		return a, err
	}
	for _, list := range [][]AuditFinding{a.Zombies, a.Lost, a.Pending, a.Orphans} {
		sort.Slice(list, func(i, j int) bool { return list[i].Task.String() < list[j].Task.String() })
		for i := range list {
			if budget == 0 || list[i].State == "" {
				continue
			}
			budget--
			h, err := st.History(ctx, list[i].Task)
			if err != nil {
				return a, fmt.Errorf("history of %s: %w", list[i].Task, err)
			}
			list[i].History = h
		}
	}
	// A queued try its executor refuses (forbidden, quota) is not lost:
	// it waits to be submitted again, and its last record says why.
	a.Lost = slices.DeleteFunc(a.Lost, func(f AuditFinding) bool {
		last, ok := refusedRecord(f.History)
		if ok {
			f.Why = fmt.Sprintf("try %d queued and never started: the executor refuses it (recorded %s ago): %s",
				f.Try, roundAge(now.Sub(last.At)), last.Reason)
			a.NotStarting = append(a.NotStarting, f)
		}
		return ok
	})
	return a, nil
}

// refusedRecord returns the last record of a queued try's refusal, if
// the try is still waiting on it.
func refusedRecord(h []Transition) (Transition, bool) {
	if len(h) == 0 {
		return Transition{}, false
	}
	last := h[len(h)-1]
	if last.Repeats > 0 {
		last.At = last.LastAt // the latest refusal of a collapsed record
	}
	refused := strings.HasPrefix(last.Reason, RefusedForbidden+": ") || strings.HasPrefix(last.Reason, RefusedQuota+": ")
	return last, refused && last.From == StateQueued && last.To == StateQueued
}

func roundAge(d time.Duration) time.Duration {
	if d > time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

// notStarting finds requeued tries (scheduled again after a queue) whose
// first queue was LostAfter or more ago. Each candidate costs one History
// call, from budget.
func notStarting(ctx context.Context, st Store, a *Audit, opts AuditOptions, now time.Time, budget *int) error {
	waiting, err := st.ListTaskInstances(ctx, TaskFilter{States: []State{StateScheduled}})
	if err != nil {
		return fmt.Errorf("list scheduled task instances: %w", err)
	}
	// Try 0 has never been queued: it waits for a slot, which is not a
	// fault. The oldest queues are the likeliest to be stuck.
	waiting = slices.DeleteFunc(waiting, func(ti TaskInstance) bool { return ti.Try == 0 })
	sort.Slice(waiting, func(i, j int) bool { return waiting[i].QueuedAt.Before(waiting[j].QueuedAt) })
	for _, ti := range waiting {
		if *budget == 0 {
			return nil
		}
		*budget--
		h, err := st.History(ctx, ti.TaskKey)
		if err != nil {
			return fmt.Errorf("history of %s: %w", ti.TaskKey, err)
		}
		var first time.Time
		requeues, last := 0, ""
		for _, t := range ExpandHistory(h) {
			if t.Try != ti.Try {
				continue
			}
			switch {
			case t.To == StateQueued && first.IsZero():
				first = t.At
			case t.From == StateQueued && t.To == StateScheduled:
				requeues++
				last = t.Reason
			}
		}
		if first.IsZero() || requeues == 0 || now.Sub(first) < opts.LostAfter {
			continue
		}
		times := "once"
		if requeues > 1 {
			times = fmt.Sprintf("%d times", requeues)
		}
		a.NotStarting = append(a.NotStarting, AuditFinding{Task: ti.TaskKey, Try: ti.Try, State: ti.State, History: h,
			Why: fmt.Sprintf("try %d first queued %s ago and never started; requeued %s, the last: %s", ti.Try, roundAge(now.Sub(first)), times, last)})
	}
	return nil
}
