// Package websocket stands in for nhooyr's.
package websocket

import "context"

type Conn struct{}
type DialOptions struct{}

func Dial(ctx context.Context, u string, opts *DialOptions) (*Conn, any, error) { return nil, nil, nil }
