package launch_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/airlock-mcp/airlock/consent/launch"
)

// fakePath is a lookPath over an in-memory set of executables.
type fakePath struct {
	files map[string]string // what lookPath(name) returns
	asked []string
}

func (f *fakePath) lookPath(name string) (string, error) {
	f.asked = append(f.asked, name)
	if p, ok := f.files[name]; ok {
		return p, nil
	}
	return "", errors.New("executable file not found")
}

func TestResolve(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("paths below are Unix paths")
	}
	tests := []struct {
		name      string
		cmd       launch.Command
		files     map[string]string
		wantAsked string
		want      string
	}{
		{"bare name", argv("npx", "-y", "x"), map[string]string{"npx": "/usr/local/bin/npx"}, "npx", "/usr/local/bin/npx"},
		{"not found", argv("nope"), nil, "nope", ""},
		{"absolute", argv("/opt/mcp/bin/srv"), map[string]string{"/opt/mcp/bin/srv": "/opt/mcp/bin/srv"}, "/opt/mcp/bin/srv", "/opt/mcp/bin/srv"},
		{"relative to dir", launch.Command{Argv: []string{"./bin/srv"}, Dir: "/srv/app"},
			map[string]string{"/srv/app/bin/srv": "/srv/app/bin/srv"}, "/srv/app/bin/srv", "/srv/app/bin/srv"},
		{"relative result made absolute in dir", launch.Command{Argv: []string{"srv"}, Dir: "/srv/app"},
			map[string]string{"srv": "bin/../bin/srv"}, "srv", "/srv/app/bin/srv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakePath{files: tt.files}
			got := launch.Resolve(tt.cmd, f.lookPath)
			if got.Executable != tt.want {
				t.Errorf("Executable = %q, want %q", got.Executable, tt.want)
			}
			if len(f.asked) != 1 || f.asked[0] != tt.wantAsked {
				t.Errorf("lookPath asked %q, want [%q]", f.asked, tt.wantAsked)
			}
		})
	}
	if got := launch.Resolve(launch.Command{Executable: "/stale"}, nil); got.Executable != "" {
		t.Errorf("Resolve of an empty command kept Executable %q", got.Executable)
	}
}

func TestResolveExecLookPath(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "bin", "srv")
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	got := launch.Resolve(launch.Command{Argv: []string{filepath.Join(".", "bin", filepath.Base(exe))}, Dir: dir}, nil)
	if got.Executable != exe {
		t.Errorf("Executable = %q, want %q", got.Executable, exe)
	}
}
