// Package debugserver serves a process's debug API on a unix socket: the
// one door through which `diag` sees what a running scheduler is doing,
// with no rebuild, no restart and no SYS_PTRACE.
//
// # Where it listens
//
// On a unix socket, mode 0600, in a runtime directory of mode 0700
// (DefaultDir: $VIGIL_RUNTIME_DIR, else $XDG_RUNTIME_DIR/vigil, else
// <tmp>/vigil-<uid>), named vigil-<pid>.sock. `diag` finds it there with
// no flags (Discover). Only the owner of the process (and root) can
// connect. A runtime directory or socket path owned by another user is
// refused at start (that user could replace the socket), and one of ours
// that others may enter is tightened to 0700 (PrepareDir, CheckSocket);
// diag in turn talks only to a socket owned and served by its own user. Optionally also on a loopback TCP address (127.0.0.1:PORT or
// [::1]:PORT, never anything else), where every request must carry
// "Authorization: Bearer <token>" with the token read from a file that
// only its owner may read (ReadToken).
// Nothing is ever registered on http.DefaultServeMux.
//
// # The API, version 1
//
// Every path is under /debug/v1/ (debugapi.Prefix). Reads are GET; JSON
// unless noted. Every JSON body is a type of package debugapi, the API's
// wire contract (standard library only), which is all the Go client,
// diag/client, imports: the names in parentheses below are its types.
//
//	GET  /debug/v1/                 index: API version and the endpoints below (Index)
//	GET  /debug/v1/info             build and process: version, revision, Go version, pid,
//	                                uptime, goroutines, heap, modules (Info)
//	GET  /debug/v1/heartbeats       every heartbeat with age, period, stale flag; 503 when one
//	                                is stale (HealthReport)
//	GET  /debug/v1/inflight         outbound calls in flight, oldest first ([]Call);
//	                                ?older=30s keeps the older ones, ?nodeadline=1 those with no deadline
//	GET  /debug/v1/stacks           goroutines grouped by identical stack with counts, labels and
//	                                wait times, taken from the goroutine profile (no long
//	                                stop-the-world); ?format=text, ?min_wait=10s, ?match=REGEXP
//	                                (Snapshot)
//	GET  /debug/v1/pprof/           the runtime's profiles: heap, allocs, goroutine, mutex, block,
//	                                threadcreate (?debug=N as net/http/pprof), cmdline (credentials redacted), symbol
//	GET  /debug/v1/pprof/profile    CPU profile, ?seconds=N (default 30); works while continuous
//	                                profiling holds the CPU profiler
//	GET  /debug/v1/pprof/wall       wall-clock (fgprof) profile, ?seconds=N: on-CPU and off-CPU time
//	GET  /debug/v1/pprof/trace      execution trace, ?seconds=N
//	GET  /debug/v1/flightrecorder   the flight recorder's last window (an execution trace for go tool trace)
//	GET  /debug/v1/wiretrace        recent HTTP exchanges: ?after=SEQ&max=N&wait=10s (long poll)
//	                                (WireEntries)
//	GET|PUT /debug/v1/wiretrace/mode  {"mode":"off|summary|headers|bodies"} (WireModeRequest,
//	                                WireModeResponse)
//	GET|PUT /debug/v1/loglevel      {"level":"debug"} (LogLevel; zap's AtomicLevel serves it)
//	GET  /debug/v1/tasks            read-only reconciliation report: zombies, orphans and lost
//	                                task instances, each with its history (?lost_after=2m&grace=30s);
//	                                needs an executor that lists its workloads (Kubernetes)
//	                                (TaskAudit: what a client reads of scheduler.Audit)
//	GET  /debug/v1/bundles          bundles in the bundle directory, newest first ([]BundleInfo)
//	POST /debug/v1/bundles          write a bundle now (?reason=TEXT); returns it (BundleInfo)
//	GET  /debug/v1/bundles/{name}   download one (application/gzip)
//
// Long requests (profiles, traces, long polls) end when the client goes
// away, and durations past MaxDuration are refused with 400 rather than
// cut off by the server's write timeout.
//
// An endpoint whose source is not configured answers 404 with a message
// saying what would enable it. Errors are JSON {"error": "..."} (Error).
//
// The runtime folder, the socket's name, its discovery and the token
// file's rules are the contract's too (debugapi.DefaultDir, Discover,
// CheckSocket, ReadToken): this package repeats them for its callers.
// Adding an endpoint means adding its path to debugapi.Paths (the index),
// its types to debugapi, and a golden file to debugapi's testdata/wire.
package debugserver

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"os"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/vigilhq/vigil/diag/bundle"
	"github.com/vigilhq/vigil/diag/debugapi"
	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/diag/redact"
	"github.com/vigilhq/vigil/diag/watchdog"
)

