package wiretrace

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/inflight"
)

// waitFor polls cond until it holds or the test's ten seconds run out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx := testCtx(t)
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// blackhole is a listener on 127.0.0.1 that accepts connections and never
// answers, like a peer behind a dropped route.
func blackhole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func TestBlackholeShowsInFlight(t *testing.T) {
	start := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	clock := func() time.Time { return start }
	tests := []struct {
		name       string
		ctx        func(t *testing.T) (context.Context, context.CancelFunc)
		opts       []WrapOption
		wantNoDL   bool
		wantDL     func(ctx context.Context) time.Time
		wantOp     string
		wantDetail string
	}{
		{
			name: "context deadline",
			ctx: func(t *testing.T) (context.Context, context.CancelFunc) {
				return context.WithDeadline(t.Context(), time.Now().Add(time.Minute))
			},
			wantDL: func(ctx context.Context) time.Time { d, _ := ctx.Deadline(); return d },
			wantOp: "GET /hang", wantDetail: "pyroscope",
		},
		{
			name: "no deadline",
			ctx: func(t *testing.T) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(t.Context())
				stop := time.AfterFunc(10*time.Second, cancel) // the test's own bound
				return ctx, func() { stop.Stop(); cancel() }
			},
			wantNoDL: true,
			wantOp:   "GET /hang", wantDetail: "pyroscope",
		},
		{
			name: "client timeout stands in for a deadline",
			ctx: func(t *testing.T) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(t.Context())
				stop := time.AfterFunc(10*time.Second, cancel)
				return ctx, func() { stop.Stop(); cancel() }
			},
			opts:   []WrapOption{WithClientTimeout(30 * time.Second)},
			wantDL: func(context.Context) time.Time { return start.Add(30 * time.Second) },
			wantOp: "POST /api/v1/namespaces/ci/pods", wantDetail: "create pods",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := blackhole(t)
			reg := inflight.New(inflight.Options{Now: clock})
			tr := New(Options{Mode: Summary, Registry: reg, Now: clock})
			transport := &http.Transport{}
			defer transport.CloseIdleConnections()
			rt := tr.Wrap(transport, append([]WrapOption{WithName("pyroscope")}, tt.opts...)...)

			ctx, cancel := tt.ctx(t)
			defer cancel()
			method, path, body := "GET", "/hang", io.Reader(nil)
			if strings.HasPrefix(tt.wantOp, "POST") {
				method, path, body = "POST", "/api/v1/namespaces/ci/pods?fieldManager=vigil", strings.NewReader("{}")
			}
			req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+path, body)
			if err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() {
				resp, err := rt.RoundTrip(req)
				if err == nil {
					resp.Body.Close()
				}
				errc <- err
			}()

			var calls []inflight.Call
			waitFor(t, "the call to show in flight", func() bool {
				calls = reg.Snapshot()
				return len(calls) == 1
			})
			c := calls[0]
			if c.Kind != "http" || c.Target != addr || c.Op != tt.wantOp || c.Detail != tt.wantDetail {
				t.Errorf("in flight: %+v\nwant kind http, target %s, op %q, detail %q", c, addr, tt.wantOp, tt.wantDetail)
			}
			if c.NoDeadline() != tt.wantNoDL {
				t.Errorf("NoDeadline() = %v, want %v", c.NoDeadline(), tt.wantNoDL)
			}
			if tt.wantDL != nil && !c.Deadline.Equal(tt.wantDL(ctx)) {
				t.Errorf("deadline = %v, want %v", c.Deadline, tt.wantDL(ctx))
			}

			cancel()
			select {
			case err := <-errc:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("RoundTrip error = %v, want context.Canceled", err)
				}
			case <-testCtx(t).Done():
				t.Fatal("RoundTrip did not return after cancel")
			}
			if n := len(reg.Snapshot()); n != 0 {
				t.Errorf("%d calls still in flight after the request ended", n)
			}
			got := tr.Entries(0, 0)
			if len(got) != 1 || got[0].Status != 0 || !strings.Contains(got[0].Err, "context canceled") {
				t.Errorf("entries = %+v, want one with the cancel error", got)
			}
		})
	}
}

