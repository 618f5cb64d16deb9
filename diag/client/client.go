// Package client is the Go client of a Vigil process's debug API (see
// package debugserver for the API itself). The diag CLI is built on it.
// It imports only the API's wire contract, package debugapi, and the
// standard library: nothing of the server, the scheduler or the packages
// that produce what the API serves (a test holds it to that, issue 19).
// So one diag binary can inspect a scheduler of another version: it
// decodes only the fields it knows, and an endpoint the server lacks comes
// back as an *APIError with status 404 and the server's explanation.
//
// A Client reaches the API in one of three ways:
//
//	client.New(client.Target{})                      // the only live socket in the default runtime dir
//	client.New(client.Target{Socket: path})          // a given socket
//	client.New(client.Target{Addr: "127.0.0.1:7070", Token: tok}) // loopback TCP with a bearer token
//
// or through any stream at all (Target.Dial): `diag --pod` dials by
// running `diag bridge` in the pod through the Kubernetes exec API.
//
// Every method takes a context and the caller's deadline bounds it; the
// client adds none of its own, because a 30-second CPU profile is as
// legitimate as a 50-millisecond heartbeat read.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/vigilhq/vigil/diag/debugapi"
)

// Target says where the debug API is. At most one of Socket, Addr and
// Dial is set; none means "the live socket in the default runtime dir".
type Target struct {
	// Socket is the path of a unix socket.
	Socket string
	// Dir is the runtime directory to look in when no target is given;
	// debugapi.DefaultDir() if empty.
	Dir string
	// Addr is a loopback TCP address; Token is sent as a bearer token.
	// TokenFile, if Token is empty, holds it; a file others may read is
	// refused (debugapi.ReadToken).
	Addr      string
	Token     string
	TokenFile string
	// Dial opens a stream to the API by other means (a pod exec). Name
	// describes it in messages ("pod vigil/vigil-scheduler-7c5d").
	Dial func(ctx context.Context) (net.Conn, error)
	Name string
}

// Client talks to one process's debug API.
type Client struct {
	http  *http.Client
	base  string
	token string
	where string
	// socket is the unix socket's path, when the API is reached by one.
	socket string
}

// ErrNoScheduler is returned by New when no target is given and the
// runtime directory holds no live socket.
var ErrNoScheduler = errors.New("no running scheduler found")

// New returns a client for t. With no target it looks in the runtime
// directory and fails if there is no live socket, or more than one.
func New(t Target) (*Client, error) {
	var dial func(ctx context.Context) (net.Conn, error)
	c := &Client{base: "http://vigil" + debugapi.Prefix, token: t.Token}
	if c.token == "" && t.TokenFile != "" {
		tok, err := debugapi.ReadToken(t.TokenFile)
		if err != nil {
			return nil, err
		}
		c.token = tok
	}
	switch {
	case t.Dial != nil:
		dial, c.where = t.Dial, t.Name
	case t.Addr != "":
		host, _, err := net.SplitHostPort(t.Addr)
		if err != nil {
			return nil, fmt.Errorf("--addr %q: %w (want HOST:PORT)", t.Addr, err)
		}
		c.base = "http://" + t.Addr + debugapi.Prefix
		c.where = "http://" + t.Addr
		var d net.Dialer
		dial = func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, "tcp", t.Addr) }
		if ip := net.ParseIP(host); (ip == nil || !ip.IsLoopback()) && host != "localhost" {
			// The server never listens elsewhere; a token sent to another
			// host could be read on the way.
			return nil, fmt.Errorf("--addr %s: the debug API listens on loopback only; use --pod to reach a scheduler on another machine", t.Addr)
		}
	default:
		path := t.Socket
		if path == "" {
			found, err := FindSocket(t.Dir)
			if err != nil {
				return nil, err
			}
			path = found
		}
		if err := debugapi.CheckSocket(path); err != nil {
			return nil, err
		}
		c.where, c.socket = path, path
		dial = func(ctx context.Context) (net.Conn, error) { return DialSocket(ctx, path) }
	}
	c.http = &http.Client{Transport: &http.Transport{
		DialContext:         func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) },
		MaxIdleConns:        2,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true, // profiles and bundles are already compressed
		TLSHandshakeTimeout: 10 * time.Second,
	}}
	return c, nil
}

