package desktop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const clientToken = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"

// A Cursor file with a server holding a plaintext token, and one install leaves alone.
const cursorMCP = `{
  // Cursor's MCP servers
  "mcpServers": {
    "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github@2025.4.8"], "env": {"GITHUB_TOKEN": "` + clientToken + `"}},
    "local": {"command": "node", "args": ["${workspaceFolder}/server.js"]}
  }
}
`

// clientsEnv points the IDE locations at a temporary home (and the project scope at an
// empty directory) and writes ~/.cursor/mcp.json; it returns the file's path.
func clientsEnv(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	for _, k := range []string{"HOME", "USERPROFILE"} {
		t.Setenv(k, home)
	}
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("APPDATA", filepath.Join(home, "AppData", "Roaming"))
	t.Chdir(t.TempDir())
	file := filepath.Join(home, ".cursor", "mcp.json")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(cursorMCP), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestClientsProtectRestore(t *testing.T) {
	file := clientsEnv(t)
	a, _ := newTestApp(t)
	serversJSON := a.paths.servers

	localProblem := "its args use ${…} variables that only the IDE expands; left as is"
	files, err := a.Clients()
	if err != nil {
		t.Fatal(err)
	}
	want := []ClientFile{{
		Client: "cursor", IDE: "Cursor", Scope: "user", Path: file,
		Entries: []ClientEntry{
			{Name: "github", Transport: "stdio"},
			{Name: "local", Transport: "stdio", Problem: localProblem},
		},
	}}
	if diff := cmp.Diff(want, files); diff != "" {
		t.Fatalf("Clients before (-want +got):\n%s", diff)
	}

	// The preview shows the change, hides the token, and writes nothing.
	preview, err := a.PreviewProtect("cursor", file)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"--- " + file, "+++ " + file, `-    "github"`, `"args": ["run", "github"]`, "would add to servers.json", "${keyring:github.GITHUB_TOKEN}"} {
		if !strings.Contains(preview, s) {
			t.Errorf("preview lacks %q:\n%s", s, preview)
		}
	}
	if strings.Contains(preview, clientToken) {
		t.Errorf("preview shows the token:\n%s", preview)
	}
	if got := readFile(t, file); got != cursorMCP {
		t.Errorf("the preview changed the file:\n%s", got)
	}
	for _, p := range []string{serversJSON, filepath.Join(a.paths.home, "installs.json"), file + ".airlock-backup"} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("the preview wrote %s", p)
		}
	}
	if _, err := a.secrets.Get("github.GITHUB_TOKEN"); err == nil {
		t.Error("the preview stored the token")
	}

	res, err := a.Protect("cursor", file)
	if err != nil {
		t.Fatal(err)
	}
	wantChanged := []ClientChange{{Name: "github", Server: "github", AddedServer: true, Secrets: []string{"github.GITHUB_TOKEN"}}}
	if diff := cmp.Diff(wantChanged, res.Changed); diff != "" {
		t.Errorf("Protect changed (-want +got):\n%s", diff)
	}
	if len(res.Skipped) != 1 || res.Skipped[0].Name != "local" || res.Skipped[0].Problem != localProblem {
		t.Errorf("Protect skipped %+v", res.Skipped)
	}
	if res.Backup != file+".airlock-backup" || readFile(t, res.Backup) != cursorMCP {
		t.Errorf("backup %q", res.Backup)
	}
	if res.Restart != "Restart Cursor to apply the change." || res.IDE != "Cursor" || res.File != file {
		t.Errorf("Protect = %+v", res)
	}
	exe := airlockPaths()[0]
	got := readFile(t, file)
	if !strings.Contains(got, `"command": "`+exe+`"`) || !strings.Contains(got, `"args": ["run", "github"]`) || strings.Contains(got, clientToken) {
		t.Errorf("protected file:\n%s", got)
	}
	if v, err := a.secrets.Get("github.GITHUB_TOKEN"); err != nil || v != clientToken {
		t.Errorf("keyring holds %q, %v", v, err)
	}
	if s := readFile(t, serversJSON); !strings.Contains(s, "${keyring:github.GITHUB_TOKEN}") || strings.Contains(s, clientToken) {
		t.Errorf("servers.json:\n%s", s)
	}

	files, err = a.Clients()
	if err != nil {
		t.Fatal(err)
	}
	want[0].Installed = true
	want[0].Entries[0].Protected, want[0].Entries[0].Via = true, "airlock run github"
	if diff := cmp.Diff(want, files); diff != "" {
		t.Fatalf("Clients after Protect (-want +got):\n%s", diff)
	}
	if p, err := a.PreviewProtect("cursor", file); err != nil || !strings.Contains(p, "nothing to do") {
		t.Errorf("second preview = %q, %v", p, err)
	}

	// Restore keeps the server whose token is in the keyring behind Airlock.
	res, err = a.Restore("cursor", file)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changed) != 0 || res.Restart != "" || res.Exact || len(res.Kept) != 1 || res.Kept[0].Server != "github" {
		t.Errorf("Restore = %+v", res)
	}
	if len(res.Notes) != 0 {
		t.Errorf("Restore notes %q, want none (Kept says it)", res.Notes)
	}
	if readFile(t, file) != got {
		t.Error("Restore changed the file")
	}
	if files, _ := a.Clients(); len(files) != 1 || !files[0].Installed {
		t.Errorf("after Restore: %+v", files)
	}

	// With the credentials, the original bytes come back and the keyring forgets them.
	res, err = a.RestoreWithSecrets("cursor", file)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Exact || len(res.Changed) != 1 || res.Changed[0].Name != "github" || len(res.Kept) != 0 || res.Restart != "Restart Cursor to apply the change." {
		t.Errorf("RestoreWithSecrets = %+v", res)
	}
	if got := readFile(t, file); got != cursorMCP {
		t.Errorf("restored file differs:\n%s", got)
	}
	if _, err := a.secrets.Get("github.GITHUB_TOKEN"); err == nil {
		t.Error("the keyring kept the token")
	}
	want[0].Installed = false
	want[0].Entries[0].Protected, want[0].Entries[0].Via = false, ""
	if files, err := a.Clients(); err != nil || !cmp.Equal(want, files) {
		t.Errorf("Clients after restoring = %+v, %v", files, err)
	}
	if _, err := a.Restore("cursor", file); err == nil || !strings.Contains(err.Error(), "no install") {
		t.Errorf("Restore of a restored file = %v", err)
	}
}

