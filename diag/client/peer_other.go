//go:build !linux

package client

import "net"

// peerOf is not implemented off Linux: diag there reaches schedulers
// with --pod, where there is no local peer to ask about.
func peerOf(net.Conn) (Peer, error) { return Peer{}, ErrNoPeer }
