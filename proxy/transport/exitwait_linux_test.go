package transport_test

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// exitWatcher lets a test wait, without polling, for a process that is not its child to
// exit: it holds a pidfd, which becomes readable when the process ends.
type exitWatcher struct{ fd int }

func watchExit(t *testing.T, pid int) *exitWatcher {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatalf("pidfd_open(%d): %v", pid, err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return &exitWatcher{fd: fd}
}

// exited reports whether the process ended within d.
func (w *exitWatcher) exited(d time.Duration) bool {
	fds := []unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, int(d.Milliseconds()))
		if err == unix.EINTR {
			continue
		}
		return err == nil && n == 1
	}
}
