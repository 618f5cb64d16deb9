// Package websocket is a stub of github.com/gorilla/websocket.
package websocket

import (
	"context"
	"net/http"
	"time"
)

type Dialer struct {
	HandshakeTimeout time.Duration
	ReadBufferSize   int
}

var DefaultDialer = &Dialer{HandshakeTimeout: 45 * time.Second}

type Conn struct{}

func (d *Dialer) Dial(url string, h http.Header) (*Conn, *http.Response, error) { return nil, nil, nil }

func (d *Dialer) DialContext(ctx context.Context, url string, h http.Header) (*Conn, *http.Response, error) {
	return nil, nil, nil
}
