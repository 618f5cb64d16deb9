package dialtimeout

import (
	"context"
	"net"
	"time"
)

// A pinger resolves the name it was given with nothing to cancel the
// lookup.
func resolve(name string) ([]string, error) {
	return net.LookupHost(name) // want `net.LookupHost has no context: nothing can cancel the lookup.*use net.DefaultResolver.LookupHost with a context that has a deadline`
}

func probeTarget(target string) (*net.IPAddr, error) {
	return net.ResolveIPAddr("ip4", target) // want `net.ResolveIPAddr has no context.*net.DefaultResolver.LookupIPAddr`
}

// Constants that need no DNS are left alone.
func loopback() {
	_, _ = net.LookupHost("localhost")
	_, _ = net.ResolveIPAddr("ip", "127.0.0.1")
	_, _ = net.LookupPort("tcp", "https")
}

// A host provider keeps the lookup as a function value.
type hostProvider struct {
	lookupHost func(string) ([]string, error)
}

func (hp *hostProvider) init() {
	if hp.lookupHost == nil {
		hp.lookupHost = net.LookupHost // want `net.LookupHost taken as a function value: whoever calls it waits on DNS with no context`
	}
}

func bounded(name string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return net.DefaultResolver.LookupHost(ctx, name)
}

func unbounded(name string) ([]net.IPAddr, error) {
	return net.DefaultResolver.LookupIPAddr(context.Background(), name) // want `DNS lookup LookupIPAddr`
}

// A dialer's resolver, an interface net.Resolver implements.
type resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

func resolveWith(r resolver, host string) ([]net.IPAddr, error) {
	if r == nil {
		r = net.DefaultResolver
	}
	return r.LookupIPAddr(context.Background(), host) // want `DNS lookup LookupIPAddr`
}
