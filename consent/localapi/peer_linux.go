//go:build linux

package localapi

import (
	"net"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// sameUser reports whether the process at the other end of c runs as our user.
func sameUser(c net.Conn) bool {
	cred := peerCred(c)
	return cred != nil && int(cred.Uid) == os.Getuid()
}

func peerCred(c net.Conn) *unix.Ucred {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return nil
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return nil
	}
	var cred *unix.Ucred
	var cerr error
	raw.Control(func(fd uintptr) { cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) })
	if cerr != nil {
		return nil
	}
	return cred
}

// peerIsAirlock reports whether the process that connected c runs the executable this
// process runs (the Airlock app attached to `airlock daemon`), by /proc/PID/exe: the same
// file, or the same path when the file was replaced in place since one of them started.
func peerIsAirlock(c net.Conn) bool {
	cred := peerCred(c)
	if cred == nil || cred.Pid <= 0 {
		return false
	}
	self, err := os.Executable()
	if err != nil {
		return false
	}
	proc := "/proc/" + strconv.Itoa(int(cred.Pid)) + "/exe"
	if pi, err := os.Stat(proc); err == nil {
		if si, err := os.Stat(self); err == nil && os.SameFile(pi, si) {
			return true
		}
	}
	path, err := os.Readlink(proc)
	return err == nil && strings.TrimSuffix(path, " (deleted)") == strings.TrimSuffix(self, " (deleted)")
}
