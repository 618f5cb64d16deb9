package clientcall

import (
	"context"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// etcd's Client embeds its KV: a Get on a background context waits as
// long as the server lets it.
func leader(cli *clientv3.Client) {
	cli.Get(context.Background(), "/leader") // want `client call clientv3.KV.Get with context.Background\(\)`
	cli.Watch(context.Background(), "/leader")
}