// TestStreamingResponseNotBuffered: the caller reads the first chunk while
// the server still holds the second, and the exchange stays in flight
// until the body ends.
func TestStreamingResponseNotBuffered(t *testing.T) {
	for _, mode := range []Mode{Off, Summary, Bodies} {
		t.Run(mode.String(), func(t *testing.T) {
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "first\n")
				w.(http.Flusher).Flush()
				select {
				case <-release:
				case <-r.Context().Done():
					return
				}
				io.WriteString(w, "second\n")
			}))
			defer srv.Close()
			reg := inflight.New(inflight.Options{})
			tr := New(Options{Mode: mode, Registry: reg})
			client := &http.Client{Transport: tr.Wrap(srv.Client().Transport), Timeout: 10 * time.Second}

			resp, err := client.Get(srv.URL + "/logs")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			line, err := br.ReadString('\n')
			if err != nil || line != "first\n" {
				t.Fatalf("first chunk = %q, %v", line, err)
			}
			if n := len(reg.Snapshot()); n != 1 {
				t.Errorf("calls in flight while the body is read = %d, want 1", n)
			}
			if n := len(tr.Entries(0, 0)); n != 0 {
				t.Errorf("exchange recorded before its body ended")
			}
			close(release)
			rest, err := io.ReadAll(br)
			if err != nil || string(rest) != "second\n" {
				t.Fatalf("rest = %q, %v", rest, err)
			}
			if n := len(reg.Snapshot()); n != 0 {
				t.Errorf("calls in flight after EOF = %d, want 0", n)
			}
			if mode == Off {
				return
			}
			got := tr.Entries(0, 0)
			if len(got) != 1 {
				t.Fatalf("kept %d entries, want 1", len(got))
			}
			x := got[0]
			if x.RespBytes != 13 || x.Streaming || x.Status != 200 || x.Phases.FirstByte <= 0 {
				t.Errorf("exchange %+v", x)
			}
			if mode == Bodies && x.RespBody != "first\nsecond\n" {
				t.Errorf("RespBody = %q", x.RespBody)
			}
		})
	}
}

// TestWatchLeavesInFlightAtHeaders: a watch is recorded, and leaves the
// registry, when its headers arrive; its events flow unbuffered.
func TestWatchLeavesInFlightAtHeaders(t *testing.T) {
	tests := []struct {
		name, path  string
		contentType string
		verb        string
	}{
		{"watch query", "/api/v1/namespaces/ci/pods?watch=true&resourceVersion=5", "application/json", "watch"},
		{"legacy watch prefix", "/api/v1/watch/namespaces/ci/pods", "application/json", "watch"},
		{"stream content type", "/events", "application/json;stream=watch", ""},
		{"followed log", "/api/v1/namespaces/ci/pods/p/log?follow=true", "text/plain", "get"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			defer close(release)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				io.WriteString(w, `{"type":"ADDED","object":{"kind":"Pod"}}`+"\n")
				w.(http.Flusher).Flush()
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}))
			defer srv.Close()
			reg := inflight.New(inflight.Options{})
			tr := New(Options{Mode: Bodies, Registry: reg})
			client := &http.Client{Transport: tr.Wrap(srv.Client().Transport)}
			req, err := http.NewRequestWithContext(testCtx(t), "GET", srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()

			if n := len(reg.Snapshot()); n != 0 {
				t.Errorf("an open watch is in flight (%d calls)", n)
			}
			got := tr.Entries(0, 0)
			if len(got) != 1 || !got[0].Streaming || got[0].Verb != tt.verb || got[0].Status != 200 || got[0].RespBody != "" {
				t.Fatalf("entries = %+v, want one streaming %q exchange", got, tt.verb)
			}
			line, err := bufio.NewReader(resp.Body).ReadString('\n')
			if err != nil || !strings.Contains(line, "ADDED") {
				t.Fatalf("first event = %q, %v", line, err)
			}
		})
	}
}

func TestFailedWatchIsAnOrdinaryExchange(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusGone)
		io.WriteString(w, `{"kind":"Status","reason":"Expired"}`)
	}))
	defer srv.Close()
	tr := New(Options{Mode: Bodies})
	do(t, tr.Wrap(srv.Client().Transport), "GET", srv.URL+"/api/v1/pods?watch=1", nil)
	got := tr.Entries(0, 0)
	if len(got) != 1 || got[0].Streaming || got[0].Status != 410 || !strings.Contains(got[0].RespBody, "Expired") {
		t.Fatalf("entries = %+v", got)
	}
}
