package stacks

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Handler serves a fresh Capture(opts) on every request: JSON (a
// *Snapshot) by default, the text of WriteText with ?format=text.
// ?min_wait=30s keeps the groups that have waited at least that long and
// ?match=EXPR those matching EXPR (see TextOptions.Match).
func Handler(opts Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var minWait time.Duration
		if v := q.Get("min_wait"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				http.Error(w, fmt.Sprintf("min_wait=%q: %v (e.g. min_wait=30s)", v, err), http.StatusBadRequest)
				return
			}
			minWait = d
		}
		snap, err := Capture(opts)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if q.Get("format") == "text" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			if err := snap.WriteText(w, TextOptions{MinWait: minWait, Match: q.Get("match")}); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(snap.Filter(minWait, CompileMatch(q.Get("match"))))
	})
}
