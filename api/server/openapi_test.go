package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/vigilhq/vigil/api"
)

// loadDoc loads and validates api/openapi.yaml.
func loadDoc(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("openapi.yaml is not valid OpenAPI 3: %v", err)
	}
	return doc
}

// docRoutes are "METHOD /path" of every operation of the document, in
// the server's pattern syntax (/debug/{path} is the subtree /debug/).
func docRoutes(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if path == "/debug/{path}" {
				path = "/debug/"
			}
			out = append(out, method+" "+path)
		}
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIRoutes: the routes the server registers are the routes the
// document describes, no more, no fewer.
func TestOpenAPIRoutes(t *testing.T) {
	doc := loadDoc(t)
	f := newFixture(t, fixtureOpts{})
	got := f.srv.Routes()
	sort.Strings(got)
	want := docRoutes(doc)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("routes registered:\n  %s\nroutes in openapi.yaml:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	// The document served is the embedded one.
	code, _, b := f.do("GET", "/openapi.yaml", "", nil)
	if code != 200 || !bytes.Equal(b, api.OpenAPI) {
		t.Errorf("GET /openapi.yaml: %d, %d bytes; want the embedded document", code, len(b))
	}
}

// TestOpenAPISchemasMatchTypes: each schema names the JSON fields of the
// api type of the same name, and requires those never left out.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	doc := loadDoc(t)
	types := map[string]any{
		"ErrorBody": api.ErrorBody{}, "Error": api.Error{}, "Actor": api.Actor{}, "DAG": api.DAG{}, "RunSummary": api.RunSummary{},
		"DAGList": api.DAGList{}, "LoadError": api.LoadError{}, "Task": api.Task{}, "Run": api.Run{},
		"TriggerRequest": api.TriggerRequest{}, "TriggerResponse": api.TriggerResponse{}, "PauseRequest": api.PauseRequest{},
		"TaskInstance": api.TaskInstance{}, "Transition": api.Transition{}, "TaskHistory": api.TaskHistory{}, "OpArgs": api.OpArgs{},
		"OpRequest": api.OpRequest{}, "Op": api.Op{}, "OpResponse": api.OpResponse{}, "Plan": api.Plan{}, "PlanChange": api.PlanChange{},
		"PlanLeft": api.PlanLeft{}, "Pool": api.Pool{}, "PoolSet": api.PoolSet{}, "PoolChange": api.PoolChange{}, "Status": api.Status{},
		"Heartbeat": api.Heartbeat{}, "Health": api.Health{}, "Loop": api.Loop{}, "Call": api.Call{},
		"BackfillPlanRequest": api.BackfillPlanRequest{}, "BackfillPlan": api.BackfillPlan{}, "BackfillItem": api.BackfillItem{},
		"WhoAmI": api.WhoAmI{}, "DAGChange": api.DAGChange{}, "Notification": api.Notification{},
	}
	for name, v := range types {
		ref := doc.Components.Schemas[name]
		if ref == nil {
			t.Errorf("openapi.yaml has no schema %s", name)
			continue
		}
		fields, required := jsonFields(reflect.TypeOf(v))
		props := map[string]bool{}
		for p := range ref.Value.Properties {
			props[p] = true
		}
		for _, f := range fields {
			if !props[f] {
				t.Errorf("schema %s lacks field %s of api.%s", name, f, name)
			}
			delete(props, f)
		}
		for p := range props {
			t.Errorf("schema %s has property %s that api.%s lacks", name, p, name)
		}
		req := map[string]bool{}
		for _, r := range ref.Value.Required {
			req[r] = true
		}
		for _, r := range required {
			// Request bodies may leave anything out; their required
			// fields are the server's checks.
			if !req[r] && !strings.HasSuffix(name, "Request") && name != "PoolSet" && name != "OpArgs" {
				t.Errorf("schema %s does not require %s, which api.%s always writes", name, r, name)
			}
		}
	}
	// DAGDetail is DAG and its task list.
	if d := doc.Components.Schemas["DAGDetail"].Value; len(d.AllOf) != 2 || d.AllOf[0].Ref != "#/components/schemas/DAG" {
		t.Errorf("schema DAGDetail is not DAG + task_list")
	}
}

// jsonFields returns the JSON names of a struct's fields, and those
// without omitempty/omitzero.
func jsonFields(t reflect.Type) (all, required []string) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		all = append(all, name)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			required = append(required, name)
		}
	}
	return all, required
}

// call is one request of TestOpenAPIResponses.
type call struct {
	method, path, token string
	body                any
	want                int
}

