// Package pb is what protoc-gen-go-grpc generates for a service with a
// unary and a server-streaming method.
package pb

import (
	"context"

	"google.golang.org/grpc"
)

type Req struct{}
type Resp struct{}

type Events_WatchClient interface {
	Recv() (*Resp, error)
}

type EventsClient interface {
	Get(ctx context.Context, in *Req, opts ...grpc.CallOption) (*Resp, error)
	Watch(ctx context.Context, in *Req, opts ...grpc.CallOption) (Events_WatchClient, error)
}
