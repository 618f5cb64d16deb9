package server_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/api/server"
	"github.com/vigilhq/vigil/scheduler"
)

func TestAuth(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	tests := []struct {
		name, method, path, token string
		body                      any
		want                      int
		wantIn                    []string
	}{
		{name: "no token", method: "GET", path: "/api/v1/dags", want: 401, wantIn: []string{"Authorization: Bearer"}},
		{name: "unknown token", method: "GET", path: "/api/v1/dags", token: "nope-nope-nope-nope", want: 401, wantIn: []string{"unknown bearer token"}},
		{name: "prefix of a token", method: "GET", path: "/api/v1/dags", token: aliceSecret[:20], want: 401},
		{name: "read-only reads", method: "GET", path: "/api/v1/dags", token: bobSecret, want: 200},
		{name: "read-only triggers", method: "POST", path: "/api/v1/dags/etl/runs", token: bobSecret, body: "{}", want: 403,
			wantIn: []string{"token bob is read-only", "operator"}},
		{name: "read-only pauses", method: "POST", path: "/api/v1/dags/etl/pause", token: bobSecret, want: 403},
		{name: "read-only sets a pool", method: "PUT", path: "/api/v1/pools/x", token: bobSecret, body: `{"slots":1}`, want: 403},
		{name: "read-only reads the debug API", method: "GET", path: "/api/v1/debug/info", token: bobSecret, want: 200},
		{name: "debug API needs a token", method: "GET", path: "/api/v1/debug/inflight", want: 401},
		{name: "openapi needs none", method: "GET", path: "/openapi.yaml", want: 200},
		{name: "operator triggers", method: "POST", path: "/api/v1/dags/etl/runs", token: aliceSecret, body: "{}", want: 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, h, b := f.do(tt.method, tt.path, tt.token, tt.body)
			if code != tt.want {
				t.Fatalf("%s %s: %d %s; want %d", tt.method, tt.path, code, b, tt.want)
			}
			if code == 401 && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: Bearer (%q)", h.Get("WWW-Authenticate"))
			}
			for _, s := range tt.wantIn {
				if msg := apiError(t, b).Message; !strings.Contains(msg, s) {
					t.Errorf("message %q; want it to say %q", msg, s)
				}
			}
		})
	}
}

func TestNewRefusesBadTokens(t *testing.T) {
	for _, toks := range [][]server.Token{
		nil,
		{{Name: "a", Role: "admin", Secret: aliceSecret}},
		{{Name: "a", Role: api.RoleOperator, Secret: "short"}},
		{{Name: "", Role: api.RoleOperator, Secret: aliceSecret}},
		{{Name: "a", Role: api.RoleOperator, Secret: aliceSecret}, {Name: "a", Role: api.RoleReadOnly, Secret: bobSecret}},
	} {
		if _, err := server.New(server.Options{Store: func() scheduler.Store { return nil }, Tokens: toks}); err == nil {
			t.Errorf("New with tokens %+v: no error", toks)
		}
	}
}

