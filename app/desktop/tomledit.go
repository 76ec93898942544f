package desktop

import (
	"regexp"
	"strconv"
	"strings"
)

// setKey returns text with `key = value` in the table at path (nil for the root table),
// changing only that line, or adding the line (and the table) when missing. Comments,
// order and formatting of everything else stay byte for byte. value must already be a
// TOML literal. Layouts it does not understand (dotted keys, inline tables, values over
// several lines) may leave the key unchanged or the file invalid: callers parse the
// result and check the effect before they write it.
func setKey(text string, path []string, key, value string) string {
	lines := splitLines(text)
	inTable := path == nil
	found := false
	last := -1 // last key line of the table, or its header
	inMulti := ""
	for i, ln := range lines {
		body := strings.TrimRight(ln, "\r\n")
		if inMulti != "" {
			if strings.Contains(body, inMulti) {
				inMulti = ""
			}
			continue
		}
		trim := strings.TrimSpace(body)
		if h, ok := tableHeader(trim); ok {
			if found && inTable {
				break
			}
			inTable = h != nil && equalPath(h, path)
			if inTable {
				found = true
				last = i
			}
			continue
		}
		if q := opensMultiline(trim); q != "" {
			inMulti = q
		}
		if !inTable || trim == "" || trim[0] == '#' {
			continue
		}
		if path == nil {
			found = true
		}
		last = i
		k, rest, ok := keyOf(body)
		if !ok || k != key {
			continue
		}
		lines[i] = body[:len(body)-len(rest)] + " " + value + trailer(rest) + lineEnd(ln)
		return strings.Join(lines, "")
	}
	nl := "\n"
	if strings.Contains(text, "\r\n") {
		nl = "\r\n"
	}
	entry := key + " = " + value + nl
	if found && last >= 0 {
		if !strings.HasSuffix(lines[last], "\n") {
			lines[last] += nl
		}
		lines = append(lines[:last+1], append([]string{entry}, lines[last+1:]...)...)
		return strings.Join(lines, "")
	}
	if path == nil {
		return entry + text
	}
	out := text
	if out != "" && !strings.HasSuffix(out, "\n") {
		out += nl
	}
	if out != "" {
		out += nl
	}
	return out + "[" + formatPath(path) + "]" + nl + entry
}

func splitLines(s string) []string {
	var out []string
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

func lineEnd(ln string) string {
	switch {
	case strings.HasSuffix(ln, "\r\n"):
		return "\r\n"
	case strings.HasSuffix(ln, "\n"):
		return "\n"
	}
	return ""
}

// tableHeader parses "[a.b]" (path a, b) and "[[a]]" (nil path: an array table, which
// never matches); ok is false for any other line.
func tableHeader(trim string) ([]string, bool) {
	if !strings.HasPrefix(trim, "[") {
		return nil, false
	}
	if strings.HasPrefix(trim, "[[") {
		return nil, true
	}
	p, rest, ok := parseKeyPath(trim[1:])
	if !ok {
		return nil, false
	}
	rest = strings.TrimSpace(rest)
	if !strings.HasPrefix(rest, "]") {
		return nil, false
	}
	if r := strings.TrimSpace(rest[1:]); r != "" && r[0] != '#' {
		return nil, false
	}
	return p, true
}

// keyOf parses a "key = …" line of a single key; rest is what follows the '='.
func keyOf(line string) (key, rest string, ok bool) {
	p, rest, ok := parseKeyPath(line)
	if !ok || len(p) != 1 {
		return "", "", false
	}
	rest = strings.TrimLeft(rest, " \t")
	if !strings.HasPrefix(rest, "=") {
		return "", "", false
	}
	return p[0], rest[1:], true
}

var bareKey = regexp.MustCompile(`^[A-Za-z0-9_-]+`)

// parseKeyPath parses a dotted TOML key at the start of s (after blanks).
func parseKeyPath(s string) (path []string, rest string, ok bool) {
	for {
		s = strings.TrimLeft(s, " \t")
		var part string
		switch {
		case strings.HasPrefix(s, `"`):
			end := closingQuote(s)
			if end < 0 {
				return nil, "", false
			}
			u, err := strconv.Unquote(s[:end+1])
			if err != nil {
				return nil, "", false
			}
			part, s = u, s[end+1:]
		case strings.HasPrefix(s, `'`):
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return nil, "", false
			}
			part, s = s[1:end+1], s[end+2:]
		default:
			m := bareKey.FindString(s)
			if m == "" {
				return nil, "", false
			}
			part, s = m, s[len(m):]
		}
		path = append(path, part)
		t := strings.TrimLeft(s, " \t")
		if !strings.HasPrefix(t, ".") {
			return path, s, true
		}
		s = t[1:]
	}
}

// closingQuote returns the index of the '"' that ends the basic string s starts with.
func closingQuote(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// trailer returns the comment (with the blanks before it) after the value in rest, the
// text after a key's '='.
func trailer(rest string) string {
	v := strings.TrimLeft(rest, " \t")
	end := len(v)
	switch {
	case strings.HasPrefix(v, `"`):
		if i := closingQuote(v); i >= 0 {
			end = i + 1
		}
	case strings.HasPrefix(v, `'`):
		if i := strings.IndexByte(v[1:], '\''); i >= 0 {
			end = i + 2
		}
	default:
		if i := strings.IndexByte(v, '#'); i >= 0 {
			end = i
		}
	}
	tail := v[end:]
	t := strings.TrimLeft(tail, " \t")
	if !strings.HasPrefix(t, "#") {
		return ""
	}
	ws := tail[:len(tail)-len(t)]
	if ws == "" {
		ws = " "
	}
	return ws + t
}

// opensMultiline returns the delimiter of a multi-line string that the line opens and
// does not close, or "".
func opensMultiline(trim string) string {
	for _, q := range []string{`"""`, `'''`} {
		if strings.Count(trim, q)%2 == 1 {
			return q
		}
	}
	return ""
}

func equalPath(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func formatPath(path []string) string {
	parts := make([]string, len(path))
	for i, p := range path {
		if bareKey.FindString(p) == p && p != "" {
			parts[i] = p
		} else {
			parts[i] = strconv.Quote(p)
		}
	}
	return strings.Join(parts, ".")
}

// tomlString returns s as a TOML basic string.
func tomlString(s string) string { return strconv.Quote(s) }
