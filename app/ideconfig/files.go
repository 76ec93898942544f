package ideconfig

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/tailscale/hujson"

	"github.com/airlock-mcp/airlock/app/config"
)

// errChanged reports that a file changed between reading and writing it.
var errChanged = errors.New("changed while airlock was editing it")

// writeAtomic replaces path with data through a temporary file in the same directory
// and a rename, so readers see the old or the new content, never a mix. The file keeps
// its permissions (perm for a new file). When expect is not nil the file is re-read
// just before the rename and, if it no longer equals expect, nothing is written and the
// error matches errChanged.
func writeAtomic(path string, data, expect []byte, perm fs.FileMode) error {
	if st, err := os.Stat(path); err == nil {
		perm = st.Mode().Perm()
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".airlock-tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if expect != nil {
		now, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("re-read %s: %w", path, err)
		}
		if !bytes.Equal(now, expect) {
			return fmt.Errorf("%s %w", path, errChanged)
		}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s (is it locked by another program?): %w", path, err)
	}
	return nil
}

// realPath follows symbolic links, so that a linked config (dotfiles) is edited where
// it lives rather than replaced by a file.
func realPath(path string) string {
	if p, err := filepath.EvalSymlinks(path); err == nil {
		return p
	}
	return path
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Records is $AIRLOCK_HOME/installs.json: what install changed, so that uninstall can
// undo it. It holds no secret values.
type Records struct {
	Installs []Install `json:"installs"`
}

// Install is one run of install on one file.
type Install struct {
	Client Client `json:"client"`
	File   string `json:"file"`
	Format Format `json:"format"`
	// Backup holds the exact bytes of File before this install (mode 0600).
	Backup string `json:"backup"`
	// Written is the SHA-256 of the bytes this install wrote to File.
	Written string    `json:"written"`
	At      time.Time `json:"at"`
	Entries []Rewrite `json:"entries"`
}

// Rewrite is one entry install pointed at `airlock run Server`.
type Rewrite struct {
	Name      string    `json:"name"`
	Project   string    `json:"project,omitempty"`
	Pointer   string    `json:"pointer"`
	Transport Transport `json:"transport"`
	Server    string    `json:"server"`
	// AddedServer reports whether install added Server to servers.json (rather than
	// finding the same definition there already).
	AddedServer bool `json:"addedServer"`
	// Secrets are the keyring names install stored the entry's credentials under.
	Secrets []string `json:"secrets,omitempty"`
}

func recordsPath(home string) string { return filepath.Join(home, "installs.json") }

// LoadRecords reads installs.json under home; a missing file is no installs.
func LoadRecords(home string) (*Records, error) {
	p := recordsPath(home)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return &Records{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	var r Records
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return &r, nil
}

func (r *Records) save(home string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(recordsPath(home), append(data, '\n'), nil, 0o600)
}

// forFile returns the indexes of the installs on file, oldest first.
func (r *Records) forFile(file string) []int {
	var out []int
	for i, in := range r.Installs {
		if in.File == file {
			out = append(out, i)
		}
	}
	return out
}

// usedBy reports whether another recorded entry than skip points at server.
func (r *Records) usedBy(server string, skip *Rewrite) bool {
	for i := range r.Installs {
		for j := range r.Installs[i].Entries {
			e := &r.Installs[i].Entries[j]
			if e != skip && e.Server == server {
				return true
			}
		}
	}
	return false
}

const emptyServers = "{\n  \"mcpServers\": {}\n}\n"

// editServers applies edit to the mcpServers object of servers.json under home and
// writes the result if it is still a valid servers.json. It returns the file before.
func editServers(home string, edit func(obj *hujson.Object) error) (before []byte, err error) {
	path := config.ServersPath(home)
	before, err = os.ReadFile(path)
	raw := before
	if errors.Is(err, fs.ErrNotExist) {
		before, raw = nil, []byte(emptyServers)
	} else if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if _, err := config.ParseServers(path, raw); err != nil {
		return nil, err
	}
	root, err := hujson.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	v := root.Find("/mcpServers")
	obj, ok := v.Value.(*hujson.Object)
	if !ok {
		return nil, fmt.Errorf("%s: \"mcpServers\" should be an object", path)
	}
	if err := edit(obj); err != nil {
		return nil, err
	}
	out := root.Pack()
	if _, err := config.ParseServers(path, out); err != nil {
		return nil, fmt.Errorf("servers.json would become invalid: %w", err)
	}
	if bytes.Equal(out, raw) {
		return before, nil
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("create airlock home: %w", err)
	}
	var expect []byte
	if before != nil {
		expect = before
	}
	return before, writeAtomic(path, out, expect, 0o600)
}

// serverValue renders a server definition as it sits in servers.json.
func serverValue(s config.Server) hujson.ValueTrimmed {
	b, _ := json.MarshalIndent(s, "    ", "  ")
	v, _ := hujson.Parse(b)
	return v.Value
}

// addServer adds a member to the mcpServers object, indented like servers.json.
func addServer(obj *hujson.Object, name string, s config.Server) {
	if len(obj.Members) == 0 {
		obj.Members = []hujson.ObjectMember{{
			Name:  hujson.Value{BeforeExtra: hujson.Extra("\n    "), Value: hujson.String(name)},
			Value: hujson.Value{BeforeExtra: hujson.Extra(" "), Value: serverValue(s)},
		}}
		obj.AfterExtra = hujson.Extra("\n  ")
		return
	}
	last := obj.Members[len(obj.Members)-1].Name.Value.(hujson.Literal).String()
	setMember(obj, name, serverValue(s), last)
}
