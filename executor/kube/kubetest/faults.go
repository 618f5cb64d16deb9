package kubetest

import (
	"encoding/pem"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"k8s.io/client-go/rest"
)

// Fault is what a FaultProxy does to a request it picks.
type Fault string

const (
	// FaultNone forwards every request.
	FaultNone Fault = ""
	// Fault500 answers 500 Internal Server Error without forwarding.
	Fault500 Fault = "500"
	// Fault429 answers 429 Too Many Requests with Retry-After: 1.
	Fault429 Fault = "429"
	// FaultLostReply forwards the request, so the apiserver carries it
	// out, then answers 504 Gateway Timeout: the caller sees a failure
	// for a create that happened (the "executed but the caller saw a
	// timeout" case). Watches are forwarded untouched.
	FaultLostReply Fault = "504-after"
)

// FaultProxy is an HTTP proxy of the test's own in front of the
// apiserver, for faults toxiproxy cannot make because they need HTTP:
// status codes. It terminates TLS with a throwaway certificate on
// 127.0.0.1, forwards as the admin of $KUBECONFIG, and answers a share
// (Rate) of requests with the current Fault.
type FaultProxy struct {
	// Kubeconfig is a kubeconfig file whose server is the proxy.
	Kubeconfig string
	fault      atomic.Value // Fault
	rate       atomic.Uint64
	mu         sync.Mutex
	injected   map[Fault]int
}

// NewFaultProxy starts a FaultProxy, closed when the test ends.
func NewFaultProxy(t testing.TB) *FaultProxy {
	t.Helper()
	cfg := Config(t, "KUBECONFIG")
	transport, err := rest.TransportFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	target, err := url.Parse(cfg.Host)
	if err != nil {
		t.Fatal(err)
	}
	upstream := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host, pr.Out.Host = "https", target.Host, target.Host
		},
		Transport:     transport,
		FlushInterval: -1, // watches stream
	}
	p := &FaultProxy{injected: map[Fault]int{}}
	p.fault.Store(FaultNone)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := p.pick(r)
		switch f {
		case Fault500:
			http.Error(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"injected by the test's fault proxy","reason":"InternalError","code":500}`, http.StatusInternalServerError)
		case Fault429:
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"injected by the test's fault proxy","reason":"TooManyRequests","code":429}`, http.StatusTooManyRequests)
		case FaultLostReply:
			rec := &discard{header: http.Header{}}
			upstream.ServeHTTP(rec, r)
			http.Error(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"reply lost by the test's fault proxy","reason":"Timeout","code":504}`, http.StatusGatewayTimeout)
		default:
			upstream.ServeHTTP(w, r)
		}
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	p.Kubeconfig = filepath.Join(t.TempDir(), "kubeconfig-faults")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: faults
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: anyone
  user: {}
contexts:
- name: faults
  context: {cluster: faults, user: anyone}
current-context: faults
`, srv.URL, filepath.Join(filepath.Dir(p.Kubeconfig), "ca.crt"))
	if err := os.WriteFile(filepath.Join(filepath.Dir(p.Kubeconfig), "ca.crt"), ca, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.Kubeconfig, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Set makes the proxy answer share (0 to 1) of requests with f.
func (p *FaultProxy) Set(f Fault, share float64) {
	p.fault.Store(f)
	p.rate.Store(uint64(share * 1e6))
}

// Injected counts the requests each fault was applied to.
func (p *FaultProxy) Injected() map[Fault]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[Fault]int, len(p.injected))
	for f, n := range p.injected {
		out[f] = n
	}
	return out
}

func (p *FaultProxy) pick(r *http.Request) Fault {
	f := p.fault.Load().(Fault)
	if f == FaultNone || rand.Uint64N(1e6) >= p.rate.Load() {
		return FaultNone
	}
	if f == FaultLostReply && r.URL.Query().Get("watch") != "" {
		return FaultNone
	}
	p.mu.Lock()
	p.injected[f]++
	p.mu.Unlock()
	return f
}

// discard is a ResponseWriter that drops the reply.
type discard struct{ header http.Header }

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(b []byte) (int, error) { return io.Discard.Write(b) }
func (d *discard) WriteHeader(int)             {}
