// Package clientcall: another library's client called on a background
// context, directly or through the package's own functions.
package clientcall

import (
	"context"
	"time"

	"example.com/kvstore"
	"github.com/redis/go-redis/v9"
	xcontext "golang.org/x/net/context"
)

type lifecycler struct {
	kv    kvstore.KVClient
	store *kvstore.Client
}

func lookup(c *kvstore.Client) {
	ctx := context.Background()
	c.Get(ctx, "k")            // want `client call kvstore.Client.Get with context.Background\(\): the context is all that bounds a call to a remote service unless its client sets a deadline of its own`
	c.Get(context.TODO(), "k") // want `client call kvstore.Client.Get with context.TODO\(\)`
	tctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	c.Get(tctx, "k")
}

// Streams run as long as their context by design.
func streams(c *kvstore.Client) {
	c.Watch(context.Background(), "k")
	c.Subscribe(context.Background(), "k")
	c.Follow(context.Background())
	c.Open(context.Background())
	c.Close()
}

func (l *lifecycler) update(ctx context.Context) error {
	return l.kv.CAS(ctx, "ring", func(s string) string { return s })
}

func (l *lifecycler) heartbeat() {
	l.update(context.Background()) // want `context.Background\(\) passed to lifecycler.update reaches client call kvstore.KVClient.CAS at clientcall.go:\d+ with no deadline`
}

func (l *lifecycler) caller(ctx context.Context) {
	l.update(ctx) // the caller's job
}

func notClients(cache *kvstore.Cache, r *redis.Client) {
	cache.Get(context.Background(), "k")
	r.Get(context.Background(), "k")
}

// ContainerdClient is the package's own interface to a remote daemon:
// nothing follows a call through it.
type ContainerdClient interface {
	LoadContainer(ctx context.Context, id string) (string, error)
}

type factory struct{ client ContainerdClient }

func (f *factory) canHandle(id string) bool {
	ctx := context.Background()
	_, err := f.client.LoadContainer(ctx, id) // want `client call clientcall.ContainerdClient.LoadContainer with context.Background\(\)`
	return err == nil
}

// Older code's contexts come from golang.org/x/net/context.
func older(c *kvstore.Client) {
	c.Get(xcontext.Background(), "k") // want `client call kvstore.Client.Get with context.Background\(\)`
	ctx, cancel := xcontext.WithTimeout(xcontext.TODO(), time.Second)
	defer cancel()
	c.Get(ctx, "k")
}
