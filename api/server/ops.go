package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/scheduler"
)

// submitOp plans an operation on the run as it stands, as `vigil tasks
// clear|mark` and `vigil runs clear|cancel` do, and stores it (202) for
// the run's owner to apply; with dry_run it returns the plan (200).
func (s *Server) submitOp(r *http.Request, who Token) (int, any, error) {
	var req api.OpRequest
	if err := decode(r, &req, false); err != nil {
		return 0, nil, err
	}
	op := scheduler.Op{
		Kind: scheduler.OpKind(req.Kind), DAGID: req.DAGID, RunID: req.RunID, TaskID: req.TaskID,
		Args: scheduler.OpArgs{Downstream: req.Args.Downstream, Upstream: req.Args.Upstream, OnlyFailed: req.Args.OnlyFailed,
			State: scheduler.State(req.Args.State)},
		Actor: actor(who), Reason: req.Reason, CreatedAt: s.opts.Now(),
	}
	if op.DAGID == "" || op.RunID == "" {
		return 0, nil, errBadRequest("an operation needs dag_id and run_id (run_id may be \"latest\")")
	}
	st, ctx, cancel, err := s.store(r)
	if err != nil {
		return 0, nil, err
	}
	defer cancel()
	if op.RunID, err = runID(ctx, st, op.DAGID, op.RunID); err != nil {
		return 0, nil, err
	}
	if err := op.Validate(); err != nil {
		return 0, nil, errBadRequest("%s on %s/%s: %v", op.Kind, op.DAGID, op.RunID, err)
	}
	run, err := getRunRecord(ctx, st, op.DAGID, op.RunID)
	if err != nil {
		return 0, nil, err
	}
	tis, err := st.ListTaskInstances(ctx, scheduler.TaskFilter{DAGID: op.DAGID, RunID: op.RunID})
	if err != nil {
		return 0, nil, err
	}
	plan, err := scheduler.PlanOp(op, run, tis, op.CreatedAt)
	if err != nil {
		return 0, nil, errBadRequest("%s on %s/%s: %v", op.Kind, op.DAGID, op.RunID, err)
	}
	if req.DryRun {
		return http.StatusOK, api.OpResponse{Plan: toPlan(plan)}, nil
	}
	if plan.Empty() && run.State != scheduler.RunRunning {
		return 0, nil, errConflict("nothing to do on run %s/%s (%s): %s", op.DAGID, op.RunID, run.State, plan.Summary())
	}
	id, err := st.SubmitOp(ctx, op)
	if err != nil {
		return 0, nil, err
	}
	stored, err := st.GetOp(ctx, id)
	if err != nil {
		return 0, nil, fmt.Errorf("operation %d is stored (GET %s/ops/%d shows it), but reading it back failed: %w", id, api.Prefix, id, err)
	}
	out := toOp(stored)
	return http.StatusAccepted, api.OpResponse{Op: &out, Plan: toPlan(plan)}, nil
}

func (s *Server) listOps(r *http.Request, _ Token) (int, any, error) {
	pq, err := readPage(r)
	if err != nil {
		return 0, nil, err
	}
	q := r.URL.Query()
	f := scheduler.OpFilter{DAGID: q.Get("dag"), RunID: q.Get("run"), Limit: pq.fetch(), After: pq.cursor}
	if v := q.Get("state"); v != "" {
		switch st := scheduler.OpState(v); st {
		case scheduler.OpPending, scheduler.OpStopping, scheduler.OpDone, scheduler.OpFailed:
			f.States = []scheduler.OpState{st}
		default:
			return 0, nil, errBadRequest("?state=%q: use pending, stopping, done or failed", v)
		}
	}
	st, ctx, cancel, err := s.store(r)
	if err != nil {
		return 0, nil, err
	}
	defer cancel()
	ops, err := st.ListOps(ctx, f)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, pageOf(ops, pq, scheduler.OpCursor, toOp), nil
}

func (s *Server) getOp(r *http.Request, _ Token) (int, any, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, nil, errBadRequest("operation id %q: use the number POST /ops returned", r.PathValue("id"))
	}
	st, ctx, cancel, err := s.store(r)
	if err != nil {
		return 0, nil, err
	}
	defer cancel()
	op, err := st.GetOp(ctx, id)
	if errors.Is(err, scheduler.ErrNotFound) {
		return 0, nil, errNotFound("operation %d: not found (GET %s/ops lists them)", id, api.Prefix)
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toOp(op), nil
}
