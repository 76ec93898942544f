//go:build darwin

package localapi

import (
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// sameUser reports whether the process at the other end of c runs as our user.
func sameUser(c net.Conn) bool {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return false
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return false
	}
	var cred *unix.Xucred
	var cerr error
	raw.Control(func(fd uintptr) { cred, cerr = unix.GetsockoptXucred(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERCRED) })
	return cerr == nil && cred != nil && int(cred.Uid) == os.Getuid()
}

// peerIsAirlock does not check the program on macOS yet (LOCAL_PEERPID and proc_pidpath
// would tell): the user check is all.
func peerIsAirlock(net.Conn) bool { return true }
