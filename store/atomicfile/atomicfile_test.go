package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "f.json")
	if err := Write(path, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, []byte("two")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	di, _ := os.Stat(filepath.Dir(path))
	if string(b) != "two" || fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Errorf("content %q mode %v dir mode %v", b, fi.Mode().Perm(), di.Mode().Perm())
	}
	// A failed write leaves the old file and no temporary file.
	if err := WriteWith(path, func(io.Writer) error { return errors.New("boom") }); err == nil {
		t.Fatal("the writer's error was lost")
	}
	if b, _ := os.ReadFile(path); string(b) != "two" {
		t.Errorf("a failed write changed the file to %q", b)
	}
	if es, _ := os.ReadDir(filepath.Dir(path)); len(es) != 1 {
		t.Errorf("left behind: %v", es)
	}
}

func TestJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "f.json")
	v := map[string]int{"kept": 1}
	if err := ReadJSON(path, &v); err != nil || v["kept"] != 1 {
		t.Fatalf("missing file: %v, %v", v, err)
	}
	if err := WriteJSON(path, map[string]int{"a": 2}); err != nil {
		t.Fatal(err)
	}
	var got map[string]int
	if err := ReadJSON(path, &got); err != nil || got["a"] != 2 {
		t.Fatalf("round trip: %v, %v", got, err)
	}
	os.WriteFile(path, []byte("{"), 0o600)
	if err := ReadJSON(path, &got); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("corrupt file: %v, want an error naming it", err)
	}
}
