package launch

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestWritableDir(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes do not say who may write on Windows")
	}
	root := t.TempDir()
	mkdir := func(mode os.FileMode, parts ...string) string {
		t.Helper()
		p := filepath.Join(append([]string{root}, parts...)...)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // Chmod, not MkdirAll, so umask does not apply
			t.Fatal(err)
		}
		return p
	}
	open := mkdir(0o777, "open")
	sticky := mkdir(0o777|os.ModeSticky, "sticky")
	tests := []struct {
		name string
		dir  string
		want bool
	}{
		{"private", mkdir(0o755, "private"), false},
		{"world-writable", open, true},
		{"world-writable with sticky bit", sticky, true},
		{"below world-writable", mkdir(0o755, "open", "bin"), true},
		{"below sticky", mkdir(0o755, "sticky", "bin"), false},
		{"missing below private", filepath.Join(root, "private", "nope"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := writableDir(tt.dir); (got != "") != tt.want {
				t.Errorf("writableDir(%s) = %q, want flagged %v", tt.dir, got, tt.want)
			}
		})
	}
}
