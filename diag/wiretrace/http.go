package wiretrace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/vigilhq/vigil/diag/debugapi"
)

// MaxWait bounds the long poll of EntriesHandler: a tail that waits longer
// would outlive the write timeouts of the servers that mount it.
const MaxWait = 30 * time.Second

// EntriesResponse is the JSON body of EntriesHandler (the debug API's
// GET /debug/v1/wiretrace).
type EntriesResponse = debugapi.WireEntries

// ModeResponse is the JSON body of ModeHandler.
type ModeResponse = debugapi.WireModeResponse

// EntriesHandler serves the ring as an EntriesResponse. GET only. Query
// parameters: after=SEQ (entries with a larger Seq; 0 for all), max=N
// (at most N, oldest first; all by default), wait=DURATION (when there is
// nothing after SEQ yet, wait up to min(DURATION, MaxWait) for an
// exchange, or until the client goes away).
func (t *Tracer) EntriesHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, fmt.Errorf("method %s not allowed: use GET", r.Method))
			return
		}
		q := r.URL.Query()
		var after uint64
		if s := q.Get("after"); s != "" {
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				writeError(w, http.StatusBadRequest, fmt.Errorf("after=%q: want a sequence number: %w", s, err))
				return
			}
			after = v
		}
		limit := 0
		if s := q.Get("max"); s != "" {
			v, err := strconv.Atoi(s)
			if err != nil || v < 0 {
				writeError(w, http.StatusBadRequest, fmt.Errorf("max=%q: want a count of 0 or more", s))
				return
			}
			limit = v
		}
		var wait time.Duration
		if s := q.Get("wait"); s != "" {
			v, err := time.ParseDuration(s)
			if err != nil || v < 0 {
				writeError(w, http.StatusBadRequest, fmt.Errorf("wait=%q: want a duration such as 10s", s))
				return
			}
			wait = min(v, MaxWait)
		}
		// A client whose after is past the newest Seq is from before a
		// restart: answer at once so it can start over from last_seq.
		if last := t.lastSeqNow(); wait > 0 && after == last {
			ctx, cancel := context.WithTimeout(r.Context(), wait)
			t.Wait(ctx, after)
			cancel()
		}
		entries, last, missed := t.entries(after, limit)
		if entries == nil {
			entries = []Exchange{}
		} else {
			last = entries[len(entries)-1].Seq
		}
		writeJSON(w, http.StatusOK, EntriesResponse{Mode: t.Mode(), Entries: entries, LastSeq: last, Missed: missed})
	})
}

// ModeHandler serves the mode. GET returns a ModeResponse; PUT or POST
// sets the mode from ?mode=NAME or a JSON body {"mode":"NAME"} and returns
// the new and previous mode. An unknown name is a 400 whose error lists
// the valid modes.
func (t *Tracer) ModeHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			writeJSON(w, http.StatusOK, ModeResponse{Mode: t.Mode()})
		case http.MethodPut, http.MethodPost:
			name, err := modeRequest(w, r)
			if err != nil {
				writeError(w, http.StatusBadRequest, err)
				return
			}
			m, err := ParseMode(name)
			if err != nil {
				writeError(w, http.StatusBadRequest, err)
				return
			}
			prev := t.Mode()
			t.SetMode(m)
			writeJSON(w, http.StatusOK, ModeResponse{Mode: m, Previous: &prev})
		default:
			w.Header().Set("Allow", "GET, HEAD, PUT, POST")
			writeError(w, http.StatusMethodNotAllowed, fmt.Errorf("method %s not allowed: use GET, or PUT with {\"mode\":\"%s\"}", r.Method, Summary))
		}
	})
}

// modeRequest returns the mode name a PUT or POST asks for.
func modeRequest(w http.ResponseWriter, r *http.Request) (string, error) {
	if s := r.URL.Query().Get("mode"); s != "" {
		return s, nil
	}
	var body debugapi.WireModeRequest
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&body)
	switch {
	case errors.Is(err, io.EOF):
		return "", fmt.Errorf("no mode given: send ?mode=NAME or {\"mode\":\"NAME\"}, NAME one of %s", validModes)
	case err != nil:
		return "", fmt.Errorf("read mode request: %w", err)
	case body.Mode == "":
		return "", fmt.Errorf("no mode given: send ?mode=NAME or {\"mode\":\"NAME\"}, NAME one of %s", validModes)
	}
	return body.Mode, nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, debugapi.Error{Error: err.Error()})
}