// TestOpenAPIResponses sends real requests, answered and failing, to a
// real server over a real SQLite store and validates each request and
// its response against openapi.yaml; every operation is exercised.
func TestOpenAPIResponses(t *testing.T) {
	doc := loadDoc(t)
	f := newFixture(t, fixtureOpts{})
	doc.Servers = openapi3.Servers{{URL: f.http.URL + api.Prefix}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	a, b := aliceSecret, bobSecret
	calls := []call{
		{"GET", "/dags", b, nil, 200},
		{"GET", "/dags/etl", b, nil, 200},
		{"GET", "/dags/nope", b, nil, 404},
		{"POST", "/dags/etl/pause", a, api.PauseRequest{Reason: "r"}, 200},
		{"POST", "/dags/etl/unpause", a, nil, 200},
		{"POST", "/dags/etl/pause", b, nil, 403},
		{"GET", "/dags/etl/history", b, nil, 200},
		{"POST", "/dags/etl/runs", a, api.TriggerRequest{Conf: map[string]any{"region": "x"}}, 201},
		{"POST", "/dags/etl/runs", a, api.TriggerRequest{RunID: "r1"}, 200},
		{"POST", "/dags/etl/runs", a, api.TriggerRequest{Conf: map[string]any{"bad": 1}}, 400},
		{"POST", "/dags/etl/backfill/plan", a, api.BackfillPlanRequest{From: "2026-11-30", To: "2026-11-30"}, 200},
		{"GET", "/runs?dag=etl&limit=1", b, nil, 200},
		{"GET", "/runs?state=failed", b, nil, 200},
		{"GET", "/dags/etl/runs/latest", b, nil, 200},
		{"GET", "/dags/etl/runs/r1", b, nil, 200},
		{"GET", "/tasks?dag=etl&run=r1", b, nil, 200},
		{"GET", "/tasks?dag=etl&run=latest&state=failed&limit=1", b, nil, 200},
		{"GET", "/dags/etl/runs/r1/tasks/load", b, nil, 200},
		{"GET", "/dags/etl/runs/r1/tasks/load/history?limit=2", b, nil, 200},
		{"GET", "/dags/etl/runs/r1/tasks/extract/logs", b, nil, 200},
		{"GET", "/dags/etl/runs/r1/tasks/extract/logs?try=1", b, nil, 200},
		{"GET", "/dags/etl/runs/r1/tasks/report/logs", b, nil, 404},
		{"POST", "/ops", a, api.OpRequest{Kind: api.OpClearTasks, DAGID: "etl", RunID: "r1", TaskID: "load", DryRun: true}, 200},
		{"POST", "/ops", a, api.OpRequest{Kind: api.OpCancelRun, DAGID: "etl", RunID: scheduledRun(), DryRun: true}, 200},
		{"POST", "/ops", a, api.OpRequest{Kind: api.OpMark, DAGID: "etl", RunID: "r1", TaskID: "load", Args: api.OpArgs{State: "success"}}, 202},
		{"GET", "/ops", b, nil, 200},
		{"GET", "/ops?dag=etl&run=r1&state=pending", b, nil, 200},
		{"GET", "/ops/1", b, nil, 200},
		{"GET", "/ops/99", b, nil, 404},
		{"GET", "/pools", b, nil, 200},
		{"PUT", "/pools/gpu", a, api.PoolSet{Slots: 2, Description: "d"}, 200},
		{"GET", "/pools/history", b, nil, 200},
		{"DELETE", "/pools/gpu?reason=done", a, nil, 204},
		{"GET", "/whoami", b, nil, 200},
		{"GET", "/status", b, nil, 200},
		{"GET", "/health", b, nil, 200},
		{"GET", "/debug/flamegraph?kind=wall&seconds=1", b, nil, 200},
		{"GET", "/debug/flamegraph?kind=heap", b, nil, 400},
		{"GET", "/debug/info", b, nil, 200},
		{"GET", "/debug/inflight", b, nil, 200},
		{"GET", "/runs", "", nil, 401},
	}
	seen := map[string]bool{}
	for _, c := range calls {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			route := f.validate(t, router, c)
			seen[route] = true
		})
	}
	for _, r := range docRoutes(doc) {
		if r == "GET /debug/" {
			r = "GET /debug/{path}"
		}
		if !seen[r] {
			t.Errorf("no request of %s was validated", r)
		}
	}
}

func scheduledRun() string { return "scheduled__" + tick.Format(time.RFC3339) }

// validate sends c, validating the request and the response against
// the document, and returns the operation's "METHOD /path".
func (f *fixture) validate(t *testing.T, router routers.Router, c call) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var body []byte
	if c.body != nil {
		var err error
		if body, err = json.Marshal(c.body); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, c.method, f.http.URL+api.Prefix+c.path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s is not in openapi.yaml: %v", c.method, c.path, err)
	}
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		// The server checks the token; the document only says one is sent.
		AuthenticationFunc: func(context.Context, *openapi3filter.AuthenticationInput) error { return nil },
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if c.want/100 == 2 {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			t.Errorf("request does not match openapi.yaml: %v", err)
		}
		req.Body = io.NopCloser(bytes.NewReader(body)) // read by the validation
	}
	resp, err := f.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != c.want {
		t.Fatalf("%d %s; want %d", resp.StatusCode, got, c.want)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(got)), Options: opts}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("response does not match openapi.yaml: %v\n%s", err, got)
	}
	return fmt.Sprintf("%s %s", route.Method, route.Path)
}
