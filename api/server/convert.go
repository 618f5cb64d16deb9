package server

// The conversions from the scheduler's types to the wire types of package
// api, all in one place.

import (
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

func toActor(a scheduler.Actor) api.Actor {
	return api.Actor{Component: a.Component, Instance: a.Instance}
}

// toAny turns params into plain JSON values.
func toAny(vs dag.Values) map[string]any {
	if len(vs) == 0 {
		return nil
	}
	b, err := json.Marshal(vs)
	if err != nil {
		return nil
	}
	var out map[string]any
	if json.Unmarshal(b, &out) != nil {
		return nil
	}
	return out
}

func toRun(r scheduler.Run) api.Run {
	return api.Run{
		DAGID: r.DAGID, RunID: r.RunID, State: string(r.State), LogicalDate: utc(r.LogicalDate), Manual: r.Manual,
		CreatedAt: utc(r.CreatedAt), EndedAt: utc(r.EndedAt), CreatedBy: toActor(r.CreatedBy),
		Conf: toAny(r.Conf), Params: toAny(r.Params), Owner: r.Owner,
	}
}

func toRunSummary(r scheduler.Run) *api.RunSummary {
	return &api.RunSummary{RunID: r.RunID, State: string(r.State), LogicalDate: utc(r.LogicalDate), CreatedAt: utc(r.CreatedAt), EndedAt: utc(r.EndedAt)}
}

func toTaskInstance(ti scheduler.TaskInstance) api.TaskInstance {
	return api.TaskInstance{
		DAGID: ti.DAGID, RunID: ti.RunID, TaskID: ti.TaskID, State: string(ti.State),
		Try: ti.Try, MaxTries: ti.Spec.Retries + 1, TryBase: ti.TryBase, Evictions: ti.Evictions, ExternalID: ti.ExternalID, ExitCode: ti.ExitCode,
		Pool: ti.Spec.Pool, Priority: ti.Spec.Priority,
		QueuedAt: utc(ti.QueuedAt), StartedAt: utc(ti.StartedAt), EndedAt: utc(ti.EndedAt), RetryAt: utc(ti.RetryAt), UpdatedAt: utc(ti.UpdatedAt),
	}
}

func toTransition(t scheduler.Transition) api.Transition {
	out := api.Transition{
		Seq: t.Seq, Try: t.Try, From: string(t.From), To: string(t.To), At: utc(t.At), By: toActor(t.Actor),
		Reason: t.Reason, ExternalID: t.ExternalID, ExitCode: t.ExitCode, Manual: t.Manual, Repeats: t.Repeats,
	}
	if t.Repeats > 0 {
		out.LastAt = utc(t.LastAt)
	}
	return out
}

func toTask(id string, s dag.TaskSpec) api.Task {
	return api.Task{ID: id, Upstream: s.DependsOn, Retries: s.Retries, Pool: s.Pool, Priority: s.Priority, TriggerOn: string(s.TriggerRule)}
}

func toOpArgs(a scheduler.OpArgs) api.OpArgs {
	return api.OpArgs{Downstream: a.Downstream, Upstream: a.Upstream, OnlyFailed: a.OnlyFailed, State: string(a.State)}
}

func toOp(op scheduler.Op) api.Op {
	return api.Op{
		ID: op.ID, Kind: string(op.Kind), DAGID: op.DAGID, RunID: op.RunID, TaskID: op.TaskID, Args: toOpArgs(op.Args),
		By: toActor(op.Actor), Reason: op.Reason, CreatedAt: utc(op.CreatedAt), State: string(op.State),
		Result: op.Result, DoneBy: op.DoneBy, DoneAt: utc(op.DoneAt),
	}
}

func toPlan(p scheduler.Plan) *api.Plan {
	out := &api.Plan{Changes: []api.PlanChange{}, Cancel: p.Cancel}
	for _, c := range p.Changes {
		out.Changes = append(out.Changes, api.PlanChange{TaskID: c.Key.TaskID, From: string(c.From), To: string(c.To)})
	}
	for _, s := range p.Stops {
		out.Stops = append(out.Stops, api.PlanChange{TaskID: s.Try.TaskID, Try: s.Try.Try, From: string(s.From), To: string(s.To)})
	}
	for _, l := range p.Left {
		out.Left = append(out.Left, api.PlanLeft{TaskID: l.Task.TaskID, State: string(l.State), Why: l.Why})
	}
	return out
}

func toPool(p scheduler.PoolStatus) api.Pool {
	out := api.Pool{
		Name: p.Name, Slots: p.Slots, Description: p.Description, Occupied: p.Occupied, Queued: p.Queued,
		Running: p.Running, Scheduled: p.Scheduled, UpdatedAt: utc(p.UpdatedAt),
	}
	if p.UpdatedBy.Component != "" {
		out.UpdatedBy = p.UpdatedBy.String()
	}
	if p.Missing {
		out.Missing = true
		out.Description = "no such pool: tasks name it but nobody set it (PUT /pools/" + p.Name + ")"
	}
	return out
}

func toPoolChange(c scheduler.PoolChange) api.PoolChange {
	return api.PoolChange{Seq: c.Seq, Pool: c.Pool, Action: c.Action, Slots: c.Slots, By: c.By.String(), At: utc(c.At), Reason: c.Reason,
		PrevSlots: c.PrevSlots, Description: c.Description}
}

func toDAGChange(c scheduler.DAGChange) api.DAGChange {
	return api.DAGChange{Seq: c.Seq, DAGID: c.DAGID, Action: c.Action, By: toActor(c.Actor), At: utc(c.At), Reason: c.Reason}
}

func toBackfillItem(it scheduler.BackfillItem) api.BackfillItem {
	return api.BackfillItem{LogicalDate: utc(it.Tick), RunID: it.RunID, Action: string(it.Action), Why: it.Why}
}

func toLoop(s watchdog.Status) api.Loop {
	return api.Loop{
		Name: s.Name, LastBeat: utc(s.LastBeat), AgeSeconds: s.Age.Seconds(),
		StaleAfterSeconds: (watchdog.DefaultFactor * s.Period).Seconds(), Stale: s.Stale,
	}
}

// callTarget names a call as the health summary says it: "POST
// 127.0.0.1:6443/api/v1/namespaces/vigil/pods (kube: create pods)".
func callTarget(c inflight.Call) string {
	target := c.Op
	if c.Kind == "http" && c.Target != "" {
		if method, path, ok := strings.Cut(c.Op, " "); ok {
			target = method + " " + c.Target + path
		}
	} else if c.Target != "" && c.Kind != "executor" {
		target += " on " + c.Target
	}
	if c.Detail != "" {
		target += " (" + c.Detail + ")"
	}
	return target
}

func toCall(c inflight.Call) api.Call {
	return api.Call{
		Kind: c.Kind, Target: callTarget(c), Site: c.Site, StartedAt: utc(c.Start), AgeSeconds: c.Age.Seconds(),
		Deadline: utc(c.Deadline), NoDeadline: c.NoDeadline(), Labels: c.Labels,
	}
}

func toHeartbeat(sc scheduler.SchedulerStatus, serving bool) api.Heartbeat {
	return api.Heartbeat{
		Component: sc.Component, Instance: sc.Instance, Host: sc.Host, PID: sc.PID, PeriodSeconds: sc.Period.Seconds(),
		LastBeat: utc(sc.LastBeat), StartedAt: utc(sc.StartedAt), StoppedAt: utc(sc.StoppedAt), AgeSeconds: sc.Age.Seconds(),
		Stale: sc.Stale, RunsOwned: sc.Runs, Serving: serving,
	}
}

// taskList is a DAG's tasks in file order when its file parses, by id
// otherwise.
func taskList(rec scheduler.DAGRecord, d *dag.DAG) []api.Task {
	out := []api.Task{}
	if d != nil {
		for _, t := range d.Tasks {
			if s, ok := rec.Specs[t.ID]; ok {
				out = append(out, toTask(t.ID, s))
			}
		}
		if len(out) == len(rec.Specs) {
			return out
		}
		out = out[:0]
	}
	ids := make([]string, 0, len(rec.Specs))
	for id := range rec.Specs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		out = append(out, toTask(id, rec.Specs[id]))
	}
	return out
}
