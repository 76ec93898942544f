package guard

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/airlock-mcp/airlock/store/jsontext"
)

// The textual scan (Protection.scan) recognises a protected file however its path is
// written (but for a file URI's percent-encoding, undone here), but not a path that
// reaches it through the file system: a symbolic link to
// policy.toml, a link to Airlock's directory with a file name after it, a link that points
// at an IDE settings file not created yet, or a hard link. An agent that got one such link
// made could then write through it as if to an ordinary file. So each absolute (or "~/")
// path among the arguments is also followed on this machine, and the result is checked
// like any other path.

// maxLinkChecks bounds how many path arguments of one call are followed: some
// microseconds each for an ordinary path, about 15 ms for the worst (4 KiB of missing
// components under a link, BenchmarkProtectionDeepPath). A call with more is treated as naming a protected file: past the
// bound, a link hidden among harmless paths would go unchecked.
const maxLinkChecks = 64

// maxLinkPath is the longest argument taken for a path.
const maxLinkPath = 4096

// maxLinkHops bounds how many links, dangling or not, one path may pass through.
const maxLinkHops = 32

// protectedFile is a protected regular file as found when the Protection was made, for
// recognising hard links to it.
type protectedFile struct {
	fi   os.FileInfo
	name string
}

// statProtected records the regular files among paths and, for a directory, the regular
// files directly in it (Airlock's home: policy, pins, grants, servers.json, the log).
func statProtected(paths []string) []protectedFile {
	var out []protectedFile
	add := func(path, name string) {
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
			out = append(out, protectedFile{fi, name})
		}
	}
	for _, path := range paths {
		if path == "" || !filepath.IsAbs(path) {
			continue
		}
		fi, err := os.Stat(path)
		if err != nil {
			continue
		}
		if !fi.IsDir() {
			add(path, path)
			continue
		}
		entries, err := os.ReadDir(path)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.Type().IsRegular() {
				add(filepath.Join(path, e.Name()), filepath.Clean(path))
			}
		}
	}
	return out
}

// viaLinks returns the protected path that one of the path arguments in args reaches
// through the file system, or "".
func (p *Protection) viaLinks(args []byte) string {
	found := ""
	n := 0
	pathStrings(args, func(s string) bool {
		if n++; n > maxLinkChecks {
			found = fmt.Sprintf("a protected file, perhaps (the call has more than %d paths, too many to check for links to one)", maxLinkChecks)
			return false
		}
		found = p.linked(s)
		return found == ""
	})
	return found
}

// linked returns the protected path that the path s reaches, or "".
func (p *Protection) linked(s string) string {
	if len(s) > 7 && strings.EqualFold(s[:7], "file://") {
		// A file URI (as MCP roots and resources name files): its path is percent-encoded,
		// which the textual scan does not undo, so it is checked decoded here too.
		u, err := url.Parse(s)
		if err != nil || u.Host != "" && !strings.EqualFold(u.Host, "localhost") || u.Path == "" {
			return ""
		}
		if name := p.scan(normText([]byte(u.Path), false), false); name != "" {
			return name
		}
		s = u.Path
	}
	if s == "~" || strings.HasPrefix(s, "~/") {
		if p.home == "" {
			return ""
		}
		s = p.home + s[1:]
	}
	if !filepath.IsAbs(s) {
		return ""
	}
	clean := filepath.Clean(s)
	if real := resolveLinks(clean); real != clean {
		if name := p.scan(normText([]byte(real), false), false); name != "" {
			return name
		}
	}
	if len(p.files) > 0 {
		if fi, err := os.Stat(clean); err == nil && fi.Mode().IsRegular() {
			for _, f := range p.files {
				if os.SameFile(fi, f.fi) {
					return f.name
				}
			}
		}
	}
	return ""
}

// resolveLinks returns path with the symbolic links in it followed: those of its longest
// existing prefix, and a dangling link's target too, since writing through a link
// creates the file it points at. It costs one lstat per missing trailing component and
// one EvalSymlinks per link followed.
func resolveLinks(path string) string {
hops:
	for hop := 0; hop < maxLinkHops; hop++ {
		dir, rest := path, ""
		for {
			fi, err := os.Lstat(dir)
			if err == nil {
				if fi.Mode()&fs.ModeSymlink != 0 {
					if _, err := filepath.EvalSymlinks(dir); err != nil {
						if !errors.Is(err, fs.ErrNotExist) {
							return path // a loop, or not readable: nothing more to follow
						}
						// A dangling link: go on from where it points.
						t, err := os.Readlink(dir)
						if err != nil {
							return path
						}
						if !filepath.IsAbs(t) {
							t = filepath.Join(filepath.Dir(dir), t)
						}
						path = filepath.Join(t, rest)
						continue hops
					}
				}
				real, err := filepath.EvalSymlinks(dir)
				if err != nil {
					return path
				}
				return filepath.Join(real, rest)
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return path
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				return path
			}
			rest = filepath.Join(filepath.Base(dir), rest)
			dir = parent
		}
	}
	return path
}

// pathStrings calls f with each JSON string in b (keys too) that starts like an absolute
// or home-relative path or a file URI, until f returns false. b is valid JSON (the proxy
// parsed it); the walk stops at anything that is not.
func pathStrings(b []byte, f func(string) bool) {
	for i := 0; i < len(b); {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return
		}
		start := i + q
		end, ok := jsontext.SkipString(b, start)
		if !ok {
			return
		}
		i = end
		lit := b[start:end]
		if len(lit) < 3 || len(lit) > maxLinkPath+2 || !pathStart(lit[1:]) {
			continue
		}
		s, ok := jsontext.Unquote(lit)
		if !ok {
			continue
		}
		if !f(s) {
			return
		}
	}
}

// pathStart reports whether JSON string contents c start with "/", "~/", "\/" (an
// escaped slash) or "file:".
func pathStart(c []byte) bool {
	switch {
	case len(c) > 5 && bytes.EqualFold(c[:5], []byte("file:")):
		return true
	case c[0] == '/':
		return true
	case c[0] == '~':
		return len(c) > 1 && (c[1] == '/' || c[1] == '"')
	case c[0] == '\\':
		return len(c) > 1 && c[1] == '/'
	}
	return false
}
