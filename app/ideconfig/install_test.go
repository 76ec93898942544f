package ideconfig

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/airlock-mcp/airlock/app/config"
)

const cursorFile = `{
  "mcpServers": {
    "everything": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-everything@2026.8.31"]},
    "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github@2025.4.8"], "env": {"GITHUB_TOKEN": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"}}
  }
}
`

const ideAdded = `{
  "mcpServers": {
    "everything": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-everything@2026.8.31"]},
    "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github@2025.4.8"], "env": {"GITHUB_TOKEN": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"}},
    "added-by-ide": {"command": "uvx", "args": ["mcp-server-time==2025.9.25"]}
  }
}
`

// An IDE that writes its file between our read and our write is not clobbered: install
// starts over from what the IDE wrote.
func TestInstallRedoesWhenFileChanges(t *testing.T) {
	e := newEnv(t, Cursor, "mcp.json", []byte(cursorFile))
	calls := 0
	e.in.beforeWrite = func(path string) {
		if calls++; calls == 1 {
			if err := os.WriteFile(path, []byte(ideAdded), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	res, err := e.in.Install(Cursor, e.loc)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("computed %d times, want 2", calls)
	}
	got := e.read(t, e.file)
	if !strings.Contains(got, `"args": ["run", "added-by-ide"]`) || len(res.Rewritten) != 3 {
		t.Errorf("the IDE's server was lost or not installed:\n%s", got)
	}
	if b := e.read(t, res.Backup); b != ideAdded {
		t.Errorf("backup holds %q, want what the IDE wrote", b)
	}
}

// When the file keeps changing, install gives up with a clear error and leaves no
// trace: no servers.json entries, no keyring entries, no backup, the IDE's bytes kept.
func TestInstallAbortsWhenFileKeepsChanging(t *testing.T) {
	e := newEnv(t, Cursor, "mcp.json", []byte(cursorFile))
	n := 0
	var last string
	e.in.beforeWrite = func(path string) {
		n++
		last = strings.Replace(ideAdded, "2025.9.25", "2025.9."+string(rune('0'+n)), 1)
		if err := os.WriteFile(path, []byte(last), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.in.Install(Cursor, e.loc)
	if err == nil || !strings.Contains(err.Error(), e.file) || !strings.Contains(err.Error(), "keeps changing") {
		t.Fatalf("err = %v, want one naming %s that says it keeps changing", err, e.file)
	}
	if got := e.read(t, e.file); got != last {
		t.Errorf("the IDE's last write was clobbered:\n%s", got)
	}
	if s, _ := config.LoadServers(config.ServersPath(e.home)); len(s.MCPServers) != 0 {
		t.Errorf("servers.json kept %v", s.Names())
	}
	if names := e.keyringNames(t); names != "" {
		t.Errorf("keyring kept %q", names)
	}
	if m, _ := filepath.Glob(e.file + ".airlock-backup*"); len(m) != 0 {
		t.Errorf("backups left: %v", m)
	}
}

// Invalid files are reported with file:line and nothing is written.
func TestInstallInvalidFile(t *testing.T) {
	tests := []struct {
		name, file, content, want string
	}{
		{"syntax", "mcp.json", "{\n  \"mcpServers\": {\n    \"x\": {\"command\": \"npx\",,}\n  }\n}\n", "mcp.json:3:"},
		{"not an object", "mcp.json", "[1, 2]\n", "mcp.json:1: the top level should be a JSON object"},
		{"servers not an object", "mcp.json", "{\n  \"mcpServers\": []\n}\n", `mcp.json:2: "mcpServers" should be an object`},
		{"vscode", "settings.json", "{\n  // c\n  \"mcp\": {\"servers\": {\"a\": {\"command\": \"x\"}}\n", "settings.json:4:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := Cursor
			if tt.file == "settings.json" {
				client = VSCode
			}
			e := newEnv(t, client, tt.file, []byte(tt.content))
			_, err := e.in.Install(client, e.loc)
			if err == nil || !strings.Contains(err.Error(), filepath.Join(e.dir, tt.want)) {
				t.Fatalf("err = %v, want it to contain %q", err, filepath.Join(e.dir, tt.want))
			}
			if got := e.read(t, e.file); got != tt.content {
				t.Error("the file was changed")
			}
			if _, err := os.Stat(e.home + "/servers.json"); !errors.Is(err, fs.ErrNotExist) {
				t.Error("servers.json written")
			}
			if m, _ := filepath.Glob(e.file + ".airlock-backup*"); len(m) != 0 {
				t.Errorf("backups written: %v", m)
			}
		})
	}
}

func TestInstallUnreadable(t *testing.T) {
	e := newEnv(t, Cursor, "mcp.json", nil)
	if err := os.Mkdir(e.file, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := e.in.Install(Cursor, e.loc)
	if err == nil || !strings.Contains(err.Error(), e.file) {
		t.Fatalf("err = %v, want it to name %s", err, e.file)
	}
	e = newEnv(t, Cursor, "missing.json", nil)
	if _, err := e.in.Install(Cursor, e.loc); err == nil || !strings.Contains(err.Error(), e.file) {
		t.Fatalf("err = %v, want it to name %s", err, e.file)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	e := newEnv(t, Cursor, "mcp.json", []byte(cursorFile))
	e.in.DryRun = true
	res, err := e.in.Install(Cursor, e.loc)
	if err != nil {
		t.Fatal(err)
	}
	if e.read(t, e.file) != cursorFile || e.keyringNames(t) != "" || len(res.Rewritten) != 2 {
		t.Error("dry run changed something")
	}
	if _, err := os.Stat(e.home + "/servers.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Error("servers.json written")
	}
	if strings.Contains(e.out.String(), "ghp_") || !strings.Contains(e.out.String(), "+++ ") {
		t.Errorf("diff shows a credential or is missing:\n%s", e.out)
	}
}

// When the IDE changed the file after install, uninstall puts the original entries back
// into the current file (keeping the IDE's change) and says so.
func TestUninstallAfterIDEChange(t *testing.T) {
	e := newEnv(t, Cursor, "mcp.json", []byte(cursorFile))
	if _, err := e.in.Install(Cursor, e.loc); err != nil {
		t.Fatal(err)
	}
	cur := e.read(t, e.file)
	changed := strings.Replace(cur, "  }\n}\n", "  },\n  \"theme\": \"dark\"\n}\n", 1)
	if changed == cur {
		t.Fatal("test setup: no change")
	}
	os.WriteFile(e.file, []byte(changed), 0o644)
	res, err := e.in.Uninstall(Cursor, e.loc, true)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(cursorFile, "  }\n}\n", "  },\n  \"theme\": \"dark\"\n}\n", 1)
	if diff := cmp.Diff(want, e.read(t, e.file)); diff != "" {
		t.Errorf("restored (-want +got):\n%s", diff)
	}
	if res.Exact || !strings.Contains(strings.Join(res.Notes, "\n"), "changed since install") {
		t.Errorf("notes %q, want one saying the file changed", res.Notes)
	}
}

// Two installs on one file (the IDE added a server in between) undo in reverse: the
// result is the original plus the IDE's server, as the IDE wrote it.
func TestInstallTwiceWithIDEChangeBetween(t *testing.T) {
	e := newEnv(t, Cursor, "mcp.json", []byte(cursorFile))
	if _, err := e.in.Install(Cursor, e.loc); err != nil {
		t.Fatal(err)
	}
	cur := e.read(t, e.file)
	mid := strings.Replace(cur, "\n  }\n}\n", ",\n    \"time\": {\"command\": \"uvx\", \"args\": [\"mcp-server-time==2025.9.25\"]}\n  }\n}\n", 1)
	os.WriteFile(e.file, []byte(mid), 0o644)
	res, err := e.in.Install(Cursor, e.loc)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rewritten) != 1 || !strings.HasSuffix(res.Backup, ".airlock-backup.2") {
		t.Fatalf("second install: %+v", res)
	}
	if _, err := e.in.Uninstall(Cursor, e.loc, true); err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(cursorFile, "\n  }\n}\n", ",\n    \"time\": {\"command\": \"uvx\", \"args\": [\"mcp-server-time==2025.9.25\"]}\n  }\n}\n", 1)
	if diff := cmp.Diff(want, e.read(t, e.file)); diff != "" {
		t.Errorf("restored (-want +got):\n%s", diff)
	}
	if s, _ := config.LoadServers(config.ServersPath(e.home)); len(s.MCPServers) != 0 {
		t.Errorf("servers.json kept %v", s.Names())
	}
	if e.keyringNames(t) != "" {
		t.Errorf("keyring kept %q", e.keyringNames(t))
	}
}

// The same server in two IDEs is defined once; a different one under the same name gets
// the client's suffix, and servers.json never loses a definition.
func TestNameCollisions(t *testing.T) {
	e := newEnv(t, Cursor, "mcp.json", []byte(cursorFile))
	if _, err := e.in.Install(Cursor, e.loc); err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(cursorFile, "server-everything@2026.8.31", "server-everything@2026.1.1", 1)
	file2 := filepath.Join(e.dir, "windsurf.json")
	os.WriteFile(file2, []byte(other), 0o644)
	res, err := e.in.Install(Windsurf, Location{Client: Windsurf, Path: file2, Format: FormatMCPServers})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range res.Rewritten {
		got[r.Name] = r.Server
	}
	if diff := cmp.Diff(map[string]string{"everything": "everything-windsurf", "github": "github"}, got); diff != "" {
		t.Errorf("servers (-want +got):\n%s", diff)
	}
	s, _ := config.LoadServers(config.ServersPath(e.home))
	if diff := cmp.Diff([]string{"everything", "everything-windsurf", "github"}, s.Names()); diff != "" {
		t.Errorf("servers.json (-want +got):\n%s", diff)
	}
	// Undoing one client keeps what the other still uses.
	if _, err := e.in.Uninstall(Windsurf, Location{Client: Windsurf, Path: file2, Format: FormatMCPServers}, true); err != nil {
		t.Fatal(err)
	}
	s, _ = config.LoadServers(config.ServersPath(e.home))
	if diff := cmp.Diff([]string{"everything", "github"}, s.Names()); diff != "" {
		t.Errorf("servers.json after uninstalling windsurf (-want +got):\n%s", diff)
	}
	if e.read(t, file2) != other || e.keyringNames(t) != "github.GITHUB_TOKEN\n" {
		t.Errorf("windsurf not restored, or the shared credential was deleted (%q)", e.keyringNames(t))
	}
}

func TestLocations(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		p    Platform
		want map[Client][]string
	}{
		{Platform{GOOS: "linux", Home: "/home/me", Cwd: "/src/p"}, map[Client][]string{
			ClaudeDesktop: {"/home/me/.config/Claude/claude_desktop_config.json"},
			ClaudeCode:    {"/home/me/.claude.json", "/src/p/.mcp.json"},
			Cursor:        {"/home/me/.cursor/mcp.json", "/src/p/.cursor/mcp.json"},
			VSCode:        {"/home/me/.config/Code/User/mcp.json", "/home/me/.config/Code/User/settings.json", "/src/p/.vscode/mcp.json"},
			Windsurf:      {"/home/me/.codeium/windsurf/mcp_config.json"},
		}},
		{Platform{GOOS: "linux", Home: "/home/me", Getenv: env(map[string]string{"XDG_CONFIG_HOME": "/xdg"})}, map[Client][]string{
			ClaudeDesktop: {"/xdg/Claude/claude_desktop_config.json"},
			ClaudeCode:    {"/home/me/.claude.json"},
			Cursor:        {"/home/me/.cursor/mcp.json"},
			VSCode:        {"/xdg/Code/User/mcp.json", "/xdg/Code/User/settings.json"},
			Windsurf:      {"/home/me/.codeium/windsurf/mcp_config.json"},
		}},
		{Platform{GOOS: "darwin", Home: "/Users/me"}, map[Client][]string{
			ClaudeDesktop: {"/Users/me/Library/Application Support/Claude/claude_desktop_config.json"},
			ClaudeCode:    {"/Users/me/.claude.json"},
			Cursor:        {"/Users/me/.cursor/mcp.json"},
			VSCode:        {"/Users/me/Library/Application Support/Code/User/mcp.json", "/Users/me/Library/Application Support/Code/User/settings.json"},
			Windsurf:      {"/Users/me/.codeium/windsurf/mcp_config.json"},
		}},
		{Platform{GOOS: "windows", Home: `C:\Users\me`, Cwd: `D:\src\p`, Getenv: env(map[string]string{"APPDATA": `C:\Users\me\AppData\Roaming`})}, map[Client][]string{
			ClaudeDesktop: {`C:\Users\me\AppData\Roaming\Claude\claude_desktop_config.json`},
			ClaudeCode:    {`C:\Users\me\.claude.json`, `D:\src\p\.mcp.json`},
			Cursor:        {`C:\Users\me\.cursor\mcp.json`, `D:\src\p\.cursor\mcp.json`},
			VSCode:        {`C:\Users\me\AppData\Roaming\Code\User\mcp.json`, `C:\Users\me\AppData\Roaming\Code\User\settings.json`, `D:\src\p\.vscode\mcp.json`},
			Windsurf:      {`C:\Users\me\.codeium\windsurf\mcp_config.json`},
		}},
	}
	for _, tt := range tests {
		got := map[Client][]string{}
		for _, l := range tt.p.Locations() {
			got[l.Client] = append(got[l.Client], l.Path)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.p.GOOS, diff)
		}
	}
}

func TestSplitCommand(t *testing.T) {
	tests := []struct {
		in      string
		windows bool
		want    []string
	}{
		{"npx -y pkg", false, []string{"npx", "-y", "pkg"}},
		{`npx -y 'a b' "c \"d\"" e\ f`, false, []string{"npx", "-y", "a b", `c "d"`, "e f"}},
		{`C:\Program Files\nodejs\npx.cmd -y pkg C:\data`, true, []string{`C:\Program Files\nodejs\npx.cmd`, "-y", "pkg", `C:\data`}},
		{`"C:\Program Files\node.exe" C:\srv\index.js`, true, []string{`C:\Program Files\node.exe`, `C:\srv\index.js`}},
		{`uvx mcp-server-time`, true, []string{"uvx", "mcp-server-time"}},
	}
	for _, tt := range tests {
		got, err := splitCommand(tt.in, tt.windows)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.in, diff)
		}
	}
	if _, err := splitCommand(`npx 'unterminated`, false); err == nil {
		t.Error("unterminated quote: no error")
	}
}

