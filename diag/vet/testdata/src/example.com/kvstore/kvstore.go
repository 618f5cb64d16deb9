// Package kvstore stands in for another module's client library.
package kvstore

import "context"

// Client talks to a remote store.
type Client struct{}

func (c *Client) Get(ctx context.Context, key string) (string, error) { return "", nil }
func (c *Client) Watch(ctx context.Context, key string) <-chan string { return nil }
func (c *Client) Subscribe(ctx context.Context, key string) error     { return nil }
func (c *Client) Close() error                                        { return nil }

// Stream is a long-lived answer.
type Stream struct{}

func (s *Stream) Recv() (string, error) { return "", nil }

func (c *Client) Follow(ctx context.Context) (*Stream, error) { return nil, nil }
func (c *Client) Open(ctx context.Context) (*Stream, error)   { return nil, nil }

// KVClient is what a store does, whatever its backend.
type KVClient interface {
	CAS(ctx context.Context, key string, f func(string) string) error
}

// Cache is no client.
type Cache struct{}

func (c *Cache) Get(ctx context.Context, key string) string { return "" }

// PeerConn is a connection to one server of the store.
type PeerConn struct{}

func (c *PeerConn) Exec(ctx context.Context, cmd string) error      { return nil }
func (c *PeerConn) ReadMessage(ctx context.Context) (string, error) { return "", nil }
