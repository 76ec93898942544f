// Package toolpins remembers, per server, each tool's definition as a person first saw it
// or last accepted it, so a server that describes a tool differently in a later session
// (an update, or a "rug pull") is noticed and the change shown before the tool runs again.
package toolpins

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/airlock-mcp/airlock/store/atomicfile"
)

// Def is a pinned tool definition: its hash (see guard), the description shown when it
// changes, and when it was pinned.
type Def struct {
	Hash        string    `json:"hash"`
	Description string    `json:"description"`
	Pinned      time.Time `json:"pinned"`
}

// maxDescription bounds the description kept per tool.
const maxDescription = 2 << 10

// Store is the tool pins file. It is safe for concurrent use within a process; writes
// are atomic, so concurrent processes never see a torn file (the last writer wins, and a
// pin lost that way is only taken again when the tool is next listed).
type Store struct {
	path string
	mu   sync.Mutex
}

// Open returns the Store at path (created on first write).
func Open(path string) *Store { return &Store{path: path} }

type file struct {
	Servers map[string]map[string]Def `json:"servers"`
}

func (s *Store) load() (file, error) {
	f := file{Servers: map[string]map[string]Def{}}
	if err := atomicfile.ReadJSON(s.path, &f); err != nil {
		return f, fmt.Errorf("read tool pins: %w", err)
	}
	if f.Servers == nil {
		f.Servers = map[string]map[string]Def{}
	}
	return f, nil
}

// Server returns the pinned definitions of server's tools, by tool name.
func (s *Store) Server(server string) (map[string]Def, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.load()
	if err != nil {
		return nil, err
	}
	return f.Servers[server], nil
}

// Pin records defs (tool name → definition) for server, replacing earlier pins of those
// tools.
func (s *Store) Pin(server string, defs map[string]Def) error {
	if len(defs) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.load()
	if err != nil {
		return err
	}
	tools := f.Servers[server]
	if tools == nil {
		tools = map[string]Def{}
		f.Servers[server] = tools
	}
	for name, d := range defs {
		if len(d.Description) > maxDescription {
			d.Description = strings.ToValidUTF8(d.Description[:maxDescription], "")
		}
		tools[name] = d
	}
	return atomicfile.WriteJSON(s.path, f)
}
