//go:build !unix

package store

import "time"

// writeLock is a no-op where flock is not available; writers then rely on
// SQLite's busy handler alone. See lock_unix.go.
type writeLock struct{}

func openWriteLock(string) (*writeLock, error) { return &writeLock{}, nil }

func (*writeLock) lock(time.Duration) bool { return false }

func (*writeLock) unlock() {}

func (*writeLock) close() error { return nil }
