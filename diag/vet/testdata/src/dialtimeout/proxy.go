package dialtimeout

import (
	"context"
	"net"

	"golang.org/x/net/proxy"
)

// A connection manager honouring all_proxy dials through the proxy
// package, whose Dial takes no context.
func viaProxy(ctx context.Context, address string) (net.Conn, error) {
	d := proxy.FromEnvironment()
	if cd, ok := d.(proxy.ContextDialer); ok {
		return cd.DialContext(ctx, "tcp", address)
	}
	return d.Dial("tcp", address) // want `proxy.Dialer.Dial has no context: golang.org/x/net/proxy's dialers`
}
