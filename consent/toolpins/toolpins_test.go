package toolpins

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestPinsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tool-pins.json")
	s := Open(path)
	if got, err := s.Server("fs"); err != nil || got != nil {
		t.Fatalf("no file yet: %v, %v", got, err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	long := strings.Repeat("é", maxDescription) // 2 bytes each: the cut falls inside one
	if err := s.Pin("fs", map[string]Def{"read": {Hash: "h1", Description: "Read", Pinned: now}, "big": {Hash: "h2", Description: long}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Pin("git", map[string]Def{"push": {Hash: "h3"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Pin("fs", map[string]Def{"read": {Hash: "h4", Description: "Read it"}}); err != nil {
		t.Fatal(err)
	}
	got, err := Open(path).Server("fs") // another process would read the same
	if err != nil {
		t.Fatal(err)
	}
	if got["read"].Hash != "h4" || got["read"].Description != "Read it" || len(got) != 2 {
		t.Errorf("fs pins = %+v", got)
	}
	if d := got["big"].Description; len(d) > maxDescription || !utf8.ValidString(d) || d == "" {
		t.Errorf("a long description was kept as %d bytes, valid UTF-8 %v", len(d), utf8.ValidString(d))
	}
	if g, _ := s.Server("git"); g["push"].Hash != "h3" {
		t.Errorf("git pins = %+v", g)
	}
	os.WriteFile(path, []byte("{not json"), 0o600)
	if _, err := s.Server("fs"); err == nil {
		t.Error("a corrupt pins file read without an error")
	}
}
