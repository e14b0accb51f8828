//go:build !linux

package remote

import "net"

// checkPeer relies on the socket's private directory where the system
// offers no portable peer credentials to the standard library.
func checkPeer(net.Conn) error { return nil }
