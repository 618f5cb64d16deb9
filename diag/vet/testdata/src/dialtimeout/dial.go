package dialtimeout

import (
	"context"
	"crypto/tls"
	"net"
	"time"
)

func dials(addr string) {
	net.Dial("tcp", addr) // want `net.Dial has no timeout: connecting to a host that drops packets waits for the kernel's SYN retries \(~2 minutes on Linux\); use net.DialTimeout or a net.Dialer with Timeout`
	net.Dial("unix", "/run/x.sock")
	net.Dial("udp", addr) // connecting a UDP socket sends nothing
	net.DialTimeout("tcp", addr, time.Second)
	tls.Dial("tcp", addr, nil)                          // want `tls.Dial has no timeout: a server that accepts the connection and never answers the TLS handshake blocks it forever`
	tls.DialWithDialer(&net.Dialer{}, "tcp", addr, nil) // want `tls.DialWithDialer with a net.Dialer without Timeout`
	tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, nil)
}

func dialers(ctx context.Context, addr string) {
	var d net.Dialer
	d.Dial("tcp", addr)                              // want `Dial on a net.Dialer without Timeout \(dial.go:\d+\)`
	d.DialContext(context.Background(), "tcp", addr) // want `DialContext on a net.Dialer without Timeout \(dial.go:\d+\) with context.Background\(\)`
	d.DialContext(ctx, "tcp", addr)                  // the caller's job
	d.DialContext(context.Background(), "unix", "/run/x.sock")
	t := &net.Dialer{Timeout: 5 * time.Second}
	t.Dial("tcp", addr)
	t.DialContext(context.Background(), "tcp", addr)
	dl := &net.Dialer{Deadline: time.Now().Add(time.Second)}
	dl.Dial("tcp", addr)
	tctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	d.DialContext(tctx, "tcp", addr)
	td := &tls.Dialer{}
	td.DialContext(context.Background(), "tcp", addr) // want `DialContext on a tls.Dialer without a NetDialer Timeout`
	td.Dial("tcp", addr)                              // want `Dial on a tls.Dialer without a NetDialer Timeout`
	ok := &tls.Dialer{NetDialer: &net.Dialer{Timeout: time.Second}}
	ok.Dial("tcp", addr)
}

func connect(ctx context.Context, addr string) (net.Conn, error) {
	return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
}

func caller() {
	connect(context.Background(), "a:1") // want `context.Background\(\) passed to connect reaches DialContext on a net.Dialer without Timeout`
}

// Dialers from helpers and fields.

func newDialer() *net.Dialer { return &net.Dialer{Timeout: 3 * time.Second} }

func newBareDialer() *net.Dialer {
	return &net.Dialer{KeepAlive: time.Minute}
}

type pool struct {
	addr string
	d    *net.Dialer
}

func helperDialers(addr string) {
	newDialer().Dial("tcp", addr)
	p := &pool{addr, newDialer()}
	p.d.Dial("tcp", p.addr)
	newBareDialer().Dial("tcp", addr) // want `Dial on a net.Dialer without Timeout \(dial.go:\d+\)`
}

type conns struct{ d net.Dialer }

func (c *conns) open(addr string) {
	c.d.Dial("tcp", addr) // want `Dial on a net.Dialer without Timeout \(the zero net.Dialer in field conns.d \(dial.go:\d+\), never given Timeout\)`
}
