package profiles

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/trace"
	"strconv"
	"sync"
	"time"
)

// Defaults for FlightRecorderOptions.
const (
	DefaultFlightRecorderWindow   = 10 * time.Second
	DefaultFlightRecorderMaxBytes = 16 << 20
)

// DefaultTraceDuration is TraceHandler's duration when the request has no
// ?seconds=.
const DefaultTraceDuration = time.Second

var (
	// ErrFlightRecorderStopped is returned by a snapshot of a flight
	// recorder that is stopped or was never started.
	ErrFlightRecorderStopped = errors.New("flight recorder not running")
	// ErrTracerBusy is returned when an execution trace cannot be taken:
	// another runtime/trace.Start consumer runs and no flight recorder
	// covers the requested duration.
	ErrTracerBusy = errors.New("execution tracer busy")
)

// FlightRecorderOptions configure StartFlightRecorder.
type FlightRecorderOptions struct {
	// Window is how far back a snapshot reaches at least (the runtime's
	// FlightRecorderConfig.MinAge), unless MaxBytes runs out first.
	// DefaultFlightRecorderWindow by default.
	Window time.Duration
	// MaxBytes bounds the trace data kept, and so the memory used (a
	// hint to the runtime, not a hard limit).
	// DefaultFlightRecorderMaxBytes by default.
	MaxBytes uint64
}

// FlightRecorder keeps the last Window of the process's execution trace
// in memory. Its methods are safe for concurrent use; a nil
// *FlightRecorder is valid and reports ErrFlightRecorderStopped.
type FlightRecorder struct {
	window time.Duration
	now    func() time.Time

	// mu serializes snapshots and Stop: the runtime refuses a second
	// concurrent WriteTo (instead of waiting), and its Stop must not run
	// during one.
	mu      sync.Mutex
	fr      *trace.FlightRecorder
	stopped bool
}

// StartFlightRecorder starts the runtime's flight recorder. It fails when
// another flight recorder is running in the process: Go 1.26 allows one
// (alongside at most one runtime/trace.Start consumer, which it does not
// conflict with).
func StartFlightRecorder(opts FlightRecorderOptions) (*FlightRecorder, error) {
	if opts.Window <= 0 {
		opts.Window = DefaultFlightRecorderWindow
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = DefaultFlightRecorderMaxBytes
	}
	fr := trace.NewFlightRecorder(trace.FlightRecorderConfig{MinAge: opts.Window, MaxBytes: opts.MaxBytes})
	if err := fr.Start(); err != nil {
		return nil, fmt.Errorf("start flight recorder: %w", err)
	}
	return &FlightRecorder{window: opts.Window, now: time.Now, fr: fr}, nil
}

// Window is the span a snapshot covers at least (MaxBytes permitting).
func (f *FlightRecorder) Window() time.Duration {
	if f == nil {
		return 0
	}
	return f.window
}

// WriteTo writes a snapshot of the last Window of execution trace to w,
// readable by `go tool trace` and golang.org/x/exp/trace. Concurrent calls
// take turns. The snapshot is copied to memory first, so a slow w does not
// hold up other snapshots or Stop.
func (f *FlightRecorder) WriteTo(w io.Writer) (int64, error) {
	var buf bytes.Buffer
	if err := f.snapshot(&buf); err != nil {
		return 0, err
	}
	n, err := buf.WriteTo(w)
	if err != nil {
		return n, fmt.Errorf("write flight recorder snapshot: %w", err)
	}
	return n, nil
}

func (f *FlightRecorder) snapshot(buf *bytes.Buffer) error {
	if f == nil {
		return ErrFlightRecorderStopped
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return ErrFlightRecorderStopped
	}
	if _, err := f.fr.WriteTo(buf); err != nil {
		return fmt.Errorf("snapshot flight recorder: %w", err)
	}
	return nil
}

// Handler serves a snapshot on GET as application/octet-stream, named
// vigil-flight-<UTC time>.trace:
//
//	curl -o hang.trace http://vigil-admin:6060/debug/vigil/flightrecorder
//	go tool trace hang.trace
func (f *FlightRecorder) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !onlyGet(w, r) {
			return
		}
		var buf bytes.Buffer
		if err := f.snapshot(&buf); err != nil {
			serveError(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		serveTrace(w, &buf, "vigil-flight-"+f.now().UTC().Format("20060102T150405Z")+".trace", "flight-recorder")
	})
}

// Stop stops recording and frees the window. It waits for a snapshot in
// progress. Stop is idempotent.
func (f *FlightRecorder) Stop() {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.stopped {
		f.stopped = true
		f.fr.Stop()
	}
}

// TraceHandler serves an execution trace of the next ?seconds=N (default
// 1, at most MaxTraceDuration). It runs its own runtime/trace.Start
// capture, which Go 1.26 allows beside a running flight recorder. When
// another trace.Start consumer holds the tracer (Go's /debug/pprof/trace,
// say), it waits N seconds and serves a snapshot of fr instead, provided
// fr runs and its Window covers N; otherwise it answers 409. The
// X-Vigil-Trace-Source header says which: "runtime/trace" or
// "flight-recorder". fr may be nil.
//
//	curl -o t.trace 'http://vigil-admin:6060/debug/vigil/trace?seconds=5'
func TraceHandler(fr *FlightRecorder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !onlyGet(w, r) {
			return
		}
		d, err := durationParam(r, DefaultTraceDuration, MaxTraceDuration)
		if err != nil {
			serveError(w, http.StatusBadRequest, err.Error())
			return
		}
		start := time.Now()
		var buf bytes.Buffer
		source, err := executionTrace(r.Context(), d, fr, &buf)
		switch {
		case errors.Is(err, ErrTracerBusy):
			serveError(w, http.StatusConflict, err.Error())
			return
		case r.Context().Err() != nil:
			return // the client is gone
		case err != nil:
			serveError(w, http.StatusInternalServerError, err.Error())
			return
		}
		serveTrace(w, &buf, "vigil-"+start.UTC().Format("20060102T150405Z")+"-"+strconv.FormatFloat(d.Seconds(), 'f', -1, 64)+"s.trace", source)
	})
}

// executionTrace captures d of execution trace into buf and says where it
// came from. The trace is buffered rather than streamed: the runtime
// writes it from the goroutine that also feeds the flight recorder, and a
// slow client must not stall that goroutine.
func executionTrace(ctx context.Context, d time.Duration, fr *FlightRecorder, buf *bytes.Buffer) (source string, err error) {
	startErr := trace.Start(buf)
	if startErr == nil {
		sleep(ctx, d)
		trace.Stop()
		return "runtime/trace", nil
	}
	if fr == nil || d > fr.Window() {
		return "", fmt.Errorf("%w: %v; and no flight recorder covers %s", ErrTracerBusy, startErr, d)
	}
	sleep(ctx, d)
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	if err := fr.snapshot(buf); err != nil {
		return "", fmt.Errorf("%w: %v; and %w", ErrTracerBusy, startErr, err)
	}
	return "flight-recorder", nil
}

func serveTrace(w http.ResponseWriter, buf *bytes.Buffer, filename, source string) {
	attachment(w, "application/octet-stream", filename)
	w.Header().Set("X-Vigil-Trace-Source", source)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = buf.WriteTo(w)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
