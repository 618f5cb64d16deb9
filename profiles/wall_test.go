package profiles

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

func TestWallProfile(t *testing.T) {
	// A goroutine that only waits: invisible to a CPU profile, the point
	// of a wall-clock one.
	release := make(chan struct{})
	defer close(release)
	go func() { waitForRelease(release) }()

	var buf bytes.Buffer
	if err := WallProfile(context.Background(), 300*time.Millisecond, &buf); err != nil {
		t.Fatal(err)
	}
	p, err := profile.ParseData(buf.Bytes())
	if err != nil {
		t.Fatalf("not a pprof profile: %v", err)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatal(err)
	}
	if len(p.Sample) == 0 || !profileHasFunc(p, "waitForRelease") {
		t.Errorf("the wall-clock profile (%d samples) misses the waiting goroutine", len(p.Sample))
	}
}

func waitForRelease(c chan struct{}) { <-c }

func profileHasFunc(p *profile.Profile, name string) bool {
	for _, f := range p.Function {
		if strings.HasSuffix(f.Name, "."+name) {
			return true
		}
	}
	return false
}

func TestWallProfileHandler(t *testing.T) {
	tests := []struct {
		name      string
		query     string
		wantCode  int
		wantType  string
		checkBody func(t *testing.T, body []byte)
	}{
		{name: "pprof by default", query: "seconds=0.2", wantCode: http.StatusOK, wantType: "application/octet-stream",
			checkBody: func(t *testing.T, body []byte) {
				if _, err := profile.ParseData(body); err != nil {
					t.Errorf("not pprof: %v", err)
				}
			}},
		{name: "folded", query: "seconds=0.2&format=folded", wantCode: http.StatusOK, wantType: "text/plain; charset=utf-8",
			checkBody: func(t *testing.T, body []byte) {
				// "frame;frame;frame count" lines.
				line, _, _ := strings.Cut(string(body), "\n")
				if !strings.Contains(line, ";") || !strings.Contains(line, " ") {
					t.Errorf("not folded stacks: %q", line)
				}
			}},
		{name: "unknown format", query: "seconds=0.2&format=svg", wantCode: http.StatusBadRequest, wantType: "text/plain; charset=utf-8"},
	}
	srv := httptest.NewServer(WallProfileHandler())
	defer srv.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(srv.URL + "?" + tt.query)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantCode || resp.Header.Get("Content-Type") != tt.wantType {
				t.Fatalf("%s %q: %s", resp.Status, resp.Header.Get("Content-Type"), body)
			}
			if tt.checkBody != nil {
				tt.checkBody(t, body)
			}
		})
	}
}

func TestWallProfileWatchesContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	var buf bytes.Buffer
	if err := WallProfile(ctx, time.Minute, &buf); err == nil {
		t.Error("a cut-short profile reported no error")
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("WallProfile ignored its context: took %s", took)
	}
	if _, err := profile.ParseData(buf.Bytes()); err != nil {
		t.Errorf("the cut-short profile is not valid pprof: %v", err)
	}
}
