// Package clientv3 is a stub of go.etcd.io/etcd/client/v3.
package clientv3

import "context"

type GetResponse struct{}

type WatchChan <-chan struct{}

type KV interface {
	Get(ctx context.Context, key string) (*GetResponse, error)
}

type Watcher interface {
	Watch(ctx context.Context, key string) WatchChan
}

type Client struct {
	KV
	Watcher
}