// FindSocket returns the one live socket in dir (the default runtime
// directory if empty), or an error that says what to do.
func FindSocket(dir string) (string, error) {
	if dir == "" {
		dir = debugapi.DefaultDir()
	}
	eps, err := debugapi.Discover(dir)
	if err != nil {
		return "", err
	}
	var live []string
	for _, e := range eps {
		if e.Alive {
			live = append(live, e.Path)
		}
	}
	switch len(live) {
	case 0:
		return "", fmt.Errorf("%w: no live debug socket in %s (is `vigil run` running as this user? set --socket, $%s, or --pod)", ErrNoScheduler, dir, debugapi.EnvDir)
	case 1:
		return live[0], nil
	default:
		return "", fmt.Errorf("%d schedulers are running (%s); choose one with --socket", len(live), strings.Join(live, ", "))
	}
}

// Peer is a process at the other end of a unix socket, as the kernel
// reports it (SO_PEERCRED).
type Peer struct {
	// PID is 0 when the process is not visible from this PID namespace.
	PID, UID, GID int
}

// ErrNoPeer is returned by Client.Peer when the transport cannot say who
// serves it: loopback TCP, a pod's exec stream, or a system other than
// Linux.
var ErrNoPeer = errors.New("the connection cannot tell which process serves it")

// DialSocket connects to the debug socket at path, refusing a socket
// that another user owns or serves: its answers (pids to signal, file
// names to write) would come from that user's process (issue 16).
func DialSocket(ctx context.Context, path string) (net.Conn, error) {
	if err := debugapi.CheckSocket(path); err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	p, err := peerOf(conn)
	if errors.Is(err, ErrNoPeer) {
		return conn, nil
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("debug socket %s: %w", path, err)
	}
	if me := os.Geteuid(); p.UID != me {
		conn.Close()
		return nil, fmt.Errorf("debug socket %s is served by pid %d of uid %d, not by this user (uid %d): diag talks only to a scheduler of its own user; run diag as uid %d",
			path, p.PID, p.UID, me, p.UID)
	}
	return conn, nil
}

// Peer returns the process serving the client's unix socket, as the
// kernel tells it on a fresh connection: the one that listens, whatever
// its answers claim. It is ErrNoPeer for other transports.
func (c *Client) Peer(ctx context.Context) (Peer, error) {
	if c.socket == "" {
		return Peer{}, ErrNoPeer
	}
	conn, err := DialSocket(ctx, c.socket)
	if err != nil {
		return Peer{}, err
	}
	defer conn.Close()
	return peerOf(conn)
}

// Where describes the target: a socket path, an address or a pod.
func (c *Client) Where() string { return c.where }

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// APIError is a response other than 2xx.
type APIError struct {
	Status  int
	Message string
	Path    string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s: %d %s: %s", e.Path, e.Status, http.StatusText(e.Status), e.Message)
}

// IsNotFound reports whether err is the API saying an endpoint or item
// does not exist (or its source is not configured in that process).
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// Do sends a request to path (relative to /debug/v1/) and returns the
// response if its status is 2xx or one of okStatus. The caller closes
// the body. Reading the body past its cap (MaxJSON, or MaxStream for
// profiles, traces and bundles) fails with a *TooLargeError.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body io.Reader, okStatus ...int) (*http.Response, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, c.where, unwrapURL(err))
	}
	if resp.StatusCode/100 == 2 || contains(okStatus, resp.StatusCode) {
		limit := limitFor(path)
		what := method + " " + debugapi.Prefix + path
		if resp.ContentLength > limit {
			resp.Body.Close()
			return nil, &TooLargeError{What: what, Limit: limit}
		}
		resp.Body = newCappedBody(resp.Body, what, limit)
		return resp, nil
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e debugapi.Error
	text := strings.TrimSpace(string(msg))
	if json.Unmarshal(msg, &e) == nil && e.Error != "" {
		text = e.Error
	}
	return nil, &APIError{Status: resp.StatusCode, Message: text, Path: debugapi.Prefix + path}
}

// getJSON decodes a JSON answer into v; a status in okStatus is decoded
// too (the heartbeats endpoint answers 503 with its report when stale).
func (c *Client) getJSON(ctx context.Context, path string, query url.Values, v any, okStatus ...int) (int, error) {
	resp, err := c.Do(ctx, http.MethodGet, path, query, nil, okStatus...)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return resp.StatusCode, decodeError(path, err)
	}
	return resp.StatusCode, nil
}

func (c *Client) sendJSON(ctx context.Context, method, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	resp, err := c.Do(ctx, method, path, nil, strings.NewReader(string(b)))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return decodeError(path, err)
	}
	return nil
}

// unwrapURL drops *url.Error's repetition of the method and URL.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func decode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// decodeError says why the answer at path could not be decoded; an
// answer past its cap says so alone.
func decodeError(path string, err error) error {
	if IsTooLarge(err) {
		return err
	}
	return fmt.Errorf("%s%s: decode: %w", debugapi.Prefix, path, err)
}
