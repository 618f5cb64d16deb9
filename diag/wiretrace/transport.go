package wiretrace

import (
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilhq/vigil/diag/inflight"
)

// Exchange is one HTTP request and its response as the ring keeps it.
// Everything in it is redacted (see the package doc).
type Exchange struct {
	// Seq numbers kept exchanges 1, 2, 3... in the order they finished;
	// 0 for an exchange that was not kept (Off mode).
	Seq uint64 `json:"seq"`
	// Client is the name given with WithName.
	Client string `json:"client,omitempty"`
	// Start is when the request was handed to the transport.
	Start  time.Time `json:"start"`
	Method string    `json:"method"`
	// URL is the redacted request URL.
	URL string `json:"url"`
	// Host is host:port as dialed.
	Host string `json:"host"`

	// Verb, Group, Version, Resource, Subresource, Namespace and Name
	// describe a Kubernetes API call and are empty for any other request.
	Verb        string `json:"verb,omitempty"`
	Group       string `json:"group,omitempty"`
	Version     string `json:"version,omitempty"`
	Resource    string `json:"resource,omitempty"`
	Subresource string `json:"subresource,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Name        string `json:"name,omitempty"`

	// Status is the response status code; 0 when there was no response.
	Status int `json:"status"`
	// Err is the transport error or the error that ended reading the
	// body, redacted.
	Err string `json:"error,omitempty"`
	// Streaming marks a response recorded when its headers arrived (a
	// watch, a followed log, an upgrade): Duration is the time to the
	// headers and RespBytes does not count the stream.
	Streaming bool `json:"streaming,omitempty"`
	// Duration runs from Start to the end of the response body (or the
	// error, or the headers of a streaming response).
	Duration time.Duration `json:"duration_ns"`
	// ReqBytes and RespBytes count body bytes as they crossed the
	// wrapper: sent by the transport, read by the caller.
	ReqBytes  int64  `json:"req_bytes"`
	RespBytes int64  `json:"resp_bytes"`
	Phases    Phases `json:"phases"`

	// ReqHeaders and RespHeaders are kept in Headers and Bodies mode.
	ReqHeaders  http.Header `json:"req_headers,omitempty"`
	RespHeaders http.Header `json:"resp_headers,omitempty"`
	// ReqBody and RespBody are kept in Bodies mode: the first BodyLimit
	// bytes, then "…[truncated N bytes]".
	ReqBody  string `json:"req_body,omitempty"`
	RespBody string `json:"resp_body,omitempty"`
}

// Phases are the connection timings of an exchange from
// net/http/httptrace, zero in Off mode and for phases that did not happen
// (a reused connection has no DNS, Connect or TLS).
type Phases struct {
	DNS     time.Duration `json:"dns_ns"`
	Connect time.Duration `json:"connect_ns"`
	TLS     time.Duration `json:"tls_ns"`
	// FirstByte is from Start to the first byte of the response.
	FirstByte  time.Duration `json:"first_byte_ns"`
	ConnReused bool          `json:"conn_reused"`
}

// transport is the RoundTripper Wrap returns.
type transport struct {
	t       *Tracer
	rt      http.RoundTripper
	name    string
	timeout time.Duration
	kube    bool
}

// WrappedRoundTripper returns the transport underneath, for client-go's
// utilities that look through wrappers (k8s.io/apimachinery/pkg/util/net).
func (w *transport) WrappedRoundTripper() http.RoundTripper { return w.rt }

// CloseIdleConnections passes http.Client.CloseIdleConnections through.
func (w *transport) CloseIdleConnections() {
	if c, ok := w.rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// RoundTrip registers the request in flight, sends it through the inner
// transport and arranges for the exchange to be recorded when the
// response body ends.
func (w *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	t := w.t
	mode := t.Mode()
	c := &call{t: t, mode: mode, url: req.URL}
	start := t.now()
	c.start = start

	var k kubeCall
	if w.kube {
		k = parseKubePath(req.Method, req.URL.Path, req.URL.RawQuery)
	}
	host := req.URL.Host
	if host == "" {
		host = req.Host
	}
	c.x = Exchange{
		Client: w.name, Start: start, Method: req.Method, URL: t.red.url(req.URL), Host: host,
		Verb: k.Verb, Group: k.Group, Version: k.Version, Resource: k.Resource,
		Subresource: k.Subresource, Namespace: k.Namespace, Name: k.Name,
	}
	c.withheld = withheldBody(k)

	var deadline time.Time
	if w.timeout > 0 {
		deadline = start.Add(w.timeout)
	}
	detail := k.detail()
	if detail == "" {
		detail = w.name
	}
	c.end = t.reg.Begin(req.Context(), inflight.Call{
		Kind: "http", Target: host, Op: req.Method + " " + req.URL.Path, Detail: detail, Deadline: deadline,
	})

	out := req
	if mode != Off {
		c.trace()
		out = req.WithContext(httptrace.WithClientTrace(req.Context(), &c.ct))
	}
	if mode >= Headers {
		c.x.ReqHeaders = t.red.header(req.Header)
	}
	if req.Body != nil && req.Body != http.NoBody {
		if out == req {
			out = req.WithContext(req.Context()) // a shallow copy: never modify the caller's request
		}
		capture := mode == Bodies && c.withheld == ""
		out.Body = &reqBody{rc: req.Body, c: c, capture: capture}
		if getBody := req.GetBody; getBody != nil {
			// The transport rewinds with GetBody to retry on a new
			// connection; count and capture the body it resends.
			out.GetBody = func() (io.ReadCloser, error) {
				rc, err := getBody()
				if err != nil || rc == nil || rc == http.NoBody {
					return rc, err
				}
				c.reqBytes.Store(0)
				c.mu.Lock()
				c.reqBuf = c.reqBuf[:0]
				c.mu.Unlock()
				return &reqBody{rc: rc, c: c, capture: capture}, nil
			}
		}
	}

	resp, err := w.rt.RoundTrip(out)
	if err != nil {
		c.finish(err)
		return nil, err
	}
	c.x.Status = resp.StatusCode
	if mode >= Headers {
		c.x.RespHeaders = t.red.header(resp.Header)
	}
	if mode == Bodies {
		c.respType = resp.Header.Get("Content-Type")
		c.reqType = req.Header.Get("Content-Type")
	}
	switch {
	case resp.Body == nil || resp.Body == http.NoBody:
		c.finish(nil)
	case streaming(k, req, resp):
		// A watch open for ten minutes is not a hang: it leaves the
		// in-flight registry and is recorded as soon as it is
		// established, and its body is handed back untouched (an
		// upgraded connection's body is an io.ReadWriteCloser).
		c.x.Streaming = true
		c.finish(nil)
	default:
		resp.Body = &respBody{rc: resp.Body, c: c, capture: mode == Bodies && c.withheld == ""}
	}
	return resp, nil
}

// streaming reports whether resp is a stream that stays open for as long
// as the caller wants it: a protocol upgrade, or a successful watch,
// followed log or event stream. A failed watch is an ordinary exchange
// whose error body is worth keeping.
func streaming(k kubeCall, req *http.Request, resp *http.Response) bool {
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return true
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return false
	}
	if k.Verb == "watch" {
		return true
	}
	if k.Verb != "" {
		if v, ok := queryValue(req.URL.RawQuery, "follow"); ok && v == "true" {
			return true
		}
	}
	ct := resp.Header.Get("Content-Type")
	return strings.Contains(ct, "stream=watch") || strings.HasPrefix(ct, "text/event-stream")
}

// call is the state of one exchange between RoundTrip and finish.
type call struct {
	t        *Tracer
	mode     Mode
	url      *url.URL // the unredacted URL, to redact it out of error text
	start    time.Time
	end      func() // ends the in-flight registration
	withheld string // placeholder that replaces both bodies, when set
	reqType  string
	respType string
	ct       httptrace.ClientTrace

	// x is written by RoundTrip before the response is handed to the
	// caller and read by finish after, so it needs no lock.
	x Exchange

	done      atomic.Bool
	reqBytes  atomic.Int64 // written by the transport's writer goroutine
	respBytes atomic.Int64

	mu        sync.Mutex // guards the fields below: httptrace hooks run on dial goroutines
	dnsStart  time.Time
	connStart time.Time
	tlsStart  time.Time
	phases    Phases
	reqBuf    []byte
	respBuf   []byte
}

// finish records the exchange once: the first of a transport error, the
// headers of a streaming response, the body's EOF or read error, and the
// body's Close.
func (c *call) finish(err error) {
	if !c.done.CompareAndSwap(false, true) {
		return
	}
	c.end()
	x := c.x
	x.Duration = c.t.now().Sub(x.Start)
	x.ReqBytes = c.reqBytes.Load()
	x.RespBytes = c.respBytes.Load()
	if err != nil {
		x.Err = c.t.red.error(err, c.url, x.URL)
	}
	if c.mode != Off {
		c.mu.Lock()
		x.Phases = c.phases
		reqBuf, respBuf := c.reqBuf, c.respBuf
		c.mu.Unlock()
		if c.mode == Bodies {
			x.ReqBody = c.body(reqBuf, x.ReqBytes, c.reqType)
			if !x.Streaming {
				x.RespBody = c.body(respBuf, x.RespBytes, c.respType)
			}
		}
	}
	c.t.record(&x, c.mode)
}

// body renders a captured body for the ring.
func (c *call) body(buf []byte, total int64, contentType string) string {
	if total == 0 {
		return ""
	}
	if c.withheld != "" {
		return c.withheld
	}
	return c.t.red.body(buf, total, contentType)
}

// keep appends p to *buf up to the body limit.
func (c *call) keep(buf *[]byte, p []byte) {
	c.mu.Lock()
	if room := c.t.bodyLimit - len(*buf); room > 0 {
		*buf = append(*buf, p[:min(room, len(p))]...)
	}
	c.mu.Unlock()
}

// trace fills c.ct with hooks that time the connection phases. The
// transport may call them from its dial goroutines, even after the
// exchange is finished (a dial that lost the race to an idle
// connection), hence the lock.
func (c *call) trace() {
	stamp := func(at *time.Time) {
		now := c.t.now()
		c.mu.Lock()
		if at.IsZero() {
			*at = now
		}
		c.mu.Unlock()
	}
	span := func(from *time.Time, d *time.Duration) {
		now := c.t.now()
		c.mu.Lock()
		if !from.IsZero() {
			*d = now.Sub(*from)
		}
		c.mu.Unlock()
	}
	c.ct = httptrace.ClientTrace{
		DNSStart:          func(httptrace.DNSStartInfo) { stamp(&c.dnsStart) },
		DNSDone:           func(httptrace.DNSDoneInfo) { span(&c.dnsStart, &c.phases.DNS) },
		ConnectStart:      func(_, _ string) { stamp(&c.connStart) },
		ConnectDone:       func(_, _ string, err error) { span(&c.connStart, &c.phases.Connect) },
		TLSHandshakeStart: func() { stamp(&c.tlsStart) },
		TLSHandshakeDone:  func(tls.ConnectionState, error) { span(&c.tlsStart, &c.phases.TLS) },
		GotConn: func(info httptrace.GotConnInfo) {
			c.mu.Lock()
			c.phases.ConnReused = info.Reused
			c.mu.Unlock()
		},
		GotFirstResponseByte: func() {
			first := c.start
			span(&first, &c.phases.FirstByte)
		},
	}
}

// reqBody counts (and in Bodies mode captures) the request body as the
// transport reads it, so nothing is read ahead of the transport.
type reqBody struct {
	rc      io.ReadCloser
	c       *call
	capture bool
}

func (b *reqBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.c.reqBytes.Add(int64(n))
		if b.capture {
			b.c.keep(&b.c.reqBuf, p[:n])
		}
	}
	return n, err
}

func (b *reqBody) Close() error { return b.rc.Close() }

// respBody counts (and in Bodies mode captures) the response body as the
// caller reads it, and finishes the exchange at EOF, a read error or
// Close, whichever comes first.
type respBody struct {
	rc      io.ReadCloser
	c       *call
	capture bool
}

func (b *respBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.c.respBytes.Add(int64(n))
		if b.capture {
			b.c.keep(&b.c.respBuf, p[:n])
		}
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			b.c.finish(nil)
		} else {
			b.c.finish(err)
		}
	}
	return n, err
}

func (b *respBody) Close() error {
	err := b.rc.Close()
	b.c.finish(nil)
	return err
}
