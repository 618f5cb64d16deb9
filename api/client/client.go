// Package client is the Go client of Vigil's operations API (package api):
// the admin commands, the browser tests and scripts use it. It imports only
// package api and the standard library.
//
// Every method takes a context, and the caller's deadline bounds it; the
// client adds none of its own (a command sets one per request).
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/vigilhq/vigil/api"
)

// Config says which server to talk to and as whom.
type Config struct {
	// Server is the API's base URL: http://127.0.0.1:8975 or https://...
	Server string
	// Token is sent as a bearer token.
	Token string
	// CAFile verifies an https server with this PEM bundle instead of the
	// system's; Insecure skips verification (tests only).
	CAFile   string
	Insecure bool
	// HTTP, if set, is used as is (its transport, not its timeout: the
	// context bounds each call).
	HTTP *http.Client
}

// Client talks to one server.
type Client struct {
	http  *http.Client
	base  string
	token string
}

// New returns a client for c.
func New(c Config) (*Client, error) {
	u, err := url.Parse(c.Server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server %q: want http://HOST:PORT or https://HOST:PORT", c.Server)
	}
	hc := c.HTTP
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if c.CAFile != "" || c.Insecure {
			cfg := &tls.Config{InsecureSkipVerify: c.Insecure} //nolint:gosec // asked for
			if c.CAFile != "" {
				pem, err := os.ReadFile(c.CAFile)
				if err != nil {
					return nil, fmt.Errorf("certificate authority: %w", err)
				}
				pool := x509.NewCertPool()
				if !pool.AppendCertsFromPEM(pem) {
					return nil, fmt.Errorf("certificate authority %s: no PEM certificate in it", c.CAFile)
				}
				cfg.RootCAs = pool
			}
			tr.TLSClientConfig = cfg
		}
		hc = &http.Client{Transport: tr}
	}
	return &Client{http: hc, base: strings.TrimRight(c.Server, "/") + api.Prefix, token: c.Token}, nil
}

// Server is the base URL the client talks to.
func (c *Client) Server() string { return strings.TrimSuffix(c.base, api.Prefix) }

// APIError is a non-2xx answer.
type APIError struct {
	Status int
	// Code and Message are the server's api.Error.
	Code    string
	Message string
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("server answered %d %s", e.Status, http.StatusText(e.Status))
	}
	return e.Message
}