// APIVersion is the version in every path.
const APIVersion = debugapi.APIVersion

// Prefix is the path prefix of every endpoint.
const Prefix = debugapi.Prefix

// MaxDuration is the longest profile or trace the API takes.
const MaxDuration = debugapi.MaxDuration

// Sources are what the API serves. Any may be nil; its endpoints then
// answer 404 saying so.
type Sources struct {
	Service  string
	Instance string
	// Extra is shown in /info (the executor, the database, ...).
	Extra    map[string]string
	Watchdog *watchdog.Watchdog
	Inflight *inflight.Registry
	// Stacks serves /stacks.
	Stacks http.Handler
	// CPUProfile, WallProfile, Trace and FlightRecorder serve the
	// profiles with the same names.
	CPUProfile     http.Handler
	WallProfile    http.Handler
	Trace          http.Handler
	FlightRecorder http.Handler
	// WireEntries and WireMode serve /wiretrace and /wiretrace/mode.
	WireEntries http.Handler
	WireMode    http.Handler
	// LogLevel serves /loglevel; a zap.AtomicLevel is one.
	LogLevel http.Handler
	// Tasks serves /tasks, the reconciliation report.
	Tasks   http.Handler
	Bundles *bundle.Writer
}

// Options configure a Server.
type Options struct {
	// Dir is the runtime directory of the socket; DefaultDir() if empty.
	Dir string
	// Socket overrides the socket path (SocketPath(Dir, pid) by default).
	Socket string
	// TCPAddr, if set, also serves on this loopback address.
	TCPAddr string
	// TokenFile holds the bearer token the TCP listener requires; it is
	// required with TCPAddr.
	TokenFile string
	Logger    *zap.Logger
	// Started is the process start time shown in /info.
	Started time.Time
}

// Server is the debug API.
type Server struct {
	opts    Options
	src     Sources
	mux     *http.ServeMux
	started time.Time
	socket  string
	token   []byte
}

// New builds the server and its routes; Serve starts listening.
func New(opts Options, src Sources) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Dir == "" {
		opts.Dir = DefaultDir()
	}
	if opts.Socket == "" {
		opts.Socket = SocketPath(opts.Dir, os.Getpid())
	}
	if opts.Started.IsZero() {
		opts.Started = time.Now()
	}
	s := &Server{opts: opts, src: src, started: opts.Started, socket: opts.Socket}
	// Checked here, at start, so that `vigil run` refuses a runtime folder
	// or socket of another user before anything else starts (issue 16).
	dir := dirOf(s.socket)
	loose, err := PrepareDir(dir)
	if err != nil {
		return nil, err
	}
	if loose != 0 {
		opts.Logger.Warn("debug runtime folder was open to other users: tightened to 0700",
			zap.String("dir", dir), zap.String("was", fmt.Sprintf("%#o", loose)))
	}
	if err := CheckSocket(s.socket); err != nil {
		return nil, err
	}
	if opts.TCPAddr != "" {
		if err := checkLoopback(opts.TCPAddr); err != nil {
			return nil, err
		}
		if opts.TokenFile == "" {
			return nil, fmt.Errorf("debug address %s: a token file is required (--debug-token-file)", opts.TCPAddr)
		}
		tok, err := ReadToken(opts.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("debug token: %w", err)
		}
		s.token = []byte(tok)
		if len(s.token) < 16 {
			return nil, fmt.Errorf("debug token in %s: use at least 16 characters", opts.TokenFile)
		}
	}
	s.routes()
	return s, nil
}

// Socket returns the socket path.
func (s *Server) Socket() string { return s.socket }

// Handler returns the API's handler (for tests and for embedding).
func (s *Server) Handler() http.Handler { return s.mux }

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("debug address %q: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("debug address %q: the debug API listens only on loopback (127.0.0.1:PORT); reach it from elsewhere with kubectl port-forward or diag --pod", addr)
}

