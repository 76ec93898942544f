// Package ideconfig finds the MCP configuration files of IDEs and puts their servers
// behind Airlock (and back), editing the files in place without losing comments or fields.
package ideconfig

import (
	"fmt"
	"path"
	"strings"
)

// Client names an IDE (or agent) whose MCP configuration Airlock knows how to edit.
type Client string

// The clients Airlock knows.
const (
	ClaudeDesktop Client = "claude-desktop"
	ClaudeCode    Client = "claude-code"
	Cursor        Client = "cursor"
	VSCode        Client = "vscode"
	Windsurf      Client = "windsurf"
)

// Clients lists every known client, in the order `airlock clients` shows them.
var Clients = []Client{ClaudeDesktop, ClaudeCode, Cursor, VSCode, Windsurf}

// ParseClient returns the client named s, accepting a few common spellings.
func ParseClient(s string) (Client, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "claude-desktop", "claude_desktop", "claudedesktop", "claude":
		return ClaudeDesktop, nil
	case "claude-code", "claude_code", "claudecode":
		return ClaudeCode, nil
	case "cursor":
		return Cursor, nil
	case "vscode", "vs-code", "code":
		return VSCode, nil
	case "windsurf":
		return Windsurf, nil
	}
	names := make([]string, len(Clients))
	for i, c := range Clients {
		names[i] = string(c)
	}
	return "", fmt.Errorf("unknown client %q (want one of %s)", s, strings.Join(names, ", "))
}

// Format is the layout of a configuration file: where its server entries are.
type Format string

// The formats.
const (
	// FormatMCPServers has the servers under a top-level "mcpServers" object
	// (Claude Desktop, Cursor, Windsurf, a project's .mcp.json).
	FormatMCPServers Format = "mcpServers"
	// FormatClaudeCode is ~/.claude.json: "mcpServers" at the top and under each
	// "projects"."<dir>".
	FormatClaudeCode Format = "claude-code"
	// FormatVSCode is VS Code's mcp.json: "servers" (and "inputs") at the top.
	FormatVSCode Format = "vscode"
	// FormatVSCodeSettings is VS Code's settings.json: "mcp": {"servers", "inputs"}.
	FormatVSCodeSettings Format = "vscode-settings"
)

// Location is one configuration file a client may read.
type Location struct {
	Client Client `json:"client"`
	// Scope is "user" or "project".
	Scope  string `json:"scope"`
	Path   string `json:"path"`
	Format Format `json:"format"`
}

// Platform is where to look: the operating system and the directories the paths derive
// from. Tests fill it in; Current reads the real one.
type Platform struct {
	// GOOS is "linux", "darwin", "windows", … as in runtime.GOOS.
	GOOS string
	// Home is the user's home directory.
	Home string
	// Getenv reads APPDATA and XDG_CONFIG_HOME; nil reads nothing.
	Getenv func(string) string
	// Cwd is the current directory, for project-scoped files; "" skips them.
	Cwd string
}

func (p Platform) getenv(k string) string {
	if p.Getenv == nil {
		return ""
	}
	return p.Getenv(k)
}

// Join joins path elements with the separator of p.GOOS, so that Windows paths can be
// computed (and tested) on any system.
func (p Platform) Join(elem ...string) string {
	if p.GOOS != "windows" {
		return path.Join(elem...)
	}
	var parts []string
	for i, e := range elem {
		e = strings.ReplaceAll(e, "/", `\`)
		if i > 0 {
			e = strings.TrimLeft(e, `\`)
		}
		if i < len(elem)-1 {
			e = strings.TrimRight(e, `\`)
		}
		if e != "" {
			parts = append(parts, e)
		}
	}
	return strings.Join(parts, `\`)
}

// configDir is the per-user application config directory: ~/.config (or
// $XDG_CONFIG_HOME), ~/Library/Application Support, or %APPDATA%.
func (p Platform) configDir() string {
	switch p.GOOS {
	case "darwin":
		return p.Join(p.Home, "Library", "Application Support")
	case "windows":
		if d := p.getenv("APPDATA"); d != "" {
			return d
		}
		return p.Join(p.Home, "AppData", "Roaming")
	}
	if d := p.getenv("XDG_CONFIG_HOME"); d != "" && strings.HasPrefix(d, "/") {
		return d
	}
	return p.Join(p.Home, ".config")
}

// Locations returns every file the clients may read on p, user files first. Whether
// each exists is not checked.
func (p Platform) Locations() []Location {
	var out []Location
	add := func(c Client, scope string, f Format, elem ...string) {
		out = append(out, Location{Client: c, Scope: scope, Path: p.Join(elem...), Format: f})
	}
	cfg := p.configDir()
	add(ClaudeDesktop, "user", FormatMCPServers, cfg, "Claude", "claude_desktop_config.json")
	add(ClaudeCode, "user", FormatClaudeCode, p.Home, ".claude.json")
	if p.Cwd != "" {
		add(ClaudeCode, "project", FormatMCPServers, p.Cwd, ".mcp.json")
	}
	add(Cursor, "user", FormatMCPServers, p.Home, ".cursor", "mcp.json")
	if p.Cwd != "" {
		add(Cursor, "project", FormatMCPServers, p.Cwd, ".cursor", "mcp.json")
	}
	add(VSCode, "user", FormatVSCode, cfg, "Code", "User", "mcp.json")
	add(VSCode, "user", FormatVSCodeSettings, cfg, "Code", "User", "settings.json")
	if p.Cwd != "" {
		add(VSCode, "project", FormatVSCode, p.Cwd, ".vscode", "mcp.json")
	}
	add(Windsurf, "user", FormatMCPServers, p.Home, ".codeium", "windsurf", "mcp_config.json")
	return out
}

// LocationsFor returns the locations of client c on p.
func (p Platform) LocationsFor(c Client) []Location {
	var out []Location
	for _, l := range p.Locations() {
		if l.Client == c {
			out = append(out, l)
		}
	}
	return out
}

// FormatFor guesses the format of a file given with --file for client c.
func FormatFor(c Client, file string) Format {
	base := file[strings.LastIndexAny(file, `/\`)+1:]
	switch {
	case c == VSCode && base == "settings.json":
		return FormatVSCodeSettings
	case c == VSCode:
		return FormatVSCode
	case c == ClaudeCode && base == ".claude.json":
		return FormatClaudeCode
	}
	return FormatMCPServers
}

// ProjectFileNames returns the project-scoped MCP settings files, relative to a project
// (".mcp.json", ".cursor/mcp.json", ...), with forward slashes.
func ProjectFileNames() []string {
	const cwd = "/\x00project"
	var out []string
	for _, l := range (Platform{GOOS: "linux", Home: "/\x00home", Cwd: cwd}).Locations() {
		if l.Scope == "project" {
			out = append(out, strings.TrimPrefix(l.Path, cwd+"/"))
		}
	}
	return out
}
