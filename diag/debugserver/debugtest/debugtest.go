// Package debugtest serves a real debug API from a test process, on a
// real unix socket, with answers a test may rewrite: a scheduler that
// lies (a bundle named "../../x", someone else's pid) or sends too much
// (a gzip bomb), to test that diag does not take its word.
//
//	srv := debugtest.Start(t, debugtest.Options{Wrap: func(api http.Handler) http.Handler {
//		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//			if r.URL.Path == debugserver.Prefix+"info" {
//				debugtest.EditJSON(api, w, r, func(v map[string]any) { v["pid"] = 1 })
//				return
//			}
//			api.ServeHTTP(w, r)
//		})
//	}})
//	// diag --socket srv.Socket ...
//
// Without Wrap it is the plain debug API, over a real bundle writer.
package debugtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/vigilhq/vigil/diag/bundle"
	"github.com/vigilhq/vigil/diag/debugserver"
	"github.com/vigilhq/vigil/diag/watchdog"
)

// Options configure Start.
type Options struct {
	// Sources are what the API serves. Service defaults to "vigil";
	// Bundles to a writer of one small part in a temporary folder.
	Sources debugserver.Sources
	// Wrap, if set, stands in front of the API: it answers what it wants
	// to and passes the rest on.
	Wrap func(api http.Handler) http.Handler
	// TCP also serves the (wrapped) API on a loopback port, without
	// asking for a token.
	TCP bool
}

// Server is a running test API.
type Server struct {
	// Socket is the unix socket it listens on (mode 0600, in a private
	// folder of its own).
	Socket string
	// Addr is the loopback address with Options.TCP.
	Addr    string
	Bundles *bundle.Writer
	// API is the unwrapped debug API.
	API http.Handler
}

// Start serves the API until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	src := opts.Sources
	if src.Service == "" {
		src.Service = "vigil"
	}
	if src.Watchdog == nil {
		src.Watchdog = watchdog.New(watchdog.Options{})
	}
	if src.Bundles == nil {
		bw, err := bundle.New(bundle.Options{Dir: filepath.Join(t.TempDir(), "bundles"), Parts: []bundle.Part{{
			Name: "hello.txt", Write: func(ctx context.Context, w io.Writer) error {
				_, err := io.WriteString(w, "hello from debugtest\n")
				return err
			},
		}}})
		if err != nil {
			t.Fatal(err)
		}
		src.Bundles = bw
	}
	dir := filepath.Join(t.TempDir(), "run")
	api, err := debugserver.New(debugserver.Options{Dir: dir, Logger: zaptest.NewLogger(t)}, src)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", api.Socket())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(api.Socket(), 0o600); err != nil {
		t.Fatal(err)
	}
	h := api.Handler()
	if opts.Wrap != nil {
		h = opts.Wrap(h)
	}
	lns := []net.Listener{ln}
	s := &Server{Socket: api.Socket(), Bundles: src.Bundles, API: api.Handler()}
	if opts.TCP {
		tl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, tl)
		s.Addr = tl.Addr().String()
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 5 * time.Minute}
	done := make(chan error, len(lns))
	for _, l := range lns {
		go func() { done <- hs.Serve(l) }()
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
		for range lns {
			if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
				t.Errorf("debugtest: serve: %v", err)
			}
		}
	})
	return s
}

// EditJSON has api answer r, lets edit change the JSON object it answers
// with, and sends the result with the same status.
func EditJSON(api http.Handler, w http.ResponseWriter, r *http.Request, edit func(v map[string]any)) {
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, r)
	var v map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		http.Error(w, "debugtest: the API's answer is not a JSON object: "+err.Error(), http.StatusInternalServerError)
		return
	}
	edit(v)
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		http.Error(w, "debugtest: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(buf.Bytes())
}

// Counter counts the bytes written through it: what a test server sent.
// It may be read while a handler writes.
type Counter struct {
	W io.Writer
	n atomic.Int64
}

func (c *Counter) Write(p []byte) (int, error) {
	n, err := c.W.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// N is how many bytes were written so far.
func (c *Counter) N() int64 { return c.n.Load() }
