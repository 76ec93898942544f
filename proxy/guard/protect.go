package guard

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Airlock's own files (its policy, pins, grants, decision log, server definitions) and the
// IDE files that point IDEs at Airlock are how an agent would switch Airlock off: add an
// allow rule, delete a pin, or put a server back in the IDE's config without `airlock run`
// in front of it. A call whose arguments name one of them is tier 3 and always goes to a
// person: a policy allow, a grant for the tool, or a tier lowered by policy does not apply.

// Protection is the set of paths the guard protects.
type Protection struct {
	forms []string // lower-case, forward slashes; matched as whole paths in the text
	names []string // what a person reads for each form

	// A one-pass search: a position is looked at only when its byte can start a form and
	// the hash of its next four bytes (case-folded) is set in filter; then it is checked
	// against the forms starting with those bytes.
	first    [256]bool
	filter   [1 << 10]uint64
	byPrefix map[uint32][]int
	// When at most four case-folded bytes can start a form (on Unix every form starts
	// with '/', '.' or a letter of a home-relative path), eight bytes that hold none of
	// them are skipped at once: starts holds each byte repeated eight times (unused
	// slots repeat the first), skip reports that it is set up.
	starts [startMax]uint64
	skip   bool

	home  string          // for "~/" in path arguments that are followed (protect_link.go)
	files []protectedFile // for recognising hard links
}

// startMax is the most distinct first bytes the eight-at-a-time skip handles.
const startMax = 4

// startMask flags, in the high bit of each byte, the bytes of w that case-folded can
// start a form; its lowest flag is always right (the first such byte, little-endian).
func (p *Protection) startMask(w uint64) uint64 {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	v := w | 0x2020202020202020
	x0, x1, x2, x3 := v^p.starts[0], v^p.starts[1], v^p.starts[2], v^p.starts[3]
	// (x-lsb)&^x&msb flags the zero bytes of x; a borrow can flag a byte above a zero
	// byte too, never below one, so the lowest flag of each, and of their union, is a
	// true zero byte: a byte equal to one of starts.
	return ((x0-lsb)&^x0 | (x1-lsb)&^x1 | (x2-lsb)&^x2 | (x3-lsb)&^x3) & msb
}

// NewProtection protects paths (absolute files or directories) under the home directory
// home, and relNames, names that are protected wherever they are (".mcp.json",
// ".vscode/mcp.json"). A path under home is recognised however it is written: absolute,
// "~/…", "$HOME/…" or relative to home (servers often run there), since each of these
// ends with the path's part relative to home.
func NewProtection(home string, paths, relNames []string) *Protection {
	p := &Protection{byPrefix: map[uint32][]int{}, home: home, files: statProtected(paths)}
	seen := map[string]bool{}
	add := func(form, name string) {
		form = string(normText([]byte(form), false))
		if len(form) < 4 || seen[form] {
			return
		}
		seen[form] = true
		p.forms = append(p.forms, form)
		p.names = append(p.names, name)
		x := fold4([]byte(form))
		h := hash4(x)
		p.first[form[0]|0x20] = true
		p.filter[h/64] |= 1 << (h % 64)
		p.byPrefix[x] = append(p.byPrefix[x], len(p.forms)-1)
	}
	for _, path := range paths {
		if path == "" || !filepath.IsAbs(path) {
			continue
		}
		path = filepath.Clean(path)
		if home != "" {
			if rel, err := filepath.Rel(home, path); err == nil && rel != "." && !strings.HasPrefix(rel, "..") && len(rel) >= 8 {
				add(rel, path)
				continue
			}
		}
		add(path, path)
	}
	for _, n := range relNames {
		add(n, n)
	}
	var starts []uint64
	for c := range p.first {
		if p.first[c] {
			starts = append(starts, 0x0101010101010101*uint64(c))
		}
	}
	if len(starts) > 0 && len(starts) <= startMax {
		for i := range p.starts {
			if i < len(starts) {
				p.starts[i] = starts[i]
			} else {
				p.starts[i] = starts[0]
			}
		}
		p.skip = true
	}
	return p
}

