package dialtimeout

import (
	"net"
	netrpc "net/rpc"
	"net/rpc/jsonrpc"
	"time"
)

// net/rpc's dials connect with net.Dial.
func rpcClients(addr string) {
	netrpc.Dial("tcp", addr)                 // want `rpc.Dial dials with net.Dial, which has no timeout: connecting to a host that drops packets .*; dial with net.DialTimeout \(or a net.Dialer with Timeout\) and hand the connection to rpc.NewClient`
	netrpc.DialHTTP("tcp", addr)             // want `rpc.DialHTTP dials with net.Dial`
	netrpc.DialHTTPPath("tcp", addr, "/rpc") // want `rpc.DialHTTPPath dials with net.Dial`
	jsonrpc.Dial("tcp", addr)                // want `jsonrpc.Dial dials with net.Dial`
	netrpc.Dial("unix", "/run/plugin.sock")  // fails at once when nobody listens
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		netrpc.NewClient(conn)
	}
}
