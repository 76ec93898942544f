package desktop

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/airlock-mcp/airlock/app/ideconfig"
)

// The Clients view: the IDE config files Airlock knows (as `airlock clients` lists them),
// and protecting or restoring one file (as `airlock install` / `airlock uninstall` with
// --file do).

// clientsMu serialises the window's edits of IDE files, servers.json and installs.json
// (an ideconfig.Installer is not safe for concurrent use).
var clientsMu sync.Mutex

// ClientEntry is one MCP server entry of an IDE config file.
type ClientEntry struct {
	Name string `json:"name"`
	// Project is the project directory of a Claude Code project-scoped entry, else "".
	Project   string `json:"project"`
	Transport string `json:"transport"` // "stdio", "http", "sse" or ""
	// Protected reports whether the entry already goes through Airlock; Via says how
	// ("airlock run github").
	Protected bool   `json:"protected"`
	Via       string `json:"via"`
	// Problem says why Protect leaves the entry alone ("" when it would protect it).
	Problem string `json:"problem"`
}

// ClientFile is one IDE config file and its servers.
type ClientFile struct {
	Client string `json:"client"` // claude-desktop, claude-code, cursor, vscode, windsurf
	IDE    string `json:"ide"`    // the IDE's name for people: "Claude Desktop", "VS Code", …
	// Scope is "user", "project" (the app's working directory) or "file" (a file
	// installs.json records outside those places).
	Scope string `json:"scope"`
	Path  string `json:"path"`
	// Error says why the file could not be read or parsed; Entries is then empty.
	Error   string        `json:"error"`
	Entries []ClientEntry `json:"entries"`
	// Installed reports that an install of this file is recorded in installs.json, so
	// Restore can undo it.
	Installed bool `json:"installed"`
}

// ClientChange is one entry Protect pointed at Airlock, or Restore put back (or kept).
type ClientChange struct {
	Name    string `json:"name"`
	Project string `json:"project"`
	// Server is the servers.json name: the IDE now runs `airlock run Server`.
	Server string `json:"server"`
	// AddedServer reports whether Server was added to servers.json (rather than found
	// there with the same definition).
	AddedServer bool `json:"addedServer"`
	// Secrets are the keyring names the entry's credentials were moved to.
	Secrets []string `json:"secrets"`
}

// ClientResult says what Protect or Restore did to one file.
type ClientResult struct {
	Client string `json:"client"`
	IDE    string `json:"ide"`
	File   string `json:"file"`
	// Changed are the entries now behind Airlock (Protect) or put back (Restore).
	Changed []ClientChange `json:"changed"`
	// Skipped are the entries Protect left alone: already protected, or a problem.
	Skipped []ClientEntry `json:"skipped"`
	// Kept are the entries Restore left behind Airlock because their credentials are in
	// the keyring (RestoreWithSecrets puts them back in plaintext).
	Kept []ClientChange `json:"kept"`
	// Backup is the copy of the original file Protect made.
	Backup string `json:"backup"`
	// Exact reports that Restore wrote back the original bytes.
	Exact bool     `json:"exact"`
	Notes []string `json:"notes"`
	// Restart is a sentence asking to restart the IDE, "" when the file did not change.
	Restart string `json:"restart"`
}

// ideNames are the clients' names for people.
var ideNames = map[ideconfig.Client]string{
	ideconfig.ClaudeDesktop: "Claude Desktop",
	ideconfig.ClaudeCode:    "Claude Code",
	ideconfig.Cursor:        "Cursor",
	ideconfig.VSCode:        "VS Code",
	ideconfig.Windsurf:      "Windsurf",
}

func ideName(c ideconfig.Client) string {
	if n, ok := ideNames[c]; ok {
		return n
	}
	return string(c)
}

func restartHint(c ideconfig.Client) string {
	if c == ideconfig.ClaudeCode {
		return "Restart Claude Code (start a new session) to apply the change."
	}
	return "Restart " + ideName(c) + " to apply the change."
}

// clientPlatform is where the IDE files are: the user's home, the environment, and the
// app's working directory for project-scoped files (as the command line does).
func clientPlatform() ideconfig.Platform { return ideconfig.CurrentPlatform(os.Getenv) }

// airlockPaths returns the path of this executable, links resolved (the one written
// into IDE files), then as started if that differs: entries running either count as
// protected.
func airlockPaths() []string {
	exe, err := os.Executable()
	if err != nil || exe == "" {
		return nil
	}
	out := []string{exe}
	if r, err := filepath.EvalSymlinks(exe); err == nil && r != exe {
		out = []string{r, exe}
	}
	return out
}

