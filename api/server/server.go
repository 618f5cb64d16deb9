// Package server is Vigil's operations API (issue 19): the HTTP handlers of
// every route in package api, over the scheduler's Store, the executor's
// logs and the serving process's own watchdog and in-flight registry.
// `vigil run` serves it; the admin commands, the web console and scripts
// are its clients (package api/client).
//
//	srv, err := server.New(server.Options{Store: func() scheduler.Store { return st }, Tokens: toks, ...})
//	err = srv.Serve(ctx, ln) // until ctx ends
//
// Every request needs a bearer token (see Token); mutations need the
// operator role and are recorded with the token's name as the actor
// (Actor{Component: "api", Instance: NAME}). Every store call runs under
// a deadline (StoreTimeout); one that runs out answers 503.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/diag/debugserver"
	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

// StoreTimeout bounds every store call a request makes.
const StoreTimeout = 10 * time.Second

// MaxBody is the largest request body accepted.
const MaxBody = 64 << 10

// Options configure a Server. Store and Tokens are required.
type Options struct {
	// Store returns the scheduler's store, or nil while it is not open
	// yet (the API answers 503 until it is).
	Store func() scheduler.Store
	// Logs reads task tries' output; nil answers 503 for logs.
	Logs func() scheduler.LogReader
	// Tokens are the bearer tokens the API accepts.
	Tokens []Token
	// Instance names the serving process (its scheduler instance).
	Instance string
	Version  string
	// Presets resolve DAG files for GET /dags/{dag} (task order,
	// description); nil uses the defaults.
	Presets dag.Presets
	// Watchdog and Inflight are the serving process's own, for /health.
	Watchdog *watchdog.Watchdog
	Inflight *inflight.Registry
	// Debug is the process's debug API handler (diag/debugserver), mounted
	// under Prefix+"/debug/" for read-only tokens and up; nil for none.
	Debug http.Handler
	// Console is the web console, served at / and its assets with no
	// token (the page asks for one); nil for none.
	Console http.Handler
	// Extra are more routes under Prefix (the console's flame graph).
	Extra []Route
	// Metrics, if set, count and time every request (NewMetrics).
	Metrics *Metrics
	Logger  *zap.Logger
	// Now is the clock; time.Now by default.
	Now func() time.Time
	// StoreTimeout overrides StoreTimeout (tests).
	StoreTimeout time.Duration
}

// Route is an extra route: Method (empty for any) and Pattern (under
// api.Prefix, e.g. "/debug/flame", in http.ServeMux syntax), the role a
// token needs (api.RoleReadOnly or api.RoleOperator), and its handler.
// It is listed by Routes, so api/openapi.yaml must describe it too.
type Route struct {
	Method  string
	Pattern string
	Role    string
	Handler http.Handler
}

// Server serves the operations API.
type Server struct {
	opts    Options
	auth    *authenticator
	mux     *http.ServeMux
	routes  []string // "METHOD /pattern" of every API route, for tests
	timeout time.Duration
}

// New checks opts and builds the server's routes.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("server: Store is required")
	}
	auth, err := newAuthenticator(opts.Tokens)
	if err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Presets == nil {
		opts.Presets = dag.DefaultPresets()
	}
	s := &Server{opts: opts, auth: auth, mux: http.NewServeMux(), timeout: StoreTimeout}
	if opts.StoreTimeout > 0 {
		s.timeout = opts.StoreTimeout
	}
	s.register()
	return s, nil
}

// Handler is the server's handler: the API under api.Prefix, the OpenAPI
// document and the console.
func (s *Server) Handler() http.Handler { return s.mux }

// Routes lists "METHOD PATTERN" of every route under api.Prefix (the
// pattern without the prefix, as api/openapi.yaml names its paths).
func (s *Server) Routes() []string { return append([]string(nil), s.routes...) }

// Timeouts of the http.Server. Logs and debug profiles lift the write
// timeout for themselves (see noWriteTimeout): they bound themselves.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 5 * time.Second
)

// Serve serves on ln until ctx ends, with TLS when cfg is not nil, then
// shuts down, letting requests in progress finish for a few seconds.
func (s *Server) Serve(ctx context.Context, ln net.Listener, cfg *tls.Config) error {
	srv := &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		ErrorLog:          zap.NewStdLog(s.opts.Logger.Named("http")),
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("operations API: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		_ = srv.Close()
		return fmt.Errorf("operations API shutdown: %w", err)
	}
	return nil
}

// handlerFunc is an API handler: it returns the status and value to
// write as JSON, or an error that writeErr maps to a status.
type handlerFunc func(r *http.Request, who Token) (int, any, error)

