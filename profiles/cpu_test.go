package profiles

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"go.uber.org/zap/zaptest"
)

// checkCPUProfile parses a CPU profile and checks it is one, with samples.
func checkCPUProfile(t *testing.T, data []byte) *profile.Profile {
	t.Helper()
	p, err := profile.ParseData(data)
	if err != nil {
		t.Fatalf("not a pprof profile (%d bytes): %v", len(data), err)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatalf("invalid profile: %v", err)
	}
	if !isCPU(p) {
		t.Fatalf("not a CPU profile: sample types %v", p.SampleType)
	}
	if len(p.Sample) == 0 {
		t.Fatal("CPU profile has no samples")
	}
	return p
}

func TestCPUProfileWithoutPusher(t *testing.T) {
	stop := startBurning("loop", "scheduler", "dag", "standalone")
	defer stop()
	var buf bytes.Buffer
	if err := CPUProfile(context.Background(), 500*time.Millisecond, &buf); err != nil {
		t.Fatal(err)
	}
	p := checkCPUProfile(t, buf.Bytes())
	if !hasLabel(p, "dag", "standalone") {
		t.Error("the on-demand profile lost the pprof labels")
	}
}

// TestCPUProfileWhilePushing takes on-demand profiles while a Pusher holds
// the runtime's CPU profiler, and checks the Pusher goes on uploading.
func TestCPUProfileWhilePushing(t *testing.T) {
	srv := newIngestServer(t, http.StatusOK)
	p, err := StartPush(PushOptions{ServerAddress: srv.URL, ProfileTypes: []string{"cpu"},
		UploadRate: 300 * time.Millisecond, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	stop := startBurning("loop", "scheduler", "dag", "shared")
	defer stop()
	if !srv.waitFor(5*time.Second, isCPU) {
		t.Fatal("the Pusher uploaded no CPU profile")
	}
	if err := pprof.StartCPUProfile(io.Discard); err == nil {
		pprof.StopCPUProfile()
		t.Fatal("the runtime's CPU profiler is free while a Pusher runs; this test would prove nothing")
	}

	h := httptest.NewServer(CPUProfileHandler())
	defer h.Close()
	resp, err := http.Get(h.URL + "?seconds=1")
	if err != nil {
		t.Fatal(err)
	}
	handlerBody, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("CPUProfileHandler beside a Pusher: %s %v: %s", resp.Status, err, handlerBody)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "cpu.pprof") {
		t.Errorf("Content-Disposition %q", cd)
	}
	if pr := checkCPUProfile(t, handlerBody); !hasLabel(pr, "dag", "shared") {
		t.Error("the on-demand profile lost the pprof labels")
	}

	// The function the diagnostic bundle uses, with a duration that is
	// not whole seconds.
	var buf bytes.Buffer
	start := time.Now()
	if err := CPUProfile(context.Background(), 700*time.Millisecond, &buf); err != nil {
		t.Fatalf("CPUProfile beside a Pusher: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("a 700ms CPUProfile took %s", took)
	}
	checkCPUProfile(t, buf.Bytes())

	if !srv.waitFor(5*time.Second, func(pr *profile.Profile) bool { return isCPU(pr) && hasLabel(pr, "dag", "shared") }) {
		t.Error("the Pusher uploaded no CPU profile after the on-demand ones")
	}
	if st := p.Stats(); st.Failed != 0 {
		t.Errorf("uploads failed: %+v", st)
	}
}

func TestCPUProfileBusy(t *testing.T) {
	tests := []struct {
		name string
		hold func(t *testing.T) (release func())
	}{
		{
			name: "runtime profiler held by other code",
			hold: func(t *testing.T) func() {
				if err := pprof.StartCPUProfile(io.Discard); err != nil {
					t.Fatal(err)
				}
				return pprof.StopCPUProfile
			},
		},
		{
			name: "pusher lending the profiler to another on-demand profile",
			hold: func(t *testing.T) func() {
				srv := newIngestServer(t, http.StatusOK)
				p, err := StartPush(PushOptions{ServerAddress: srv.URL, ProfileTypes: []string{"cpu"},
					UploadRate: 200 * time.Millisecond, Logger: zaptest.NewLogger(t)})
				if err != nil {
					t.Fatal(err)
				}
				if !srv.waitFor(5*time.Second, isCPU) {
					t.Fatal("the Pusher uploaded no CPU profile")
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- CPUProfile(ctx, time.Minute, io.Discard) }()
				waitUntil(t, 5*time.Second, "the first on-demand profile to start", func() bool {
					return CPUProfile(context.Background(), time.Millisecond, io.Discard) != nil
				})
				return func() {
					cancel()
					if err := <-done; !errors.Is(err, context.Canceled) {
						t.Errorf("the cancelled first profile: %v", err)
					}
					p.Stop()
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := tt.hold(t)
			defer release()
			err := CPUProfile(context.Background(), 100*time.Millisecond, io.Discard)
			if !errors.Is(err, ErrCPUProfilerBusy) {
				t.Errorf("CPUProfile: %v, want ErrCPUProfilerBusy", err)
			}
			rec := httptest.NewRecorder()
			CPUProfileHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?seconds=1", nil))
			if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "cpu profiler busy") {
				t.Errorf("handler: %d %q, want 409 naming the busy profiler", rec.Code, rec.Body)
			}
		})
	}
}

func TestCPUProfileCutShort(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var buf bytes.Buffer
	start := time.Now()
	err := CPUProfile(ctx, time.Minute, &buf)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want one wrapping context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("CPUProfile ignored its context: took %s", took)
	}
	if _, err := profile.ParseData(buf.Bytes()); err != nil {
		t.Errorf("the cut-short profile is not valid pprof: %v", err)
	}
}

// TestProfileHandlersRefuse covers the requests every capture handler
// refuses before it starts.
func TestProfileHandlersRefuse(t *testing.T) {
	handlers := map[string]http.Handler{
		"cpu":   CPUProfileHandler(),
		"wall":  WallProfileHandler(),
		"trace": TraceHandler(nil),
	}
	tests := []struct {
		name     string
		method   string
		query    string
		wantCode int
		wantBody string
	}{
		{"not a number", http.MethodGet, "seconds=ten", http.StatusBadRequest, "want a positive number"},
		{"zero", http.MethodGet, "seconds=0", http.StatusBadRequest, "want a positive number"},
		{"negative", http.MethodGet, "seconds=-3", http.StatusBadRequest, "want a positive number"},
		{"past the maximum", http.MethodGet, "seconds=100000", http.StatusBadRequest, "longer than the maximum"},
		{"overflowing", http.MethodGet, "seconds=1e300", http.StatusBadRequest, "longer than the maximum"},
		{"POST", http.MethodPost, "seconds=1", http.StatusMethodNotAllowed, "use GET"},
	}
	for hname, h := range handlers {
		for _, tt := range tests {
			t.Run(hname+"/"+tt.name, func(t *testing.T) {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(tt.method, "/?"+tt.query, nil))
				if rec.Code != tt.wantCode || !strings.Contains(rec.Body.String(), tt.wantBody) {
					t.Errorf("%d %q, want %d with %q", rec.Code, rec.Body, tt.wantCode, tt.wantBody)
				}
				if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
					t.Errorf("error served as %q", ct)
				}
			})
		}
	}
}