// realPath follows symbolic links as ideconfig does, so that a file compares equal to
// what installs.json records.
func realPath(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

// knownFiles returns the IDE files the window shows and may edit: those the platform's
// locations hold, then those installs.json records elsewhere; and the records.
func (a *App) knownFiles() ([]ideconfig.FileReport, *ideconfig.Records, error) {
	recs, err := ideconfig.LoadRecords(a.paths.home)
	if err != nil {
		return nil, nil, err
	}
	exe := airlockPaths()
	seen := map[string]bool{}
	var out []ideconfig.FileReport
	for _, r := range ideconfig.Scan(clientPlatform(), exe...) {
		// Started in the home directory, a project file is the user file.
		if rp := realPath(r.Path); !seen[rp] {
			seen[rp] = true
			out = append(out, r)
		}
	}
	for _, in := range recs.Installs {
		if seen[in.File] {
			continue
		}
		seen[in.File] = true
		loc := ideconfig.Location{Client: in.Client, Scope: "file", Path: in.File, Format: in.Format}
		if r, ok := ideconfig.ScanLocation(loc, exe...); ok {
			out = append(out, r)
		}
	}
	return out, recs, nil
}

// recorded reports whether installs.json records an install of client c on file.
func recorded(recs *ideconfig.Records, c ideconfig.Client, file string) bool {
	for _, in := range recs.Installs {
		if in.Client == c && in.File == file {
			return true
		}
	}
	return false
}

// Clients lists the IDE config files that exist, user files first, with their servers
// and whether each goes through Airlock.
func (a *App) Clients() ([]ClientFile, error) {
	clientsMu.Lock()
	defer clientsMu.Unlock()
	reports, recs, err := a.knownFiles()
	if err != nil {
		return nil, err
	}
	out := make([]ClientFile, 0, len(reports))
	for _, r := range reports {
		f := ClientFile{
			Client: string(r.Client), IDE: ideName(r.Client), Scope: r.Scope, Path: r.Path, Error: r.Error,
			Entries: make([]ClientEntry, 0, len(r.Entries)), Installed: recorded(recs, r.Client, realPath(r.Path)),
		}
		problems := a.plannedProblems(r)
		for _, e := range r.Entries {
			ce := clientEntry(e)
			if ce.Problem == "" && !ce.Protected {
				ce.Problem = problems[e.Pointer]
			}
			f.Entries = append(f.Entries, ce)
		}
		out = append(out, f)
	}
	return out, nil
}

// plannedProblems returns, by JSON pointer, why Protect would leave entries of the file
// alone that a plain scan cannot tell (variables only the IDE expands, no free name in
// servers.json, …): it plans the install without writing anything. It returns nil
// when that plan fails; Protect then says why.
func (a *App) plannedProblems(r ideconfig.FileReport) map[string]string {
	if r.Error != "" {
		return nil
	}
	todo := false
	for _, e := range r.Entries {
		todo = todo || !e.Protected && e.Problem == ""
	}
	if !todo {
		return nil
	}
	in, _, err := a.installer(true)
	if err != nil {
		return nil
	}
	res, err := in.Install(r.Client, r.Location)
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, e := range res.Skipped {
		if e.Problem != "" {
			out[e.Pointer] = e.Problem
		}
	}
	return out
}

func clientEntry(e ideconfig.Entry) ClientEntry {
	return ClientEntry{Name: e.Name, Project: e.Project, Transport: string(e.Transport), Protected: e.Protected, Via: e.Via, Problem: e.Problem}
}

func clientChange(r ideconfig.Rewrite) ClientChange {
	s := r.Secrets
	if s == nil {
		s = []string{}
	}
	return ClientChange{Name: r.Name, Project: r.Project, Server: r.Server, AddedServer: r.AddedServer, Secrets: s}
}

// listed returns the location of path, which must be a file of client that Clients
// lists: the window never edits a path it did not find itself.
func (a *App) listed(c ideconfig.Client, path string) (ideconfig.Location, error) {
	reports, _, err := a.knownFiles()
	if err != nil {
		return ideconfig.Location{}, err
	}
	for _, r := range reports {
		if r.Client == c && r.Path == path {
			return r.Location, nil
		}
	}
	return ideconfig.Location{}, fmt.Errorf("%s is not a %s config file that Airlock lists (refresh the Clients view)", path, ideName(c))
}

// installer returns an Installer for the Airlock home and keyring.
func (a *App) installer(dryRun bool) (*ideconfig.Installer, *bytes.Buffer, error) {
	exe := airlockPaths()
	if len(exe) == 0 {
		return nil, nil, errors.New("find the airlock executable: unknown path")
	}
	ss, err := a.secretStore()
	if err != nil {
		return nil, nil, err
	}
	var out bytes.Buffer
	return &ideconfig.Installer{Home: a.paths.home, Airlock: exe[0], Keyring: ss, Out: &out, DryRun: dryRun}, &out, nil
}

// PreviewProtect shows what Protect would change in the file: a unified diff of the IDE
// file (credentials shown as bullets), then the servers.json definitions it would add.
// Nothing is written.
func (a *App) PreviewProtect(client, path string) (string, error) {
	c, err := ideconfig.ParseClient(client)
	if err != nil {
		return "", err
	}
	clientsMu.Lock()
	defer clientsMu.Unlock()
	loc, err := a.listed(c, path)
	if err != nil {
		return "", err
	}
	in, out, err := a.installer(true)
	if err != nil {
		return "", err
	}
	res, err := in.Install(c, loc)
	if err != nil {
		return "", err
	}
	text := out.String()
	for _, n := range res.Notes {
		if n == "dry run: nothing written" {
			continue
		}
		if text != "" && !strings.HasSuffix(text, "\n\n") {
			text = strings.TrimRight(text, "\n") + "\n\n"
		}
		text += n + "\n"
	}
	return text, nil
}

// Protect puts every server of the file behind Airlock, as `airlock install --client
// CLIENT --file PATH` does: definitions into servers.json, credentials into the
// keyring, the IDE pointed at `airlock run NAME`, a backup kept.
func (a *App) Protect(client, path string) (ClientResult, error) {
	c, err := ideconfig.ParseClient(client)
	if err != nil {
		return ClientResult{}, err
	}
	clientsMu.Lock()
	defer clientsMu.Unlock()
	loc, err := a.listed(c, path)
	if err != nil {
		return ClientResult{}, err
	}
	in, _, err := a.installer(false)
	if err != nil {
		return ClientResult{}, err
	}
	res, err := in.Install(c, loc)
	if err != nil {
		return ClientResult{}, err
	}
	out := newResult(c, res)
	for _, e := range res.Skipped {
		out.Skipped = append(out.Skipped, clientEntry(e))
	}
	if len(out.Changed) > 0 {
		out.Notes = append(out.Notes, "Each server asks for approval in Airlock when it first starts.")
		// The log redacts the credentials that just went into the keyring.
		if ss, err := a.secretStore(); err == nil {
			a.refreshRedactor(ss)
		}
	}
	return out, nil
}

// Restore undoes the installs recorded for the file, as `airlock uninstall --client
// CLIENT --file PATH` does: the original entries go back (the original bytes when the
// IDE has not changed the file since). Entries whose credentials went into the keyring
// stay behind Airlock (Kept); RestoreWithSecrets puts those back too.
func (a *App) Restore(client, path string) (ClientResult, error) {
	return a.restore(client, path, false)
}

// RestoreWithSecrets is Restore that also puts the credentials moved into the keyring
// back into the file in plaintext (and deletes them from the keyring), as
// `airlock uninstall --restore-secrets` does.
func (a *App) RestoreWithSecrets(client, path string) (ClientResult, error) {
	return a.restore(client, path, true)
}

func (a *App) restore(client, path string, restoreSecrets bool) (ClientResult, error) {
	c, err := ideconfig.ParseClient(client)
	if err != nil {
		return ClientResult{}, err
	}
	clientsMu.Lock()
	defer clientsMu.Unlock()
	reports, recs, err := a.knownFiles()
	if err != nil {
		return ClientResult{}, err
	}
	var loc *ideconfig.Location
	for _, r := range reports {
		if r.Client == c && r.Path == path && recorded(recs, c, realPath(r.Path)) {
			loc = &r.Location
			break
		}
	}
	if loc == nil {
		for _, in := range recs.Installs {
			if in.Client == c && in.File == path {
				loc = &ideconfig.Location{Client: c, Scope: "file", Path: in.File, Format: in.Format}
				break
			}
		}
	}
	if loc == nil {
		return ClientResult{}, fmt.Errorf("no install of %s recorded for %s", ideName(c), path)
	}
	in, _, err := a.installer(false)
	if err != nil {
		return ClientResult{}, err
	}
	res, err := in.Uninstall(c, *loc, restoreSecrets)
	if err != nil {
		return ClientResult{}, err
	}
	out := newResult(c, res)
	out.Exact = res.Exact && len(res.Rewritten) > 0
	// The command line's note about --restore-secrets becomes Kept: the window offers
	// RestoreWithSecrets for those.
	notes := out.Notes[:0]
	for _, n := range res.Notes {
		if !strings.Contains(n, "--restore-secrets") {
			notes = append(notes, n)
		}
	}
	out.Notes = notes
	if after, err := ideconfig.LoadRecords(a.paths.home); err == nil {
		for _, g := range after.Installs {
			if g.Client != c || g.File != res.File {
				continue
			}
			for _, e := range g.Entries {
				out.Kept = append(out.Kept, clientChange(e))
			}
		}
	}
	return out, nil
}

// newResult fills in what both Protect and Restore report.
func newResult(c ideconfig.Client, res *ideconfig.Result) ClientResult {
	out := ClientResult{
		Client: string(c), IDE: ideName(c), File: res.File, Backup: res.Backup,
		Changed: []ClientChange{}, Skipped: []ClientEntry{}, Kept: []ClientChange{},
		Notes: append([]string{}, res.Notes...),
	}
	for _, r := range res.Rewritten {
		out.Changed = append(out.Changed, clientChange(r))
	}
	if len(out.Changed) > 0 {
		out.Restart = restartHint(c)
	}
	return out
}
