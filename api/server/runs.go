package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/scheduler"
)

// runID resolves a RUN path value or ?run=, "latest" included.
func runID(ctx context.Context, st scheduler.Store, dagID, run string) (string, error) {
	if run != "latest" {
		return run, nil
	}
	if dagID == "" {
		return "", errBadRequest(`run "latest" needs a DAG (?dag=)`)
	}
	id, err := scheduler.LatestRunID(ctx, st, dagID)
	if errors.Is(err, scheduler.ErrNotFound) {
		if _, derr := st.GetDAG(ctx, dagID); errors.Is(derr, scheduler.ErrNotFound) {
			return "", errNotFound("dag %s: not found (GET %s/dags lists them)", dagID, api.Prefix)
		}
		return "", errNotFound("dag %s has no runs yet; trigger one with POST %s/dags/%s/runs", dagID, api.Prefix, dagID)
	}
	return id, err
}

func (s *Server) listRuns(r *http.Request, _ Token) (int, any, error) {
	pq, err := readPage(r)
	if err != nil {
		return 0, nil, err
	}
	f := scheduler.RunFilter{DAGID: r.URL.Query().Get("dag"), Limit: pq.fetch(), After: pq.cursor}
	if v := r.URL.Query().Get("state"); v != "" {
		st := scheduler.RunState(v)
		if !st.Valid() {
			return 0, nil, errBadRequest("?state=%q: use one of %v", v, scheduler.RunStates)
		}
		f.States = []scheduler.RunState{st}
	}
	st, ctx, cancel, err := s.store(r)
	if err != nil {
		return 0, nil, err
	}
	defer cancel()
	runs, err := st.ListRuns(ctx, f)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, pageOf(runs, pq, scheduler.RunCursor, toRun), nil
}

// getRunRecord reads a run, with a 404 that says where to look.
func getRunRecord(ctx context.Context, st scheduler.Store, dagID, id string) (scheduler.Run, error) {
	run, err := st.GetRun(ctx, dagID, id)
	if errors.Is(err, scheduler.ErrNotFound) {
		return run, errNotFound("run %s/%s: not found (GET %s/runs?dag=%s lists them)", dagID, id, api.Prefix, dagID)
	}
	return run, err
}

func (s *Server) getRun(r *http.Request, _ Token) (int, any, error) {
	st, ctx, cancel, err := s.store(r)
	if err != nil {
		return 0, nil, err
	}
	defer cancel()
	dagID := r.PathValue("dag")
	id, err := runID(ctx, st, dagID, r.PathValue("run"))
	if err != nil {
		return 0, nil, err
	}
	run, err := getRunRecord(ctx, st, dagID, id)
	if err != nil {
		return 0, nil, err
	}
	tis, err := st.ListTaskInstances(ctx, scheduler.TaskFilter{DAGID: dagID, RunID: id})
	if err != nil {
		return 0, nil, err
	}
	out := toRun(run)
	out.TaskStates = map[string]int{}
	for _, ti := range tis {
		out.TaskStates[string(ti.State)]++
	}
	return http.StatusOK, out, nil
}

func (s *Server) listTasks(r *http.Request, _ Token) (int, any, error) {
	pq, err := readPage(r)
	if err != nil {
		return 0, nil, err
	}
	q := r.URL.Query()
	f := scheduler.TaskFilter{DAGID: q.Get("dag"), RunID: q.Get("run"), Limit: pq.fetch(), After: pq.cursor}
	if v := q.Get("state"); v != "" {
		st := scheduler.State(v)
		if !st.Valid() {
			return 0, nil, errBadRequest("?state=%q: use one of %v", v, scheduler.States)
		}
		f.States = []scheduler.State{st}
	}
	st, ctx, cancel, err := s.store(r)
	if err != nil {
		return 0, nil, err
	}
	defer cancel()
	if f.RunID, err = runID(ctx, st, f.DAGID, f.RunID); err != nil {
		return 0, nil, err
	}
	tis, err := st.ListTaskInstances(ctx, f)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, pageOf(tis, pq, scheduler.TaskCursor, toTaskInstance), nil
}

// taskKey reads DAG, RUN ("latest" too) and TASK from the path.
func taskKey(ctx context.Context, st scheduler.Store, r *http.Request) (scheduler.TaskKey, error) {
	k := scheduler.TaskKey{DAGID: r.PathValue("dag"), TaskID: r.PathValue("task")}
	var err error
	k.RunID, err = runID(ctx, st, k.DAGID, r.PathValue("run"))
	return k, err
}

