package stacks

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(Handler(Options{}))
	defer srv.Close()
	tests := []struct {
		name, query string
		code        int
		check       func(t *testing.T, body string)
	}{
		{"json", "", 200, func(t *testing.T, body string) {
			var snap Snapshot
			if err := json.Unmarshal([]byte(body), &snap); err != nil || snap.Goroutines == 0 || len(snap.Groups) == 0 {
				t.Errorf("snapshot: %v, %d goroutines, %d groups", err, snap.Goroutines, len(snap.Groups))
			}
		}},
		{"match as regexp", "?match=" + "TestHandler", 200, func(t *testing.T, body string) {
			if !strings.Contains(body, "TestHandler") {
				t.Errorf("match=TestHandler lost the test's own goroutine:\n%s", body)
			}
		}},
		// Not a valid expression: taken as a substring, as in text mode.
		{"match as substring", "?match=" + "(*T).Run(", 200, nil},
		{"text", "?format=text", 200, func(t *testing.T, body string) {
			if !strings.Contains(body, "goroutine") {
				t.Errorf("text:\n%s", body)
			}
		}},
		{"bad min_wait", "?min_wait=soon", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tt.query)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b strings.Builder
			_, _ = io.Copy(&b, resp.Body)
			if resp.StatusCode != tt.code {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.code, b.String())
			}
			if tt.check != nil {
				tt.check(t, b.String())
			}
		})
	}
}
