// Package proxy is a stub of golang.org/x/net/proxy.
package proxy

import (
	"context"
	"net"
)

type Dialer interface {
	Dial(network, addr string) (c net.Conn, err error)
}

type ContextDialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

type direct struct{}

func (direct) Dial(network, addr string) (net.Conn, error) { return nil, nil }

var Direct = direct{}

func FromEnvironment() Dialer { return Direct }