// routes registers the endpoints; debugapi.Paths lists them for the
// index and must follow.
func (s *Server) routes() {
	mux := http.NewServeMux()
	p := Prefix
	mux.HandleFunc("GET "+p+"{$}", s.index)
	mux.HandleFunc("GET "+p+"info", s.info)
	mux.Handle("GET "+p+"heartbeats", orMissing(s.src.Watchdog != nil, func() http.Handler { return s.src.Watchdog.HealthzHandler() }, "no watchdog"))
	mux.HandleFunc("GET "+p+"inflight", s.inflight)
	mux.Handle("GET "+p+"stacks", orMissing(s.src.Stacks != nil, func() http.Handler { return s.src.Stacks }, "no stack snapshotter"))

	mux.HandleFunc("GET "+p+"pprof/{$}", httppprof.Index)
	mux.HandleFunc("GET "+p+"pprof/cmdline", cmdline)
	mux.HandleFunc("GET "+p+"pprof/symbol", httppprof.Symbol)
	mux.HandleFunc("POST "+p+"pprof/symbol", httppprof.Symbol)
	for _, name := range []string{"heap", "allocs", "goroutine", "mutex", "block", "threadcreate"} {
		mux.Handle("GET "+p+"pprof/"+name, httppprof.Handler(name))
	}
	mux.Handle("GET "+p+"pprof/profile", limitSeconds(orMissing(s.src.CPUProfile != nil, func() http.Handler { return s.src.CPUProfile }, "no CPU profiler")))
	mux.Handle("GET "+p+"pprof/wall", limitSeconds(orMissing(s.src.WallProfile != nil, func() http.Handler { return s.src.WallProfile }, "no wall-clock profiler")))
	mux.Handle("GET "+p+"pprof/trace", limitSeconds(orMissing(s.src.Trace != nil, func() http.Handler { return s.src.Trace }, "no tracer")))
	mux.Handle("GET "+p+"flightrecorder", orMissing(s.src.FlightRecorder != nil, func() http.Handler { return s.src.FlightRecorder }, "the flight recorder is off (--flight-recorder)"))
	mux.Handle("GET "+p+"wiretrace", orMissing(s.src.WireEntries != nil, func() http.Handler { return s.src.WireEntries }, "no wire tracer"))
	mux.Handle(p+"wiretrace/mode", orMissing(s.src.WireMode != nil, func() http.Handler { return s.src.WireMode }, "no wire tracer"))
	mux.Handle(p+"loglevel", orMissing(s.src.LogLevel != nil, func() http.Handler { return s.src.LogLevel }, "no adjustable log level"))
	mux.Handle("GET "+p+"tasks", orMissing(s.src.Tasks != nil, func() http.Handler { return s.src.Tasks }, "no task report: the executor cannot list its workloads (the Kubernetes executor can)"))
	mux.HandleFunc("GET "+p+"bundles", s.listBundles)
	mux.HandleFunc("POST "+p+"bundles", s.writeBundle)
	mux.HandleFunc("GET "+p+"bundles/{name}", s.getBundle)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("%s %s: no such endpoint; the API is under %s (GET %s lists it)", r.Method, r.URL.Path, Prefix, Prefix))
	})
	s.mux = mux
}

func orMissing(ok bool, h func() http.Handler, why string) http.Handler {
	if ok {
		return h()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, r.URL.Path+": not available in this process: "+why)
	})
}

// limitSeconds refuses a ?seconds= past MaxDuration up front, instead of
// letting the write timeout cut the profile off half-way.
func limitSeconds(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.URL.Query().Get("seconds"); v != "" {
			var sec float64
			if _, err := fmt.Sscan(v, &sec); err != nil || sec <= 0 {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("seconds=%q: want a positive number", v))
				return
			}
			if time.Duration(sec*float64(time.Second)) > MaxDuration {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("seconds=%s: at most %d", v, int(MaxDuration.Seconds())))
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	eps := make([]string, len(debugapi.Paths))
	for i, e := range debugapi.Paths {
		eps[i] = Prefix + e
	}
	writeJSON(w, http.StatusOK, debugapi.Index{API: APIVersion, Service: s.src.Service, Endpoints: eps})
}

func (s *Server) info(w http.ResponseWriter, r *http.Request) {
	info := ProcessInfo(s.src.Service, s.src.Instance, s.started, s.src.Extra)
	info.Socket = s.socket
	if s.src.Bundles != nil {
		info.BundleDir = s.src.Bundles.Dir()
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) inflight(w http.ResponseWriter, r *http.Request) {
	var older time.Duration
	if v := r.URL.Query().Get("older"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("older=%q: %v (e.g. older=30s)", v, err))
			return
		}
		older = d
	}
	onlyNoDeadline := r.URL.Query().Get("nodeadline") != ""
	calls := []inflight.Call{}
	for _, c := range s.src.Inflight.Snapshot() {
		if c.Age < older || (onlyNoDeadline && !c.NoDeadline()) {
			continue
		}
		calls = append(calls, c)
	}
	writeJSON(w, http.StatusOK, calls)
}

