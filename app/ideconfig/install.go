package ideconfig

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/tailscale/hujson"

	"github.com/airlock-mcp/airlock/app/config"
	"github.com/airlock-mcp/airlock/store/secret"
)

// Keyring is where install moves credentials; *secret.Store implements it.
type Keyring interface {
	Set(name, value string) error
	Get(name string) (string, error)
	Delete(name string) error
}

// Installer puts the servers of IDE config files behind Airlock and takes them out
// again. Its fields must be set before use; it is not safe for concurrent use.
type Installer struct {
	// Home is Airlock's home directory (servers.json, installs.json).
	Home string
	// Airlock is the absolute path of the airlock executable the IDE will start.
	Airlock string
	// Keyring receives credentials found in env values and headers.
	Keyring Keyring
	// GOOS decides how a command line written into "command" is split (backslashes are
	// literal on Windows); "" means runtime.GOOS.
	GOOS string
	// Out receives the diff of each file before it is written, and notes; nil discards.
	Out io.Writer
	// DryRun shows what would change and writes nothing.
	DryRun bool
	// Now is the clock for records; nil means time.Now.
	Now func() time.Time

	// beforeWrite, when set, runs after the new content is computed and before the file
	// is re-read and replaced (tests use it to play an IDE writing the file).
	beforeWrite func(path string)
}

func (in *Installer) out() io.Writer {
	if in.Out == nil {
		return io.Discard
	}
	return in.Out
}

// Result says what install or uninstall did to one file.
type Result struct {
	File string `json:"file"`
	// Rewritten are the entries now pointed at Airlock (install) or restored (uninstall).
	Rewritten []Rewrite `json:"rewritten,omitempty"`
	// Skipped are entries left alone, with why in Problem (or Protected set).
	Skipped []Entry `json:"skipped,omitempty"`
	// Backup is the backup of the original file (install).
	Backup string `json:"backup,omitempty"`
	// Exact reports whether uninstall wrote back the original bytes.
	Exact bool `json:"exact,omitempty"`
	// Notes are sentences for the person: what changed and what to do next.
	Notes []string `json:"notes,omitempty"`
}

// maxAttempts bounds how often install recomputes a file that keeps changing under it.
const maxAttempts = 3

// planned is one entry install will rewrite.
type planned struct {
	entry   Entry
	server  string
	def     config.Server
	secrets map[string]string // keyring name → value
	reuse   bool
}

// SharedFileNote is said when a project's MCP file is installed: such files are usually
// committed for a team, and "airlock run NAME" works only where servers.json defines NAME.
const SharedFileNote = "note: this looks like a project's shared MCP file: the rewritten entries work only where servers.json defines them (this machine); keep it out of commits, or give teammates the servers too"

// Install points every unprotected server of the file at loc at `airlock run NAME`,
// after adding its definition to servers.json and its credentials to the keyring.
// Entries already going through Airlock are left alone, so a second install changes
// nothing.
func (in *Installer) Install(c Client, loc Location) (*Result, error) {
	path := realPath(loc.Path)
	for attempt := 1; ; attempt++ {
		res, err := in.installOnce(c, loc.Format, path)
		if errors.Is(err, errChanged) {
			if attempt < maxAttempts {
				fmt.Fprintf(in.out(), "%s changed while airlock was editing it; starting over\n", path)
				continue
			}
			return nil, fmt.Errorf("%s keeps changing (is the IDE rewriting it?): nothing written; close the IDE and try again", path)
		}
		if err == nil && loc.Scope == "project" && len(res.Rewritten) > 0 {
			res.Notes = append(res.Notes, SharedFileNote)
		}
		return res, err
	}
}

