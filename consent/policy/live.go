package policy

import (
	"errors"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Live is a policy file read again when it changes, so that a rule or a setting changed
// in the app or by hand applies to proxies and brokers already running. It looks at the
// file at most once per CheckEvery; a file that no longer parses keeps the last good
// policy in force and is reported through OnError.
type Live struct {
	path string
	cur  atomic.Pointer[Policy]
	last atomic.Int64 // UnixNano of the last look at the file

	mu    sync.Mutex
	stamp stamp

	// OnChange, if set, is called with each new policy after it takes effect.
	OnChange func(*Policy)
	// OnError, if set, is told why a changed file was not taken.
	OnError func(error)
}

// CheckEvery bounds how often a Live policy looks at its file.
var CheckEvery = time.Second

type stamp struct {
	mod  time.Time
	size int64
	ok   bool
}

func stampOf(path string) stamp {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) || err != nil {
		return stamp{}
	}
	return stamp{mod: fi.ModTime(), size: fi.Size(), ok: true}
}

// NewLive follows the file at path, starting from p (as Load(path) returned it).
func NewLive(path string, p *Policy) *Live {
	l := &Live{path: path, stamp: stampOf(path)}
	l.cur.Store(p)
	l.last.Store(time.Now().UnixNano())
	return l
}

// Current returns the policy in force, reading the file again if it changed.
func (l *Live) Current() *Policy {
	now := time.Now().UnixNano()
	if last := l.last.Load(); now-last < int64(CheckEvery) || !l.last.CompareAndSwap(last, now) {
		return l.cur.Load()
	}
	l.Reload()
	return l.cur.Load()
}

// Reload reads the file now if it changed since it was last read.
func (l *Live) Reload() {
	l.mu.Lock()
	st := stampOf(l.path)
	if st == l.stamp {
		l.mu.Unlock()
		return
	}
	p, err := Load(l.path)
	if err != nil {
		l.stamp = st // report a broken file once, not on every look
		l.mu.Unlock()
		if l.OnError != nil {
			l.OnError(err)
		}
		return
	}
	l.stamp = st
	l.cur.Store(p)
	l.mu.Unlock()
	if l.OnChange != nil {
		l.OnChange(p)
	}
}
