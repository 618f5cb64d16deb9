package wiretrace

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/vigilhq/vigil/diag/inflight"
)

// countingReader counts the reads made of it.
type countingReader struct {
	mu    sync.Mutex
	r     io.Reader
	reads int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.r.Read(p)
}

func TestRequestBody(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789"), 1000)

	t.Run("reaches the server whole, kept up to the limit", func(t *testing.T) {
		var got []byte
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got, _ = io.ReadAll(r.Body)
		}))
		defer srv.Close()
		tr := New(Options{Mode: Bodies, BodyLimit: 100})
		do(t, tr.Wrap(srv.Client().Transport), "PUT", srv.URL+"/upload", bytes.NewReader(payload))
		if !bytes.Equal(got, payload) {
			t.Errorf("server got %d bytes, want %d", len(got), len(payload))
		}
		x := tr.Entries(0, 0)[0]
		if x.ReqBytes != 10000 || x.ReqBody != string(payload[:100])+"…[truncated 9900 bytes]" {
			t.Errorf("ReqBytes %d, ReqBody %q", x.ReqBytes, x.ReqBody)
		}
	})

	t.Run("not read ahead of the transport", func(t *testing.T) {
		body := &countingReader{r: bytes.NewReader(payload)}
		tr := New(Options{Mode: Bodies})
		readsBefore := -1
		rt := tr.Wrap(rtFunc(func(r *http.Request) (*http.Response, error) {
			body.mu.Lock()
			readsBefore = body.reads
			body.mu.Unlock()
			return okRT("")(r)
		}))
		do(t, rt, "POST", "http://h/x", body)
		if readsBefore != 0 {
			t.Errorf("the body was read %d times before the transport had it", readsBefore)
		}
	})

	t.Run("a body of known length is handed on as it is", func(t *testing.T) {
		for _, mode := range []Mode{Off, Summary, Bodies} {
			tr := New(Options{Mode: mode, BodyLimit: 16})
			req, err := http.NewRequestWithContext(testCtx(t), "POST", "http://h/x", bytes.NewReader(payload))
			if err != nil {
				t.Fatal(err)
			}
			var sent io.ReadCloser
			rt := tr.Wrap(rtFunc(func(r *http.Request) (*http.Response, error) {
				sent = r.Body
				return okRT("")(r)
			}))
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if sent != req.Body {
				t.Errorf("%s: the transport got %T, not the caller's body (net/http then flushes the headers on their own)", mode, sent)
			}
			if mode == Off {
				continue
			}
			x := tr.Entries(0, 0)[0]
			want := ""
			if mode == Bodies {
				want = "0123456789012345…[truncated 9984 bytes]"
			}
			if x.ReqBytes != 10000 || x.ReqBody != want {
				t.Errorf("%s: ReqBytes %d, ReqBody %q; want 10000, %q", mode, x.ReqBytes, x.ReqBody, want)
			}
		}
	})

	t.Run("GetBody rewinds are counted and captured", func(t *testing.T) {
		tr := New(Options{Mode: Bodies, BodyLimit: 20000})
		var resent []byte
		rt := tr.Wrap(rtFunc(func(r *http.Request) (*http.Response, error) {
			// A transport that sends part of the body, loses the
			// connection and retries with GetBody.
			if _, err := io.CopyN(io.Discard, r.Body, 10); err != nil {
				return nil, err
			}
			r.Body.Close()
			b, err := r.GetBody()
			if err != nil {
				return nil, err
			}
			resent, _ = io.ReadAll(b)
			return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
		}))
		req, err := http.NewRequestWithContext(testCtx(t), "POST", "http://h/x", bytes.NewReader(payload))
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = -1 // unknown, so the body is wrapped
		origBody, origCtx := req.Body, req.Context()
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !bytes.Equal(resent, payload) {
			t.Errorf("GetBody gave %d bytes, want %d", len(resent), len(payload))
		}
		if req.Body != origBody || req.Context() != origCtx || req.GetBody == nil {
			t.Error("RoundTrip modified the caller's request")
		}
		x := tr.Entries(0, 0)[0]
		if x.ReqBytes != int64(len(payload)) || x.ReqBody != string(payload) {
			t.Errorf("ReqBytes = %d, ReqBody %d bytes; want the resent body", x.ReqBytes, len(x.ReqBody))
		}
	})
}

// rwc is a ReadWriteCloser, as the body of a 101 response is.
type rwc struct{ io.ReadWriter }