// The window edits only the files Clients lists, for their own client.
func TestClientsRefuseUnlistedPaths(t *testing.T) {
	file := clientsEnv(t)
	a, _ := newTestApp(t)
	other := filepath.Join(t.TempDir(), "mcp.json")
	if err := os.WriteFile(other, []byte(cursorMCP), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ client, path, want string }{
		{"cursor", other, "not a Cursor config file"},
		{"cursor", filepath.Join(filepath.Dir(file), ".", "mcp.json") + "/", "not a Cursor config file"},
		{"vscode", file, "not a VS Code config file"},
		{"notepad", file, "unknown client"},
	} {
		if _, err := a.Protect(tc.client, tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Protect(%q, %q) = %v, want %q", tc.client, tc.path, err, tc.want)
		}
		if _, err := a.PreviewProtect(tc.client, tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("PreviewProtect(%q, %q) = %v, want %q", tc.client, tc.path, err, tc.want)
		}
	}
	if _, err := a.Restore("cursor", file); err == nil || !strings.Contains(err.Error(), "no install of Cursor recorded") {
		t.Errorf("Restore of a file never protected = %v", err)
	}
	for _, p := range []string{file, other} {
		if readFile(t, p) != cursorMCP {
			t.Errorf("%s was changed", p)
		}
	}
	if _, err := os.Stat(a.paths.servers); !os.IsNotExist(err) {
		t.Error("servers.json written")
	}
}

// A file installed from elsewhere (airlock install --file) is listed from installs.json
// so that it can be restored; the project scope equal to home is not listed twice.
func TestClientsListsRecordedFiles(t *testing.T) {
	file := clientsEnv(t)
	a, _ := newTestApp(t)
	t.Chdir(os.Getenv("HOME"))
	files, err := a.Clients()
	if err != nil || len(files) != 1 || files[0].Scope != "user" {
		t.Fatalf("Clients from home = %+v, %v", files, err)
	}
	if _, err := a.Protect("cursor", file); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", t.TempDir())
	t.Setenv("USERPROFILE", os.Getenv("HOME"))
	t.Chdir(t.TempDir())
	files, err = a.Clients()
	if err != nil || len(files) != 1 || files[0].Scope != "file" || files[0].Path != file || !files[0].Installed || !files[0].Entries[0].Protected {
		t.Fatalf("Clients with another home = %+v, %v", files, err)
	}
	if res, err := a.RestoreWithSecrets("cursor", file); err != nil || !res.Exact {
		t.Fatalf("RestoreWithSecrets = %+v, %v", res, err)
	}
	if readFile(t, file) != cursorMCP {
		t.Error("not restored")
	}
	if files, _ := a.Clients(); len(files) != 0 {
		t.Errorf("after restoring: %+v", files)
	}
}
