package clientcall

import (
	"context"
	"time"

	"example.com/kvstore"
)

// conn is the package's own interface over a connection to a server:
// its requests wait for the server's reply.
type conn interface {
	Do(ctx context.Context, cmd string) (string, error)
	Receive(ctx context.Context) (string, error)
}

func slots(c conn) {
	c.Do(context.Background(), "CLUSTER SLOTS") // want `client call clientcall.conn.Do with context.Background\(\)`
	c.Receive(context.Background())             // a connection's reads wait for the peer by design
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c.Do(ctx, "PING")
}

func remoteConn(pc *kvstore.PeerConn) {
	pc.Exec(context.TODO(), "k")   // want `client call kvstore.PeerConn.Exec with context.TODO\(\)`
	pc.ReadMessage(context.TODO()) // a reader waits for the peer
}
