package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

// actor is who a token's mutations are recorded as.
func actor(t Token) scheduler.Actor { return scheduler.Actor{Component: "api", Instance: t.Name} }

// getDAGRecord reads a DAG, with a 404 that says where to look.
func getDAGRecord(ctx context.Context, st scheduler.Store, id string) (scheduler.DAGRecord, error) {
	rec, err := st.GetDAG(ctx, id)
	if errors.Is(err, scheduler.ErrNotFound) {
		return rec, errNotFound("dag %s: not found (GET %s/dags lists them)", id, api.Prefix)
	}
	if err != nil {
		return rec, fmt.Errorf("dag %s: %w", id, err)
	}
	return rec, nil
}

// dagOf builds the wire DAG of rec; fileErr is its file's load error.
func (s *Server) dagOf(rec scheduler.DAGRecord, fileErr string, now time.Time) (api.DAG, *dag.DAG) {
	out := api.DAG{ID: rec.ID, File: rec.File, Tasks: len(rec.Specs), Paused: rec.Paused, Missing: rec.Missing, LoadError: fileErr}
	d, err := dag.Parse(rec.File, rec.Source, s.opts.Presets)
	if err != nil {
		d = nil
	}
	if d != nil {
		out.Description = d.Description
	}
	if timing, err := dag.TimingOf(rec.Source); err == nil {
		out.Schedule = timing.Expr
		if timing.Location != nil && timing.Location != time.UTC {
			out.Timezone = timing.Location.String()
		}
		if timing.Schedule != nil && !rec.Paused && !rec.Missing {
			out.NextRunAt = utc(timing.Schedule.Next(now))
		}
	}
	return out, d
}

func (s *Server) listDAGs(r *http.Request, _ Token) (int, any, error) {
	st, ctx, cancel, err := s.store(r)
	if err != nil {
		return 0, nil, err
	}
	defer cancel()
	recs, err := st.ListDAGs(ctx)
	if err != nil {
		return 0, nil, err
	}
	errs, err := st.ListLoadErrors(ctx)
	if err != nil {
		return 0, nil, err
	}
	fileErr := map[string]string{}
	out := api.DAGList{Items: []api.DAG{}, LoadErrors: []api.LoadError{}}
	for _, e := range errs {
		fileErr[e.File] = e.Message
		out.LoadErrors = append(out.LoadErrors, api.LoadError{File: e.File, Message: e.Message, Since: utc(e.Since)})
	}
	now := s.opts.Now()
	for _, rec := range recs {
		d, _ := s.dagOf(rec, fileErr[rec.File], now)
		runs, err := st.ListRuns(ctx, scheduler.RunFilter{DAGID: rec.ID, Limit: 1})
		if err != nil {
			return 0, nil, err
		}
		if len(runs) > 0 {
			d.LastRun = toRunSummary(runs[0])
		}
		out.Items = append(out.Items, d)
	}
	return http.StatusOK, out, nil
}

func (s *Server) getDAG(r *http.Request, _ Token) (int, any, error) {
	st, ctx, cancel, err := s.store(r)
	if err != nil {
		return 0, nil, err
	}
	defer cancel()
	rec, err := getDAGRecord(ctx, st, r.PathValue("dag"))
	if err != nil {
		return 0, nil, err
	}
	errs, err := st.ListLoadErrors(ctx)
	if err != nil {
		return 0, nil, err
	}
	fileErr := ""
	for _, e := range errs {
		if e.File == rec.File {
			fileErr = e.Message
		}
	}
	d, parsed := s.dagOf(rec, fileErr, s.opts.Now())
	runs, err := st.ListRuns(ctx, scheduler.RunFilter{DAGID: rec.ID, Limit: 1})
	if err != nil {
		return 0, nil, err
	}
	if len(runs) > 0 {
		d.LastRun = toRunSummary(runs[0])
	}
	return http.StatusOK, api.DAGDetail{DAG: d, TaskList: taskList(rec, parsed)}, nil
}

// pause sets a DAG's paused flag, recording who and why in its history
// when the store keeps one.
func (s *Server) pause(paused bool) handlerFunc {
	return func(r *http.Request, who Token) (int, any, error) {
		var req api.PauseRequest
		if err := decode(r, &req, true); err != nil {
			return 0, nil, err
		}
		st, ctx, cancel, err := s.store(r)
		if err != nil {
			return 0, nil, err
		}
		defer cancel()
		id := r.PathValue("dag")
		if _, err := getDAGRecord(ctx, st, id); err != nil {
			return 0, nil, err
		}
		action := scheduler.DAGPause
		if !paused {
			action = scheduler.DAGUnpause
		}
		if hs, ok := st.(scheduler.DAGHistoryStore); ok {
			err = hs.PauseDAG(ctx, scheduler.DAGChange{DAGID: id, Action: action, Actor: actor(who), At: s.opts.Now(), Reason: req.Reason})
		} else {
			err = st.SetDAGPaused(ctx, id, paused)
		}
		if err != nil {
			return 0, nil, fmt.Errorf("dag %s: %w", id, err)
		}
		rec, err := getDAGRecord(ctx, st, id)
		if err != nil {
			return 0, nil, err
		}
		d, _ := s.dagOf(rec, "", s.opts.Now())
		return http.StatusOK, d, nil
	}
}

