//go:build unix && !linux

package transport_test

import (
	"testing"
	"time"
)

// exitWatcher is a no-op where pidfds do not exist; the kill(pid, 0) checks remain.
type exitWatcher struct{}

func watchExit(*testing.T, int) *exitWatcher   { return &exitWatcher{} }
func (*exitWatcher) exited(time.Duration) bool { return true }