func TestErrors(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	tests := []struct {
		name, method, path string
		body               any
		want               int
		code               string
		wantIn             []string
	}{
		{"unknown DAG", "GET", "/api/v1/dags/nope", nil, 404, "not_found", []string{"dag nope", "/dags"}},
		{"unknown run", "GET", "/api/v1/dags/etl/runs/nope", nil, 404, "not_found", []string{"etl/nope"}},
		{"unknown task", "GET", "/api/v1/dags/etl/runs/r1/tasks/nope", nil, 404, "not_found", []string{"etl/r1/nope"}},
		{"latest of a DAG without runs", "GET", "/api/v1/dags/nope/runs/latest", nil, 404, "not_found", []string{"dag nope"}},
		{"latest without a DAG", "GET", "/api/v1/tasks?run=latest", nil, 400, "bad_request", []string{"latest", "dag"}},
		{"unknown op", "GET", "/api/v1/ops/999", nil, 404, "not_found", []string{"operation 999"}},
		{"bad op id", "GET", "/api/v1/ops/x", nil, 400, "bad_request", nil},
		{"unknown route", "GET", "/api/v1/nope", nil, 404, "not_found", []string{"openapi.yaml"}},
		{"bad limit", "GET", "/api/v1/runs?limit=x", nil, 400, "bad_request", []string{"limit"}},
		{"bad cursor", "GET", "/api/v1/runs?cursor=garbage", nil, 400, "bad_request", []string{"cursor"}},
		{"bad run state", "GET", "/api/v1/runs?state=sleeping", nil, 400, "bad_request", []string{"sleeping"}},
		{"unknown field", "POST", "/api/v1/dags/etl/runs", `{"confs":{}}`, 400, "bad_request", []string{`"confs"`}},
		{"not JSON", "POST", "/api/v1/dags/etl/runs", `{`, 400, "bad_request", nil},
		{"two values", "POST", "/api/v1/dags/etl/runs", `{} {}`, 400, "bad_request", nil},
		{"body too big", "POST", "/api/v1/dags/etl/runs", `{"reason":"` + strings.Repeat("x", server.MaxBody) + `"}`, 400, "bad_request", []string{"64 KiB"}},
		{"undeclared conf key", "POST", "/api/v1/dags/etl/runs", `{"conf":{"regoin":"x"}}`, 400, "bad_request", []string{"etl", "regoin"}},
		{"run id with a slash", "POST", "/api/v1/dags/etl/runs", `{"run_id":"a/b"}`, 400, "bad_request", []string{"a/b"}},
		{"backfill off the schedule", "POST", "/api/v1/dags/etl/runs", `{"backfill":true,"logical_date":"2026-11-30T10:30:00Z"}`, 400, "bad_request",
			[]string{"not a tick", "2026-11-30T11:00:00Z"}},
		{"backfill without a date", "POST", "/api/v1/dags/etl/runs", `{"backfill":true}`, 400, "bad_request", []string{"logical_date"}},
		{"op without a body", "POST", "/api/v1/ops", nil, 400, "bad_request", []string{"body"}},
		{"op of an unknown kind", "POST", "/api/v1/ops", `{"kind":"erase","dag_id":"etl","run_id":"r1"}`, 400, "bad_request", []string{"erase"}},
		{"mark without a state", "POST", "/api/v1/ops", `{"kind":"mark","dag_id":"etl","run_id":"r1","task_id":"load"}`, 400, "bad_request", []string{"success or failed"}},
		{"op on an unknown run", "POST", "/api/v1/ops", `{"kind":"clear_run","dag_id":"etl","run_id":"r9"}`, 404, "not_found", []string{"etl/r9"}},
		{"nothing to clear", "POST", "/api/v1/ops", `{"kind":"clear_tasks","dag_id":"etl","run_id":"r1","task_id":"extract","args":{"only_failed":true}}`, 409, "conflict", []string{"nothing to do"}},
		{"pool with bad slots", "PUT", "/api/v1/pools/p", `{"slots":-5}`, 400, "bad_request", nil},
		{"delete the default pool", "DELETE", "/api/v1/pools/default_pool", nil, 400, "bad_request", []string{"cannot be deleted"}},
		{"delete an unknown pool", "DELETE", "/api/v1/pools/nope", nil, 404, "not_found", []string{"nope"}},
		{"backfill with a bad date", "POST", "/api/v1/dags/etl/backfill/plan", `{"from":"yesterday","to":"2026-11-30"}`, 400, "bad_request", []string{"yesterday", "2026-11-01"}},
		{"logs of a try never run", "GET", "/api/v1/dags/etl/runs/r1/tasks/report/logs", nil, 404, "not_found", []string{"has not run yet"}},
		{"logs of a later try", "GET", "/api/v1/dags/etl/runs/r1/tasks/extract/logs?try=5", nil, 404, "not_found", []string{"no try 5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, b := f.do(tt.method, tt.path, aliceSecret, tt.body)
			if code != tt.want {
				t.Fatalf("%s %s: %d %s; want %d", tt.method, tt.path, code, b, tt.want)
			}
			e := apiError(t, b)
			if e.Code != tt.code {
				t.Errorf("code %q; want %q (%s)", e.Code, tt.code, e.Message)
			}
			for _, s := range tt.wantIn {
				if !strings.Contains(e.Message, s) {
					t.Errorf("message %q; want it to say %q", e.Message, s)
				}
			}
		})
	}
}

// TestStoreDeadline: a store call that runs out of time answers 503.
func TestStoreDeadline(t *testing.T) {
	f := newFixture(t, fixtureOpts{storeTimeout: time.Nanosecond})
	code, _, b := f.do("GET", "/api/v1/runs", bobSecret, nil)
	if e := apiError(t, b); code != 503 || e.Code != "unavailable" || !strings.Contains(e.Message, "did not answer") {
		t.Fatalf("%d %s; want 503 unavailable saying the database did not answer", code, b)
	}
	// /health does not need the store.
	if code, _, b := f.do("GET", "/api/v1/health", bobSecret, nil); code != 200 {
		t.Errorf("health: %d %s", code, b)
	}
}