// register builds the route table of api/routes.go.
func (s *Server) register() {
	ro, op := api.RoleReadOnly, api.RoleOperator
	s.handle("GET /dags", ro, s.listDAGs)
	s.handle("GET /dags/{dag}", ro, s.getDAG)
	s.handle("POST /dags/{dag}/pause", op, s.pause(true))
	s.handle("POST /dags/{dag}/unpause", op, s.pause(false))
	s.handle("POST /dags/{dag}/runs", op, s.trigger)
	s.handle("GET /dags/{dag}/history", ro, s.dagHistory)
	s.handle("POST /dags/{dag}/backfill/plan", op, s.planBackfill) // a POST: operators, as routes.go says
	s.handle("GET /runs", ro, s.listRuns)
	s.handle("GET /dags/{dag}/runs/{run}", ro, s.getRun)
	s.handle("GET /tasks", ro, s.listTasks)
	s.handle("GET /dags/{dag}/runs/{run}/tasks/{task}", ro, s.getTask)
	s.handle("GET /dags/{dag}/runs/{run}/tasks/{task}/history", ro, s.taskHistory)
	s.raw("GET /dags/{dag}/runs/{run}/tasks/{task}/logs", ro, http.HandlerFunc(s.logs))
	s.handle("POST /ops", op, s.submitOp)
	s.handle("GET /ops", ro, s.listOps)
	s.handle("GET /ops/{id}", ro, s.getOp)
	s.handle("GET /pools", ro, s.listPools)
	s.handle("PUT /pools/{pool}", op, s.setPool)
	s.handle("DELETE /pools/{pool}", op, s.deletePool)
	s.handle("GET /pools/history", ro, s.poolHistory)
	s.handle("GET /whoami", ro, s.whoami)
	s.handle("GET /status", ro, s.status)
	s.handle("GET /health", ro, s.health)
	if s.opts.Debug != nil {
		s.raw("GET /debug/", ro, noWriteTimeout(debugPaths(s.opts.Debug)))
	}
	for _, rt := range s.opts.Extra {
		s.raw(rt.Method+" "+rt.Pattern, rt.Role, rt.Handler)
	}
	s.mux.HandleFunc("GET /openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(api.OpenAPI)
	})
	// Anything else under the prefix is a JSON 404, not the console.
	s.mux.HandleFunc(api.Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no route %s %s; GET /openapi.yaml lists them", r.Method, r.URL.Path))
	})
	if s.opts.Console != nil {
		// Any method here, GET only below: "GET /" would conflict with
		// the catch-all of the prefix, which takes every method.
		console := s.opts.Console
		s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", "GET, HEAD")
				writeError(w, http.StatusMethodNotAllowed, "bad_request", fmt.Sprintf("%s %s: the console answers GET only", r.Method, r.URL.Path))
				return
			}
			console.ServeHTTP(w, r)
		})
	}
}

// handle registers a JSON route.
func (s *Server) handle(route, role string, h handlerFunc) {
	s.raw(route, role, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who := tokenOf(r)
		code, v, err := h(r, who)
		if err != nil {
			s.writeErr(w, r, err)
			return
		}
		if code == http.StatusNoContent {
			w.WriteHeader(code)
			return
		}
		writeJSON(w, code, v)
	}))
}

// raw registers a handler behind the token check.
func (s *Server) raw(route, role string, h http.Handler) {
	method, pattern, _ := cutRoute(route)
	s.routes = append(s.routes, strings.TrimSpace(method+" "+pattern))
	s.mux.Handle(strings.TrimSpace(method+" "+api.Prefix+pattern), s.observe(strings.TrimSpace(method+" "+pattern), s.auth.require(role, h)))
}

func cutRoute(route string) (method, pattern string, ok bool) {
	for i := 0; i < len(route); i++ {
		if route[i] == ' ' {
			return route[:i], route[i+1:], true
		}
	}
	return "", route, false
}

// noWriteTimeout lifts the server's write timeout for a handler that
// bounds itself (logs streamed, profiles of ?seconds=).
func noWriteTimeout(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
		h.ServeHTTP(w, r)
	})
}

// debugPaths maps /api/v1/debug/X to the debug API's own path,
// /debug/v1/X, so that its handler serves it unchanged.
func debugPaths(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest := strings.TrimPrefix(r.URL.Path, api.Prefix+"/debug/")
		r2 := r.Clone(r.Context())
		r2.URL.Path = debugserver.Prefix + rest
		r2.URL.RawPath = ""
		h.ServeHTTP(w, r2)
	})
}

// store returns the store and a context bounded by the store timeout.
func (s *Server) store(r *http.Request) (scheduler.Store, context.Context, context.CancelFunc, error) {
	st := s.opts.Store()
	if st == nil {
		return nil, nil, nil, errUnavailable("the database is not open yet: the scheduler is starting or cannot reach it (GET /health, /readyz say why); try again shortly")
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
	return st, ctx, cancel, nil
}