func (in *Installer) installOnce(c Client, f Format, path string) (*Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read IDE config: %w", err)
	}
	doc, err := Parse(path, f, data)
	if err != nil {
		return nil, err
	}
	servers, err := config.LoadServers(config.ServersPath(in.Home))
	if err != nil {
		return nil, err
	}
	res := &Result{File: path}
	var plan []planned
	taken := map[string]planned{}
	for _, e := range doc.Entries {
		e.recognise(in.Airlock)
		if e.Protected || e.Problem != "" {
			res.Skipped = append(res.Skipped, e)
			continue
		}
		p, problem, err := in.planEntry(c, e, servers, taken)
		if err != nil {
			return nil, err
		}
		if problem != "" {
			e.Problem = problem
			res.Skipped = append(res.Skipped, e)
			continue
		}
		if _, dup := taken[p.server]; !dup {
			taken[p.server] = p
		}
		plan = append(plan, p)
	}
	if len(plan) == 0 {
		res.Notes = append(res.Notes, "nothing to do: every server is already behind Airlock or left alone")
		return res, nil
	}

	out, err := rewrite(doc, plan, in.Airlock)
	if err != nil {
		return nil, err
	}
	var secrets []string
	for _, p := range plan {
		for _, v := range p.secrets {
			secrets = append(secrets, v)
		}
	}
	fmt.Fprint(in.out(), redactAll(Unified(path, path+" (after airlock install)", data, out), secrets))
	for _, p := range plan {
		res.Rewritten = append(res.Rewritten, p.rewrite())
	}
	if in.DryRun {
		for _, p := range plan {
			b, _ := json.MarshalIndent(p.def, "", "  ")
			verb := "add to"
			if p.reuse {
				verb = "reuse from"
			}
			res.Notes = append(res.Notes, fmt.Sprintf("would %s servers.json: %q: %s", verb, p.server, b))
		}
		res.Notes = append(res.Notes, "dry run: nothing written")
		return res, nil
	}

	// Credentials first, then servers.json, then the backup, then the IDE file: a
	// failure on the way undoes what was done, so nothing is left half installed.
	var undo []func()
	rollback := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	for _, p := range plan {
		if p.reuse {
			continue
		}
		for _, name := range sortedKeys(p.secrets) {
			if err := in.Keyring.Set(name, p.secrets[name]); err != nil {
				rollback()
				return nil, fmt.Errorf("store the credential of %q in the keyring: %w", p.entry.Name, err)
			}
			undo = append(undo, func() { in.Keyring.Delete(name) })
		}
	}
	var added []string
	if _, err := editServers(in.Home, func(obj *hujson.Object) error {
		for _, p := range plan {
			if !p.reuse {
				addServer(obj, p.server, p.def)
				added = append(added, p.server)
			}
		}
		return nil
	}); err != nil {
		rollback()
		return nil, err
	}
	undo = append(undo, func() {
		editServers(in.Home, func(obj *hujson.Object) error {
			for _, n := range added {
				deleteMember(obj, n)
			}
			return nil
		})
	})
	recs, err := LoadRecords(in.Home)
	if err != nil {
		rollback()
		return nil, err
	}
	backup := path + ".airlock-backup"
	if n := len(recs.forFile(path)); n > 0 {
		backup = fmt.Sprintf("%s.%d", backup, n+1)
	}
	if err := writeNew(backup, data); err != nil {
		rollback()
		return nil, err
	}
	undo = append(undo, func() { os.Remove(backup) })
	if in.beforeWrite != nil {
		in.beforeWrite(path)
	}
	if err := writeAtomic(path, out, data, 0o600); err != nil {
		rollback()
		return nil, err
	}
	recs.Installs = append(recs.Installs, Install{
		Client: c, File: path, Format: f, Backup: backup, Written: digest(out),
		At: in.now(), Entries: res.Rewritten,
	})
	if err := recs.save(in.Home); err != nil {
		// The IDE file is written; without the record uninstall cannot find the backup.
		return nil, fmt.Errorf("record the install (the backup is %s): %w", backup, err)
	}
	res.Backup = backup
	for _, p := range plan {
		if p.entry.Transport != Stdio {
			res.Notes = append(res.Notes, fmt.Sprintf("%s is a remote (%s) server: the IDE now reaches it through `airlock run %s`, a stdio relay; `airlock serve` is the alternative (point the IDE at http://127.0.0.1:PORT/mcp/%s)", p.entry.Name, p.entry.Transport, p.server, p.server))
		}
	}
	return res, nil
}

