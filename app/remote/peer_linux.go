package remote

import (
	"fmt"
	"net"
	"os"
	"syscall"
)

// checkPeer refuses a connection from another user (SO_PEERCRED). The
// socket's directory already keeps others out; this holds even if its
// permissions were loosened by hand.
func checkPeer(c net.Conn) error {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return fmt.Errorf("checking the peer: not a Unix socket")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return fmt.Errorf("checking the peer: %w", err)
	}
	var cred *syscall.Ucred
	var serr error
	if err := raw.Control(func(fd uintptr) {
		cred, serr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return fmt.Errorf("checking the peer: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("checking the peer: %w", serr)
	}
	if int(cred.Uid) != os.Getuid() {
		return fmt.Errorf("refusing a connection from user id %d (pid %d)", cred.Uid, cred.Pid)
	}
	return nil
}
