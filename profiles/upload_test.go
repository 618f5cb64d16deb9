package profiles

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func TestFailureLogRateLimits(t *testing.T) {
	type step struct {
		after time.Duration // advance the clock, then
		fail  string        // report this failure ("" = flush)
	}
	tests := []struct {
		name  string
		steps []step
		want  []string // "message|failures|error" of each line
	}{
		{
			name:  "first failure is logged at once",
			steps: []step{{0, "boom"}},
			want:  []string{"continuous profiling failed|0|boom"},
		},
		{
			name:  "failures within a minute are held back",
			steps: []step{{0, "a"}, {time.Second, "b"}, {20 * time.Second, "c"}, {30 * time.Second, "d"}},
			want:  []string{"continuous profiling failed|0|a"},
		},
		{
			name:  "then one summary line a minute counts them",
			steps: []step{{0, "a"}, {10 * time.Second, "b"}, {20 * time.Second, "c"}, {30 * time.Second, "d"}, {15 * time.Second, "e"}},
			want:  []string{"continuous profiling failed|0|a", "continuous profiling still failing|3|d"},
		},
		{
			name:  "flush logs what is held back",
			steps: []step{{0, "a"}, {time.Second, "b"}, {time.Second, "c"}, {time.Second, ""}},
			want:  []string{"continuous profiling failed|0|a", "continuous profiling still failing|2|c"},
		},
		{
			name:  "flush with nothing held back is silent",
			steps: []step{{0, "a"}, {time.Second, ""}},
			want:  []string{"continuous profiling failed|0|a"},
		},
		{
			name:  "a failure after a quiet minute is logged at once",
			steps: []step{{0, "a"}, {5 * time.Minute, "b"}},
			want:  []string{"continuous profiling failed|0|a", "continuous profiling failed|0|b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core, logs := observer.New(zapcore.DebugLevel)
			clk := &fakeClock{t: time.Unix(1000, 0)}
			fl := newFailureLog(zap.New(core), clk.Now, time.Minute)
			for _, s := range tt.steps {
				clk.Advance(s.after)
				if s.fail == "" {
					fl.flush(PushStats{})
				} else {
					fl.add(s.fail, PushStats{Failed: 1})
				}
			}
			var got []string
			for _, e := range logs.All() {
				m := e.ContextMap()
				errMsg, _ := m["error"].(string)
				if last, ok := m["lastError"].(string); ok {
					errMsg = last
				}
				failures, _ := m["failures"].(int64)
				got = append(got, e.Message+"|"+strconv.FormatInt(failures, 10)+"|"+errMsg)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("log lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestUploadClientCounts checks how each upload outcome is counted: the
// client sits where pyroscope-go's uploader calls Do.
func TestUploadClientCounts(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer ok.Close()
	unavailable := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "ingester not ready", http.StatusServiceUnavailable)
	}))
	defer unavailable.Close()
	unauthorized := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no tenant", http.StatusUnauthorized)
	}))
	defer unauthorized.Close()
	closed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name        string
		url         string
		cancelFirst bool // Stop has cancelled the client's context
		want        PushStats
		wantErr     string // in LastError
	}{
		{name: "accepted", url: ok.URL, want: PushStats{Uploaded: 1}},
		{name: "server error", url: unavailable.URL, want: PushStats{Failed: 1}, wantErr: "HTTP 503: ingester not ready"},
		{name: "unauthorized", url: unauthorized.URL, want: PushStats{Failed: 1}, wantErr: "HTTP 401: no tenant"},
		{name: "connection refused", url: closedURL, want: PushStats{Failed: 1}, wantErr: "connection refused"},
		{name: "abandoned by Stop", url: ok.URL, cancelFirst: true, want: PushStats{Dropped: 1}, wantErr: "upload abandoned by Stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancelFirst {
				cancel()
			}
			c := &uploadClient{ctx: ctx, client: &http.Client{Timeout: 5 * time.Second}, now: time.Now,
				failures: newFailureLog(zap.NewNop(), time.Now, time.Minute)}
			req, err := http.NewRequest(http.MethodPost, tt.url+"/ingest?name=vigil&from=1", strings.NewReader("profile"))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Do(req)
			if err == nil {
				// pyroscope-go reads the body after Do; it must still be there.
				if _, rerr := io.ReadAll(resp.Body); rerr != nil {
					t.Errorf("read body after Do: %v", rerr)
				}
				_ = resp.Body.Close()
			}
			st := c.stats()
			if st.Uploaded != tt.want.Uploaded || st.Failed != tt.want.Failed || st.Dropped != tt.want.Dropped {
				t.Errorf("stats %+v, want uploaded=%d failed=%d dropped=%d", st, tt.want.Uploaded, tt.want.Failed, tt.want.Dropped)
			}
			if !strings.Contains(st.LastError, tt.wantErr) {
				t.Errorf("LastError %q, want it to contain %q", st.LastError, tt.wantErr)
			}
			if strings.Contains(st.LastError, "from=") {
				t.Errorf("LastError %q carries the ingest query", st.LastError)
			}
			if (st.Uploaded > 0) == st.LastSuccess.IsZero() {
				t.Errorf("LastSuccess %v with %d uploads", st.LastSuccess, st.Uploaded)
			}
		})
	}
}

func TestPyroscopeLoggerRoutesErrors(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	log := zap.New(core)
	c := &uploadClient{ctx: context.Background(), client: http.DefaultClient, now: time.Now,
		failures: newFailureLog(log, time.Now, time.Minute)}
	l := &pyroscopeLogger{log: log, uploads: c}

	l.Errorf(pyroscopeUploadError, errors.New("do http request: refused"))
	if st := c.stats(); st != (PushStats{}) || logs.Len() != 0 {
		t.Errorf("an upload error was counted or logged twice: stats %+v, %d log lines", st, logs.Len())
	}
	l.Errorf(pyroscopeQueueFull)
	if st := c.stats(); st.Dropped != 1 || !strings.Contains(st.LastError, "queue full") {
		t.Errorf("a full queue was not counted as dropped: %+v", st)
	}
	l.Errorf("failed to start CPU profiling: %v", errors.New("cpu profiling already in use"))
	if logs.Len() != 1 || logs.All()[0].ContextMap()["error"] != "upload queue full: uploads are slower than profiles are made; dropped a profile" {
		t.Errorf("want only the first problem logged within a minute, got %v", logs.All())
	}
	l.Infof("starting profiling session:")
	l.Debugf("uploading at %s", "http://x/ingest")
	if logs.Len() != 1 {
		t.Errorf("pyroscope-go chatter reached the Info log: %v", logs.All())
	}
}
