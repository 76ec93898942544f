package broker

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/airlock-mcp/airlock/store/atomicfile"
	"io/fs"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/airlock-mcp/airlock/consent/apitype"
)

var jsonMarshal = json.Marshal

// grantStore keeps standing grants. "Always" grants persist in a 0600 JSON file; session
// and late-approval grants live in memory only.
type grantStore struct {
	path string
	mu   sync.Mutex
	all  []apitype.Grant
}

func openGrants(path string) (*grantStore, error) {
	gs := &grantStore{path: path}
	if path == "" {
		return gs, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return gs, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read grants: %w", err)
	}
	if err := json.Unmarshal(data, &gs.all); err != nil {
		return nil, fmt.Errorf("read grants %s: %w", path, err)
	}
	return gs, nil
}

// match returns a grant that allows req at time now.
func (gs *grantStore) match(req apitype.AskRequest, now time.Time) (apitype.Grant, bool) {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	for _, g := range gs.all {
		if g.Kind != req.Kind || g.Server != req.Server {
			continue
		}
		if !g.Expires.IsZero() && !now.Before(g.Expires) {
			continue
		}
		switch req.Kind {
		case apitype.KindLaunch:
			if req.Launch != nil && g.ArgsHash == req.Launch.Fingerprint {
				return g, true
			}
		case apitype.KindToolCall:
			if g.Tool != req.Tool {
				continue
			}
			switch {
			case g.ArgsHash != "" || !g.Expires.IsZero():
				// A late-approval grant: only the identical call.
				if g.ArgsHash == req.ArgsHash {
					return g, true
				}
			case req.Protected || req.Dangerous:
				// Tool-wide grants do not reach Airlock's own files, nor arguments that are
				// dangerous in themselves: "always allow run_command" was given for the
				// commands a person saw, not for rm -rf ~.
			case g.Scope == apitype.Session:
				if g.Session != "" && g.Session == req.Session {
					return g, true
				}
			case g.Scope == apitype.Always:
				return g, true
			}
		}
	}
	return apitype.Grant{}, false
}

func (gs *grantStore) add(g apitype.Grant) error {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	gs.all = append(gs.all, g)
	if g.Scope == apitype.Always {
		if err := gs.saveLocked(); err != nil {
			gs.all = gs.all[:len(gs.all)-1]
			return err
		}
	}
	return nil
}

func (gs *grantStore) remove(id string) error {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	for i, g := range gs.all {
		if g.ID == id {
			gs.all = append(gs.all[:i:i], gs.all[i+1:]...)
			if g.Scope == apitype.Always {
				if err := gs.saveLocked(); err != nil {
					gs.all = append(gs.all[:i:i], append([]apitype.Grant{g}, gs.all[i:]...)...)
					return err
				}
			}
			return nil
		}
	}
	return fmt.Errorf("%w: no grant %q", ErrNotFound, id)
}

func (gs *grantStore) endSession(session string) {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	kept := gs.all[:0]
	for _, g := range gs.all {
		// session itself, and the per-client sessions within it ("session/client").
		if g.Scope != apitype.Session || (g.Session != session && !strings.HasPrefix(g.Session, session+"/")) {
			kept = append(kept, g)
		}
	}
	gs.all = kept
}

func (gs *grantStore) list() []apitype.Grant {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	now := time.Now()
	out := make([]apitype.Grant, 0, len(gs.all))
	for _, g := range gs.all {
		if g.Expires.IsZero() || now.Before(g.Expires) {
			out = append(out, g)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out
}

// saveLocked writes the "always" grants atomically.
func (gs *grantStore) saveLocked() error {
	if gs.path == "" {
		return nil
	}
	var keep []apitype.Grant
	for _, g := range gs.all {
		if g.Scope == apitype.Always {
			keep = append(keep, g)
		}
	}
	data, err := json.MarshalIndent(keep, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(gs.path, data)
}

// writeFileAtomic writes data to path through a temporary file and a rename, mode 0600.
func writeFileAtomic(path string, data []byte) error { return atomicfile.Write(path, data) }