func (rwc) Close() error { return nil }

func TestResponseEnds(t *testing.T) {
	tests := []struct {
		name       string
		resp       func() *http.Response
		consume    func(*http.Response)
		wantErr    string
		wantBytes  int64
		sameBody   bool
		streaming  bool
		recordedAt string // "headers" or "consume"
	}{
		{
			name: "no body",
			resp: func() *http.Response {
				return &http.Response{StatusCode: 204, Body: http.NoBody, Header: http.Header{}}
			},
			consume:    func(*http.Response) {},
			sameBody:   true,
			recordedAt: "headers",
		},
		{
			name: "upgrade keeps its ReadWriteCloser",
			resp: func() *http.Response {
				return &http.Response{StatusCode: 101, Body: rwc{&bytes.Buffer{}}, Header: http.Header{}}
			},
			consume:    func(*http.Response) {},
			sameBody:   true,
			streaming:  true,
			recordedAt: "headers",
		},
		{
			name: "closed unread",
			resp: func() *http.Response {
				return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("abcdef")), Header: http.Header{}}
			},
			consume:    func(r *http.Response) { r.Body.Close() },
			recordedAt: "consume",
		},
		{
			name: "read error",
			resp: func() *http.Response {
				body := io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(errors.New("connection reset, Bearer "+testToken)))
				return &http.Response{StatusCode: 200, Body: io.NopCloser(body), Header: http.Header{}}
			},
			consume:    func(r *http.Response) { io.ReadAll(r.Body) },
			wantErr:    "connection reset, Bearer REDACTED",
			wantBytes:  3,
			recordedAt: "consume",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := inflight.New(inflight.Options{})
			tr := New(Options{Mode: Summary, Registry: reg})
			orig := tt.resp()
			origBody := orig.Body
			rt := tr.Wrap(rtFunc(func(*http.Request) (*http.Response, error) { return orig, nil }))
			req, err := http.NewRequestWithContext(testCtx(t), "GET", "http://h/x", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			if (resp.Body == origBody) != tt.sameBody {
				t.Errorf("body handed back untouched = %v, want %v", resp.Body == origBody, tt.sameBody)
			}
			recorded := len(tr.Entries(0, 0)) == 1
			if recorded != (tt.recordedAt == "headers") {
				t.Errorf("recorded at headers = %v, want %v", recorded, tt.recordedAt == "headers")
			}
			tt.consume(resp)
			got := tr.Entries(0, 0)
			if len(got) != 1 {
				t.Fatalf("kept %d entries, want 1", len(got))
			}
			x := got[0]
			if x.Err != tt.wantErr || x.RespBytes != tt.wantBytes || x.Streaming != tt.streaming {
				t.Errorf("exchange %+v", x)
			}
			if n := len(reg.Snapshot()); n != 0 {
				t.Errorf("%d calls in flight after the exchange ended", n)
			}
			resp.Body.Close() // a second end records nothing more
			if st := tr.Stats(); st.Exchanges != 1 {
				t.Errorf("Stats().Exchanges = %d, want 1", st.Exchanges)
			}
		})
	}
}