func (in *Installer) now() time.Time {
	if in.Now != nil {
		return in.Now()
	}
	return time.Now()
}

func (p planned) rewrite() Rewrite {
	r := Rewrite{Name: p.entry.Name, Project: p.entry.Project, Pointer: p.entry.Pointer, Transport: p.entry.Transport, Server: p.server, AddedServer: !p.reuse}
	r.Secrets = sortedKeys(p.secrets)
	return r
}

// writeNew creates path with data, mode 0600, refusing to replace an existing file.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write backup: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("write backup: %w", err)
	}
	return nil
}

// planEntry decides the servers.json name and definition of e. A non-empty problem
// means e is left alone.
func (in *Installer) planEntry(c Client, e Entry, servers *config.Servers, taken map[string]planned) (planned, string, error) {
	f := e.fields
	p := planned{entry: e}
	raw := config.Server{Cwd: f.Cwd}
	u := f.URL
	if u == "" {
		u = f.ServerURL
	}
	var ideVars []string
	check := func(what, s string) {
		if hasIDEVar(s) {
			ideVars = append(ideVars, what)
		}
	}
	check("command", f.Command)
	for _, a := range f.Args {
		check("args", a)
	}
	check("cwd", f.Cwd)
	check("url", u)
	for _, v := range f.Headers {
		check("headers", v)
	}
	if len(ideVars) > 0 {
		return p, fmt.Sprintf("its %s use ${…} variables that only the IDE expands; left as is", ideVars[0]), nil
	}
	if e.Transport == Stdio {
		argv := append([]string{f.Command}, f.Args...)
		if strings.ContainsAny(f.Command, " \t") {
			if _, err := os.Stat(f.Command); err != nil {
				words, err := splitCommand(f.Command, in.goos() == "windows")
				if err != nil {
					return p, err.Error(), nil
				}
				if len(words) == 0 {
					return p, "empty command", nil
				}
				argv = append(words, f.Args...)
			}
		}
		raw.Command, raw.Args = argv[0], argv[1:]
		if len(raw.Args) == 0 {
			raw.Args = nil
		}
	} else {
		raw.URL = u
		switch t := f.Type; t {
		case "http", "sse", "streamable-http", "streamableHttp":
			raw.Type = t
		}
	}
	base := configName(e.Name)
	for i := 0; ; i++ {
		name := base
		if i == 1 {
			name = base + "-" + string(c)
		} else if i > 1 {
			name = fmt.Sprintf("%s-%s-%d", base, c, i)
		}
		if len(name) > 64 || !config.ValidName(name) {
			return p, "no free name for it in servers.json", nil
		}
		def, secrets := withSecrets(raw, f, name)
		if t, ok := taken[name]; ok {
			// Another entry of this file already brings the same server: share it.
			if sameServer(t.def, def) && sameSecrets(t.secrets, secrets) {
				p.server, p.def, p.secrets, p.reuse = name, def, secrets, true
				return p, "", nil
			}
			continue
		}
		ok, reuse, err := in.fits(name, def, secrets, servers)
		if err != nil {
			return p, "", err
		}
		if ok {
			p.server, p.def, p.secrets, p.reuse = name, def, secrets, reuse
			return p, "", nil
		}
	}
}

func (in *Installer) goos() string {
	if in.GOOS != "" {
		return in.GOOS
	}
	return runtime.GOOS
}

// fits reports whether name can hold def: it is free (and so are its keyring names),
// or it already holds the same definition with the same credentials (reuse).
func (in *Installer) fits(name string, def config.Server, secrets map[string]string, servers *config.Servers) (ok, reuse bool, err error) {
	existing, exists := servers.MCPServers[name]
	if exists && !sameServer(existing, def) {
		return false, false, nil
	}
	for _, k := range sortedKeys(secrets) {
		v, err := in.Keyring.Get(k)
		switch {
		case errors.Is(err, secret.ErrNotFound):
			if exists {
				return false, false, nil
			}
		case err != nil:
			return false, false, fmt.Errorf("read keyring: %w", err)
		case v != secrets[k]:
			return false, false, nil
		}
	}
	return true, exists, nil
}