// fold4 is the first four bytes of b with ASCII case folded (and a few punctuation
// bytes mapped together, which only makes the filter looser).
func fold4(b []byte) uint32 { return binary.LittleEndian.Uint32(b) | 0x20202020 }

func hash4(x uint32) uint32 { return (x * 0x9E3779B1) >> 16 }

// In returns the protected path that args (a JSON value) names, or "". JSON escapes are
// undone first when they could hide a path ("\/", "\\", "\u006c"); letter case, doubled
// slashes and "/./" hide nothing either.
//
// An absolute or "~/" path among the arguments is also followed through symbolic links
// (a dangling one included) and compared with the protected files for hard links: see
// protect_link.go.
func (p *Protection) In(args json.RawMessage) string {
	if p == nil || len(p.forms) == 0 || len(args) < 4 {
		return ""
	}
	var found string
	if bytes.IndexByte(args, '\\') >= 0 && (bytes.Contains(args, []byte(`\/`)) || bytes.Contains(args, []byte(`\\`)) || bytes.Contains(args, []byte(`\u`))) {
		found = p.scan(normText(args, true), false)
	} else {
		found = p.scan(args, true)
	}
	if found == "" {
		found = p.viaLinks(args)
	}
	return found
}

// scan searches s; raw means s is JSON text whose remaining escapes (\n, \t, \") count
// as separators.
func (p *Protection) scan(s []byte, raw bool) string {
	for i := 0; i+4 <= len(s); i++ {
		if p.skip {
			// Go straight to the next byte that can start a form, eight bytes at a time.
			for i+8 <= len(s) {
				if m := p.startMask(binary.LittleEndian.Uint64(s[i:])); m != 0 {
					i += bits.TrailingZeros64(m) >> 3
					break
				}
				i += 8
			}
			if i+4 > len(s) {
				break
			}
		}
		if !p.first[s[i]|0x20] {
			continue
		}
		x := fold4(s[i:])
		if h := hash4(x); p.filter[h/64]&(1<<(h%64)) == 0 {
			continue
		}
		for _, k := range p.byPrefix[x] {
			f := p.forms[k]
			j, ok := matchAt(s, i, f)
			if !ok {
				continue
			}
			startOK := i == 0 || f[0] == '/' || s[i-1] == '/' || !nameByte(lower(s[i-1])) || (raw && i >= 2 && s[i-2] == '\\')
			if startOK && (j == len(s) || !nameByte(lower(s[j]))) {
				return p.names[k]
			}
		}
	}
	return ""
}

// matchAt reports whether form occurs in s at i, ignoring ASCII case, extra slashes and
// "./" after a slash, and returns where the occurrence ends.
func matchAt(s []byte, i int, form string) (int, bool) {
	j := i
	for k := 0; k < len(form); k++ {
		if k > 0 && form[k-1] == '/' {
			for j < len(s) {
				if s[j] == '/' {
					j++
				} else if s[j] == '.' && j+1 < len(s) && s[j+1] == '/' {
					j += 2
				} else {
					break
				}
			}
		}
		if j >= len(s) || lower(s[j]) != form[k] {
			return 0, false
		}
		j++
	}
	return j, true
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// normText returns b with ASCII letters lower-cased and backslashes as slashes; with
// unescape, JSON string escapes are undone on the way.
func normText(b []byte, unescape bool) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '\\' && unescape && i+1 < len(b) {
			i++
			switch e := b[i]; e {
			case 'n', 't', 'r', 'b', 'f':
				c = ' '
			case 'u':
				c = 'u'
				if i+4 < len(b) {
					if v, err := strconv.ParseUint(string(b[i+1:i+5]), 16, 32); err == nil {
						i += 4
						if r := rune(v); r >= utf8.RuneSelf {
							out = utf8.AppendRune(out, r)
							continue
						}
						c = byte(v)
					}
				}
			default: // \" \\ \/
				c = e
			}
		}
		if c == '\\' {
			c = '/'
		}
		out = append(out, lower(c))
	}
	return out
}

// nameByte reports whether c can be part of a file name next to a match.
func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c >= 0x80
}