func (s *Server) listBundles(w http.ResponseWriter, r *http.Request) {
	if s.src.Bundles == nil {
		writeError(w, http.StatusNotFound, "bundles: no bundle directory configured")
		return
	}
	list, err := s.src.Bundles.List()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if list == nil {
		list = []bundle.Info{}
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) writeBundle(w http.ResponseWriter, r *http.Request) {
	if s.src.Bundles == nil {
		writeError(w, http.StatusNotFound, "bundles: no bundle directory configured")
		return
	}
	reason := r.URL.Query().Get("reason")
	if reason == "" {
		reason = "on-demand"
	}
	info, err := s.src.Bundles.Write(r.Context(), reason)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	s.opts.Logger.Info("diagnostic bundle written on request", zap.String("path", info.Path), zap.String("reason", reason), zap.Int64("bytes", info.Size))
	writeJSON(w, http.StatusCreated, info)
}

func (s *Server) getBundle(w http.ResponseWriter, r *http.Request) {
	if s.src.Bundles == nil {
		writeError(w, http.StatusNotFound, "bundles: no bundle directory configured")
		return
	}
	f, err := s.src.Bundles.Open(r.PathValue("name"))
	if err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, os.ErrNotExist) {
			code = http.StatusNotFound
		}
		writeError(w, code, err.Error())
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", r.PathValue("name")))
	if st, err := f.Stat(); err == nil {
		http.ServeContent(w, r, r.PathValue("name"), st.ModTime(), f)
		return
	}
	_, _ = io.Copy(w, f)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, debugapi.Error{Error: msg})
}

// Serve listens on the socket (and the TCP address, if set) until ctx
// ends, then shuts down within five seconds and removes the socket.
func (s *Server) Serve(ctx context.Context) error {
	lns, err := s.listen()
	if err != nil {
		return err
	}
	newServer := func(h http.Handler) *http.Server {
		return &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      MaxDuration + 30*time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          zap.NewStdLog(s.opts.Logger),
			BaseContext:       func(net.Listener) context.Context { return ctx },
		}
	}
	srv, tokenSrv := newServer(s.mux), newServer(s.requireToken(s.mux))
	errc := make(chan error, len(lns))
	var wg sync.WaitGroup
	for i, ln := range lns {
		srv := srv
		if i > 0 {
			srv = tokenSrv
		}
		wg.Go(func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		})
	}
	s.opts.Logger.Info("debug API listening", zap.String("socket", s.socket), zap.String("tcp", s.opts.TCPAddr))
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutCtx)
	_ = tokenSrv.Shutdown(shutCtx)
	wg.Wait()
	_ = os.Remove(s.socket)
	if serveErr != nil {
		return fmt.Errorf("debug API: %w", serveErr)
	}
	return nil
}

func (s *Server) listen() ([]net.Listener, error) {
	// The folder was checked by New; a new process of ours may have
	// left it since, so again.
	if _, err := PrepareDir(dirOf(s.socket)); err != nil {
		return nil, err
	}
	// A socket left by an earlier process with our pid (a container
	// restart reuses pid 1) is stale: nothing can be listening on it. One
	// of another user's, or something else at the path, is not ours to
	// remove.
	if err := CheckSocket(s.socket); err != nil {
		return nil, err
	}
	_ = os.Remove(s.socket)
	// The socket is created with the umask's mode; chmod closes the gap.
	ln, err := net.Listen("unix", s.socket)
	if err != nil {
		return nil, fmt.Errorf("debug socket %s: %w (set --runtime-dir or %s to a writable directory)", s.socket, err, EnvDir)
	}
	if err := os.Chmod(s.socket, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("debug socket %s: %w", s.socket, err)
	}
	lns := []net.Listener{ln}
	if s.opts.TCPAddr != "" {
		tl, err := net.Listen("tcp", s.opts.TCPAddr)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("debug address %s: %w", s.opts.TCPAddr, err)
		}
		lns = append(lns, tl)
	}
	return lns, nil
}

func dirOf(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i <= 0 {
		return "."
	}
	return path[:i]
}

func (s *Server) requireToken(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), s.token) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigil-debug"`)
			writeError(w, http.StatusUnauthorized, "the debug API on TCP requires Authorization: Bearer <token from --debug-token-file>")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// cmdline is net/http/pprof's Cmdline with credentials redacted: the
// command line may carry a database URL with its password (issue 16).
func cmdline(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, strings.Join(redact.Args(os.Args), "\x00"))
}
