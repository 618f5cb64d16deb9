package profiles

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/trace"
	"strings"
	"sync"
	"testing"
	"time"

	xtrace "golang.org/x/exp/trace"
)

// parseTrace reads a whole execution trace with golang.org/x/exp/trace
// and counts its events by kind.
func parseTrace(t *testing.T, data []byte) map[xtrace.EventKind]int {
	t.Helper()
	r, err := xtrace.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not an execution trace (%d bytes): %v", len(data), err)
	}
	kinds := map[xtrace.EventKind]int{}
	for {
		ev, err := r.ReadEvent()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("trace event %d: %v", len(kinds), err)
		}
		kinds[ev.Kind()]++
	}
	return kinds
}

// traceActivity makes events worth tracing: goroutines that hand work to
// each other, inside a user task and region.
func traceActivity(name string) {
	ctx, task := trace.NewTask(context.Background(), name)
	defer task.End()
	trace.WithRegion(ctx, "handoff", func() {
		c := make(chan int)
		var wg sync.WaitGroup
		wg.Go(func() {
			for range c {
			}
		})
		for i := range 1000 {
			c <- i
		}
		close(c)
		wg.Wait()
	})
	trace.Log(ctx, "dag", name)
}

func startFlightRecorder(t *testing.T, opts FlightRecorderOptions) *FlightRecorder {
	t.Helper()
	fr, err := StartFlightRecorder(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fr.Stop)
	return fr
}

func TestFlightRecorderSnapshot(t *testing.T) {
	fr := startFlightRecorder(t, FlightRecorderOptions{Window: 2 * time.Second, MaxBytes: 4 << 20})
	traceActivity("snapshot")

	var buf bytes.Buffer
	n, err := fr.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) || n == 0 {
		t.Errorf("WriteTo returned %d for %d bytes", n, buf.Len())
	}
	kinds := parseTrace(t, buf.Bytes())
	for _, k := range []xtrace.EventKind{xtrace.EventStateTransition, xtrace.EventTaskBegin, xtrace.EventRegionBegin, xtrace.EventLog} {
		if kinds[k] == 0 {
			t.Errorf("the snapshot has no %v event; kinds: %v", k, kinds)
		}
	}
}

func TestFlightRecorderConcurrentSnapshots(t *testing.T) {
	fr := startFlightRecorder(t, FlightRecorderOptions{Window: time.Second, MaxBytes: 2 << 20})
	traceActivity("concurrent")
	var wg sync.WaitGroup
	bufs := make([]bytes.Buffer, 3)
	errs := make([]error, len(bufs))
	for i := range bufs {
		wg.Go(func() { _, errs[i] = fr.WriteTo(&bufs[i]) })
	}
	wg.Wait()
	for i := range bufs {
		// The runtime refuses a second concurrent WriteTo; ours take turns.
		if errs[i] != nil {
			t.Fatalf("snapshot %d: %v", i, errs[i])
		}
		parseTrace(t, bufs[i].Bytes())
	}
}

func TestFlightRecorderLifecycle(t *testing.T) {
	fr := startFlightRecorder(t, FlightRecorderOptions{})
	if _, err := StartFlightRecorder(FlightRecorderOptions{}); err == nil {
		t.Error("a second flight recorder started; the runtime allows one")
	}
	fr.Stop()
	fr.Stop()
	if _, err := fr.WriteTo(io.Discard); !errors.Is(err, ErrFlightRecorderStopped) {
		t.Errorf("WriteTo after Stop: %v, want ErrFlightRecorderStopped", err)
	}
	rec := httptest.NewRecorder()
	fr.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("handler after Stop: %d, want 503", rec.Code)
	}
	var nilFR *FlightRecorder
	nilFR.Stop()
	if _, err := nilFR.WriteTo(io.Discard); !errors.Is(err, ErrFlightRecorderStopped) {
		t.Errorf("WriteTo on nil: %v", err)
	}
	// Stopped, the slot is free again.
	startFlightRecorder(t, FlightRecorderOptions{})
}

func TestFlightRecorderHandler(t *testing.T) {
	fr := startFlightRecorder(t, FlightRecorderOptions{Window: time.Second})
	traceActivity("handler")
	srv := httptest.NewServer(fr.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("%s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="vigil-flight-`) || !strings.HasSuffix(cd, `.trace"`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	parseTrace(t, body)
}

// TestTraceHandler covers an on-demand trace with and without a flight
// recorder, and with the runtime/trace.Start slot taken.
func TestTraceHandler(t *testing.T) {
	tests := []struct {
		name       string
		withFR     time.Duration // the flight recorder's window; 0 = none
		holdTracer bool          // another trace.Start consumer runs
		query      string
		wantCode   int
		wantSource string
	}{
		{name: "alone", query: "seconds=0.3", wantCode: http.StatusOK, wantSource: "runtime/trace"},
		// Go 1.26 multiplexes one tracer to a flight recorder and a
		// trace.Start consumer.
		{name: "beside the flight recorder", withFR: 5 * time.Second, query: "seconds=0.3", wantCode: http.StatusOK, wantSource: "runtime/trace"},
		{name: "tracer taken, flight recorder covers", withFR: 5 * time.Second, holdTracer: true, query: "seconds=0.3",
			wantCode: http.StatusOK, wantSource: "flight-recorder"},
		{name: "tracer taken, window too short", withFR: time.Second, holdTracer: true, query: "seconds=2", wantCode: http.StatusConflict},
		{name: "tracer taken, no flight recorder", holdTracer: true, query: "seconds=0.3", wantCode: http.StatusConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fr *FlightRecorder
			if tt.withFR > 0 {
				fr = startFlightRecorder(t, FlightRecorderOptions{Window: tt.withFR})
			}
			if tt.holdTracer {
				if err := trace.Start(io.Discard); err != nil {
					t.Fatal(err)
				}
				defer trace.Stop()
			}
			srv := httptest.NewServer(TraceHandler(fr))
			defer srv.Close()
			done := make(chan struct{})
			go func() {
				defer close(done)
				traceActivity(tt.name)
			}()
			resp, err := http.Get(srv.URL + "?" + tt.query)
			<-done
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("%s: %s", resp.Status, body)
			}
			if tt.wantCode != http.StatusOK {
				if !strings.Contains(string(body), "execution tracer busy") {
					t.Errorf("refusal does not say why: %s", body)
				}
				return
			}
			if src := resp.Header.Get("X-Vigil-Trace-Source"); src != tt.wantSource {
				t.Errorf("X-Vigil-Trace-Source %q, want %q", src, tt.wantSource)
			}
			if kinds := parseTrace(t, body); kinds[xtrace.EventStateTransition] == 0 {
				t.Errorf("the trace has no goroutine transitions: %v", kinds)
			}
			if fr != nil {
				// The flight recorder is unharmed by the on-demand trace.
				var buf bytes.Buffer
				if _, err := fr.WriteTo(&buf); err != nil {
					t.Fatal(err)
				}
				parseTrace(t, buf.Bytes())
			}
		})
	}
}

func TestTraceHandlerWatchesContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	rec := httptest.NewRecorder()
	start := time.Now()
	TraceHandler(nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?seconds=30", nil).WithContext(ctx))
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("TraceHandler ignored the request context: took %s", took)
	}
	if trace.IsEnabled() {
		t.Error("the tracer is still on after the request ended")
	}
}
