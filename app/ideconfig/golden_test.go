package ideconfig

import (
	"bytes"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zalando/go-keyring"
	"golang.org/x/tools/txtar"

	"github.com/airlock-mcp/airlock/app/config"
	"github.com/airlock-mcp/airlock/store/secret"
)

var update = flag.Bool("update", false, "rewrite the expected sections of testdata/*.txtar")

// A golden fixture is a txtar archive. Its comment holds "key: value" lines:
//
//	client: cursor        the client
//	file: mcp.json        the IDE file's name (it decides the format, as with --file)
//	goos: windows         how joined commands are split (default linux)
//	airlock: PATH         the airlock path written into the file
//
// Sections: "before" (the IDE file), optionally "servers.json.before" and
// "keyring.before" (NAME=VALUE lines) for what Airlock already had; the expected
// "after", "servers.json" and "keyring" (names only) after install; "diff" as shown;
// "restored" (uninstall --restore-secrets, which must also equal "before") and, for
// files with credentials, "restored-keep-secrets" (plain uninstall).

type fixture struct {
	path     string
	ar       *txtar.Archive
	meta     map[string]string
	sections map[string]string
}

func loadFixture(t *testing.T, path string) *fixture {
	t.Helper()
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{path: path, ar: ar, meta: map[string]string{}, sections: map[string]string{}}
	for _, l := range strings.Split(string(ar.Comment), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			f.meta[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	for _, s := range ar.Files {
		f.sections[s.Name] = string(s.Data)
	}
	return f
}

// check compares got with section name, or records it with -update.
func (f *fixture) check(t *testing.T, name, got string) {
	t.Helper()
	if *update {
		for i := range f.ar.Files {
			if f.ar.Files[i].Name == name {
				f.ar.Files[i].Data = []byte(got)
				return
			}
		}
		f.ar.Files = append(f.ar.Files, txtar.File{Name: name, Data: []byte(got)})
		return
	}
	want, ok := f.sections[name]
	if !ok {
		t.Errorf("%s: no section %q; run with -update", f.path, name)
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: section %q (-want +got):\n%s", f.path, name, diff)
	}
}

func (f *fixture) save(t *testing.T) {
	if *update {
		if err := os.WriteFile(f.path, txtar.Format(f.ar), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// env is one test's world: an IDE file, an Airlock home and a fresh mock keyring.
type env struct {
	dir, file, home string
	in              *Installer
	out             *bytes.Buffer
	ss              *secret.Store
	loc             Location
	client          Client
}

func newEnv(t *testing.T, client Client, fileName string, before []byte) *env {
	t.Helper()
	keyring.MockInit()
	dir := t.TempDir()
	e := &env{dir: dir, home: filepath.Join(dir, "airlock-home"), out: &bytes.Buffer{}, client: client}
	e.file = filepath.Join(dir, fileName)
	if err := os.MkdirAll(filepath.Dir(e.file), 0o755); err != nil {
		t.Fatal(err)
	}
	if before != nil {
		if err := os.WriteFile(e.file, before, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ss, err := secret.New(e.home)
	if err != nil {
		t.Fatal(err)
	}
	e.ss = ss
	e.in = &Installer{Home: e.home, Airlock: "/usr/local/bin/airlock", Keyring: ss, GOOS: "linux", Out: e.out}
	e.loc = Location{Client: client, Path: e.file, Format: FormatFor(client, fileName)}
	return e
}

func (e *env) read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (e *env) keyringNames(t *testing.T) string {
	t.Helper()
	names, err := e.ss.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		return ""
	}
	return strings.Join(names, "\n") + "\n"
}

func (e *env) setup(t *testing.T, f *fixture) {
	t.Helper()
	if s, ok := f.sections["servers.json.before"]; ok {
		if err := os.WriteFile(config.ServersPath(e.home), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range strings.Split(f.sections["keyring.before"], "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			if err := e.ss.Set(k, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if g := f.meta["goos"]; g != "" {
		e.in.GOOS = g
	}
	if a := f.meta["airlock"]; a != "" {
		e.in.Airlock = a
	}
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			f := loadFixture(t, path)
			defer f.save(t)
			client, err := ParseClient(f.meta["client"])
			if err != nil {
				t.Fatal(err)
			}
			before := f.sections["before"]
			serversBefore, hadServers := f.sections["servers.json.before"]

			// install
			e := newEnv(t, client, f.meta["file"], []byte(before))
			e.setup(t, f)
			keyringBefore := e.keyringNames(t)
			res, err := e.in.Install(client, e.loc)
			if err != nil {
				t.Fatalf("install: %v", err)
			}
			after := e.read(t, e.file)
			servers := e.read(t, config.ServersPath(e.home))
			f.check(t, "after", after)
			f.check(t, "servers.json", servers)
			f.check(t, "keyring", e.keyringNames(t))
			f.check(t, "diff", strings.ReplaceAll(e.out.String(), e.dir, "$DIR"))
			if strings.Contains(e.read(t, filepath.Join(e.home, "installs.json")), "ghp_") {
				t.Error("installs.json holds a credential")
			}
			if st, err := os.Stat(res.Backup); err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("backup %s: %v, mode %v; want 0600", res.Backup, err, st.Mode())
			}
			if got := e.read(t, res.Backup); got != before {
				t.Errorf("backup differs from the original")
			}
			if st, _ := os.Stat(e.file); st.Mode().Perm() != 0o644 {
				t.Errorf("IDE file mode %v, want 0644 kept", st.Mode().Perm())
			}
			if _, err := Parse(e.file, e.loc.Format, []byte(after)); err != nil {
				t.Errorf("the rewritten file does not parse: %v", err)
			}
			if _, err := config.ParseServers("servers.json", []byte(servers)); err != nil {
				t.Errorf("servers.json: %v", err)
			}

			// install twice changes nothing
			recs := e.read(t, filepath.Join(e.home, "installs.json"))
			if _, err := e.in.Install(client, e.loc); err != nil {
				t.Fatalf("second install: %v", err)
			}
			if e.read(t, e.file) != after || e.read(t, config.ServersPath(e.home)) != servers || e.read(t, filepath.Join(e.home, "installs.json")) != recs {
				t.Error("a second install changed something")
			}

			// uninstall --restore-secrets: byte for byte
			if _, err := e.in.Uninstall(client, e.loc, true); err != nil {
				t.Fatalf("uninstall: %v", err)
			}
			restored := e.read(t, e.file)
			f.check(t, "restored", restored)
			if restored != before {
				t.Errorf("uninstall did not restore the original byte for byte:\n%s", Unified("before", "restored", []byte(before), []byte(restored)))
			}
			if got := e.read(t, config.ServersPath(e.home)); hadServers && got != serversBefore {
				t.Errorf("servers.json not restored (-want +got):\n%s", cmp.Diff(serversBefore, got))
			}
			if got := e.keyringNames(t); got != keyringBefore {
				t.Errorf("keyring after uninstall --restore-secrets: %q, want %q", got, keyringBefore)
			}
			if _, err := os.Stat(res.Backup); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("backup left behind: %v", err)
			}

			// uninstall without --restore-secrets keeps credentials out of the file
			if f.meta["secrets"] == "yes" {
				e := newEnv(t, client, f.meta["file"], []byte(before))
				e.setup(t, f)
				if _, err := e.in.Install(client, e.loc); err != nil {
					t.Fatal(err)
				}
				res, err := e.in.Uninstall(client, e.loc, false)
				if err != nil {
					t.Fatal(err)
				}
				got := e.read(t, e.file)
				f.check(t, "restored-keep-secrets", got)
				if strings.Contains(got, "ghp_") || strings.Contains(got, "sk-") {
					t.Error("uninstall without --restore-secrets put a credential back")
				}
				if len(res.Notes) == 0 {
					t.Error("no note about the entries kept behind Airlock")
				}
			}
		})
	}
}