// IsNotFound reports whether err is the server's 404.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// do sends a request and decodes a JSON answer into out (if not nil).
func (c *Client) do(ctx context.Context, method, path string, q url.Values, in, out any) error {
	resp, err := c.send(ctx, method, path, q, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

// send sends a request and returns a 2xx response, or the server's error.
func (c *Client) send(ctx context.Context, method, path string, q url.Values, in any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	ae := &APIError{Status: resp.StatusCode}
	var eb api.ErrorBody
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if json.Unmarshal(b, &eb) == nil && eb.Error.Message != "" {
		ae.Code, ae.Message = eb.Error.Code, eb.Error.Message
	} else {
		ae.Message = strings.TrimSpace(string(b))
	}
	return nil, ae
}

func esc(s string) string { return url.PathEscape(s) }

// ListOptions are a list's paging.
type ListOptions struct {
	// Limit is the page size: 0 asks for the server's default (100), a
	// negative one for all.
	Limit  int
	Cursor string
}

func (o ListOptions) query(q url.Values) url.Values {
	if q == nil {
		q = url.Values{}
	}
	switch {
	case o.Limit < 0:
		q.Set("limit", "0")
	case o.Limit > 0:
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Cursor != "" {
		q.Set("cursor", o.Cursor)
	}
	return q
}

func set(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

// DAGs lists every DAG and the files that fail to load.
func (c *Client) DAGs(ctx context.Context) (api.DAGList, error) {
	var out api.DAGList
	return out, c.do(ctx, "GET", "/dags", nil, nil, &out)
}

// DAG returns one DAG with its tasks.
func (c *Client) DAG(ctx context.Context, dagID string) (api.DAGDetail, error) {
	var out api.DAGDetail
	return out, c.do(ctx, "GET", "/dags/"+esc(dagID), nil, nil, &out)
}

// SetPaused pauses or unpauses a DAG.
func (c *Client) SetPaused(ctx context.Context, dagID string, paused bool, reason string) (api.DAG, error) {
	verb := "/unpause"
	if paused {
		verb = "/pause"
	}
	var out api.DAG
	return out, c.do(ctx, "POST", "/dags/"+esc(dagID)+verb, nil, api.PauseRequest{Reason: reason}, &out)
}

// Trigger creates a run of a DAG.
func (c *Client) Trigger(ctx context.Context, dagID string, req api.TriggerRequest) (api.TriggerResponse, error) {
	var out api.TriggerResponse
	return out, c.do(ctx, "POST", "/dags/"+esc(dagID)+"/runs", nil, req, &out)
}

// RunFilter selects runs.
type RunFilter struct {
	DAGID string
	State string
	ListOptions
}

// Runs lists runs, newest first.
func (c *Client) Runs(ctx context.Context, f RunFilter) (api.Page[api.Run], error) {
	q := url.Values{}
	set(q, "dag", f.DAGID)
	set(q, "state", f.State)
	var out api.Page[api.Run]
	return out, c.do(ctx, "GET", "/runs", f.query(q), nil, &out)
}

// Run returns one run; runID may be "latest".
func (c *Client) Run(ctx context.Context, dagID, runID string) (api.Run, error) {
	var out api.Run
	return out, c.do(ctx, "GET", "/dags/"+esc(dagID)+"/runs/"+esc(runID), nil, nil, &out)
}

// TaskFilter selects task instances.
type TaskFilter struct {
	DAGID string
	// RunID may be "latest" (with DAGID).
	RunID string
	State string
	ListOptions
}

// Tasks lists task instances.
func (c *Client) Tasks(ctx context.Context, f TaskFilter) (api.Page[api.TaskInstance], error) {
	q := url.Values{}
	set(q, "dag", f.DAGID)
	set(q, "run", f.RunID)
	set(q, "state", f.State)
	var out api.Page[api.TaskInstance]
	return out, c.do(ctx, "GET", "/tasks", f.query(q), nil, &out)
}

func taskPath(dagID, runID, taskID string) string {
	return "/dags/" + esc(dagID) + "/runs/" + esc(runID) + "/tasks/" + esc(taskID)
}

// Task returns one task instance.
func (c *Client) Task(ctx context.Context, dagID, runID, taskID string) (api.TaskInstance, error) {
	var out api.TaskInstance
	return out, c.do(ctx, "GET", taskPath(dagID, runID, taskID), nil, nil, &out)
}

// History returns a task instance and a page of its transitions.
func (c *Client) History(ctx context.Context, dagID, runID, taskID string, o ListOptions) (api.TaskHistory, error) {
	var out api.TaskHistory
	return out, c.do(ctx, "GET", taskPath(dagID, runID, taskID)+"/history", o.query(nil), nil, &out)
}

// Logs streams a try's output (try 0: the latest). The caller closes it.
func (c *Client) Logs(ctx context.Context, dagID, runID, taskID string, try int) (io.ReadCloser, error) {
	q := url.Values{}
	if try > 0 {
		q.Set("try", strconv.Itoa(try))
	}
	resp, err := c.send(ctx, "GET", taskPath(dagID, runID, taskID)+"/logs", q, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// SubmitOp asks for a clear, mark or cancel (or, with DryRun, its plan).
func (c *Client) SubmitOp(ctx context.Context, req api.OpRequest) (api.OpResponse, error) {
	var out api.OpResponse
	return out, c.do(ctx, "POST", "/ops", nil, req, &out)
}

// Op returns one operation.
func (c *Client) Op(ctx context.Context, id int64) (api.Op, error) {
	var out api.Op
	return out, c.do(ctx, "GET", "/ops/"+strconv.FormatInt(id, 10), nil, nil, &out)
}

// OpFilter selects operations.
type OpFilter struct {
	DAGID string
	RunID string
	State string
	ListOptions
}

// Ops lists operations, newest first.
func (c *Client) Ops(ctx context.Context, f OpFilter) (api.Page[api.Op], error) {
	q := url.Values{}
	set(q, "dag", f.DAGID)
	set(q, "run", f.RunID)
	set(q, "state", f.State)
	var out api.Page[api.Op]
	return out, c.do(ctx, "GET", "/ops", f.query(q), nil, &out)
}

// Pools lists pools with their occupancy.
func (c *Client) Pools(ctx context.Context, o ListOptions) (api.Page[api.Pool], error) {
	var out api.Page[api.Pool]
	return out, c.do(ctx, "GET", "/pools", o.query(nil), nil, &out)
}

// SetPool creates a pool or changes it.
func (c *Client) SetPool(ctx context.Context, name string, req api.PoolSet) (api.Pool, error) {
	var out api.Pool
	return out, c.do(ctx, "PUT", "/pools/"+esc(name), nil, req, &out)
}

// DeletePool deletes a pool no live task holds slots of.
func (c *Client) DeletePool(ctx context.Context, name, reason string) error {
	q := url.Values{}
	set(q, "reason", reason)
	return c.do(ctx, "DELETE", "/pools/"+esc(name), q, nil, nil)
}

// PoolHistory lists who set or deleted pools (pool "" for all).
func (c *Client) PoolHistory(ctx context.Context, pool string, o ListOptions) (api.Page[api.PoolChange], error) {
	q := url.Values{}
	set(q, "pool", pool)
	var out api.Page[api.PoolChange]
	return out, c.do(ctx, "GET", "/pools/history", o.query(q), nil, &out)
}

// Status returns every scheduler's heartbeat and the live task counts.
func (c *Client) Status(ctx context.Context) (api.Status, error) {
	var out api.Status
	return out, c.do(ctx, "GET", "/status", nil, nil, &out)
}

// Health returns the serving process's own health: its loops and the
// calls a stale one waits on.
func (c *Client) Health(ctx context.Context) (api.Health, error) {
	var out api.Health
	return out, c.do(ctx, "GET", "/health", nil, nil, &out)
}

// PlanBackfill returns what a backfill of the range would do.
func (c *Client) PlanBackfill(ctx context.Context, dagID string, req api.BackfillPlanRequest) (api.BackfillPlan, error) {
	var out api.BackfillPlan
	return out, c.do(ctx, "POST", "/dags/"+esc(dagID)+"/backfill/plan", nil, req, &out)
}

// WhoAmI returns the token's name and role.
func (c *Client) WhoAmI(ctx context.Context) (api.WhoAmI, error) {
	var out api.WhoAmI
	return out, c.do(ctx, "GET", "/whoami", nil, nil, &out)
}

// DAGHistory lists a DAG's pauses and unpauses.
func (c *Client) DAGHistory(ctx context.Context, dagID string, o ListOptions) (api.Page[api.DAGChange], error) {
	var out api.Page[api.DAGChange]
	return out, c.do(ctx, "GET", "/dags/"+esc(dagID)+"/history", o.query(nil), nil, &out)
}
