//go:build !unix

package oauth

import (
	"context"
	"sync"
)

// testHookLockWait is unused where flock is not available.
var testHookLockWait func(server string)

// lockMu stands in for the lock file where flock is not available: it serialises flows
// within one process only (2026-07: proxies on Windows may run two flows at once).
var lockMu sync.Mutex

func (a *Authorizer) lock(ctx context.Context) (func(), error) {
	lockMu.Lock()
	return lockMu.Unlock, nil
}
