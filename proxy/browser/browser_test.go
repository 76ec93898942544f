package browser

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// A fake xdg-open on PATH records what it is asked to open.
func TestOpen(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("uses a fake xdg-open")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "opened")
	script := "#!/bin/sh\nprintf '%s' \"$1\" > " + out + "\n"
	if err := os.WriteFile(filepath.Join(dir, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	if err := Open(context.Background(), "https://example.com/a?b=c"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "https://example.com/a?b=c" {
		t.Errorf("opened %q", b)
	}
	for _, bad := range []string{"file:///etc/passwd", "javascript:alert(1)", "-https://x", "ftp://h/x", "notaurl"} {
		if err := Open(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "refusing") {
			t.Errorf("Open(%q) = %v, want a refusal", bad, err)
		}
	}
	// An opener that fails says so.
	os.WriteFile(filepath.Join(dir, "xdg-open"), []byte("#!/bin/sh\nexit 3\n"), 0o755)
	if err := Open(context.Background(), "https://example.com/"); err == nil {
		t.Error("a failing opener was reported as working")
	}
}
