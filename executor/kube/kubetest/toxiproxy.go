package kubetest

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/vigilhq/vigil/internal/toxiproxy"
)

// Faults is one test's own toxiproxy proxy in front of the test apiserver.
// Each test gets a proxy of its own, so that a black hole one package's test
// opens never reaches a test of another package that `go test` runs beside
// it, and toxic names never clash.
type Faults struct {
	t     testing.TB
	proxy *toxiproxy.Proxy
	// Kubeconfig is a kubeconfig file, removed when the test ends, whose
	// clusters reach the apiserver through the proxy: hand it to a vigil
	// binary with --kubeconfig.
	Kubeconfig string
}

// NewFaults makes the proxy and its kubeconfig. It skips t without the
// test control plane ($KUBECONFIG) or toxiproxy ($TOXIPROXY_API).
func NewFaults(t testing.TB) *Faults {
	t.Helper()
	direct := Config(t, "KUBECONFIG")
	u, err := url.Parse(direct.Host)
	if err != nil || u.Host == "" {
		t.Fatalf("apiserver address %q in $KUBECONFIG: not a URL (%v)", direct.Host, err)
	}
	p := toxiproxy.New(t, u.Host)
	kc, err := clientcmd.LoadFromFile(os.Getenv("KUBECONFIG"))
	if err != nil {
		t.Fatalf("kubeconfig %s: %v", os.Getenv("KUBECONFIG"), err)
	}
	// The apiserver's serving certificate names 127.0.0.1, where the proxy
	// listens too, so only the port changes.
	for name, c := range kc.Clusters {
		c.Server = (&url.URL{Scheme: u.Scheme, Host: p.Listen}).String()
		kc.Clusters[name] = c
	}
	path := filepath.Join(t.TempDir(), "kubeconfig-toxic")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return &Faults{t: t, proxy: p, Kubeconfig: path}
}

// Config is a client config for Kubeconfig, with Config's request timeout
// and QPS.
func (f *Faults) Config() *rest.Config {
	f.t.Helper()
	return configFile(f.t, f.Kubeconfig)
}

// Toxic adds a toxic to the proxy and returns a function that removes it
// (also run at the end of the test). kind and attributes are toxiproxy's:
// "timeout" {"timeout": 0} is a black hole, "latency" {"latency": ms}
// delays every byte.
func (f *Faults) Toxic(name, kind, stream string, attributes map[string]int) (remove func()) {
	f.t.Helper()
	return f.proxy.Toxic(name, kind, stream, attributes)
}
