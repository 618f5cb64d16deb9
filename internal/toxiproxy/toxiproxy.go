// Package toxiproxy drives the toxiproxy server `make test` starts
// (testenv/kube/cluster-up.sh) from tests: proxies of their own in front of
// a real server, cut or slowed on demand.
package toxiproxy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// APIEnv names the toxiproxy API address (127.0.0.1:8474).
const APIEnv = "TOXIPROXY_API"

// client reaches the toxiproxy API; every call is also bounded by its
// request's context.
var client = &http.Client{Timeout: 10 * time.Second}

// Proxy is one toxiproxy proxy, removed when the test ends.
type Proxy struct {
	t    testing.TB
	api  string
	Name string
	// Listen is the address to connect to instead of the upstream.
	Listen string
}

// New creates a proxy on a free loopback port in front of upstream
// (host:port). It skips t if APIEnv is unset.
func New(t testing.TB, upstream string) *Proxy {
	t.Helper()
	api := os.Getenv(APIEnv)
	if api == "" {
		t.Skipf("%s is not set: this test needs toxiproxy; run it through `make test`", APIEnv)
	}
	p := &Proxy{t: t, api: api, Name: "t-" + strings.ToLower(rand.Text()[:10])}
	var created struct {
		Listen string `json:"listen"`
	}
	p.call(http.MethodPost, "/proxies", map[string]any{"name": p.Name, "listen": "127.0.0.1:0", "upstream": upstream, "enabled": true}, &created)
	p.Listen = created.Listen
	t.Cleanup(func() { p.call(http.MethodDelete, "/proxies/"+p.Name, nil, nil) })
	return p
}

// SetEnabled opens or closes the proxy. Closed, it drops every connection
// and refuses new ones, as a server that went away.
func (p *Proxy) SetEnabled(on bool) {
	p.t.Helper()
	p.call(http.MethodPost, "/proxies/"+p.Name, map[string]any{"enabled": on}, nil)
}

// Toxic adds a toxic (kind and attributes are toxiproxy's: "timeout"
// {"timeout": 0} is a black hole, "latency" {"latency": ms}) and returns
// a function that removes it; it is also removed when the test ends.
func (p *Proxy) Toxic(name, kind, stream string, attributes map[string]int) (remove func()) {
	p.t.Helper()
	p.call(http.MethodPost, "/proxies/"+p.Name+"/toxics", map[string]any{
		"name": name, "type": kind, "stream": stream, "toxicity": 1.0, "attributes": attributes}, nil)
	removed := false
	remove = func() {
		if !removed {
			removed = true
			p.call(http.MethodDelete, "/proxies/"+p.Name+"/toxics/"+name, nil, nil)
		}
	}
	p.t.Cleanup(remove)
	return remove
}

func (p *Proxy) call(method, path string, body, out any) {
	p.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			p.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	// Cleanups run after the test's context has ended.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+p.api+path, r)
	if err != nil {
		p.t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		p.t.Fatalf("toxiproxy %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		p.t.Fatalf("toxiproxy %s %s: %s: %s", method, path, resp.Status, msg)
	}
	if out != nil {
		if err := json.Unmarshal(msg, out); err != nil {
			p.t.Fatalf("toxiproxy %s %s: %v", method, path, fmt.Errorf("decode %q: %w", msg, err))
		}
	}
}
