//go:build unix

package transport

import (
	"os"
	"syscall"
)

// pollable returns f re-opened on the Go poller when it is a pipe or socket.
func pollable(f *os.File) *os.File {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&(os.ModeNamedPipe|os.ModeSocket) == 0 {
		return f
	}
	fd := int(f.Fd()) // Fd puts f in blocking mode; we undo that below.
	if err := syscall.SetNonblock(fd, true); err != nil {
		return f
	}
	// os.NewFile sees the non-blocking flag and registers the fd with the poller.
	nf := os.NewFile(uintptr(fd), f.Name())
	if nf == nil {
		return f
	}
	return nf
}
