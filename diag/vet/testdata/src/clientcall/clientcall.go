// Package clientcall: another library's client called on a background
// context, directly or through the package's own functions.
package clientcall

import (
	"context"
	"time"

	"example.com/kvstore"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/jackc/pgx/v5"
	xcontext "golang.org/x/net/context"
	"nhooyr.io/websocket"
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

func notClients(cache *kvstore.Cache) {
	cache.Get(context.Background(), "k")
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

// Known connectors of other libraries.
func connectors(ctx context.Context, issuer, dsn, node string) {
	oidc.NewProvider(context.Background(), issuer) // want `oidc.NewProvider with context.Background\(\): it fetches the issuer's discovery document on that context`
	oidc.NewProvider(ctx, issuer)
	pgx.Connect(context.TODO(), dsn) // want `pgx.Connect with context.TODO\(\): pgx connects with no timeout unless the connection string sets connect_timeout`
	tctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	pgx.Connect(tctx, dsn)
	ethclient.Dial(node)                    // want `ethclient.Dial has no timeout: it dials with context.Background\(\)`
	ethclient.Dial("ws://127.0.0.1:8546")   // want `ethclient.Dial has no timeout`
	ethclient.Dial("http://127.0.0.1:8545") // not dialled until a call, which takes a context
	ethclient.Dial("/run/geth.ipc")
	ethclient.DialContext(context.Background(), node) // want `ethclient.DialContext with context.Background\(\): a ws:// endpoint is dialled`
	ethclient.DialContext(context.Background(), "https://rpc.example")
	websocket.Dial(context.Background(), node, nil) // want `websocket.Dial with context.Background\(\): the handshake waits on that context alone`
}

// A context bounded whenever a timeout is configured: zero means none,
// by the configuration's choice.
func configured(c *kvstore.Client, timeout time.Duration) {
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	c.Get(ctx, "k")

	other := context.Background()
	if timeout > 0 {
		other = context.WithValue(other, struct{}{}, timeout)
	}
	c.Get(other, "k") // want `client call kvstore.Client.Get with context.Background\(\)`
}

type upstream struct {
	c       *kvstore.Client
	timeout time.Duration
}

func (u *upstream) exchange() {
	ctx := context.Background()
	if u.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, u.timeout)
		defer cancel()
	}
	u.c.Get(ctx, "k")
}

// withDeadline gives the context a deadline made of the configured
// timeout, whenever one is configured.
func (u *upstream) withDeadline(parent context.Context) (ctx context.Context, cancel context.CancelFunc) {
	ctx, cancel = parent, func() {}
	if u.timeout > 0 {
		ctx, cancel = context.WithDeadline(ctx, time.Now().Add(u.timeout))
	}
	return ctx, cancel
}

func (u *upstream) open() {
	ctx, cancel := u.withDeadline(context.Background())
	defer cancel()
	u.c.Get(ctx, "k")
}

func (u *upstream) openLate(late time.Time) {
	ctx := context.Background()
	if u.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, late) // not made of the tested timeout
		defer cancel()
	}
	u.c.Get(ctx, "k") // want `client call kvstore.Client.Get with context.Background\(\)`
}
