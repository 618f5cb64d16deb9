// Package profiles is Vigil's always-on profiling: continuous push of
// profiles to a Pyroscope server, on-demand CPU, wall-clock and execution
// trace captures served over HTTP, and an execution-trace flight recorder
// that keeps the last few seconds of the process in memory so a hang or a
// latency spike can be explained after it happened.
//
// # Wiring
//
// The daemon starts what it wants and registers the handlers on its own
// admin mux (never http.DefaultServeMux; this package registers nothing by
// itself and has no init):
//
//	p, err := profiles.StartPush(profiles.PushOptions{
//		ServerAddress: "http://pyroscope.monitoring:4040",
//		Instance:      podName,
//		WrapTransport: func(rt http.RoundTripper) http.RoundTripper { return tracer.Wrap(rt) },
//		Logger:        log,
//	})
//	if err != nil { ... }
//	defer p.Stop()
//
//	fr, err := profiles.StartFlightRecorder(profiles.FlightRecorderOptions{})
//	if err != nil { ... }
//	defer fr.Stop()
//
//	mux.Handle("/debug/vigil/profile", profiles.CPUProfileHandler())
//	mux.Handle("/debug/vigil/wall", profiles.WallProfileHandler())
//	mux.Handle("/debug/vigil/trace", profiles.TraceHandler(fr))
//	mux.Handle("/debug/vigil/flightrecorder", fr.Handler())
//
// The diagnostic bundle calls CPUProfile, WallProfile and
// FlightRecorder.WriteTo directly with an io.Writer.
//
// # What runs always, and what it costs
//
// Pusher (only when a Pyroscope address is configured). The runtime's CPU
// profiler runs all the time at 100 Hz; its cost is a signal per 10 ms of
// CPU time per thread, typically well under 1% of CPU. Every UploadRate
// (15s) the Pusher also takes a heap delta profile (godeltaprof: a read of
// the runtime's memory profile, plus a forced runtime.GC when no GC ran in
// the window, so the heap numbers are fresh) and a goroutine profile (two
// brief stop-the-world pauses around a walk of every goroutine's stack,
// so its cost grows with the number of goroutines). Each window is a
// handful of uploads of a few tens of KiB, made by pyroscope-go's five
// upload goroutines through an *http.Client with a hard timeout
// (UploadTimeout, 10s): a slow or black-holed server delays only those
// goroutines, never the scheduler. When the upload queue (20 profiles) is
// full, pyroscope-go drops a profile rather than wait.
//
// Upload failures. Pusher.Stats counts uploads accepted, failed (dial,
// TLS, timeout, any status but 200) and dropped (queue full, or cut off
// by Stop). The counting happens in the HTTP client handed to
// pyroscope-go, which sees every upload's real outcome; only a full queue
// never reaches the client, and it is counted from pyroscope-go's log
// message. Failures are logged at Warn: the first at once, then at most
// one line a minute with the count since the last line.
//
// With PushOptions.MutexAndBlock the runtime also samples contended
// mutexes (1 in MutexProfileFraction, 10 by default) and blocking events
// (one per BlockProfileRate of time blocked, 100µs by default). Both
// cost a stack walk per sampled event on the slow path of a lock or a
// channel operation; leave them off unless you are looking for contention.
//
// Labels. The scheduler runs its goroutines under runtime/pprof.Do with
// labels loop, dag and task. Labels are carried by the CPU (and
// goroutine) profiles the runtime produces, and Pyroscope turns each pprof
// label into a series label, so `{service_name="vigil", dag="nightly"}`
// selects the CPU time a DAG cost. Heap profiles carry no labels.
//
// Flight recorder (when started). The runtime's execution tracer runs all
// the time; in Go 1.21+ its overhead is about 1–2% of CPU, and it holds
// about Window of trace data, bounded by MaxBytes (16 MiB by default), in
// memory. A snapshot (WriteTo, Handler) costs a copy of that buffer.
//
// On demand. CPUProfile costs nothing extra while a Pusher runs (the
// profiler is already on) and a CPU profiler otherwise. WallProfile
// (fgprof) takes a goroutine profile 99 times a second, each with brief
// stop-the-world pauses and a walk of every stack, so use it for seconds,
// not minutes, on a process with tens of thousands of goroutines.
// TraceHandler runs the execution tracer for the requested seconds and
// holds its output in memory until it is served.
//
// # How the CPU profiler is shared
//
// The Go runtime has one CPU profiler: runtime/pprof.StartCPUProfile fails
// while it runs. A Pusher holds it all the time, so Go's own
// net/http/pprof /debug/pprof/profile would answer "cpu profiling already
// in use" in production. pyroscope-go solves this: while a Pusher runs,
// its CPU collector owns the profiler, and the handler in
// github.com/grafana/pyroscope-go/http/pprof asks that collector instead
// of the runtime. The collector then stops its current background window
// (and uploads it), restarts the profiler writing to both its own buffer
// and the requester's writer, and when the request ends stops it,
// uploads that window too and resumes its background windows. The
// on-demand profile is therefore a complete, ordinary pprof CPU profile,
// and Pyroscope still receives every second of CPU data.
//
// CPUProfile and CPUProfileHandler go through that handler, so they work
// the same whether or not a Pusher runs (without one, they use the
// runtime's profiler directly). Only one CPU profile can be taken at a
// time: a second concurrent request gets ErrCPUProfilerBusy (HTTP 409).
// Go's net/http/pprof profile handler does not cooperate and must not be
// mounted next to a Pusher; mount CPUProfileHandler at that path instead.
//
// Run at most one Pusher per process: pyroscope-go installs its CPU
// collector in package state, and a second Pusher would fight the first
// for the profiler. Stopping a Pusher while an on-demand CPU profile is in
// progress returns within its bound, and the collector hands the profiler
// back when that profile ends.
//
// # Execution traces and the flight recorder
//
// Go 1.26 lets one runtime/trace.FlightRecorder and one runtime/trace.Start
// consumer run at the same time (the runtime multiplexes one tracer to
// both); a second flight recorder, or a second trace.Start, is refused.
// TraceHandler therefore starts its own trace.Start capture even while the
// flight recorder runs. If another trace.Start consumer (for example Go's
// /debug/pprof/trace) already holds that slot, TraceHandler falls back to
// waiting the requested seconds and serving a flight-recorder snapshot,
// which covers at least the last Window; it says so in the
// X-Vigil-Trace-Source response header. Read traces with `go tool trace`
// or golang.org/x/exp/trace.
//
// # Bounded waits
//
// Every wait here is bounded: uploads by UploadTimeout, Pusher.Stop by
// UploadTimeout+1s, on-demand captures by their duration and the request's
// context, and handlers refuse durations past MaxProfileDuration (or
// MaxTraceDuration) or past the server's WriteTimeout with 400.
package profiles
