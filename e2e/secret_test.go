package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestKeyringSecretReachesServerOnly needs a real Secret Service: scripts/test.sh runs it
// under dbus-run-session with gnome-keyring and AIRLOCK_REAL_KEYRING=1.
func TestKeyringSecretReachesServerOnly(t *testing.T) {
	if os.Getenv("AIRLOCK_REAL_KEYRING") != "1" {
		t.Skip("needs a real Secret Service (AIRLOCK_REAL_KEYRING=1 under dbus-run-session)")
	}
	peers := peersDir(t)
	h := newHome(t, "")
	const value = "s3cr3t-Value-for-e2e-7f1c2b"
	set := exec.Command(airlockBin, "secret", "set", "e2e_token")
	set.Env = h.env
	set.Stdin = strings.NewReader(value + "\n")
	if out, err := set.CombinedOutput(); err != nil {
		t.Fatalf("airlock secret set: %v\n%s", err, out)
	}
	server := filepath.Join(peers, "@modelcontextprotocol", "server-everything", "dist", "index.js")
	cfg := `{"mcpServers":{"ev":{"command":"node","args":[` + quote(server) + `,"stdio"],"env":{"E2E_TOKEN":"${keyring:e2e_token}"}}}}`
	if err := os.WriteFile(filepath.Join(h.dir, "servers.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := h.airlock(t, "trust", "ev"); err != nil {
		t.Fatalf("trust: %v %s", err, out)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(airlockBin, "run", "ev")
	cmd.Env = h.env
	cmd.Stderr = &stderr
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "e2e", Version: "1"}, nil).Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connect: %v\n%s", err, stderr.String())
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get-env"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(toolText(res), value) {
		t.Fatalf("the server did not receive the secret in E2E_TOKEN")
	}
	cs.Close()
	// Nothing Airlock wrote holds the value: not the log, not stderr, no file in its home.
	if bytes.Contains(stderr.Bytes(), []byte(value)) {
		t.Errorf("stderr holds the secret")
	}
	filepath.WalkDir(h.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if b, err := os.ReadFile(path); err == nil && bytes.Contains(b, []byte(value)) {
			t.Errorf("%s holds the secret", path)
		}
		return nil
	})
	out, err := h.airlock(t, "log", "--json")
	if err != nil || !strings.Contains(out, "secret_use") || !strings.Contains(out, "e2e_token") {
		t.Errorf("the log does not record the secret use by name: %v\n%s", err, out)
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
