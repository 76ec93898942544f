package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/airlock-mcp/airlock/app/ideconfig"
)

func init() {
	register(&command{
		name:  "clients",
		usage: "clients [--json]",
		summary: `List the MCP config files of the IDEs on this machine (Claude Desktop, Claude Code, Cursor,
VS Code, Windsurf) and which of their servers already go through Airlock.`,
		run: runClients,
	})
	register(&command{
		name:  "install",
		usage: "install --client NAME [--file PATH] [--dry-run]",
		summary: `Put every MCP server of an IDE behind Airlock: move each definition into servers.json (and
its credentials into the OS keyring) and point the IDE at "airlock run NAME". Shows the
change first, keeps a backup, and is undone by "airlock uninstall". NAME is one of
claude-desktop, claude-code, cursor, vscode, windsurf. A project's own MCP file in the
current directory (.mcp.json, .cursor/mcp.json, .vscode/mcp.json), usually shared with a
team, is left alone unless named with --file.`,
		run: runInstall,
	})
	register(&command{
		name:  "uninstall",
		usage: "uninstall --client NAME [--file PATH] [--restore-secrets] [--dry-run]",
		summary: `Undo "airlock install": put the IDE's original server entries back (byte for byte when the
IDE has not changed the file since). Servers whose credentials went into the keyring stay
behind Airlock unless --restore-secrets puts the plaintext back into the IDE file.`,
		run: runUninstall,
	})
}

func platform(env *Env) ideconfig.Platform { return ideconfig.CurrentPlatform(env.Getenv) }

func runClients(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, commands["clients"])
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	reports := ideconfig.Scan(platform(env), airlockPath())
	if *asJSON {
		if reports == nil {
			reports = []ideconfig.FileReport{}
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(reports)
	}
	if len(reports) == 0 {
		fmt.Fprintln(env.Stdout, "no IDE MCP config found; looked in:")
		for _, l := range platform(env).Locations() {
			fmt.Fprintf(env.Stdout, "  %-15s %s\n", l.Client, l.Path)
		}
		return nil
	}
	for i, r := range reports {
		if i > 0 {
			fmt.Fprintln(env.Stdout)
		}
		fmt.Fprintf(env.Stdout, "%s (%s) %s\n", r.Client, r.Scope, r.Path)
		if r.Error != "" {
			fmt.Fprintf(env.Stdout, "  error: %s\n", r.Error)
			continue
		}
		if len(r.Entries) == 0 {
			fmt.Fprintln(env.Stdout, "  no servers")
			continue
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		for _, e := range r.Entries {
			name := e.Name
			if e.Project != "" {
				name += "  [" + e.Project + "]"
			}
			status := "not protected"
			switch {
			case e.Protected:
				status = "protected: " + e.Via
			case e.Problem != "":
				status = "not protected: " + e.Problem
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", name, e.Transport, status)
		}
		tw.Flush()
	}
	return nil
}

// airlockPath is the absolute path of this executable, links resolved, or "".
func airlockPath() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	return exe
}

// installer returns an Installer for the user's Airlock home and keyring.
func installer(env *Env, dryRun bool) (*ideconfig.Installer, error) {
	p, err := homePaths()
	if err != nil {
		return nil, err
	}
	exe := airlockPath()
	if exe == "" {
		return nil, errors.New("find the airlock executable: unknown path")
	}
	ss, err := secretStore()
	if err != nil {
		return nil, err
	}
	return &ideconfig.Installer{Home: p.home, Airlock: exe, Keyring: ss, Out: env.Stdout, DryRun: dryRun}, nil
}

func runInstall(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, commands["install"])
	clientName := fs.String("client", "", "the IDE: claude-desktop, claude-code, cursor, vscode or windsurf")
	file := fs.String("file", "", "edit this config file instead of the client's usual ones")
	dryRun := fs.Bool("dry-run", false, "show what would change and write nothing")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, locs, shared, err := targets(env, *clientName, *file, fs.Args())
	if err != nil {
		return err
	}
	for _, l := range shared {
		fmt.Fprintf(env.Stdout, "%s: left alone: a project's MCP file, usually shared with the team through version\n"+
			"  control; its entries would point at this machine's servers.json. To change it anyway:\n"+
			"  airlock install --client %s --file %s\n", l.Path, c, l.Path)
	}
	in, err := installer(env, *dryRun)
	if err != nil {
		return err
	}
	var failed []string
	var servers []string
	for _, loc := range locs {
		res, err := in.Install(c, loc)
		if err != nil {
			fmt.Fprintf(env.Stderr, "airlock install: %v\n", err)
			failed = append(failed, loc.Path)
			continue
		}
		fmt.Fprintf(env.Stdout, "%s:\n", res.File)
		if len(res.Rewritten) > 0 && loc.Scope != "project" && projectFile(env, loc.Path) {
			fmt.Fprintf(env.Stdout, "  %s\n", ideconfig.SharedFileNote)
		}
		for _, r := range res.Rewritten {
			how := "added to servers.json"
			if !r.AddedServer {
				how = "already in servers.json"
			}
			if len(r.Secrets) > 0 {
				how += "; credentials moved to the keyring as " + strings.Join(r.Secrets, ", ")
			}
			fmt.Fprintf(env.Stdout, "  %s → airlock run %s (%s)\n", entryLabel(r.Name, r.Project), r.Server, how)
			servers = append(servers, r.Server)
		}
		for _, e := range res.Skipped {
			switch {
			case e.Protected:
				fmt.Fprintf(env.Stdout, "  %s: already behind Airlock (%s)\n", entryLabel(e.Name, e.Project), e.Via)
			default:
				fmt.Fprintf(env.Stdout, "  %s: left alone: %s\n", entryLabel(e.Name, e.Project), e.Problem)
			}
		}
		if res.Backup != "" {
			fmt.Fprintf(env.Stdout, "  backup: %s\n", res.Backup)
		}
		for _, n := range res.Notes {
			fmt.Fprintf(env.Stdout, "  %s\n", n)
		}
	}
	if len(servers) > 0 && !*dryRun {
		fmt.Fprintf(env.Stdout, "\nRestart the IDE. Each server asks for approval when it first starts (in the Airlock app,\nor pre-approve from a terminal: airlock trust %s). Undo with: airlock uninstall --client %s\n", servers[0], c)
	}
	if len(failed) > 0 {
		return fmt.Errorf("nothing written to %s", strings.Join(failed, ", "))
	}
	return nil
}

