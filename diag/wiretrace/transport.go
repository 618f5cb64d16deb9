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

// transport is the RoundTripper Wrap returns.
type transport struct {
	t       *Tracer
	rt      http.RoundTripper
	name    string
	timeout time.Duration
	kube    bool
	// secretPath: the URL's path and query are a credential (see
	// WithSecretPath).
	secretPath bool
	// secretHeaders are more header names whose values are credentials
	// (canonical form; see WithSecretHeaders).
	secretHeaders []string
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
	c := w.begin(req)
	resp, err := w.rt.RoundTrip(c.outgoing(req))
	if err != nil {
		c.finish(err)
		return nil, err
	}
	c.response(req, resp)
	return resp, nil
}

// begin starts the exchange of req: its summary and its in-flight entry.
func (w *transport) begin(req *http.Request) *call {
	t := w.t
	start := t.now()
	c := &call{t: t, mode: t.Mode(), url: req.URL, start: start}
	if w.kube {
		c.k = parseKubePath(req.Method, req.URL.Path, req.URL.RawQuery)
	}
	host := req.URL.Host
	if host == "" {
		host = req.Host
	}
	k := c.k
	shownURL, path := t.red.url(req.URL), req.URL.Path
	c.secretHeaders = w.secretHeaders
	if w.secretPath {
		for _, sec := range []string{strings.TrimPrefix(req.URL.Path, "/"), req.URL.RawQuery} {
			if len(sec) >= 4 {
				c.secrets = append(c.secrets, sec)
			}
		}
		path = "/" + redacted
		shownURL = (&url.URL{Scheme: req.URL.Scheme, Host: req.URL.Host, Path: path}).String()
	}
	c.x = Exchange{
		Client: w.name, Start: start, Method: req.Method, URL: shownURL, Host: host,
		Verb: k.Verb, Group: k.Group, Version: k.Version, Resource: k.Resource,
		Subresource: k.Subresource, Namespace: k.Namespace, Name: k.Name,
	}
	c.withheld = withheldBody(k)
	c.capture = c.mode == Bodies && c.withheld == ""

	var deadline time.Time
	if w.timeout > 0 {
		deadline = start.Add(w.timeout)
	}
	detail := k.detail()
	if detail == "" {
		detail = w.name
	}
	c.end = t.reg.Begin(req.Context(), inflight.Call{
		Kind: "http", Target: host, Op: req.Method + " " + path, Detail: detail, Deadline: deadline,
	})
	return c
}

// outgoing returns the request to hand to the inner transport: req itself
// in Off mode when its body needs no wrapper, otherwise a shallow copy
// (the caller's request is never modified) carrying the httptrace hooks
// and a counting body.
func (c *call) outgoing(req *http.Request) *http.Request {
	out := req
	if c.mode != Off {
		c.trace()
		out = req.WithContext(httptrace.WithClientTrace(req.Context(), &c.ct))
	}
	if c.mode >= Headers {
		c.x.ReqHeaders = c.t.red.header(req.Header)
		for _, name := range c.secretHeaders {
			if _, ok := c.x.ReqHeaders[name]; ok {
				c.x.ReqHeaders[name] = []string{redacted}
			}
		}
		c.reqType = req.Header.Get("Content-Type")
	}
	if req.Body == nil || req.Body == http.NoBody {
		return out
	}
	if req.ContentLength > 0 && (!c.capture || req.GetBody != nil) {
		// A body of known length is left as it is: net/http sends an
		// in-memory body (client-go's always is) in the same packet as
		// the headers, and a wrapper would cost it a separate write
		// (golang/go#22088). Its size is declared; Bodies mode copies
		// its head from a fresh copy made by GetBody.
		c.reqBytes.Store(req.ContentLength)
		if c.capture {
			c.copyRequestBody(req)
		}
		return out
	}
	if out == req {
		out = req.WithContext(req.Context())
	}
	out.Body = &reqBody{rc: req.Body, c: c}
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
			return &reqBody{rc: rc, c: c}, nil
		}
	}
	return out
}

// copyRequestBody keeps the head of req's body, read from a copy that
// GetBody makes, so the body the transport sends is not touched.
func (c *call) copyRequestBody(req *http.Request) {
	rc, err := req.GetBody()
	if err != nil || rc == nil {
		return
	}
	defer rc.Close()
	buf := make([]byte, min(int64(c.t.bodyLimit), req.ContentLength))
	n, _ := io.ReadFull(rc, buf)
	c.mu.Lock()
	c.reqBuf = buf[:n]
	c.mu.Unlock()
}

// response notes resp's status and headers and either finishes the
// exchange now or wraps the body to finish it when the body ends.
func (c *call) response(req *http.Request, resp *http.Response) {
	c.x.Status = resp.StatusCode
	if c.mode >= Headers {
		c.x.RespHeaders = c.t.red.header(resp.Header)
		c.respType = resp.Header.Get("Content-Type")
	}
	switch {
	case resp.Body == nil || resp.Body == http.NoBody:
		c.finish(nil)
	case streaming(c.k, req, resp):
		// A watch open for ten minutes is not a hang: it leaves the
		// in-flight registry and is recorded as soon as it is
		// established, and its body is handed back untouched (an
		// upgraded connection's body is an io.ReadWriteCloser).
		c.x.Streaming = true
		c.finish(nil)
	default:
		resp.Body = &respBody{rc: resp.Body, c: c}
	}
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
	k        kubeCall
	withheld string // placeholder that replaces both bodies, when set
	// secrets are the URL's path and query of a WithSecretPath client,
	// redacted wherever they are echoed (an error page, an error).
	secrets []string
	// secretHeaders are the transport's WithSecretHeaders.
	secretHeaders []string
	capture       bool // Bodies mode and nothing withheld: copy the bodies
	reqType       string
	respType      string
	ct            httptrace.ClientTrace

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
	sealed    bool // finish took the buffers; a late write is not kept
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
		c.reqBuf, c.respBuf, c.sealed = nil, nil, true
		c.mu.Unlock()
		if c.mode == Bodies {
			x.ReqBody = c.body(reqBuf, x.ReqBytes, c.reqType)
			if !x.Streaming {
				x.RespBody = c.body(respBuf, x.RespBytes, c.respType)
			}
		}
	}
	for _, sec := range c.secrets {
		for _, f := range []*string{&x.Err, &x.ReqBody, &x.RespBody} {
			*f = strings.ReplaceAll(*f, sec, redacted)
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
	if room := c.t.bodyLimit - len(*buf); room > 0 && !c.sealed {
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
	rc io.ReadCloser
	c  *call
}

func (b *reqBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.c.reqBytes.Add(int64(n))
		if b.c.capture {
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
	rc io.ReadCloser
	c  *call
}

func (b *respBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.c.respBytes.Add(int64(n))
		if b.c.capture {
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
