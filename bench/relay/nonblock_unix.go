//go:build unix

package main

import (
	"os"
	"syscall"
)

// nonblocking returns f re-opened on the Go poller in non-blocking mode, as Airlock's
// proxy/transport does with its own stdio when it is a pipe.
func nonblocking(f *os.File) *os.File {
	fd := int(f.Fd()) // Fd makes f blocking; set it back below
	if err := syscall.SetNonblock(fd, true); err != nil {
		return f
	}
	if nf := os.NewFile(uintptr(fd), f.Name()); nf != nil {
		return nf
	}
	return f
}