func TestStoreNotOpen(t *testing.T) {
	f := newFixture(t, fixtureOpts{noStore: true})
	code, _, b := f.do("GET", "/api/v1/dags", bobSecret, nil)
	if e := apiError(t, b); code != 503 || !strings.Contains(e.Message, "not open yet") {
		t.Fatalf("%d %s; want 503 saying the database is not open yet", code, b)
	}
}

func TestTriggerAndPauseRecordTheToken(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	code, _, b := f.do("POST", "/api/v1/dags/etl/runs", aliceSecret, api.TriggerRequest{RunID: "mine", Conf: map[string]any{"region": "us-east-1"}, Reason: "test"})
	var tr api.TriggerResponse
	if code != 201 || json.Unmarshal(b, &tr) != nil || !tr.Created {
		t.Fatalf("trigger: %d %s", code, b)
	}
	if tr.Run.CreatedBy != (api.Actor{Component: "api", Instance: "alice"}) || tr.Run.Params["region"] != "us-east-1" || tr.Run.RunID != "mine" {
		t.Errorf("run %+v; want mine, created by api@alice with region us-east-1", tr.Run)
	}
	hist, err := f.st.History(t.Context(), scheduler.TaskKey{DAGID: "etl", RunID: "mine", TaskID: "extract"})
	if err != nil || len(hist) != 1 || !strings.Contains(hist[0].Reason, "api@alice") || !strings.Contains(hist[0].Reason, "test") {
		t.Errorf("creation record %+v, %v; want a reason naming api@alice and the reason", hist, err)
	}
	// The same run id again: 200, not created.
	code, _, b = f.do("POST", "/api/v1/dags/etl/runs", aliceSecret, api.TriggerRequest{RunID: "mine"})
	if code != 200 || json.Unmarshal(b, &tr) != nil || tr.Created {
		t.Errorf("trigger again: %d %s; want 200 not created", code, b)
	}
	// A backfill tick: the scheduled run of that tick.
	at := tick.Add(2 * time.Hour)
	code, _, b = f.do("POST", "/api/v1/dags/etl/runs", aliceSecret, api.TriggerRequest{Backfill: true, LogicalDate: at})
	if code != 201 || json.Unmarshal(b, &tr) != nil || tr.Run.RunID != scheduler.ScheduledRunID(at) || tr.Run.Manual {
		t.Errorf("backfill trigger: %d %s; want the scheduled run of %s", code, b, at)
	}

	if code, _, b := f.do("POST", "/api/v1/dags/etl/pause", aliceSecret, api.PauseRequest{Reason: "window"}); code != 200 {
		t.Fatalf("pause: %d %s", code, b)
	}
	if code, _, b := f.do("POST", "/api/v1/dags/etl/unpause", aliceSecret, nil); code != 200 {
		t.Fatalf("unpause: %d %s", code, b)
	}
	code, _, b = f.do("GET", "/api/v1/dags/etl/history?limit=1", bobSecret, nil)
	var pg api.Page[api.DAGChange]
	if code != 200 || json.Unmarshal(b, &pg) != nil || len(pg.Items) != 1 || pg.Items[0].Action != "unpause" || pg.NextCursor == "" {
		t.Fatalf("history page 1: %d %s", code, b)
	}
	code, _, b = f.do("GET", "/api/v1/dags/etl/history?limit=1&cursor="+pg.NextCursor, bobSecret, nil)
	if code != 200 || json.Unmarshal(b, &pg) != nil || len(pg.Items) != 1 || pg.Items[0].Action != "pause" ||
		pg.Items[0].Reason != "window" || pg.Items[0].By.Instance != "alice" {
		t.Fatalf("history page 2: %d %s", code, b)
	}
}

func TestOpsPlanAndStore(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	req := api.OpRequest{Kind: api.OpClearTasks, DAGID: "etl", RunID: "latest", TaskID: "load", Args: api.OpArgs{Downstream: true}, DryRun: true}
	// latest is the newest by logical date: the manual run r1, made now.
	code, _, b := f.do("POST", "/api/v1/ops", aliceSecret, req)
	var res api.OpResponse
	if code != 200 || json.Unmarshal(b, &res) != nil || res.Op != nil || len(res.Plan.Changes) != 2 {
		t.Fatalf("dry run: %d %s; want a plan of 2 changes", code, b)
	}
	if ops, _ := f.st.ListOps(t.Context(), scheduler.OpFilter{}); len(ops) != 0 {
		t.Fatalf("a dry run stored %d operations", len(ops))
	}
	req.DryRun, req.Reason = false, "fixed"
	code, _, b = f.do("POST", "/api/v1/ops", aliceSecret, req)
	if code != 202 || json.Unmarshal(b, &res) != nil || res.Op == nil {
		t.Fatalf("op: %d %s; want 202 with the op", code, b)
	}
	if res.Op.RunID != "r1" || res.Op.By != (api.Actor{Component: "api", Instance: "alice"}) || res.Op.State != "pending" || res.Op.Reason != "fixed" {
		t.Errorf("op %+v; want pending on r1 by api@alice", res.Op)
	}
	code, _, b = f.do("GET", fmt.Sprintf("/api/v1/ops/%d", res.Op.ID), bobSecret, nil)
	var op api.Op
	if code != 200 || json.Unmarshal(b, &op) != nil || op.ID != res.Op.ID {
		t.Errorf("get op: %d %s", code, b)
	}
}

