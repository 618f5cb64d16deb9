package dialtimeout

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/smtp"
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

// A deadline set only after the handshake (for the commands that
// follow it, as redigo's AUTH) does not bound it.
func handshakeThenCommands(raw net.Conn, cfg *tls.Config) error {
	tc := tls.Client(raw, cfg)
	if err := tc.Handshake(); err != nil { // want `tls.Conn.Handshake has no context and the function sets no deadline`
		return err
	}
	s := &session{conn: tc}
	s.readLine()
	return nil
}

// tls.Dial and a tls.Dialer run the handshake before they return: a
// Handshake on what they return returns at once (the dial is judged).
func handshakeAfterDial(addr string, cfg *tls.Config, d *tls.Dialer) error {
	conn, err := tls.Dial("tcp", addr, cfg) // want `tls.Dial has no timeout`
	if err != nil {
		return err
	}
	if err := conn.Handshake(); err != nil {
		return err
	}
	nc, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		return err
	}
	return nc.(*tls.Conn).Handshake()
}

func serverHandshake(raw net.Conn, cfg *tls.Config) error {
	return tls.Server(raw, cfg).Handshake() // want `tls.Conn.Handshake has no context`
}

// session reads each command with a read deadline, set by readLine.
type session struct{ conn net.Conn }

func (s *session) readLine() string {
	s.conn.SetReadDeadline(time.Now().Add(5 * time.Minute))
	return ""
}

func (s *session) serve(cfg *tls.Config) {
	for {
		if s.readLine() == "STARTTLS" {
			tls.Server(s.conn, cfg).Handshake() // bounded by the deadline readLine left
		}
	}
}

// DialFunc is a dialer's DialContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// pick chooses a dialer and dials it here, under a deadline.
func pick(ctx context.Context, tlsConf *tls.Config, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	d := net.Dialer{}
	var dial DialFunc = d.DialContext
	if tlsConf != nil {
		td := tls.Dialer{NetDialer: &d, Config: tlsConf}
		dial = td.DialContext
	}
	return dial(ctx, "tcp", addr)
}

func pickBackground(addr string) (net.Conn, error) {
	d := net.Dialer{}
	dial := d.DialContext // want `DialContext of a net.Dialer without Timeout`
	return dial(context.Background(), "tcp", addr)
}

func greetings(addr string) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return
	}
	smtp.NewClient(conn, "mx.example.org") // want `smtp.NewClient reads the server's greeting on a connection the function sets no deadline on`
}

func greetingsWithDeadline(addr string) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return
	}
	conn.SetDeadline(time.Now().Add(time.Minute))
	smtp.NewClient(conn, "mx.example.org")
}