func getTaskRecord(ctx context.Context, st scheduler.Store, k scheduler.TaskKey) (scheduler.TaskInstance, error) {
	ti, err := st.GetTaskInstance(ctx, k)
	if errors.Is(err, scheduler.ErrNotFound) {
		return ti, errNotFound("task %s: not found (GET %s/tasks?dag=%s&run=%s lists the run's tasks)", k, api.Prefix, k.DAGID, k.RunID)
	}
	return ti, err
}

func (s *Server) getTask(r *http.Request, _ Token) (int, any, error) {
	st, ctx, cancel, err := s.store(r)
	if err != nil {
		return 0, nil, err
	}
	defer cancel()
	k, err := taskKey(ctx, st, r)
	if err != nil {
		return 0, nil, err
	}
	ti, err := getTaskRecord(ctx, st, k)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toTaskInstance(ti), nil
}

func (s *Server) taskHistory(r *http.Request, _ Token) (int, any, error) {
	pq, err := readPage(r)
	if err != nil {
		return 0, nil, err
	}
	st, ctx, cancel, err := s.store(r)
	if err != nil {
		return 0, nil, err
	}
	defer cancel()
	k, err := taskKey(ctx, st, r)
	if err != nil {
		return 0, nil, err
	}
	ti, err := getTaskRecord(ctx, st, k)
	if err != nil {
		return 0, nil, err
	}
	hist, err := st.HistoryPage(ctx, k, pq.fetch(), pq.cursor)
	if err != nil {
		return 0, nil, err
	}
	pg := pageOf(hist, pq, scheduler.TransitionCursor, toTransition)
	out := api.TaskHistory{Task: toTaskInstance(ti), Transitions: pg.Items, NextCursor: pg.NextCursor}
	if ob, ok := st.(scheduler.Outbox); ok {
		ns, err := ob.ListNotifications(ctx, k)
		if err != nil {
			return 0, nil, err
		}
		for _, n := range ns {
			an := api.Notification{ID: n.ID, Try: n.Try, Event: string(n.Event), Receiver: n.Receiver, At: n.At,
				State: string(n.State), Attempts: n.Attempts, StatusCode: n.StatusCode, Error: n.Error, UpdatedAt: n.UpdatedAt}
			if n.State == scheduler.NotificationPending {
				an.NextAt = n.NextAt
			}
			out.Notifications = append(out.Notifications, an)
		}
	}
	return http.StatusOK, out, nil
}

// logsTimeout bounds a log read: the copy of a big log to a slow client
// included. The server's write timeout is lifted for it.
const logsTimeout = 5 * time.Minute

// logs streams a try's output as text.
func (s *Server) logs(w http.ResponseWriter, r *http.Request) {
	try := 0
	if v := r.URL.Query().Get("try"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("?try=%q: use a try number from 1", v))
			return
		}
		try = n
	}
	st, ctx, cancel, err := s.store(r)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	k, ti, err := func() (scheduler.TaskKey, scheduler.TaskInstance, error) {
		defer cancel()
		k, err := taskKey(ctx, st, r)
		if err != nil {
			return k, scheduler.TaskInstance{}, err
		}
		ti, err := getTaskRecord(ctx, st, k)
		return k, ti, err
	}()
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	if try == 0 {
		if ti.Try == 0 {
			writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("task %s has not run yet (state %s): no logs", k, ti.State))
			return
		}
		try = ti.Try
	} else if try > ti.Try {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("task %s has had %d tries: no try %d", k, ti.Try, try))
		return
	}
	var lr scheduler.LogReader
	if s.opts.Logs != nil {
		lr = s.opts.Logs()
	}
	if lr == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the executor is not started yet: no logs to read; try again shortly")
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(logsTimeout))
	lctx, lcancel := context.WithTimeout(r.Context(), logsTimeout)
	defer lcancel()
	rc, err := lr.Logs(lctx, scheduler.TryKey{TaskKey: k, Try: try})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			s.writeErr(w, r, err)
			return
		}
		// The executor says why it has no output for the try (not run
		// here, folder removed, pod gone).
		writeError(w, http.StatusNotFound, "not_found", err.Error())
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, rc)
}
