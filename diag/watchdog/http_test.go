package watchdog

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHandlers(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	wd := New(Options{Now: clk.Now})
	loop := wd.Register("scheduler.loop", time.Second)
	exec := wd.Register("executor.events", time.Second)
	loop.Beat()
	exec.Beat()

	get := func(h http.Handler) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		return rec
	}
	if rec := get(wd.LivezHandler()); rec.Code != http.StatusOK {
		t.Fatalf("livez while fresh: %d %s", rec.Code, rec.Body)
	}

	clk.Advance(10 * time.Second)
	exec.Beat()
	rec := get(wd.LivezHandler())
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("livez while stale: got %d, want 503", rec.Code)
	}
	if body := rec.Body.String(); !strings.Contains(body, "heartbeat scheduler.loop stale: last beat 10s ago") || strings.Contains(body, "executor.events") {
		t.Errorf("livez body does not name just the stale heartbeat:\n%s", body)
	}

	rec = get(wd.HealthzHandler())
	var rep HealthReport
	if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
		t.Fatalf("healthz is not JSON: %v\n%s", err, rec.Body)
	}
	if rec.Code != http.StatusServiceUnavailable || rep.Status != "stale" || len(rep.Heartbeats) != 2 {
		t.Fatalf("healthz: code %d, report %+v", rec.Code, rep)
	}
	if hb := rep.Heartbeats[1]; hb.Name != "scheduler.loop" || !hb.Stale || hb.Age != 10*time.Second || hb.Period != time.Second {
		t.Errorf("healthz heartbeat: %+v", hb)
	}
}

func TestAdvisoryHeartbeatDoesNotFailLiveness(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	wd := New(Options{Now: clk.Now})
	loop := wd.Register("scheduler.loop", time.Second)
	watch := wd.RegisterAdvisory("executor.kube.watch", time.Second)
	loop.Beat()
	watch.Beat()
	clk.Advance(10 * time.Second)
	loop.Beat()

	rec := httptest.NewRecorder()
	wd.LivezHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/livez", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("livez = %d with only an advisory heartbeat stale, want 200", rec.Code)
	}
	rec = httptest.NewRecorder()
	wd.HealthzHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	var rep HealthReport
	if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusOK || rep.Status != "degraded" {
		t.Fatalf("healthz = %d %q, want 200 degraded", rec.Code, rep.Status)
	}
	for _, hb := range rep.Heartbeats {
		if hb.Name == "executor.kube.watch" && (!hb.Stale || !hb.Advisory) {
			t.Fatalf("watch heartbeat %+v, want stale and advisory", hb)
		}
	}
}
