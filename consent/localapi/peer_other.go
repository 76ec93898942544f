//go:build !linux && !darwin

package localapi

import "net"

// sameUser relies on the socket directory's permissions (0700) where the OS offers no
// peer credentials; on Windows that means the ACL of the user's profile directory.
func sameUser(net.Conn) bool { return true }

// peerIsAirlock cannot tell which program is at the other end here: the user check is all.
func peerIsAirlock(net.Conn) bool { return true }
