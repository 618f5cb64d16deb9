package dialtimeout

import (
	"context"
	"net"
	"time"

	"golang.org/x/crypto/ssh"
)

func sshOver(conn net.Conn, addr string) error {
	_, _, _, err := ssh.NewClientConn(conn, addr, &ssh.ClientConfig{Timeout: 5 * time.Second}) // want `ssh.NewClientConn runs the SSH handshake on a connection the function sets no deadline on`
	return err
}

func sshOverBounded(conn net.Conn, addr string) error {
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, _, _, err := ssh.NewClientConn(conn, addr, &ssh.ClientConfig{})
	_ = conn.SetDeadline(time.Time{})
	return err
}

func serveSSH(l net.Listener, cfg *ssh.ServerConfig) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			_, _, _, _ = ssh.NewServerConn(c, cfg) // want `ssh.NewServerConn runs the SSH handshake on a connection the function sets no deadline on: a client that connects and never completes the handshake`
		}()
	}
}

func throughJump(ctx context.Context, jump *ssh.Client, addr string) {
	jump.Dial("tcp", addr)                              // want `ssh.Client.Dial has no timeout: the SSH server dials the address for you`
	jump.DialContext(context.Background(), "tcp", addr) // want `ssh.Client.DialContext with context.Background\(\)`
	jump.DialContext(ctx, "tcp", addr)
}
