package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/vigilhq/vigil/diag/debugapi"
)

// Info returns the process's build and process information.
func (c *Client) Info(ctx context.Context) (debugapi.Info, error) {
	var info debugapi.Info
	_, err := c.getJSON(ctx, "info", nil, &info)
	return info, err
}

// Heartbeats returns the watchdog's report. A stale heartbeat is not an
// error: the report says so (Status "stale").
func (c *Client) Heartbeats(ctx context.Context) (debugapi.HealthReport, error) {
	var rep debugapi.HealthReport
	_, err := c.getJSON(ctx, "heartbeats", nil, &rep, http.StatusServiceUnavailable)
	return rep, err
}

// InflightFilter narrows Inflight.
type InflightFilter struct {
	Older      time.Duration
	NoDeadline bool
}

// Inflight returns the outbound calls in flight, oldest first.
func (c *Client) Inflight(ctx context.Context, f InflightFilter) ([]debugapi.Call, error) {
	q := url.Values{}
	if f.Older > 0 {
		q.Set("older", f.Older.String())
	}
	if f.NoDeadline {
		q.Set("nodeadline", "1")
	}
	var calls []debugapi.Call
	_, err := c.getJSON(ctx, "inflight", q, &calls)
	return calls, err
}

// StacksFilter narrows Stacks; the server applies it.
type StacksFilter struct {
	MinWait time.Duration
	Match   string
}

func (f StacksFilter) query() url.Values {
	q := url.Values{}
	if f.MinWait > 0 {
		q.Set("min_wait", f.MinWait.String())
	}
	if f.Match != "" {
		q.Set("match", f.Match)
	}
	return q
}

// Stacks returns the goroutines grouped by identical stack.
func (c *Client) Stacks(ctx context.Context, f StacksFilter) (*debugapi.Snapshot, error) {
	var snap debugapi.Snapshot
	if _, err := c.getJSON(ctx, "stacks", f.query(), &snap); err != nil {
		return nil, err
	}
	return &snap, nil
}

// RawStacks streams the runtime's own text dump of every goroutine
// (goroutine?debug=2). It stops the world for the whole dump.
func (c *Client) RawStacks(ctx context.Context) (io.ReadCloser, error) {
	resp, err := c.Do(ctx, http.MethodGet, "pprof/goroutine", url.Values{"debug": {"2"}}, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Profile names the kinds `diag profile` fetches and the path of each.
var Profile = map[string]string{
	"cpu":            "pprof/profile",
	"wall":           "pprof/wall",
	"trace":          "pprof/trace",
	"heap":           "pprof/heap",
	"allocs":         "pprof/allocs",
	"mutex":          "pprof/mutex",
	"block":          "pprof/block",
	"goroutine":      "pprof/goroutine",
	"threadcreate":   "pprof/threadcreate",
	"flightrecorder": "flightrecorder",
}

// Timed reports whether a profile kind is collected over a duration.
func Timed(kind string) bool { return kind == "cpu" || kind == "wall" || kind == "trace" }

// FetchProfile streams a profile in the runtime's binary format (an
// execution trace for "trace" and "flightrecorder"). seconds applies to
// the timed kinds (Timed); for heap, allocs, mutex and block a positive
// seconds asks for a delta profile over that time.
func (c *Client) FetchProfile(ctx context.Context, kind string, seconds int) (io.ReadCloser, error) {
	path, ok := Profile[kind]
	if !ok {
		return nil, fmt.Errorf("unknown profile %q", kind)
	}
	q := url.Values{}
	if seconds > 0 && kind != "goroutine" && kind != "threadcreate" && kind != "flightrecorder" {
		q.Set("seconds", strconv.Itoa(seconds))
	}
	resp, err := c.Do(ctx, http.MethodGet, path, q, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// WireEntries returns the exchanges after seq (at most max; 0 for the
// server's default), waiting up to wait for one to arrive.
func (c *Client) WireEntries(ctx context.Context, after uint64, max int, wait time.Duration) (debugapi.WireEntries, error) {
	q := url.Values{}
	if after > 0 {
		q.Set("after", strconv.FormatUint(after, 10))
	}
	if max > 0 {
		q.Set("max", strconv.Itoa(max))
	}
	if wait > 0 {
		q.Set("wait", wait.String())
	}
	var resp debugapi.WireEntries
	_, err := c.getJSON(ctx, "wiretrace", q, &resp)
	return resp, err
}

// WireMode returns the wire tracer's mode.
func (c *Client) WireMode(ctx context.Context) (debugapi.WireModeResponse, error) {
	var resp debugapi.WireModeResponse
	_, err := c.getJSON(ctx, "wiretrace/mode", nil, &resp)
	return resp, err
}

// SetWireMode switches the wire tracer's mode and returns the old one.
func (c *Client) SetWireMode(ctx context.Context, mode string) (debugapi.WireModeResponse, error) {
	var resp debugapi.WireModeResponse
	err := c.sendJSON(ctx, http.MethodPut, "wiretrace/mode", debugapi.WireModeRequest{Mode: mode}, &resp)
	return resp, err
}

// LogLevel returns the process's log level.
func (c *Client) LogLevel(ctx context.Context) (string, error) {
	var resp debugapi.LogLevel
	_, err := c.getJSON(ctx, "loglevel", nil, &resp)
	return resp.Level, err
}

// SetLogLevel changes the process's log level and returns the new one.
func (c *Client) SetLogLevel(ctx context.Context, level string) (string, error) {
	var resp debugapi.LogLevel
	err := c.sendJSON(ctx, http.MethodPut, "loglevel", debugapi.LogLevel{Level: level}, &resp)
	return resp.Level, err
}

// Bundles lists the bundles in the process's bundle directory, newest
// first.
func (c *Client) Bundles(ctx context.Context) ([]debugapi.BundleInfo, error) {
	var list []debugapi.BundleInfo
	_, err := c.getJSON(ctx, "bundles", nil, &list)
	return list, err
}

// WriteBundle asks the process to write a bundle now. A name that is not
// a bundle's (debugapi.CheckBundleName) is an error: the caller may save the
// bundle under it.
func (c *Client) WriteBundle(ctx context.Context, reason string) (debugapi.BundleInfo, error) {
	q := url.Values{}
	if reason != "" {
		q.Set("reason", reason)
	}
	resp, err := c.Do(ctx, http.MethodPost, "bundles", q, nil)
	if err != nil {
		return debugapi.BundleInfo{}, err
	}
	defer resp.Body.Close()
	var info debugapi.BundleInfo
	if err := decode(resp.Body, &info); err != nil {
		return debugapi.BundleInfo{}, decodeError("bundles", err)
	}
	// The name becomes a local file's (diag bundle, diag restart --pod):
	// a server's say-so is not enough (issue 16).
	if err := debugapi.CheckBundleName(info.Name); err != nil {
		return debugapi.BundleInfo{}, fmt.Errorf("the scheduler at %s gave its bundle a bad name: %w; diag will not save it under that name (the scheduler reports it at %q)", c.where, err, info.Path)
	}
	return info, nil
}

// GetBundle streams one bundle (a tar.gz) by name.
func (c *Client) GetBundle(ctx context.Context, name string) (io.ReadCloser, error) {
	resp, err := c.Do(ctx, http.MethodGet, "bundles/"+url.PathEscape(name), nil, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
