package dialtimeout

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"time"
)

type packet struct{ body []byte }

func (p *packet) Write(w io.Writer) error { _, err := w.Write(p.body); return err }

func readPacket(r io.Reader) (*packet, error) {
	var n uint32
	if err := binary.Read(r, binary.BigEndian, &n); err != nil {
		return nil, err
	}
	p := &packet{body: make([]byte, n)}
	_, err := io.ReadFull(r, p.body)
	return p, err
}

func openConn(addr string) (net.Conn, error) {
	return net.DialTimeout("tcp", addr, 10*time.Second)
}

// handshake sends the CONNECT packet and waits for its acknowledgement.
func handshake(rw io.ReadWriter, p *packet) error {
	if err := p.Write(rw); err != nil {
		return err
	}
	_, err := readPacket(rw)
	return err
}

func connectBroker(addr string) (net.Conn, error) {
	conn, err := openConn(addr)
	if err != nil {
		return nil, err
	}
	if err := handshake(conn, &packet{}); err != nil { // want `the reply to a request on a connection from dialtimeout.openConn is read with no read deadline`
		return nil, err
	}
	return conn, nil
}

func connectBounded(addr string) (net.Conn, error) {
	conn, err := openConn(addr)
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := handshake(conn, &packet{}); err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return conn, nil
}

func ask(addr string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "PING\r\n"); err != nil {
		return "", err
	}
	return bufio.NewReader(conn).ReadString('\n') // want `the reply to a request on a connection from net.DialTimeout is read with no read deadline`
}

// A subscriber only reads: it waits for the server by design.
func subscribe(addr string, out chan<- *packet) error {
	conn, err := tls.Dial("tcp", addr, &tls.Config{}) // want `tls.Dial has no timeout`
	if err != nil {
		return err
	}
	for {
		p, err := readPacket(conn)
		if err != nil {
			return err
		}
		out <- p
	}
}

// A server's connections are not judged here.
func serve(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			_, _ = io.WriteString(c, "hello\r\n")
			_, _ = readPacket(c)
		}()
	}
}

type broker struct {
	conn net.Conn
}

func (b *broker) saslHandshake(req []byte) ([]byte, error) {
	if err := b.conn.SetWriteDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return nil, err
	}
	if _, err := b.conn.Write(req); err != nil {
		return nil, err
	}
	header := make([]byte, 8)
	if _, err := io.ReadFull(b.conn, header); err != nil { // want `a connection with a write deadline and no read deadline is read`
		return nil, err
	}
	return header, nil
}

func (b *broker) request(req []byte) ([]byte, error) {
	if err := b.conn.SetWriteDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return nil, err
	}
	if err := b.conn.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return nil, err
	}
	if _, err := b.conn.Write(req); err != nil {
		return nil, err
	}
	resp := make([]byte, 8)
	_, err := io.ReadFull(b.conn, resp)
	return resp, err
}

// A client that keeps its reader and writer: its requests set their own
// deadlines (request above does), so the wrapping alone is not judged.
type lineClient struct {
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
}

func dialLines(addr string) (*lineClient, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &lineClient{conn: conn, r: bufio.NewReader(conn), w: bufio.NewWriter(conn)}, nil
}
