package dialtimeout

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// delivery keeps its dialer as a function value, called later with the
// delivery's context.
type delivery struct {
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func newDelivery() *delivery {
	return &delivery{dial: (&net.Dialer{}).DialContext} // want `DialContext of a net.Dialer without Timeout \(values.go:\d+\) taken as a function value: whoever calls it connects with no bound but the context it passes`
}

func timedDelivery() *delivery {
	return &delivery{dial: (&net.Dialer{Timeout: 10 * time.Second}).DialContext}
}

func plainDial() func(network, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.Dial // want `Dial of a net.Dialer without Timeout`
}

// A transport's dialer is the HTTP rules' business: the client's Timeout
// bounds the connect.
func transport() *http.Transport {
	tr := &http.Transport{DialContext: (&net.Dialer{}).DialContext}
	tr.Dial = (&net.Dialer{}).Dial
	return tr
}

func handshakes(ctx context.Context, raw net.Conn, cfg *tls.Config) {
	tc := tls.Client(raw, cfg)
	tc.Handshake() // want `tls.Conn.Handshake has no context and the function sets no deadline on the connection: a server that accepts the connection and never answers the TLS handshake blocks it forever; use HandshakeContext`
	tls.Client(raw, cfg).HandshakeContext(ctx)
}

func handshakeWithDeadline(raw net.Conn, cfg *tls.Config) error {
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	defer raw.SetDeadline(time.Time{})
	return tls.Client(raw, cfg).Handshake()
}

func serverHandshake(raw net.Conn, cfg *tls.Config) error {
	return tls.Server(raw, cfg).Handshake() // want `tls.Conn.Handshake has no context`
}
