// Package redis stands in for go-redis, whose commands have read and
// write timeouts by default.
package redis

import "context"

type Client struct{}

func (c *Client) Get(ctx context.Context, key string) error { return nil }
