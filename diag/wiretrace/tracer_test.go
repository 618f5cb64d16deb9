package wiretrace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/inflight"
)

// rtFunc is a RoundTripper made of a function.
type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// okRT answers every request with 200 and body, reading the request body
// first as a transport would.
func okRT(body string) rtFunc {
	return func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			if _, err := io.Copy(io.Discard, r.Body); err != nil {
				return nil, err
			}
			r.Body.Close()
		}
		return &http.Response{
			StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"text/plain"}},
			Body: io.NopCloser(strings.NewReader(body)), Request: r,
		}, nil
	}
}

// testCtx is a context that ends with the test or after ten seconds.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// do sends one request through rt and reads and closes the response.
func do(t *testing.T, rt http.RoundTripper, method, url string, body io.Reader) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(testCtx(t), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatalf("read %s %s: %v", method, url, err)
	}
	resp.Body.Close()
	return resp
}

func seqs(xs []Exchange) []uint64 {
	out := []uint64{}
	for _, x := range xs {
		out = append(out, x.Seq)
	}
	return out
}

func TestParseMode(t *testing.T) {
	tests := []struct {
		in      string
		want    Mode
		wantErr bool
	}{
		{"off", Off, false},
		{"summary", Summary, false},
		{" Headers ", Headers, false},
		{"BODIES", Bodies, false},
		{"verbose", Off, true},
		{"", Off, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseMode(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseMode(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				if !errors.Is(err, ErrUnknownMode) || !strings.Contains(err.Error(), "off, summary, headers, bodies") {
					t.Errorf("ParseMode(%q) error %q: want ErrUnknownMode listing the modes", tt.in, err)
				}
				return
			}
			if got != tt.want || got.String() != strings.ToLower(strings.TrimSpace(tt.in)) {
				t.Errorf("ParseMode(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
	if s := Mode(9).String(); s != "Mode(9)" {
		t.Errorf("Mode(9).String() = %q", s)
	}
}

func TestRingWrapAround(t *testing.T) {
	tr := New(Options{Mode: Summary, Capacity: 4})
	rt := tr.Wrap(okRT("ok"))
	for i := range 10 {
		do(t, rt, "GET", fmt.Sprintf("http://h/%d", i+1), nil)
	}
	tests := []struct {
		name  string
		after uint64
		max   int
		want  []uint64
		urls  []string
	}{
		{"all kept", 0, 0, []uint64{7, 8, 9, 10}, []string{"http://h/7", "http://h/8", "http://h/9", "http://h/10"}},
		{"after dropped ones", 3, 0, []uint64{7, 8, 9, 10}, nil},
		{"after kept one", 8, 0, []uint64{9, 10}, []string{"http://h/9", "http://h/10"}},
		{"max takes the oldest", 0, 2, []uint64{7, 8}, nil},
		{"max past the rest", 9, 5, []uint64{10}, nil},
		{"nothing newer", 10, 0, []uint64{}, nil},
		{"after the future", 99, 0, []uint64{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tr.Entries(tt.after, tt.max)
			if fmt.Sprint(seqs(got)) != fmt.Sprint(tt.want) {
				t.Errorf("Entries(%d, %d) seqs = %v, want %v", tt.after, tt.max, seqs(got), tt.want)
			}
			for i, u := range tt.urls {
				if got[i].URL != u {
					t.Errorf("entry %d URL = %s, want %s", i, got[i].URL, u)
				}
			}
		})
	}
	_, last, missed := tr.entries(2, 0)
	if last != 10 || missed != 4 {
		t.Errorf("entries(2) last, missed = %d, %d; want 10, 4", last, missed)
	}
	st := tr.Stats()
	want := Stats{Mode: Summary, Exchanges: 10, Dropped: 6, Kept: 4, Capacity: 4, LastSeq: 10}
	if st != want {
		t.Errorf("Stats() = %+v, want %+v", st, want)
	}
}

func TestOffModeKeepsNothingButObservesAndRegisters(t *testing.T) {
	reg := inflight.New(inflight.Options{})
	var mu sync.Mutex
	var seen []Exchange
	tr := New(Options{Registry: reg, Observe: func(x Exchange) {
		mu.Lock()
		seen = append(seen, x)
		mu.Unlock()
	}})
	inFlight := 0
	rt := tr.Wrap(rtFunc(func(r *http.Request) (*http.Response, error) {
		inFlight = len(reg.Snapshot())
		return okRT("hello")(r)
	}), WithName("kube"))
	do(t, rt, "POST", "http://h/api/v1/namespaces/ci/pods", strings.NewReader("{}"))

	if inFlight != 1 {
		t.Errorf("calls in flight during the request = %d, want 1", inFlight)
	}
	if n := len(reg.Snapshot()); n != 0 {
		t.Errorf("calls in flight after = %d, want 0", n)
	}
	if got := tr.Entries(0, 0); len(got) != 0 {
		t.Errorf("Off kept %d entries", len(got))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 {
		t.Fatalf("Observe called %d times, want 1", len(seen))
	}
	x := seen[0]
	if x.Seq != 0 || x.Verb != "create" || x.Resource != "pods" || x.Status != 200 || x.Client != "kube" ||
		x.RespBytes != 5 || x.ReqBytes != 2 {
		t.Errorf("observed %+v", x)
	}
	if st := tr.Stats(); st.Exchanges != 1 || st.Kept != 0 {
		t.Errorf("Stats() = %+v", st)
	}
}

func TestModeSwitching(t *testing.T) {
	tr := New(Options{Mode: Summary, BodyLimit: 64})
	rt := tr.Wrap(okRT(`{"kind":"Pod"}`))
	post := func() {
		do(t, rt, "POST", "http://h/api/v1/namespaces/ci/pods", strings.NewReader(`{"kind":"Pod","metadata":{"name":"p"}}`))
	}

	post()
	tr.SetMode(Headers)
	post()
	tr.SetMode(Bodies)
	post()
	tr.SetMode(Off)
	post()
	tr.SetMode(Mode(42)) // ignored
	if tr.Mode() != Off {
		t.Fatalf("Mode() = %v after an invalid SetMode, want off", tr.Mode())
	}

	got := tr.Entries(0, 0)
	if len(got) != 3 {
		t.Fatalf("kept %d entries, want 3 (none in off)", len(got))
	}
	tests := []struct {
		name              string
		x                 Exchange
		headers, bodyWant bool
	}{
		{"summary", got[0], false, false},
		{"headers", got[1], true, false},
		{"bodies", got[2], true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.x.ReqHeaders != nil) != tt.headers || (tt.x.RespHeaders != nil) != tt.headers {
				t.Errorf("headers kept = %v/%v, want %v", tt.x.ReqHeaders != nil, tt.x.RespHeaders != nil, tt.headers)
			}
			if (tt.x.ReqBody != "") != tt.bodyWant || (tt.x.RespBody != "") != tt.bodyWant {
				t.Errorf("bodies kept = %q/%q, want %v", tt.x.ReqBody, tt.x.RespBody, tt.bodyWant)
			}
			if tt.x.Verb != "create" || tt.x.Status != 200 {
				t.Errorf("exchange %+v", tt.x)
			}
		})
	}
	if got[2].ReqBody != `{"kind":"Pod","metadata":{"name":"p"}}` || got[2].RespBody != `{"kind":"Pod"}` {
		t.Errorf("bodies = %q, %q", got[2].ReqBody, got[2].RespBody)
	}
	if st := tr.Stats(); st.Exchanges != 4 || st.LastSeq != 3 {
		t.Errorf("Stats() = %+v, want 4 exchanges, last seq 3", st)
	}
}

// TestModeOfARunningRequest: a request finishes in the mode it started in.
func TestModeOfARunningRequest(t *testing.T) {
	tr := New(Options{Mode: Headers})
	req, err := http.NewRequestWithContext(testCtx(t), "GET", "http://h/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tr.Wrap(okRT("body")).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	tr.SetMode(Off)
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := tr.Entries(0, 0)
	if len(got) != 1 || got[0].RespHeaders == nil {
		t.Fatalf("entries %+v: want the request kept with headers", got)
	}
}

func TestWait(t *testing.T) {
	tr := New(Options{Mode: Summary})
	rt := tr.Wrap(okRT("x"))

	t.Run("returns at once when there is something newer", func(t *testing.T) {
		do(t, rt, "GET", "http://h/1", nil)
		ctx := testCtx(t)
		tr.Wait(ctx, 0)
		if ctx.Err() != nil {
			t.Error("Wait waited for its context although entry 1 exists")
		}
	})
	t.Run("wakes on a new entry", func(t *testing.T) {
		ctx := testCtx(t)
		done := make(chan struct{})
		go func() {
			tr.Wait(ctx, 1)
			close(done)
		}()
		do(t, rt, "GET", "http://h/2", nil)
		select {
		case <-done:
		case <-ctx.Done():
			t.Fatal("Wait did not return after a new entry")
		}
		if ctx.Err() != nil {
			t.Error("Wait returned on its context, not on the entry")
		}
	})
	t.Run("ends with its context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(testCtx(t))
		done := make(chan struct{})
		go func() {
			tr.Wait(ctx, 2)
			close(done)
		}()
		cancel()
		select {
		case <-done:
		case <-testCtx(t).Done():
			t.Fatal("Wait did not return when its context ended")
		}
	})
}

func TestConcurrentUse(t *testing.T) {
	tr := New(Options{Mode: Bodies, Capacity: 16, Registry: inflight.New(inflight.Options{}), Observe: func(Exchange) {}})
	rt := tr.Wrap(okRT(`{"a":1}`))
	ctx := testCtx(t)
	var writers sync.WaitGroup
	for i := range 8 {
		writers.Go(func() {
			for j := range 50 {
				do(t, rt, "POST", fmt.Sprintf("http://h/api/v1/namespaces/n%d/pods", i), strings.NewReader(`{"j":`+fmt.Sprint(j)+`}`))
			}
		})
	}
	stop := make(chan struct{})
	reader := make(chan struct{})
	go func() {
		defer close(reader)
		var after uint64
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, x := range tr.Entries(after, 0) {
				after = x.Seq
			}
			tr.SetMode(Mode(int(after) % 4))
			wctx, cancel := context.WithTimeout(ctx, time.Millisecond)
			tr.Wait(wctx, after)
			cancel()
		}
	}()
	writers.Wait()
	close(stop)
	<-reader
	if st := tr.Stats(); st.Exchanges != 400 {
		t.Errorf("Stats().Exchanges = %d, want 400", st.Exchanges)
	}
}
