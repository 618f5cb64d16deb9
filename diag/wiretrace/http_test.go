package wiretrace

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// getEntries calls EntriesHandler with query and decodes the answer.
func getEntries(t *testing.T, ctx context.Context, h http.Handler, query string) (int, EntriesResponse, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "GET", "/wire/entries?"+query, nil))
	var resp EntriesResponse
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("decode %s: %v", rec.Body, err)
		}
	}
	return rec.Code, resp, rec.Body.String()
}

func TestEntriesHandler(t *testing.T) {
	tr := New(Options{Mode: Summary, Capacity: 4})
	rt := tr.Wrap(okRT("ok"))
	for i := range 6 {
		do(t, rt, "GET", fmt.Sprintf("http://h/api/v1/namespaces/ci/pods/p%d", i+1), nil)
	}
	h := tr.EntriesHandler()
	tests := []struct {
		name       string
		query      string
		code       int
		wantSeqs   []uint64
		wantLast   uint64
		wantMissed uint64
		wantErr    string
	}{
		{"all", "", 200, []uint64{3, 4, 5, 6}, 6, 2, ""},
		{"after", "after=4", 200, []uint64{5, 6}, 6, 0, ""},
		{"after with a gap", "after=1", 200, []uint64{3, 4, 5, 6}, 6, 1, ""},
		{"max", "after=2&max=1", 200, []uint64{3}, 3, 0, ""},
		{"nothing new", "after=6", 200, []uint64{}, 6, 0, ""},
		{"restarted process does not wait", "after=99&wait=30s", 200, []uint64{}, 6, 0, ""},
		{"bad after", "after=x", 400, nil, 0, 0, "after="},
		{"bad max", "max=-1", 400, nil, 0, 0, "max="},
		{"bad wait", "wait=soon", 400, nil, 0, 0, "wait="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			code, resp, body := getEntries(t, ctx, h, tt.query)
			if code != tt.code {
				t.Fatalf("status %d, want %d: %s", code, tt.code, body)
			}
			if tt.code != 200 {
				if !strings.Contains(body, tt.wantErr) || !strings.Contains(body, `"error"`) {
					t.Errorf("body %s: want an error about %s", body, tt.wantErr)
				}
				return
			}
			if ctx.Err() != nil {
				t.Error("the handler waited out the test's context")
			}
			if fmt.Sprint(seqs(resp.Entries)) != fmt.Sprint(tt.wantSeqs) || resp.LastSeq != tt.wantLast ||
				resp.Missed != tt.wantMissed || resp.Mode != Summary {
				t.Errorf("got seqs %v last %d missed %d mode %v; want %v, %d, %d, summary",
					seqs(resp.Entries), resp.LastSeq, resp.Missed, resp.Mode, tt.wantSeqs, tt.wantLast, tt.wantMissed)
			}
			if !strings.Contains(body, `"entries": [`) || !strings.Contains(body, `"mode": "summary"`) {
				t.Errorf("body %s: want entries as a list and mode by name", body)
			}
		})
	}

	t.Run("method", func(t *testing.T) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(testCtx(t), "POST", "/wire/entries", nil))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("POST status %d, want 405", rec.Code)
		}
	})
}

func TestEntriesHandlerLongPoll(t *testing.T) {
	tr := New(Options{Mode: Summary})
	rt := tr.Wrap(okRT("ok"))
	srv := httptest.NewServer(tr.EntriesHandler())
	defer srv.Close()

	t.Run("answers when an exchange arrives", func(t *testing.T) {
		type result struct {
			resp EntriesResponse
			err  error
		}
		done := make(chan result, 1)
		go func() {
			req, err := http.NewRequestWithContext(testCtx(t), "GET", srv.URL+"?after=0&wait=1m", nil)
			if err != nil {
				done <- result{err: err}
				return
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				done <- result{err: err}
				return
			}
			defer resp.Body.Close()
			var r result
			r.err = json.NewDecoder(resp.Body).Decode(&r.resp)
			done <- r
		}()
		do(t, rt, "GET", "http://h/x", nil)
		select {
		case r := <-done:
			if r.err != nil {
				t.Fatal(r.err)
			}
			if len(r.resp.Entries) != 1 || r.resp.LastSeq != 1 {
				t.Errorf("long poll got %+v", r.resp)
			}
		case <-testCtx(t).Done():
			t.Fatal("the long poll did not answer")
		}
	})

	t.Run("ends when the client goes away", func(t *testing.T) {
		ctx, cancel := context.WithCancel(testCtx(t))
		done := make(chan struct{})
		go func() {
			defer close(done)
			rec := httptest.NewRecorder()
			tr.EntriesHandler().ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "GET", "/?after=1&wait=30s", nil))
		}()
		cancel()
		select {
		case <-done:
		case <-testCtx(t).Done():
			t.Fatal("the handler kept waiting after its client left")
		}
	})
}

func TestModeHandler(t *testing.T) {
	tests := []struct {
		name, method, target, body string
		code                       int
		wantMode                   Mode
		wantInBody                 string
	}{
		{"get", "GET", "/wire/mode", "", 200, Summary, `"mode": "summary"`},
		{"put json", "PUT", "/wire/mode", `{"mode":"headers"}`, 200, Headers, `"previous": "summary"`},
		{"post query", "POST", "/wire/mode?mode=bodies", "", 200, Bodies, `"mode": "bodies"`},
		{"put off", "PUT", "/wire/mode", `{"mode":"off"}`, 200, Off, `"mode": "off"`},
		{"bad mode", "PUT", "/wire/mode", `{"mode":"verbose"}`, 400, Summary, "valid modes are off, summary, headers, bodies"},
		{"bad query mode", "POST", "/wire/mode?mode=all", "", 400, Summary, "valid modes are off, summary, headers, bodies"},
		{"no mode", "PUT", "/wire/mode", "", 400, Summary, "off, summary, headers, bodies"},
		{"not json", "PUT", "/wire/mode", "headers", 400, Summary, "read mode request"},
		{"method", "DELETE", "/wire/mode", "", 405, Summary, "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := New(Options{Mode: Summary})
			rec := httptest.NewRecorder()
			var body io.Reader = http.NoBody
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			tr.ModeHandler().ServeHTTP(rec, httptest.NewRequestWithContext(testCtx(t), tt.method, tt.target, body))
			if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.wantInBody) {
				t.Errorf("%s %s: %d %s; want %d containing %s", tt.method, tt.target, rec.Code, rec.Body, tt.code, tt.wantInBody)
			}
			if tr.Mode() != tt.wantMode {
				t.Errorf("mode %v, want %v", tr.Mode(), tt.wantMode)
			}
		})
	}
}