func TestScanReportsProtection(t *testing.T) {
	home := t.TempDir()
	p := Platform{GOOS: "linux", Home: home}
	os.MkdirAll(filepath.Join(home, ".cursor"), 0o755)
	os.WriteFile(filepath.Join(home, ".cursor", "mcp.json"), []byte(`{"mcpServers": {
		"a": {"command": "/opt/bin/airlock", "args": ["run", "a"]},
		"b": {"command": "npx", "args": ["pkg"]},
		"c": {"url": "http://127.0.0.1:7777/mcp/c"},
		"d": {"type": "sse", "url": "https://x.example/sse"}}}`), 0o644)
	os.WriteFile(filepath.Join(home, ".claude.json"), []byte(`{"mcpServers": {,}}`), 0o644)
	reps := Scan(p)
	if len(reps) != 2 {
		t.Fatalf("%d reports, want 2: %+v", len(reps), reps)
	}
	if !strings.Contains(reps[0].Error, ".claude.json:1:") {
		t.Errorf("claude error %q", reps[0].Error)
	}
	got := map[string]string{}
	for _, e := range reps[1].Entries {
		got[e.Name] = string(e.Transport) + " " + e.Via
	}
	want := map[string]string{"a": "stdio airlock run a", "b": "stdio ", "c": "http airlock serve (http://127.0.0.1:7777/mcp/c)", "d": "sse "}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// Installing a project's MCP file (as the app's Clients view can) says that its entries
// now work only where servers.json defines them; a user's file gets no such note.
func TestInstallNotesSharedFile(t *testing.T) {
	for _, scope := range []string{"user", "project"} {
		e := newEnv(t, Cursor, "mcp.json", []byte(cursorFile))
		e.in.DryRun = true
		loc := e.loc
		loc.Scope = scope
		res, err := e.in.Install(Cursor, loc)
		if err != nil {
			t.Fatal(err)
		}
		noted := strings.Contains(strings.Join(res.Notes, "\n"), SharedFileNote)
		if noted != (scope == "project") {
			t.Errorf("scope %s: notes %q", scope, res.Notes)
		}
	}
}
