//go:build unix

package oauth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// testHookLockWait, when set, is called when the lock is held elsewhere and the caller
// starts waiting for it.
var testHookLockWait func(server string)

// lock takes the per-server lock file under Home/run, waiting while another proxy runs
// a flow or a refresh for the same server. It returns the function that releases it.
func (a *Authorizer) lock(ctx context.Context) (func(), error) {
	p := a.lockPath()
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return nil, fmt.Errorf("create lock directory: %w", err)
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	fd := int(f.Fd())
	unlock := func() {
		flock(fd, syscall.LOCK_UN)
		f.Close()
	}
	err = flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil {
		return unlock, nil
	}
	if !errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	if testHookLockWait != nil {
		testHookLockWait(a.cfg.Server)
	}
	got := make(chan error, 1)
	go func() { got <- flock(fd, syscall.LOCK_EX) }()
	select {
	case err := <-got:
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", p, err)
		}
		return unlock, nil
	case <-ctx.Done():
		go func() {
			<-got
			unlock()
		}()
		return nil, ctx.Err()
	}
}

func flock(fd, how int) error {
	for {
		err := syscall.Flock(fd, how)
		if err != syscall.EINTR {
			return err
		}
	}
}
