// Package ssh is a stub of golang.org/x/crypto/ssh.
package ssh

import (
	"context"
	"net"
	"time"
)

type ClientConfig struct {
	User    string
	Timeout time.Duration
}

type Client struct{}

func Dial(network, addr string, config *ClientConfig) (*Client, error) { return &Client{}, nil }

func NewClientConn(c net.Conn, addr string, config *ClientConfig) (any, any, any, error) {
	return nil, nil, nil, nil
}

type ServerConfig struct{}

func NewServerConn(c net.Conn, config *ServerConfig) (any, any, any, error) {
	return nil, nil, nil, nil
}

func (c *Client) Dial(n, addr string) (net.Conn, error) { return nil, nil }

func (c *Client) DialContext(ctx context.Context, n, addr string) (net.Conn, error) {
	return nil, nil
}