func TestTransportErrorIsRedacted(t *testing.T) {
	tr := New(Options{Mode: Summary})
	rt := tr.Wrap(rtFunc(func(r *http.Request) (*http.Response, error) {
		return nil, &url.Error{Op: "Get", URL: r.URL.String(), Err: errors.New("proxy said Bearer " + testToken)}
	}))
	req, err := http.NewRequestWithContext(testCtx(t), "GET", "https://bob:pw1234@h/x?access_token=AAA1&limit=5", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.RoundTrip(req); err == nil {
		t.Fatal("want the transport's error")
	}
	x := tr.Entries(0, 0)[0]
	for _, s := range []string{"pw1234", "AAA1", testToken} {
		if strings.Contains(x.Err, s) || strings.Contains(x.URL, s) {
			t.Errorf("exchange leaks %q: url %s, error %s", s, x.URL, x.Err)
		}
	}
	if x.URL != "https://bob:REDACTED@h/x?access_token=REDACTED&limit=5" || tr.Stats().Errors != 1 {
		t.Errorf("URL = %s, Stats %+v", x.URL, tr.Stats())
	}
}

func TestPhasesAndHeaders(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "session=abc")
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	tr := New(Options{Mode: Headers})
	rt := tr.Wrap(srv.Client().Transport, WithName("test"))
	for range 2 {
		req, err := http.NewRequestWithContext(testCtx(t), "GET", srv.URL+"/x", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	got := tr.Entries(0, 0)
	if len(got) != 2 {
		t.Fatalf("kept %d entries", len(got))
	}
	first, second := got[0], got[1]
	if first.Phases.ConnReused || first.Phases.Connect <= 0 || first.Phases.FirstByte <= 0 {
		t.Errorf("first request phases %+v: want a new connection with connect and first-byte times", first.Phases)
	}
	if !second.Phases.ConnReused || second.Phases.Connect != 0 {
		t.Errorf("second request phases %+v: want a reused connection", second.Phases)
	}
	if first.ReqHeaders.Get("Authorization") != redacted || first.RespHeaders.Get("Set-Cookie") != redacted {
		t.Errorf("headers not redacted: %v %v", first.ReqHeaders, first.RespHeaders)
	}
	if first.Client != "test" || first.Host != strings.TrimPrefix(srv.URL, "http://") || first.Verb != "" {
		t.Errorf("exchange %+v", first)
	}
}

func TestWrapOptions(t *testing.T) {
	var nilTracer *Tracer
	inner := okRT("")
	if got := nilTracer.Wrap(inner); got == nil {
		t.Error("nil Tracer's Wrap returned nil")
	}
	if got := New(Options{}).Wrap(nil).(*transport); got.rt != http.DefaultTransport {
		t.Error("Wrap(nil) does not use http.DefaultTransport")
	}
	tr := New(Options{Mode: Summary})
	do(t, tr.Wrap(inner, WithKubernetes(false)), "GET", "http://prometheus:9090/api/v1/query?query=up", nil)
	if x := tr.Entries(0, 0)[0]; x.Verb != "" || x.Resource != "" {
		t.Errorf("WithKubernetes(false) still parsed the path: %+v", x)
	}
}

// TestSecretPath: a client whose URL path is its key (a Slack incoming
// webhook) shows scheme://host/REDACTED in exchanges, errors and the
// in-flight registry (issue 20).
func TestSecretPath(t *testing.T) {
	reg := inflight.New(inflight.Options{})
	tr := New(Options{Mode: Bodies, Registry: reg})
	var during []inflight.Call
	rt := tr.Wrap(rtFunc(func(r *http.Request) (*http.Response, error) {
		during = reg.Snapshot()
		return nil, &url.Error{Op: "Post", URL: r.URL.String(), Err: errors.New("connection reset")}
	}), WithName("notify"), WithSecretPath())
	req, err := http.NewRequestWithContext(testCtx(t), "POST", "https://hooks.example/services/T0/B0/sekritKey", strings.NewReader(`{"text":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.RoundTrip(req); err == nil {
		t.Fatal("want the transport's error")
	}
	x := tr.Entries(0, 0)[0]
	if strings.Contains(x.Err, "sekrit") || x.URL != "https://hooks.example/REDACTED" {
		t.Errorf("exchange: url %s, error %s", x.URL, x.Err)
	}
	if len(during) != 1 || strings.Contains(during[0].Op, "sekrit") {
		t.Errorf("in flight: %+v", during)
	}
}

// TestSecretPathEchoed: a receiver's error page that echoes the secret
// path is recorded with it REDACTED (bodies mode).
func TestSecretPathEchoed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no hook at "+r.URL.Path, http.StatusNotFound)
	}))
	defer srv.Close()
	tr := New(Options{Mode: Bodies})
	client := &http.Client{Transport: tr.Wrap(nil, WithSecretPath(), WithSecretHeaders("x-api-key"))}
	req, err := http.NewRequestWithContext(testCtx(t), "POST", srv.URL+"/services/T0/B0/sekritKey", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Api-Key", "keyValue123")
	req.Header.Set("X-Team", "data")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	x := tr.Entries(0, 0)[0]
	if strings.Contains(x.RespBody, "sekrit") || !strings.Contains(x.RespBody, "REDACTED") || strings.Contains(x.URL, "sekrit") {
		t.Errorf("exchange: url %s, response body %q", x.URL, x.RespBody)
	}
	if x.ReqHeaders.Get("X-Api-Key") != "REDACTED" || x.ReqHeaders.Get("X-Team") != "data" {
		t.Errorf("request headers %v: want X-Api-Key REDACTED, X-Team kept", x.ReqHeaders)
	}
}
