package watchdog

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/vigilhq/vigil/diag/debugapi"
)

// LivezHandler serves a liveness probe: 200 "ok" while no heartbeat is
// stale, 503 naming each stale heartbeat and its age otherwise, so the
// probe's failure message in `kubectl describe pod` says what hung.
func (w *Watchdog) LivezHandler() http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		rw.Header().Set("Cache-Control", "no-store")
		stale := w.Stale()
		if len(stale) == 0 {
			fmt.Fprintln(rw, "ok")
			return
		}
		rw.WriteHeader(http.StatusServiceUnavailable)
		var b strings.Builder
		for _, s := range stale {
			fmt.Fprintf(&b, "heartbeat %s stale: last beat %s ago (period %s)\n", s.Name, s.Age.Round(time.Millisecond), s.Period)
		}
		fmt.Fprint(rw, b.String())
	})
}

// HealthReport is the JSON body of the /healthz endpoint and of the
// debug API's /heartbeats.
type HealthReport = debugapi.HealthReport

// HealthzHandler serves every heartbeat with its age and period as JSON;
// the status code is 503 when any is stale.
func (w *Watchdog) HealthzHandler() http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rep := HealthReport{Status: "ok", Time: w.now().UTC(), Heartbeats: w.Snapshot()}
		code := http.StatusOK
		for _, s := range rep.Heartbeats {
			switch {
			case s.Stale && !s.Advisory:
				rep.Status, code = "stale", http.StatusServiceUnavailable
			case s.Stale && rep.Status == "ok":
				rep.Status = "degraded"
			}
		}
		rw.Header().Set("Content-Type", "application/json")
		rw.Header().Set("Cache-Control", "no-store")
		rw.WriteHeader(code)
		enc := json.NewEncoder(rw)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	})
}
