package dialtimeout

import (
	"context"
	"net/smtp"
	"time"

	"dialtimeout/pb"
	"github.com/gorilla/websocket"
	"golang.org/x/crypto/ssh"
	"google.golang.org/grpc"
)

func mail(addr string, msg []byte) {
	smtp.SendMail(addr, nil, "a@example.org", []string{"b@example.org"}, msg) // want `smtp.SendMail has no timeout: it dials with net.Dial and sets no deadline`
	smtp.Dial(addr)                                                           // want `smtp.Dial has no timeout`
}

func sshDials(addr string, given *ssh.ClientConfig) {
	cfg := &ssh.ClientConfig{User: "vigil"}
	ssh.Dial("tcp", addr, cfg) // want `ssh.Dial with a ClientConfig without Timeout \(others.go:\d+\): connecting to a host that drops packets`
	ssh.Dial("tcp", addr, &ssh.ClientConfig{User: "vigil", Timeout: 10 * time.Second})
	ssh.Dial("tcp", addr, given) // the caller's config: the caller's job
	ssh.Dial("unix", "/run/agent.sock", cfg)
	late := &ssh.ClientConfig{User: "vigil"}
	late.Timeout = time.Second
	ssh.Dial("tcp", addr, late)
	ssh.Dial("tcp", addr, sshConfig()) // want `ssh.Dial with a ClientConfig without Timeout`
}

func sshConfig() *ssh.ClientConfig { return &ssh.ClientConfig{User: "vigil"} }

func grpcDials(ctx context.Context, target string, opts []grpc.DialOption) {
	grpc.Dial(target, grpc.WithInsecure(), grpc.WithBlock()) // want `grpc.Dial with grpc.WithBlock and no timeout: grpc.WithBlock waits until the connection is up`
	grpc.Dial(target, grpc.WithInsecure())
	grpc.Dial(target, grpc.WithBlock(), grpc.WithTimeout(time.Second))
	grpc.Dial(target, opts...)
	grpc.DialContext(context.Background(), target, grpc.WithBlock()) // want `grpc.DialContext with grpc.WithBlock with context.Background\(\)`
	grpc.DialContext(ctx, target, grpc.WithBlock())                  // the caller's job
	tctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	grpc.DialContext(tctx, target, grpc.WithBlock())
	grpc.DialContext(context.Background(), target, grpc.WithInsecure())
	grpc.NewClient(target)
	grpc.Dial(target, grpc.WithReturnConnectionError()) // want `grpc.Dial with grpc.WithBlock and no timeout`
}

// grpcConnect blocks on the options its caller gave, plus its own, in a
// goroutine, as a CSI driver's connection helper does.
func grpcConnect(address string, dialOptions []grpc.DialOption) *grpc.ClientConn {
	dialOptions = append(dialOptions, grpc.WithInsecure(), grpc.WithBlock())
	var conn *grpc.ClientConn
	ready := make(chan bool)
	go func() {
		conn, _ = grpc.Dial(address, dialOptions...) // want `grpc.Dial with grpc.WithBlock and no timeout`
		close(ready)
	}()
	<-ready
	return conn
}

// grpcOptionSlices builds the options in a slice, as a connection pool
// does: followed when the slice is a variable of the function.
func grpcOptionSlices(target string, secure bool, given []grpc.DialOption) {
	opts := []grpc.DialOption{grpc.WithBlock()}
	if !secure {
		opts = append(opts, grpc.WithInsecure())
	}
	grpc.Dial(target, opts...) // want `grpc.Dial with grpc.WithBlock and no timeout`

	var later []grpc.DialOption
	later = append(later, grpc.WithInsecure(), grpc.WithBlock())
	grpc.DialContext(context.Background(), target, later...) // want `grpc.DialContext with grpc.WithBlock with context.Background\(\)`

	made := make([]grpc.DialOption, 0, 4)
	made = append(made, grpc.WithInsecure(), grpc.WithBlock())
	grpc.Dial(target, made...) // want `grpc.Dial with grpc.WithBlock and no timeout`
	madeTimed := make([]grpc.DialOption, 0, 2)
	madeTimed = append(madeTimed, grpc.WithBlock(), grpc.WithTimeout(time.Second))
	grpc.Dial(target, madeTimed...)

	timed := []grpc.DialOption{grpc.WithBlock()}
	timed = append(timed, grpc.WithTimeout(time.Second))
	grpc.Dial(target, timed...)

	plain := []grpc.DialOption{grpc.WithInsecure()}
	grpc.Dial(target, plain...)
	grpc.Dial(target, given...)
	grpc.Dial(target, optionsFrom()...)

	mixed := []grpc.DialOption{grpc.WithBlock()}
	mixed = append(mixed, given...) // given may bound it
	grpc.Dial(target, mixed...)
	replaced := []grpc.DialOption{grpc.WithBlock()}
	replaced = optionsFrom()
	grpc.Dial(target, replaced...)
	based := append(given, grpc.WithBlock()) // given may bound it
	grpc.Dial(target, based...)
	pair, err := []grpc.DialOption{grpc.WithBlock()}, error(nil)
	pair, err = optionsAndError()
	_ = err
	grpc.Dial(target, pair...)
}

func optionsAndError() ([]grpc.DialOption, error) { return nil, nil }

func optionsFrom() []grpc.DialOption { return []grpc.DialOption{grpc.WithBlock()} }

func websockets(ctx context.Context, u string) {
	d := &websocket.Dialer{ReadBufferSize: 1024}
	d.Dial(u, nil)                              // want `Dial on a websocket.Dialer without HandshakeTimeout \(others.go:\d+\): a server that accepts the connection and never answers the WebSocket handshake blocks it forever`
	d.DialContext(context.Background(), u, nil) // want `DialContext on a websocket.Dialer without HandshakeTimeout \(others.go:\d+\) with context.Background\(\)`
	d.DialContext(ctx, u, nil)                  // the caller's job
	websocket.DefaultDialer.Dial(u, nil)
	var zero websocket.Dialer
	zero.Dial(u, nil) // want `Dial on a websocket.Dialer without HandshakeTimeout`
	ok := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	ok.Dial(u, nil)
}

func rpcs(ctx context.Context, c pb.EventsClient) {
	c.Get(context.Background(), &pb.Req{}) // want `gRPC call Get with context.Background\(\): gRPC sets no deadline of its own`
	c.Get(ctx, &pb.Req{})                  // the caller's job
	tctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	c.Get(tctx, &pb.Req{})
	c.Watch(context.Background(), &pb.Req{}) // a stream: as long as its context by design
	get(c)
}

func get(c pb.EventsClient) {
	rpc(context.Background(), c) // want `context.Background\(\) passed to rpc reaches gRPC call Get at others.go:\d+ with no deadline`
}

func rpc(ctx context.Context, c pb.EventsClient) { c.Get(ctx, &pb.Req{}) }
