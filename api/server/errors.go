package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/scheduler"
)

// httpError is an error with the status and code to answer it with.
type httpError struct {
	status int
	code   string
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func errBadRequest(format string, a ...any) error {
	return &httpError{http.StatusBadRequest, "bad_request", fmt.Sprintf(format, a...)}
}

func errNotFound(format string, a ...any) error {
	return &httpError{http.StatusNotFound, "not_found", fmt.Sprintf(format, a...)}
}

func errConflict(format string, a ...any) error {
	return &httpError{http.StatusConflict, "conflict", fmt.Sprintf(format, a...)}
}

func errUnavailable(msg string) error {
	return &httpError{http.StatusServiceUnavailable, "unavailable", msg}
}

// writeErr answers err: an httpError as it says, the scheduler's errors by
// their meaning, a store call that ran out of time with 503.
func (s *Server) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	switch {
	case errors.As(err, &he):
		writeError(w, he.status, he.code, he.msg)
	case errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, "unavailable",
			fmt.Sprintf("the database did not answer within %s: %v; try again, and see GET %s/health", s.timeout, err, api.Prefix))
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; nobody reads the answer.
	case errors.Is(err, scheduler.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, scheduler.ErrInvalidConf), errors.Is(err, scheduler.ErrBadCursor), errors.Is(err, scheduler.ErrNoDAGForLatest),
		errors.Is(err, scheduler.ErrNotATick), errors.Is(err, scheduler.ErrBadRunID):
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
	case errors.Is(err, scheduler.ErrStateConflict), errors.Is(err, scheduler.ErrPoolInUse), errors.Is(err, scheduler.ErrOpClosed):
		writeError(w, http.StatusConflict, "conflict", err.Error())
	default:
		s.opts.Logger.Error("api request failed", zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.Error(err))
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
	}
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, api.ErrorBody{Error: api.Error{Code: code, Message: msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

// decode reads a JSON body into v: at most MaxBody bytes, no unknown
// field, one value. An empty body leaves v as it is when optional.
func decode(r *http.Request, v any, optional bool) error {
	body := http.MaxBytesReader(nil, r.Body, MaxBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF) && optional:
		return nil
	case errors.Is(err, io.EOF):
		return errBadRequest("%s %s needs a JSON body (see GET /openapi.yaml)", r.Method, r.URL.Path)
	case errors.As(err, &tooBig):
		return errBadRequest("body larger than %d KiB", MaxBody>>10)
	case err != nil:
		msg := err.Error()
		if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			msg = "unknown field " + f + " (see GET /openapi.yaml for the fields)"
		}
		return errBadRequest("body of %s %s: %s", r.Method, r.URL.Path, msg)
	}
	if dec.More() {
		return errBadRequest("body of %s %s: more than one JSON value", r.Method, r.URL.Path)
	}
	return nil
}
