package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/airlock-mcp/airlock/app/ideconfig"
)

// runWithHome runs the command line with HOME set to home (for IDE config lookup).
func runWithHome(t *testing.T, home string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string {
		if k == "HOME" || k == "USERPROFILE" {
			return home
		}
		if k == "XDG_CONFIG_HOME" || k == "APPDATA" {
			return ""
		}
		return os.Getenv(k)
	}
	code = Run(args, &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Getenv: getenv})
	return code, out.String(), errOut.String()
}

const cursorConfig = `{
  "mcpServers": {
    "github": {
      "command": "npx -y @modelcontextprotocol/server-github@2025.4.8",
      "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"},
      "disabled": false
    },
    "remote": {"url": "https://mcp.example.com/mcp"}
  }
}
`

func TestClientsInstallUninstall(t *testing.T) {
	keyring.MockInit()
	t.Setenv("AIRLOCK_HOME", t.TempDir())
	home := t.TempDir()
	file := filepath.Join(home, ".cursor", "mcp.json")
	os.MkdirAll(filepath.Dir(file), 0o755)
	if err := os.WriteFile(file, []byte(cursorConfig), 0o644); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runWithHome(t, home, "clients")
	if code != 0 || !strings.Contains(out, "cursor (user) "+file) || !strings.Contains(out, "not protected") {
		t.Fatalf("clients: %d\n%s%s", code, out, errOut)
	}

	code, out, errOut = runWithHome(t, home, "install", "--client", "cursor", "--dry-run")
	if code != 0 || !strings.Contains(out, "+++ ") || strings.Contains(out, "ghp_") || !strings.Contains(out, "dry run") {
		t.Fatalf("install --dry-run: %d\n%s%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(file); string(b) != cursorConfig {
		t.Fatal("dry run wrote the file")
	}

	code, out, errOut = runWithHome(t, home, "install", "--client", "cursor")
	if code != 0 {
		t.Fatalf("install: %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"github → airlock run github", "github.GITHUB_PERSONAL_ACCESS_TOKEN", "airlock serve", "backup: " + file + ".airlock-backup"} {
		if !strings.Contains(out, want) {
			t.Errorf("install output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ghp_") {
		t.Errorf("install printed the token:\n%s", out)
	}
	code, out, _ = runWithHome(t, home, "clients", "--json")
	var reps []ideconfig.FileReport
	if err := json.Unmarshal([]byte(out), &reps); err != nil || code != 0 {
		t.Fatalf("clients --json: %v\n%s", err, out)
	}
	if len(reps) != 1 || len(reps[0].Entries) != 2 || !reps[0].Entries[0].Protected || !reps[0].Entries[1].Protected {
		t.Errorf("after install, clients --json = %s", out)
	}
	code, out, _ = runWithHome(t, home, "install", "--client", "cursor")
	if code != 0 || !strings.Contains(out, "nothing to do") {
		t.Errorf("second install: %d\n%s", code, out)
	}

	code, out, errOut = runWithHome(t, home, "uninstall", "--client", "cursor")
	if code != 0 || !strings.Contains(out, "github stays behind Airlock") {
		t.Errorf("uninstall: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runWithHome(t, home, "uninstall", "--client", "cursor", "--restore-secrets")
	if code != 0 {
		t.Fatalf("uninstall --restore-secrets: %d\n%s%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(file); string(b) != cursorConfig {
		t.Errorf("not restored byte for byte:\n%s", b)
	}
}

// TestInstallLeavesProjectFiles checks that install does not rewrite a project's MCP
// file (committed for a team, its rewritten entries would work only on this machine)
// unless it is named with --file, and says so either way.
func TestInstallLeavesProjectFiles(t *testing.T) {
	keyring.MockInit()
	t.Setenv("AIRLOCK_HOME", t.TempDir())
	home, project := t.TempDir(), t.TempDir()
	t.Chdir(project)
	write := func(path string) {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(cursorConfig), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	user, shared := filepath.Join(home, ".cursor", "mcp.json"), filepath.Join(project, ".cursor", "mcp.json")
	write(shared)

	// Only the project's file: nothing is written, and the way to include it is shown.
	code, out, errOut := runWithHome(t, home, "install", "--client", "cursor")
	if code != 0 || !strings.Contains(out, shared+": left alone") || !strings.Contains(out, "airlock install --client cursor --file "+shared) {
		t.Fatalf("install with only a project file: %d\n%s%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(shared); string(b) != cursorConfig {
		t.Fatalf("install rewrote the project's file:\n%s", b)
	}

	// The user's file beside it is installed; the project's is still left alone.
	write(user)
	code, out, errOut = runWithHome(t, home, "install", "--client", "cursor")
	if code != 0 || !strings.Contains(out, "github → airlock run github") || !strings.Contains(out, shared+": left alone") {
		t.Fatalf("install: %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(out, "looks like a project's shared MCP file") {
		t.Errorf("the user's own ~/.cursor/mcp.json was taken for a project file:\n%s", out)
	}
	if b, _ := os.ReadFile(user); string(b) == cursorConfig {
		t.Error("the user's file was not installed")
	}
	if b, _ := os.ReadFile(shared); string(b) != cursorConfig {
		t.Fatalf("install rewrote the project's file:\n%s", b)
	}

	// Named with --file, it is installed, with a warning.
	code, out, errOut = runWithHome(t, home, "install", "--client", "cursor", "--file", shared)
	if code != 0 || !strings.Contains(out, "looks like a project's shared MCP file") {
		t.Fatalf("install --file: %d\n%s%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(shared); string(b) == cursorConfig {
		t.Error("install --file left the project's file unchanged")
	}
}

func TestInstallUsage(t *testing.T) {
	t.Setenv("AIRLOCK_HOME", t.TempDir())
	home := t.TempDir()
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"install"}, 2, "missing --client"},
		{[]string{"install", "--client", "emacs"}, 2, `unknown client "emacs"`},
		{[]string{"install", "--client", "cursor"}, 1, "no cursor config found (looked in " + filepath.Join(home, ".cursor", "mcp.json")},
		{[]string{"install", "--client", "cursor", "--file", filepath.Join(home, "nope.json")}, 1, filepath.Join(home, "nope.json")},
		{[]string{"uninstall", "--client", "cursor"}, 1, "no install of cursor recorded"},
	}
	for _, tt := range tests {
		code, _, errOut := runWithHome(t, home, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, errOut, tt.code, tt.want)
		}
	}
}

// TestInstallE2E installs a Claude Desktop config holding the official everything
// server, then drives the rewritten entry with the real MCP Inspector CLI. It needs the
// npm peers (test/peers): set AIRLOCK_PEERS to their node_modules.
func TestInstallE2E(t *testing.T) {
	peers := os.Getenv("AIRLOCK_PEERS")
	if peers == "" || !strings.Contains(filepath.ToSlash(peers), "test/peers/node_modules") {
		t.Skip("set AIRLOCK_PEERS to test/peers/node_modules to run the MCP Inspector")
	}
	everything := filepath.Join(peers, "@modelcontextprotocol", "server-everything", "dist", "index.js")
	inspector := filepath.Join(peers, "@modelcontextprotocol", "inspector", "cli", "build", "cli.js")
	if _, err := os.Stat(inspector); err != nil {
		inspector = filepath.Join(peers, "@modelcontextprotocol", "inspector-cli", "build", "cli.js")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node on PATH")
	}
	airlock := buildAirlock(t)
	airHome, home := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(airHome, "policy.toml"), []byte("[[rules]]\ntool = \"*\"\naction = \"allow\"\nreason = \"e2e\"\n"), 0o600)
	cfgFile := filepath.Join(home, ".config", "Claude", "claude_desktop_config.json")
	os.MkdirAll(filepath.Dir(cfgFile), 0o755)
	orig, _ := json.MarshalIndent(map[string]any{"mcpServers": map[string]any{
		"everything": map[string]any{"command": node, "args": []string{everything}},
	}}, "", "  ")
	os.WriteFile(cfgFile, orig, 0o644)

	env := append(os.Environ(), "HOME="+home, "AIRLOCK_HOME="+airHome, "XDG_CONFIG_HOME=")
	run := func(name string, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s%s", name, args, err, out, stderr.String())
		}
		return out
	}
	run(airlock, "install", "--client", "claude-desktop")
	run(airlock, "trust", "everything")

	var cfg struct {
		MCPServers map[string]struct {
			Command string   `json:"command"`
			Args    []string `json:"args"`
		} `json:"mcpServers"`
	}
	b, _ := os.ReadFile(cfgFile)
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	entry := cfg.MCPServers["everything"]
	if entry.Command != airlock || strings.Join(entry.Args, " ") != "run everything" {
		t.Fatalf("rewritten entry: %+v", entry)
	}
	out := run(node, append(append([]string{inspector, "--cli", entry.Command}, entry.Args...), "--method", "tools/list")...)
	var list struct {
		Tools []struct{ Name string } `json:"tools"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatalf("inspector output: %v\n%s", err, out)
	}
	var names []string
	for _, tl := range list.Tools {
		names = append(names, tl.Name)
	}
	if !strings.Contains(" "+strings.Join(names, " ")+" ", " echo ") {
		t.Errorf("tools through airlock: %v; want echo among them", names)
	}

	run(airlock, "uninstall", "--client", "claude-desktop")
	if b, _ := os.ReadFile(cfgFile); !bytes.Equal(b, orig) {
		t.Errorf("uninstall did not restore the original:\n%s", b)
	}
}