func sameSecrets(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func sameServer(a, b config.Server) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// withSecrets completes raw with env and headers, credentials replaced by
// ${keyring:NAME} references. Env values that use IDE variables stay in the IDE entry
// (the IDE expands them and airlock passes its environment on) and are left out here.
func withSecrets(raw config.Server, f rawEntry, server string) (config.Server, map[string]string) {
	def := raw
	secrets := map[string]string{}
	move := func(kind, k, v string) string {
		if !isSecret(k, v) {
			return v
		}
		name := keyringName(server, kind, k)
		secrets[name] = v
		return "${keyring:" + name + "}"
	}
	if raw.URL == "" {
		for k, v := range f.Env {
			if hasIDEVar(v) {
				continue
			}
			if def.Env == nil {
				def.Env = map[string]string{}
			}
			def.Env[k] = move("", k, v)
		}
	} else {
		for k, v := range f.Headers {
			if def.Headers == nil {
				def.Headers = map[string]string{}
			}
			def.Headers[k] = move("header.", k, v)
		}
	}
	return def, secrets
}

var badKeyChar = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// keyringName is where the credential k of server goes: "github.GITHUB_TOKEN",
// "remote.header.Authorization"; shortened with a hash to fit 64 characters.
func keyringName(server, kind, k string) string {
	n := server + "." + kind + badKeyChar.ReplaceAllString(k, "_")
	if len(n) > 64 {
		sum := sha256.Sum256([]byte(n))
		n = n[:55] + "-" + hex.EncodeToString(sum[:4])
	}
	return n
}

var badNameChar = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// configName turns an IDE entry name into a servers.json name.
func configName(s string) string {
	n := strings.Trim(badNameChar.ReplaceAllString(s, "-"), "-._")
	if len(n) > 40 {
		n = n[:40]
	}
	if n == "" {
		n = "server"
	}
	return n
}

// rewrite returns the file with every planned entry pointed at Airlock. Fields of the
// entry that Airlock does not take over (disabled, autoApprove, timeout, …) stay.
func rewrite(doc *Doc, plan []planned, airlock string) ([]byte, error) {
	// A fresh parse rather than Clone: Clone loses trailing commas (hujson, 2026-07).
	root, err := hujson.Parse(doc.Data)
	if err != nil {
		return nil, err
	}
	for _, p := range plan {
		v := root.Find(p.entry.Pointer)
		if v == nil {
			return nil, fmt.Errorf("%s: entry %s vanished", doc.Path, p.entry.Pointer)
		}
		obj := v.Value.(*hujson.Object)
		var keep []string
		for k, val := range p.entry.fields.Env {
			if hasIDEVar(val) {
				keep = append(keep, k)
			}
		}
		after := ""
		if memberIndex(obj, "type") >= 0 {
			after = "type"
			if t := p.entry.fields.Type; t != "stdio" {
				setMember(obj, "type", hujson.String("stdio"), "")
			}
		}
		setMember(obj, "command", hujson.String(airlock), after)
		setMember(obj, "args", stringArray([]string{"run", p.server}), "command")
		if i := memberIndex(obj, "env"); i >= 0 {
			if len(keep) == 0 {
				deleteMember(obj, "env")
			} else if envObj, ok := obj.Members[i].Value.Value.(*hujson.Object); ok {
				for k := range p.entry.fields.Env {
					if !hasIDEVar(p.entry.fields.Env[k]) {
						deleteMember(envObj, k)
					}
				}
			}
		}
		for _, k := range []string{"cwd", "url", "serverUrl", "headers"} {
			deleteMember(obj, k)
		}
	}
	return root.Pack(), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// redactAll replaces every secret value in s with bullets.
func redactAll(s string, secrets []string) string {
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, "••••••")
			// JSON may escape characters of the value.
			if q, _ := json.Marshal(v); len(q) > 2 {
				s = strings.ReplaceAll(s, string(q[1:len(q)-1]), "••••••")
			}
		}
	}
	return s
}
