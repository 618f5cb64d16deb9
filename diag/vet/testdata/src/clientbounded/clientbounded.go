// Package clientbounded: clients that bound their own calls, called on
// a background context, directly or through the package's own interface
// over one.
package clientbounded

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// Client is the package's session store, over go-redis.
type Client interface {
	Get(ctx context.Context, key string) error
}

type client struct{ r *redis.Client }

func (c *client) Get(ctx context.Context, key string) error { return c.r.Get(ctx, key) }

func check(c Client, r *redis.Client) {
	ctx := context.Background()
	c.Get(ctx, "healthcheck")
	r.Get(ctx, "healthcheck")
}
