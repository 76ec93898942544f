// Package pins remembers the launch commands a person approved, by server name, so an
// unchanged command starts without asking and a changed one asks again with a diff.
package pins

import (
	"fmt"
	"github.com/airlock-mcp/airlock/store/atomicfile"
	"sort"
	"sync"
	"time"

	"github.com/airlock-mcp/airlock/consent/launch"
)

// Pin is one approved command.
type Pin struct {
	Fingerprint string   `json:"fingerprint"`
	Argv        []string `json:"argv"`
	Dir         string   `json:"dir,omitempty"`
	Executable  string   `json:"executable,omitempty"`
	// Env holds the approved environment with secret values replaced by SecretMark:
	// the fingerprint ignores secret values, and this file must not hold them.
	Env      map[string]string `json:"env,omitempty"`
	Approved time.Time         `json:"approved"`
	// By says how it was approved: "user" (a dialog), "trust" (`airlock trust`).
	By string `json:"by"`
}

// SecretMark stands in for a secret env value in a Pin.
const SecretMark = "(secret)"

// Store is the pins file. It is safe for concurrent use within a process; writes are
// atomic, so concurrent processes never see a torn file (the last writer wins).
type Store struct {
	path string
	mu   sync.Mutex
}

// Open returns the Store at path (created on first write).
func Open(path string) *Store { return &Store{path: path} }

type file struct {
	Servers map[string]Pin `json:"servers"`
}

func (s *Store) load() (file, error) {
	f := file{Servers: map[string]Pin{}}
	if err := atomicfile.ReadJSON(s.path, &f); err != nil {
		return f, fmt.Errorf("read pins: %w", err)
	}
	if f.Servers == nil {
		f.Servers = map[string]Pin{}
	}
	return f, nil
}

// Get returns the pin for server name.
func (s *Store) Get(name string) (Pin, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.load()
	if err != nil {
		return Pin{}, false, err
	}
	p, ok := f.Servers[name]
	return p, ok, nil
}

// List returns every pin by server name, sorted.
func (s *Store) List() ([]string, map[string]Pin, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.load()
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, 0, len(f.Servers))
	for n := range f.Servers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, f.Servers, nil
}

// Set pins c (already resolved) as the approved command of its server.
func (s *Store) Set(c launch.Command, by string) (Pin, error) {
	a := launch.Analyze(c)
	p := Pin{Fingerprint: a.Fingerprint, Argv: c.Argv, Dir: c.Dir, Executable: c.Executable, Approved: time.Now().UTC(), By: by}
	if len(a.Env) > 0 {
		p.Env = map[string]string{}
		for _, e := range a.Env {
			if e.Secret {
				p.Env[e.Key] = SecretMark
			} else {
				p.Env[e.Key] = c.Env[e.Key]
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.load()
	if err != nil {
		return Pin{}, err
	}
	f.Servers[c.Name] = p
	return p, s.save(f)
}

// Remove forgets the pin of server name.
func (s *Store) Remove(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.load()
	if err != nil {
		return err
	}
	if _, ok := f.Servers[name]; !ok {
		return fmt.Errorf("no pinned command for server %q", name)
	}
	delete(f.Servers, name)
	return s.save(f)
}

// Command rebuilds the approved command for a diff against now: secret values, which the
// pin does not keep, are taken from now so they never show as changed.
func (p Pin) Command(name string, now launch.Command) launch.Command {
	c := launch.Command{Name: name, Argv: p.Argv, Dir: p.Dir, Executable: p.Executable}
	if len(p.Env) > 0 {
		c.Env = map[string]string{}
		for k, v := range p.Env {
			if v == SecretMark {
				if cur, ok := now.Env[k]; ok {
					v = cur
				}
			}
			c.Env[k] = v
		}
	}
	return c
}

func (s *Store) save(f file) error { return atomicfile.WriteJSON(s.path, f) }
