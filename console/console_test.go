package console

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func TestHandlerServesThePage(t *testing.T) {
	h := Handler()
	tests := []struct {
		name, method, path string
		code               int
		ctype, body        string
	}{
		{"index", "GET", "/", 200, "text/html", `<script type="module" src="app.js">`},
		{"module", "GET", "/app.js", 200, "text/javascript", "hashchange"},
		{"style", "GET", "/style.css", 200, "text/css", ".grid-box"},
		{"head", "HEAD", "/", 200, "text/html", ""},
		{"missing", "GET", "/nope.js", 404, "", ""},
		{"post", "POST", "/", 405, "", "GET only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, h, tt.method, tt.path)
			if rec.Code != tt.code {
				t.Fatalf("%s %s: HTTP %d, want %d", tt.method, tt.path, rec.Code, tt.code)
			}
			if !strings.HasPrefix(rec.Header().Get("Content-Type"), tt.ctype) {
				t.Errorf("Content-Type %q, want %s", rec.Header().Get("Content-Type"), tt.ctype)
			}
			if !strings.Contains(rec.Body.String(), tt.body) {
				t.Errorf("body lacks %q", tt.body)
			}
			if tt.code == 200 && !strings.Contains(rec.Header().Get("Content-Security-Policy"), "connect-src 'self'") {
				t.Errorf("no CSP keeping the token on this origin: %q", rec.Header().Get("Content-Security-Policy"))
			}
		})
	}
}

// The page must work offline: every asset it names is embedded, and it
// names nothing on another host.
func TestAssetsAreSelfContained(t *testing.T) {
	imports := regexp.MustCompile(`(?:from|import)\s*"([^"]+)"|(?:src|href)="([^"#]+)"`)
	remote := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/`)
	err := fs.WalkDir(web, "web", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := web.ReadFile(path)
		if err != nil {
			return err
		}
		if m := remote.Find(b); m != nil {
			t.Errorf("%s names a remote address %q: the console must work offline", path, m)
		}
		for _, m := range imports.FindAllStringSubmatch(string(b), -1) {
			ref := m[1] + m[2]
			if strings.HasPrefix(ref, "data:") {
				continue
			}
			ref = strings.TrimPrefix(ref, "./")
			if _, err := fs.Stat(web, "web/"+ref); err != nil {
				t.Errorf("%s refers to %s, which is not embedded", path, ref)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