func TestPoolsRecordTheToken(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	code, _, b := f.do("PUT", "/api/v1/pools/gpu", aliceSecret, api.PoolSet{Slots: 2, Description: "two cards", Reason: "new cards"})
	var p api.Pool
	if code != 200 || json.Unmarshal(b, &p) != nil || p.Slots != 2 || p.UpdatedBy != "api@alice" {
		t.Fatalf("set: %d %s", code, b)
	}
	if code, _, b := f.do("DELETE", "/api/v1/pools/gpu?reason=returned", aliceSecret, nil); code != 204 {
		t.Fatalf("delete: %d %s", code, b)
	}
	code, _, b = f.do("GET", "/api/v1/pools/history?pool=gpu", bobSecret, nil)
	var pg api.Page[api.PoolChange]
	if code != 200 || json.Unmarshal(b, &pg) != nil || len(pg.Items) != 2 || pg.Items[1].Action != "delete" || pg.Items[1].By != "api@alice" ||
		pg.Items[1].Reason != "returned" || pg.Items[0].Reason != "new cards" || pg.Items[0].Description != "two cards" ||
		pg.Items[1].PrevSlots == nil || *pg.Items[1].PrevSlots != 2 {
		t.Errorf("history: %d %s; want the set then the delete, by api@alice with their reasons", code, b)
	}
	// A page at a time.
	code, _, b = f.do("GET", "/api/v1/pools/history?limit=1", bobSecret, nil)
	if code != 200 || json.Unmarshal(b, &pg) != nil || len(pg.Items) != 1 || pg.NextCursor == "" {
		t.Fatalf("history page 1: %d %s", code, b)
	}
	code, _, b = f.do("GET", "/api/v1/pools/history?limit=5&cursor="+pg.NextCursor, bobSecret, nil)
	if code != 200 || json.Unmarshal(b, &pg) != nil || len(pg.Items) != 2 || pg.Items[1].Action != "delete" {
		t.Errorf("history after page 1: %d %s; want the rest (gpu's delete last)", code, b)
	}
	// Pages of pools: every pool once.
	var names []string
	cursor := ""
	for range 10 {
		code, _, b = f.do("GET", "/api/v1/pools?limit=1&cursor="+cursor, bobSecret, nil)
		var pp api.Page[api.Pool]
		if code != 200 || json.Unmarshal(b, &pp) != nil {
			t.Fatalf("pools: %d %s", code, b)
		}
		for _, p := range pp.Items {
			names = append(names, p.Name)
		}
		if cursor = pp.NextCursor; cursor == "" {
			break
		}
	}
	if fmt.Sprint(names) != "[default_pool warehouse]" {
		t.Errorf("pools by page: %v", names)
	}
}

func TestLogs(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	code, h, b := f.do("GET", "/api/v1/dags/etl/runs/r1/tasks/extract/logs", bobSecret, nil)
	if code != 200 || string(b) != "extracting\n" || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Fatalf("logs: %d %q (%s)", code, b, h.Get("Content-Type"))
	}
	code, _, b = f.do("GET", "/api/v1/dags/etl/runs/r1/tasks/load/logs", bobSecret, nil)
	if code != 404 || !strings.Contains(apiError(t, b).Message, "does not exist") {
		t.Errorf("logs of a try with no output: %d %s; want 404 saying why", code, b)
	}
}

func TestStatus(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	code, _, b := f.do("GET", "/api/v1/status", bobSecret, nil)
	var st api.Status
	if code != 200 || json.Unmarshal(b, &st) != nil {
		t.Fatalf("%d %s", code, b)
	}
	// The scheduled run's three tasks wait; r1 has ended.
	if len(st.Schedulers) != 1 || !st.Schedulers[0].Serving || st.Schedulers[0].Stale || st.Schedulers[0].PeriodSeconds != 5 ||
		st.Tasks["scheduled"] != 3 || len(st.Tasks) != 1 || st.RunsUnowned != 0 {
		t.Errorf("status %s", b)
	}
}
