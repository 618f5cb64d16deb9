package kubepod

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/klog/v2"
	"k8s.io/streaming/pkg/httpstream"
)

// Dialer returns a dial function that opens one exec session running
// command in p per call and returns it as a net.Conn: what is written goes
// to the command's standard input, its standard output is what is read.
//
// Setup (the upgrade of the exec request to a stream) is bounded by ctx's
// deadline, or by setup when ctx has none (http.Transport dials with a
// context that has none). The session ends when the conn is closed, when
// ctx ends, or when the command exits; a read then returns the command's
// failure with what it wrote to standard error, or io.EOF.
func (c *Cluster) Dialer(p Pod, command []string, setup time.Duration) func(ctx context.Context) (net.Conn, error) {
	if setup <= 0 {
		setup = 10 * time.Second
	}
	return func(ctx context.Context) (net.Conn, error) {
		return c.dial(ctx, p, command, setup)
	}
}

func (c *Cluster) dial(ctx context.Context, p Pod, command []string, setup time.Duration) (net.Conn, error) {
	where := p.String()
	what := fmt.Sprintf("exec %q", strings.Join(command, " "))
	opErr := func(err error) error {
		// A "dial" OpError: the CLI counts it as "could not reach the
		// scheduler" (exit status 3). The client names the pod.
		return &net.OpError{Op: "dial", Net: "pods/exec", Err: err}
	}
	upgraded := make(chan struct{})
	var once sync.Once
	cfg := rest.CopyConfig(c.Config)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return upgradeNotifier{rt: rt, upgraded: func() { once.Do(func() { close(upgraded) }) }}
	})
	req := c.Clientset.CoreV1().RESTClient().Post().
		Resource("pods").Namespace(p.Namespace).Name(p.Name).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: p.Container,
			Command:   command,
			Stdin:     true,
			Stdout:    true,
			Stderr:    true,
		}, scheme.ParameterCodec)
	exec, err := newExecutor(cfg, req.URL())
	if err != nil {
		return nil, opErr(err)
	}

	// The session's context: ends with ctx or Close, never with setup.
	// client-go logs every stream copy that a Close cuts short; the
	// session's own error is what matters, so its logger discards.
	sctx, cancel := context.WithCancel(klog.NewContext(ctx, klog.Logger{}))
	local, remote := net.Pipe()
	conn := &conn{Conn: local, cancel: cancel, done: make(chan struct{}), addr: podAddr(where)}
	stderr := &tailBuffer{max: 4 << 10}
	stdout := &countingWriter{w: remote}
	go func() {
		err := exec.StreamWithContext(sctx, remotecommand.StreamOptions{Stdin: remote, Stdout: stdout, Stderr: stderr})
		switch {
		case conn.closed.Load():
			// Closed by its user: nobody reads any more.
		case ctx.Err() != nil:
			// Cut short by the dial's context: say so rather than
			// pass for a clean end of stream.
			conn.err = fmt.Errorf("%s: session ended: %w", what, ctx.Err())
		case err != nil:
			msg := strings.TrimSpace(stderr.String())
			if msg != "" {
				err = fmt.Errorf("%w; it said: %s", err, msg)
			}
			conn.err = fmt.Errorf("%s: %w", what, err)
			if stdout.n.Load() == 0 {
				// The bridge failed before it passed anything on: it
				// could not reach the scheduler in the pod.
				conn.err = opErr(conn.err)
			}
		}
		close(conn.done)
		remote.Close()
		cancel()
	}()

	timer := time.NewTimer(setup)
	defer timer.Stop()
	select {
	case <-upgraded:
		return conn, nil
	case <-conn.done:
		var op *net.OpError
		switch {
		case ctx.Err() != nil:
			conn.Close()
			return nil, opErr(fmt.Errorf("%s: %w: %w", what, errSetup, ctx.Err()))
		case conn.err == nil:
			return nil, opErr(fmt.Errorf("%s: %w: the command ended at once", what, errSetup))
		case errors.As(conn.err, &op):
			return nil, conn.err
		}
		return nil, opErr(conn.err)
	case <-ctx.Done():
		conn.Close()
		return nil, opErr(fmt.Errorf("%s: %w: %w", what, errSetup, ctx.Err()))
	case <-timer.C:
		conn.Close()
		return nil, opErr(fmt.Errorf("%s: %w within %s (are the API server and the node's kubelet reachable?)", what, errSetup, setup))
	}
}

// newExecutor is kubectl exec's: WebSocket first, SPDY when the server
// refuses the WebSocket upgrade.
func newExecutor(cfg *rest.Config, u *url.URL) (remotecommand.Executor, error) {
	ws, err := remotecommand.NewWebSocketExecutor(cfg, http.MethodGet, u.String())
	if err != nil {
		return nil, err
	}
	spdy, err := remotecommand.NewSPDYExecutor(cfg, http.MethodPost, u)
	if err != nil {
		return nil, err
	}
	return remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
}

// upgradeNotifier tells when the exec request has been upgraded to a
// stream (101 Switching Protocols): the session is set up.
type upgradeNotifier struct {
	rt       http.RoundTripper
	upgraded func()
}

func (u upgradeNotifier) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := u.rt.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusSwitchingProtocols {
		u.upgraded()
	}
	return resp, err
}

// conn is one exec session seen as a net.Conn: the local end of a
// net.Pipe (so deadlines work) whose other end is the session's standard
// input and output.
type conn struct {
	net.Conn
	cancel context.CancelFunc
	addr   net.Addr
	// err is the session's failure, set before done is closed.
	done   chan struct{}
	err    error
	closed atomic.Bool
}

// Read returns the session's failure in place of the end of the stream.
func (c *conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err == io.EOF {
		select {
		case <-c.done:
			if c.err != nil {
				return n, c.err
			}
		default:
		}
	}
	return n, err
}

// Close ends the session.
func (c *conn) Close() error {
	c.closed.Store(true)
	c.cancel()
	return c.Conn.Close()
}

func (c *conn) RemoteAddr() net.Addr { return c.addr }

type podAddr string

func (a podAddr) Network() string { return "pods/exec" }
func (a podAddr) String() string  { return string(a) }

// countingWriter counts what the session passed on to the conn.
type countingWriter struct {
	w io.Writer
	n atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.max; over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