// TestProfileHandlersRespectWriteTimeout: like net/http/pprof, a capture
// the server's WriteTimeout would cut off is refused up front.
func TestProfileHandlersRespectWriteTimeout(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/cpu", CPUProfileHandler())
	mux.Handle("/wall", WallProfileHandler())
	mux.Handle("/trace", TraceHandler(nil))
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.WriteTimeout = 2 * time.Second
	srv.Start()
	defer srv.Close()
	for _, path := range []string{"/cpu", "/wall", "/trace"} {
		t.Run(path, func(t *testing.T) {
			resp, err := http.Get(srv.URL + path + "?seconds=5")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "write timeout") {
				t.Errorf("%s: %q, want 400 naming the write timeout", resp.Status, body)
			}
		})
	}
}

// TestStopPusherDuringCPUProfile: Stop keeps its bound while an on-demand
// profile holds the profiler, and the profiler is free once both end.
func TestStopPusherDuringCPUProfile(t *testing.T) {
	srv := newIngestServer(t, http.StatusOK)
	const uploadTimeout = time.Second
	p, err := StartPush(PushOptions{ServerAddress: srv.URL, ProfileTypes: []string{"cpu"},
		UploadRate: 200 * time.Millisecond, UploadTimeout: uploadTimeout, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if !srv.waitFor(5*time.Second, isCPU) {
		t.Fatal("the Pusher uploaded no CPU profile")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var buf bytes.Buffer
	done := make(chan error, 1)
	onDemand := func() { done <- CPUProfile(ctx, time.Minute, &buf) }
	go onDemand()
	waitUntil(t, 5*time.Second, "the on-demand profile to start", func() bool {
		select {
		case err := <-done:
			// The probe below held the profiler for its millisecond just as
			// the on-demand profile started: start that one again.
			if !errors.Is(err, ErrCPUProfilerBusy) {
				t.Fatalf("on-demand profile ended before Stop: %v", err)
			}
			buf.Reset()
			go onDemand()
			return false
		default:
		}
		return errors.Is(CPUProfile(context.Background(), time.Millisecond, io.Discard), ErrCPUProfilerBusy)
	})

	start := time.Now()
	p.Stop()
	if took, bound := time.Since(start), uploadTimeout+3*time.Second; took > bound {
		t.Errorf("Stop took %s during an on-demand profile, want under %s", took, bound)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("on-demand profile: %v", err)
	}
	if _, err := profile.ParseData(buf.Bytes()); err != nil {
		t.Errorf("on-demand profile is not pprof: %v", err)
	}
	select {
	case <-p.stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("pyroscope-go did not stop within 5s of the on-demand profile's end")
	}
	waitUntil(t, 5*time.Second, "the CPU profiler to be free", func() bool {
		if err := pprof.StartCPUProfile(io.Discard); err != nil {
			return false
		}
		pprof.StopCPUProfile()
		return true
	})
}