func entryLabel(name, project string) string {
	if project != "" {
		return name + " [" + project + "]"
	}
	return name
}

// targets resolves --client and --file into the files to edit: --file, or the client's
// user files that exist. The client's project files in the working directory (.mcp.json,
// .cursor/mcp.json, .vscode/mcp.json) are returned apart, in shared, and not edited
// unless named with --file: they are usually committed for a whole team, and the entries
// install writes ("airlock run NAME") work only where servers.json defines NAME.
func targets(env *Env, clientName, file string, rest []string) (c ideconfig.Client, edit, shared []ideconfig.Location, err error) {
	if len(rest) > 0 {
		return "", nil, nil, usagef("unexpected argument %q", rest[0])
	}
	if clientName == "" {
		return "", nil, nil, usagef("missing --client")
	}
	c, err = ideconfig.ParseClient(clientName)
	if err != nil {
		return "", nil, nil, usagef("%v", err)
	}
	if file != "" {
		abs, err := filepath.Abs(file)
		if err != nil {
			return "", nil, nil, err
		}
		return c, []ideconfig.Location{{Client: c, Scope: "file", Path: abs, Format: ideconfig.FormatFor(c, abs)}}, nil, nil
	}
	var looked []string
	for _, l := range platform(env).LocationsFor(c) {
		looked = append(looked, l.Path)
		if _, err := os.Stat(l.Path); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if l.Scope == "project" {
			shared = append(shared, l)
			continue
		}
		edit = append(edit, l)
	}
	if len(edit) == 0 && len(shared) == 0 {
		return "", nil, nil, fmt.Errorf("no %s config found (looked in %s); use --file PATH", c, strings.Join(looked, ", "))
	}
	return c, edit, shared, nil
}

// projectFile reports whether path looks like a project's MCP file (.mcp.json,
// .cursor/mcp.json, .vscode/mcp.json in some directory) rather than one of the user's own
// files, which can end the same way (~/.cursor/mcp.json).
func projectFile(env *Env, path string) bool {
	slashed := filepath.ToSlash(path)
	for _, l := range platform(env).Locations() {
		if l.Scope != "project" && filepath.Clean(l.Path) == filepath.Clean(path) {
			return false
		}
	}
	for _, name := range ideconfig.ProjectFileNames() {
		if slashed == name || strings.HasSuffix(slashed, "/"+name) {
			return true
		}
	}
	return false
}

func runUninstall(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, commands["uninstall"])
	clientName := fs.String("client", "", "the IDE: claude-desktop, claude-code, cursor, vscode or windsurf")
	file := fs.String("file", "", "undo the install on this file only")
	restore := fs.Bool("restore-secrets", false, "put credentials moved into the keyring back into the IDE file in plaintext (and delete them from the keyring)")
	dryRun := fs.Bool("dry-run", false, "show what would change and write nothing")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *clientName == "" {
		return usagef("missing --client")
	}
	c, err := ideconfig.ParseClient(*clientName)
	if err != nil {
		return usagef("%v", err)
	}
	in, err := installer(env, *dryRun)
	if err != nil {
		return err
	}
	recs, err := ideconfig.LoadRecords(in.Home)
	if err != nil {
		return err
	}
	var files []string
	seen := map[string]bool{}
	for _, r := range recs.Installs {
		if r.Client == c && !seen[r.File] {
			seen[r.File] = true
			files = append(files, r.File)
		}
	}
	if *file != "" {
		abs, err := filepath.Abs(*file)
		if err != nil {
			return err
		}
		if r, err := filepath.EvalSymlinks(abs); err == nil {
			abs = r
		}
		files = []string{abs}
	}
	if len(files) == 0 {
		return fmt.Errorf("no install of %s recorded in %s", c, filepath.Join(in.Home, "installs.json"))
	}
	var failed []string
	for _, f := range files {
		res, err := in.Uninstall(c, ideconfig.Location{Client: c, Path: f, Format: ideconfig.FormatFor(c, f)}, *restore)
		if err != nil {
			fmt.Fprintf(env.Stderr, "airlock uninstall: %v\n", err)
			failed = append(failed, f)
			continue
		}
		fmt.Fprintf(env.Stdout, "%s:\n", res.File)
		for _, r := range res.Rewritten {
			fmt.Fprintf(env.Stdout, "  %s restored\n", entryLabel(r.Name, r.Project))
		}
		if res.Exact && len(res.Rewritten) > 0 && !*dryRun {
			fmt.Fprintln(env.Stdout, "  the file is back to its original bytes")
		}
		for _, n := range res.Notes {
			fmt.Fprintf(env.Stdout, "  %s\n", n)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("not restored: %s", strings.Join(failed, ", "))
	}
	return nil
}