func (s *Server) dagHistory(r *http.Request, _ Token) (int, any, error) {
	pq, err := readPage(r)
	if err != nil {
		return 0, nil, err
	}
	st, ctx, cancel, err := s.store(r)
	if err != nil {
		return 0, nil, err
	}
	defer cancel()
	id := r.PathValue("dag")
	if _, err := getDAGRecord(ctx, st, id); err != nil {
		return 0, nil, err
	}
	hs, ok := st.(scheduler.DAGHistoryStore)
	if !ok {
		return 0, nil, errUnavailable(fmt.Sprintf("the store %T keeps no DAG history", st))
	}
	changes, err := hs.DAGHistory(ctx, id, pq.fetch(), pq.cursor)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, pageOf(changes, pq, scheduler.DAGChangeCursor, toDAGChange), nil
}

// trigger creates a run as `vigil dags trigger` does (with Backfill, the
// scheduled run of a tick as `vigil dags backfill` does).
func (s *Server) trigger(r *http.Request, who Token) (int, any, error) {
	var req api.TriggerRequest
	if err := decode(r, &req, true); err != nil {
		return 0, nil, err
	}
	id := r.PathValue("dag")
	var conf dag.Values
	if len(req.Conf) > 0 {
		b, err := json.Marshal(req.Conf)
		if err != nil {
			return 0, nil, errBadRequest("conf: %v", err)
		}
		if conf, err = dag.ParseConf("conf", b); err != nil {
			return 0, nil, errBadRequest("dag %s: conf: %v", id, err)
		}
	}
	if req.Backfill && req.LogicalDate.IsZero() {
		return 0, nil, errBadRequest("dag %s: backfill needs the tick's logical_date", id)
	}
	st, ctx, cancel, err := s.store(r)
	if err != nil {
		return 0, nil, err
	}
	defer cancel()
	rec, err := getDAGRecord(ctx, st, id)
	if err != nil {
		return 0, nil, err
	}
	if rec.Missing {
		return 0, nil, errConflict("dag %s is no longer defined by any file (%s); restore the file to run it", rec.ID, rec.File)
	}
	now := s.opts.Now()
	by := actor(who)
	var run scheduler.Run
	var tis []scheduler.TaskInstance
	reason := "run triggered by hand (" + by.String() + ")"
	if req.Backfill {
		run, tis, err = scheduler.NewBackfillRun(rec, req.LogicalDate, conf, by, now)
		reason = "backfill by hand (" + by.String() + ")"
	} else {
		run, tis, err = scheduler.NewManualRun(rec, req.RunID, req.LogicalDate, conf, by, now)
	}
	if err != nil {
		return 0, nil, err
	}
	if req.Reason != "" {
		reason += ": " + req.Reason
	}
	created, err := st.CreateRun(ctx, run, tis, reason)
	if err != nil {
		return 0, nil, fmt.Errorf("dag %s: create run %s: %w", rec.ID, run.RunID, err)
	}
	code := http.StatusCreated
	if !created {
		code = http.StatusOK
		if run, err = st.GetRun(ctx, rec.ID, run.RunID); err != nil {
			return 0, nil, err
		}
	}
	return code, api.TriggerResponse{Run: toRun(run), Created: created}, nil
}

func (s *Server) planBackfill(r *http.Request, who Token) (int, any, error) {
	var req api.BackfillPlanRequest
	if err := decode(r, &req, false); err != nil {
		return 0, nil, err
	}
	st, ctx, cancel, err := s.store(r)
	if err != nil {
		return 0, nil, err
	}
	defer cancel()
	rec, err := getDAGRecord(ctx, st, r.PathValue("dag"))
	if err != nil {
		return 0, nil, err
	}
	timing, err := dag.TimingOf(rec.Source)
	if err != nil {
		return 0, nil, err
	}
	from, to, err := scheduler.ParseRange("from", req.From, "to", req.To, timing.Location)
	if err != nil {
		return 0, nil, errBadRequest("dag %s: %v", rec.ID, err)
	}
	reprocess := scheduler.Reprocess(req.Reprocess)
	if reprocess == "" {
		reprocess = scheduler.ReprocessNone
	}
	runs, err := st.ListRuns(ctx, scheduler.RunFilter{DAGID: rec.ID})
	if err != nil {
		return 0, nil, err
	}
	items, err := scheduler.PlanBackfill(rec, scheduler.BackfillRequest{DAGID: rec.ID, From: from, To: to, Reprocess: reprocess, Actor: actor(who)}, runs)
	if err != nil {
		return 0, nil, errBadRequest("%v", err)
	}
	out := api.BackfillPlan{Items: []api.BackfillItem{}, MaxActiveRuns: timing.MaxActiveRuns}
	if timing.Location != nil && timing.Location != time.UTC {
		out.Timezone = timing.Location.String()
	}
	for _, it := range items {
		out.Items = append(out.Items, toBackfillItem(it))
	}
	return http.StatusOK, out, nil
}
