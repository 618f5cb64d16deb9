package profiles

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"
)

func TestStartPushRefusesBadOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    PushOptions
		wantErr string
		wantIs  error
	}{
		{name: "no address", opts: PushOptions{}, wantIs: ErrNoServerAddress},
		{name: "not http", opts: PushOptions{ServerAddress: "grpc://pyroscope:4040"}, wantErr: "want http(s)://host:port"},
		{name: "no host", opts: PushOptions{ServerAddress: "http://"}, wantErr: "want http(s)://host:port"},
		{name: "unknown profile type", opts: PushOptions{ServerAddress: "http://127.0.0.1:1", ProfileTypes: []string{"cpu", "heap"}},
			wantErr: `unknown profile type "heap": want one of alloc_objects, alloc_space`},
		{name: "bad tag name", opts: PushOptions{ServerAddress: "http://127.0.0.1:1", Tags: map[string]string{"not a label": "x"}},
			wantErr: "start pyroscope push to http://127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := StartPush(tt.opts)
			if err == nil {
				p.Stop()
				t.Fatal("StartPush succeeded")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v, want %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestProfileTypes(t *testing.T) {
	tests := []struct {
		name string
		opts PushOptions
		want []string
	}{
		{name: "defaults", want: DefaultProfileTypes()},
		{name: "explicit", opts: PushOptions{ProfileTypes: []string{"cpu", "cpu", "goroutines"}}, want: []string{"cpu", "goroutines"}},
		{name: "mutex and block", opts: PushOptions{ProfileTypes: []string{"cpu"}, MutexAndBlock: true},
			want: []string{"cpu", "mutex_count", "mutex_duration", "block_count", "block_duration"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			types, err := tt.opts.profileTypes()
			if err != nil {
				t.Fatal(err)
			}
			if got := typeNames(types); !slices.Equal(got, tt.want) {
				t.Errorf("types %v, want %v", got, tt.want)
			}
		})
	}
}

// TestNilPusher: a disabled Pusher is a nil one, and the daemon need not
// check.
func TestNilPusher(t *testing.T) {
	var p *Pusher
	p.Stop()
	if st := p.Stats(); st != (PushStats{}) {
		t.Errorf("nil Pusher stats %+v", st)
	}
}

// TestPushSendsLabelledCPUProfiles checks that the scheduler's pprof
// labels reach the server in the CPU profiles, that uploads go through
// WrapTransport, and that they are counted.
func TestPushSendsLabelledCPUProfiles(t *testing.T) {
	srv := newIngestServer(t, http.StatusOK)
	var wrapped atomic.Int64
	p, err := StartPush(PushOptions{
		ServerAddress: srv.URL,
		Instance:      "vigil-0",
		UploadRate:    300 * time.Millisecond,
		UploadTimeout: 5 * time.Second,
		WrapTransport: func(rt http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				wrapped.Add(1)
				return rt.RoundTrip(r)
			})
		},
		Logger: zaptest.NewLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()

	stop := startBurning("loop", "scheduler", "dag", "nightly-etl", "task", "extract")
	found := srv.waitFor(10*time.Second, func(pr *profile.Profile) bool {
		return isCPU(pr) && hasLabel(pr, "dag", "nightly-etl") && hasLabel(pr, "loop", "scheduler") && hasLabel(pr, "task", "extract")
	})
	stop()
	if !found {
		t.Fatal("no CPU profile with the labels loop=scheduler, dag=nightly-etl, task=extract reached the server in 10s")
	}
	if !srv.waitFor(5*time.Second, func(pr *profile.Profile) bool {
		return slices.ContainsFunc(pr.SampleType, func(st *profile.ValueType) bool { return st.Type == "goroutine" })
	}) {
		t.Error("no goroutine profile reached the server")
	}
	p.Stop()
	st := p.Stats()
	if st.Uploaded == 0 || st.Failed != 0 || st.LastSuccess.IsZero() {
		t.Errorf("stats after a healthy run: %+v", st)
	}
	if wrapped.Load() < int64(st.Uploaded) {
		t.Errorf("WrapTransport saw %d requests for %d uploads", wrapped.Load(), st.Uploaded)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestPushCountsRejectedUploads(t *testing.T) {
	srv := newIngestServer(t, http.StatusInternalServerError)
	p, err := StartPush(PushOptions{
		ServerAddress: srv.URL,
		ProfileTypes:  []string{"goroutines"},
		UploadRate:    100 * time.Millisecond,
		Logger:        zaptest.NewLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	waitUntil(t, 5*time.Second, "a failed upload", func() bool { return p.Stats().Failed > 0 })
	p.Stop()
	if st := p.Stats(); st.Uploaded != 0 || !strings.Contains(st.LastError, "HTTP 500") || st.LastFailure.IsZero() {
		t.Errorf("stats after rejected uploads: %+v", st)
	}
}

func TestPushAuthenticates(t *testing.T) {
	tests := []struct {
		name string
		opts PushOptions
		want string
	}{
		{name: "none", want: ""},
		{name: "basic", opts: PushOptions{BasicAuthUser: "u", BasicAuthPassword: "p"}, want: "Basic dTpw"},
		{name: "token", opts: PushOptions{AuthToken: "s3cret"}, want: "Bearer s3cret"},
		{name: "basic wins over token", opts: PushOptions{BasicAuthUser: "u", BasicAuthPassword: "p", AuthToken: "s3cret"}, want: "Basic dTpw"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newIngestServer(t, http.StatusOK)
			opts := tt.opts
			opts.ServerAddress, opts.ProfileTypes, opts.UploadRate = srv.URL, []string{"goroutines"}, 100*time.Millisecond
			opts.Logger = zaptest.NewLogger(t)
			p, err := StartPush(opts)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Stop()
			if !srv.waitFor(5*time.Second, func(*profile.Profile) bool { return true }) {
				t.Fatal("nothing uploaded")
			}
			p.Stop()
			if got := srv.authHeaders(); !slices.Equal(got, []string{tt.want}) {
				t.Errorf("Authorization headers %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPushMutexAndBlockRatesRestored(t *testing.T) {
	srv := newIngestServer(t, http.StatusOK)
	prev := runtime.SetMutexProfileFraction(3)
	defer runtime.SetMutexProfileFraction(prev)

	p, err := StartPush(PushOptions{ServerAddress: srv.URL, ProfileTypes: []string{"goroutines"}, MutexAndBlock: true,
		UploadRate: 100 * time.Millisecond, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if got := runtime.SetMutexProfileFraction(-1); got != DefaultMutexProfileFraction {
		t.Errorf("mutex fraction while pushing: %d, want %d", got, DefaultMutexProfileFraction)
	}
	// Contend a mutex so the profile has something in it.
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				mu.Lock()
				runtime.Gosched()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if !srv.waitFor(5*time.Second, func(pr *profile.Profile) bool {
		return slices.ContainsFunc(pr.SampleType, func(st *profile.ValueType) bool { return st.Type == "contentions" })
	}) {
		t.Error("no mutex or block profile reached the server")
	}
	p.Stop()
	if got := runtime.SetMutexProfileFraction(-1); got != 3 {
		t.Errorf("mutex fraction after Stop: %d, want the previous 3", got)
	}
}

// TestStopIsBoundedWhenServerIsBlackholed: a server that accepts
// connections and never answers must not hold up Stop, and its uploads
// count as failed.
func TestStopIsBoundedWhenServerIsBlackholed(t *testing.T) {
	addr := blackhole(t)
	const uploadTimeout = time.Second
	p, err := StartPush(PushOptions{
		ServerAddress: "http://" + addr,
		UploadRate:    200 * time.Millisecond,
		UploadTimeout: uploadTimeout,
		Logger:        zaptest.NewLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	stopBurning := startBurning("loop", "scheduler")
	waitUntil(t, 10*time.Second, "an upload to time out", func() bool { return p.Stats().Failed > 0 })
	failed := p.Stats().Failed

	start := time.Now()
	p.Stop()
	took := time.Since(start)
	if rounds := stopBurning(); rounds == 0 {
		t.Error("the CPU loop made no progress while uploads hung")
	}
	// The bound is UploadTimeout+1s; the slack absorbs a loaded CI
	// machine without hiding a Stop that waits on the server.
	if bound := uploadTimeout + 3*time.Second; took > bound {
		t.Errorf("Stop took %s with a black-holed server, want under %s", took, bound)
	}
	select {
	case <-p.stopped:
	case <-time.After(5 * time.Second):
		t.Error("pyroscope-go did not stop within 5s of Stop")
	}
	st := p.Stats()
	if st.Failed < failed || st.Uploaded != 0 || !strings.Contains(st.LastError, "Client.Timeout") && !strings.Contains(st.LastError, "abandoned by Stop") {
		t.Errorf("stats after a black-holed run: %+v", st)
	}
	t.Logf("Stop took %s; stats %+v", took, st)
}

// blackhole listens on 127.0.0.1 and accepts connections that it never
// reads from or answers.
func blackhole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
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
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPushLogsNoCredentials: at debug level pyroscope-go logs every upload
// URL, and a rejected upload logs the server's reply; a password or token
// in the server address, and the basic-auth password, appear in none of
// it, nor in a start error (issue 16).
func TestPushLogsNoCredentials(t *testing.T) {
	const pw, tok = "PyroPw-5c4b3a", "PyroTok-9e8d7c"
	for _, status := range []int{http.StatusOK, http.StatusUnauthorized} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			srv := newIngestServer(t, status)
			core, logs := observer.New(zapcore.DebugLevel)
			addr := strings.Replace(srv.URL, "http://", "http://grafana:"+pw+"@", 1)
			p, err := StartPush(PushOptions{
				ServerAddress: addr, ProfileTypes: []string{"goroutines"}, UploadRate: 100 * time.Millisecond,
				BasicAuthUser: "grafana", BasicAuthPassword: pw, Logger: zap.New(core),
			})
			if err != nil {
				t.Fatal(err)
			}
			if !srv.waitFor(5*time.Second, func(*profile.Profile) bool { return true }) {
				t.Fatal("nothing uploaded")
			}
			p.Stop()
			var all strings.Builder
			for _, e := range logs.All() {
				all.WriteString(e.Message)
				for k, v := range e.ContextMap() {
					fmt.Fprintf(&all, " %s=%v", k, v)
				}
				all.WriteString("\n")
			}
			if !strings.Contains(all.String(), "uploading at") {
				t.Fatalf("no debug line quotes the upload URL, so the check below proves nothing:\n%s", all.String())
			}
			if strings.Contains(all.String(), pw) {
				t.Errorf("the log leaks the password:\n%s", all.String())
			}
		})
	}
	_, err := StartPush(PushOptions{ServerAddress: "ftp://" + tok + "@h:1", Logger: zap.NewNop()})
	if err == nil || strings.Contains(err.Error(), tok) {
		t.Errorf("StartPush error %v: want an error without the token", err)
	}
}
