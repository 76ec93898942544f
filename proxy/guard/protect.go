package guard

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
)

// Airlock's own files (its policy, pins, grants, decision log, server definitions) and the
// IDE files that point IDEs at Airlock are how an agent would switch Airlock off: add an
// allow rule, delete a pin, or put a server back in the IDE's config without `airlock run`
// in front of it. A call whose arguments name one of them is tier 3 and always goes to a
// person: a policy allow, a grant for the tool, or a tier lowered by policy does not apply.

// Protection is the set of paths the guard protects.
type Protection struct {
	forms []string // lower-case, forward slashes; matched as substrings
	names []string // the paths as given, for the reason a person reads
}

// NewProtection protects paths (absolute files or directories) under the home directory
// home, and relNames, names that are protected wherever they are (".mcp.json",
// ".vscode/mcp.json"). A path under home is also recognised as "~/…", "$HOME/…" and as
// its part relative to home, since servers often run in the home directory.
func NewProtection(home string, paths, relNames []string) *Protection {
	p := &Protection{}
	seen := map[string]bool{}
	add := func(form, name string) {
		form = normPath(form)
		if len(form) < 4 || seen[form] {
			return
		}
		seen[form] = true
		p.forms = append(p.forms, form)
		p.names = append(p.names, name)
	}
	for _, path := range paths {
		if path == "" || !filepath.IsAbs(path) {
			continue
		}
		path = filepath.Clean(path)
		add(path, path)
		if home == "" {
			continue
		}
		rel, err := filepath.Rel(home, path)
		if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
			continue
		}
		for _, prefix := range []string{"~/", "$HOME/", "${HOME}/", "%USERPROFILE%/"} {
			add(prefix+rel, path)
		}
		if len(rel) >= 8 {
			add(rel, path)
		}
	}
	for _, n := range relNames {
		add(n, n)
	}
	return p
}

func normPath(s string) string {
	s = strings.ToLower(strings.ReplaceAll(s, `\`, "/"))
	for strings.Contains(s, "//") {
		s = strings.ReplaceAll(s, "//", "/")
	}
	for strings.Contains(s, "/./") {
		s = strings.ReplaceAll(s, "/./", "/")
	}
	return s
}

// In returns the protected path that args (a JSON value) names, or "".
func (p *Protection) In(args json.RawMessage) string {
	if p == nil || len(p.forms) == 0 || len(args) == 0 {
		return ""
	}
	if bytes.IndexByte(args, '\\') < 0 && !bytes.Contains(args, []byte("/./")) && !bytes.Contains(args, []byte("//")) {
		// No escapes: the strings are the bytes themselves.
		low := string(bytes.ToLower(args))
		for i, f := range p.forms {
			if containsPath(low, f) {
				return p.names[i]
			}
		}
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(args))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return ""
		}
		if err != nil {
			return "" // invalid JSON is refused elsewhere
		}
		s, ok := tok.(string)
		if !ok {
			continue
		}
		low := normPath(s)
		for i, f := range p.forms {
			if containsPath(low, f) {
				return p.names[i]
			}
		}
	}
}

// containsPath reports whether form occurs in s as a whole path: not inside a longer name
// ("airlock-backup" does not contain "airlock"), though it may go on with "/…".
func containsPath(s, form string) bool {
	for off := 0; ; {
		i := strings.Index(s[off:], form)
		if i < 0 {
			return false
		}
		i += off
		j := i + len(form)
		if (i == 0 || !nameByte(s[i-1]) || form[0] == '/' || s[i-1] == '/') && (j == len(s) || !nameByte(s[j])) {
			return true
		}
		off = i + 1
	}
}

// nameByte reports whether c can be part of a file name next to a match.
func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c >= 0x80
}
