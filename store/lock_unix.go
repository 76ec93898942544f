//go:build unix

package store

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// writeLock is an advisory lock on <db>.lock that writers in all processes
// take around their write transactions. It is only a speed-up: correctness
// comes from BEGIN IMMEDIATE. SQLite's busy handler polls with sleeps of up
// to 100 ms, which wastes most of the time when four processes write at
// once; a blocked flock wakes as soon as the holder lets go. It also keeps
// the <db>.head anchor from going backwards, since it is written under the
// lock.
type writeLock struct {
	f *os.File
}

func openWriteLock(db string) (*writeLock, error) {
	f, err := os.OpenFile(db+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	return &writeLock{f: f}, nil
}

// lock takes the lock, waiting at most timeout. It reports whether the lock
// is held; on false the caller goes on without it.
func (l *writeLock) lock(timeout time.Duration) bool {
	fd := int(l.f.Fd())
	err := flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil {
		return true
	}
	if !errors.Is(err, syscall.EWOULDBLOCK) {
		return false
	}
	got := make(chan error, 1)
	go func() { got <- flock(fd, syscall.LOCK_EX) }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-got:
		return err == nil
	case <-t.C:
		// The holder is stuck. Let SQLite's busy timeout decide, and drop
		// the lock whenever the abandoned wait gets it.
		go func() {
			if <-got == nil {
				flock(fd, syscall.LOCK_UN)
			}
		}()
		return false
	}
}

func (l *writeLock) unlock() { flock(int(l.f.Fd()), syscall.LOCK_UN) }

func (l *writeLock) close() error { return l.f.Close() }

func flock(fd, how int) error {
	for {
		err := syscall.Flock(fd, how)
		if err != syscall.EINTR {
			return err
		}
	}
}
