package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/api/server"
	"github.com/vigilhq/vigil/scheduler"
)

// TestConsoleAndExtraRoutes: the console is served at / with no token;
// an extra route is behind the token and role it names, and listed.
func TestConsoleAndExtraRoutes(t *testing.T) {
	console := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "console "+r.URL.Path) })
	flame := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "flame") })
	srv, err := server.New(server.Options{
		Store:   func() scheduler.Store { return nil },
		Tokens:  []server.Token{{Name: "alice", Role: api.RoleOperator, Secret: aliceSecret}, {Name: "bob", Role: api.RoleReadOnly, Secret: bobSecret}},
		Console: console,
		Extra:   []server.Route{{Method: "POST", Pattern: "/debug/flame", Role: api.RoleOperator, Handler: flame}},
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	get := func(method, path, token string) (int, string) {
		req, err := http.NewRequestWithContext(t.Context(), method, hs.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tt := range []struct {
		method, path, token string
		want                int
		body                string
	}{
		{"GET", "/", "", 200, "console /"},
		{"GET", "/assets/app.js", "", 200, "console /assets/app.js"},
		{"GET", "/api/v1/nope", "", 404, ""},
		{"POST", "/", "", 405, ""},
		{"GET", "/openapi.yaml", "", 200, ""},
		{"POST", "/api/v1/debug/flame", "", 401, ""},
		{"POST", "/api/v1/debug/flame", bobSecret, 403, ""},
		{"POST", "/api/v1/debug/flame", aliceSecret, 200, "flame"},
	} {
		code, body := get(tt.method, tt.path, tt.token)
		if code != tt.want || (tt.body != "" && body != tt.body) {
			t.Errorf("%s %s: %d %q; want %d %q", tt.method, tt.path, code, body, tt.want, tt.body)
		}
	}
	found := false
	for _, r := range srv.Routes() {
		found = found || r == "POST /debug/flame"
	}
	if !found {
		t.Errorf("Routes() %v lacks the extra route", srv.Routes())
	}
}
