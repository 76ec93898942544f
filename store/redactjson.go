package store

import (
	"github.com/airlock-mcp/airlock/store/jsontext"
	"strings"
	"sync"
	"unicode/utf8"
)

// maxJSONDepth is the deepest nesting redactJSON accepts, as encoding/json does; deeper
// input is treated as not JSON (and redacted as text).
const maxJSONDepth = 10000

// jsonRedactor redacts one JSON text in a single pass, writing the result as it reads:
// every string (and object key) goes through RedactString, a string that itself holds a
// JSON object or array is redacted structurally, the value of a secret-named field is
// replaced whole, and a number equal to a keyring value is replaced. Objects keep their
// members in order; insignificant white space is dropped. It decodes nothing it does not
// have to: a clean string is copied as it came.
type jsonRedactor struct {
	r     *Redactor
	in    []byte
	i     int
	out   []byte
	depth int
}

// redactJSON returns the redacted form of the JSON text raw, or ok=false when raw is not
// a single valid JSON value.
func (r *Redactor) redactJSON(raw []byte, nest int) (out []byte, ok bool) {
	j := jsonRedactor{r: r, in: raw, out: make([]byte, 0, len(raw)+16)}
	j.ws()
	if !j.value(nest) {
		return nil, false
	}
	j.ws()
	if j.i != len(j.in) {
		return nil, false
	}
	return j.out, true
}

func (j *jsonRedactor) ws() { j.i = jsontext.SkipSpace(j.in, j.i) }

func (j *jsonRedactor) value(nest int) bool {
	if j.i >= len(j.in) {
		return false
	}
	switch c := j.in[j.i]; {
	case c == '{':
		return j.object(nest)
	case c == '[':
		return j.array(nest)
	case c == '"':
		s, raw, ok := j.str()
		if !ok {
			return false
		}
		j.emitString(s, raw, nest)
		return true
	case c == 't':
		return j.lit("true")
	case c == 'f':
		return j.lit("false")
	case c == 'n':
		return j.lit("null")
	case c == '-' || c >= '0' && c <= '9':
		start := j.i
		if !j.number() {
			return false
		}
		if n := j.in[start:j.i]; j.r.number[string(n)] {
			j.out = append(j.out, `"[REDACTED:keyring]"`...)
		} else {
			j.out = append(j.out, n...)
		}
		return true
	}
	return false
}

func (j *jsonRedactor) lit(w string) bool {
	if !strings.HasPrefix(string(j.in[j.i:min(len(j.in), j.i+len(w))]), w) {
		return false
	}
	j.i += len(w)
	j.out = append(j.out, w...)
	return true
}

func (j *jsonRedactor) number() bool {
	end, why := jsontext.SkipNumber(j.in, j.i)
	j.i = end
	return why == ""
}

// str reads a string token. s is its decoded value; raw is its exact text (quotes
// included) when that text is already what the redactor would write for s: no escapes,
// valid UTF-8; otherwise nil.
func (j *jsonRedactor) str() (s string, raw []byte, ok bool) {
	start := j.i
	i := j.i + 1
	escaped := false
	for {
		i = jsontext.SkipPlain(j.in, i)
		if i >= len(j.in) {
			return "", nil, false
		}
		c := j.in[i]
		if c == '"' {
			break
		}
		if c < 0x20 {
			return "", nil, false
		}
		// A backslash: skip the escaped byte; Unquote below checks the escape.
		escaped = true
		i += 2
	}
	j.i = i + 1
	tok := j.in[start:j.i]
	body := tok[1 : len(tok)-1]
	if !escaped && utf8.Valid(body) {
		return string(body), tok, true
	}
	if s, ok = jsontext.Unquote(tok); !ok {
		return "", nil, false
	}
	return s, nil, true
}

// emitString writes the redacted form of the string value s (whose clean source text,
// if any, is raw).
func (j *jsonRedactor) emitString(s string, raw []byte, nest int) {
	if nest < maxNest {
		if t, ok := jsontext.HeldJSON(s); ok {
			if inner, ok := j.r.redactJSON([]byte(t), nest+1); ok {
				j.out = jsontext.AppendString(j.out, string(inner))
				return
			}
		}
	}
	rs := j.r.RedactString(s)
	if raw != nil && rs == s {
		j.out = append(j.out, raw...)
		return
	}
	j.out = jsontext.AppendString(j.out, rs)
}

// open starts an object or array (j.in[j.i] is its opening byte) and writes it. empty
// reports that it closed at once (and was written whole); ok is false past the depth
// limit.
func (j *jsonRedactor) open(close byte) (empty, ok bool) {
	j.depth++
	if j.depth > maxJSONDepth {
		return false, false
	}
	j.out = append(j.out, j.in[j.i])
	j.i++
	j.ws()
	if j.i < len(j.in) && j.in[j.i] == close {
		j.i++
		j.out = append(j.out, close)
		j.depth--
		return true, true
	}
	return false, true
}

func (j *jsonRedactor) object(nest int) bool {
	if empty, ok := j.open('}'); empty || !ok {
		return ok
	}
	for {
		j.ws()
		if j.i >= len(j.in) || j.in[j.i] != '"' {
			return false
		}
		k, raw, ok := j.str()
		if !ok {
			return false
		}
		if rk := j.r.RedactString(k); raw != nil && rk == k {
			j.out = append(j.out, raw...)
		} else {
			j.out = jsontext.AppendString(j.out, rk)
		}
		j.ws()
		if j.i >= len(j.in) || j.in[j.i] != ':' {
			return false
		}
		j.i++
		j.out = append(j.out, ':')
		j.ws()
		if secretField(k) && !j.harmlessNext() {
			// Parse the value (it must be valid) but write the marker instead.
			mark := len(j.out)
			if !j.value(nest) {
				return false
			}
			j.out = append(j.out[:mark], `"[REDACTED:secret-field]"`...)
		} else if !j.value(nest) {
			return false
		}
		if more, ok := j.next('}'); !more {
			return ok
		}
	}
}

// harmlessNext reports whether the value about to be read cannot hold a secret: null, a
// boolean or the empty string.
func (j *jsonRedactor) harmlessNext() bool {
	rest := j.in[j.i:]
	for _, w := range []string{"null", "true", "false", `""`} {
		if len(rest) >= len(w) && string(rest[:len(w)]) == w {
			return true
		}
	}
	return false
}

func (j *jsonRedactor) array(nest int) bool {
	if empty, ok := j.open(']'); empty || !ok {
		return ok
	}
	for {
		j.ws()
		if !j.value(nest) {
			return false
		}
		if more, ok := j.next(']'); !more {
			return ok
		}
	}
}

// next reads what follows a member or an element: a comma (more follows) or close (the
// container ends), and writes it.
func (j *jsonRedactor) next(close byte) (more, ok bool) {
	j.ws()
	if j.i >= len(j.in) {
		return false, false
	}
	switch j.in[j.i] {
	case ',':
		j.i++
		j.out = append(j.out, ',')
		return true, true
	case close:
		j.i++
		j.out = append(j.out, close)
		j.depth--
		return false, true
	}
	return false, false
}

// wordsCache remembers SplitWords for the names seen most: arguments repeat the same few
// field names ("path", "content") call after call.
var wordsCache = struct {
	sync.RWMutex
	m map[string][]string
}{m: map[string][]string{}}

const wordsCacheMax = 4096

// Words is SplitWords, remembered for short names. The result is shared: do not modify it.
func Words(name string) []string {
	if len(name) > 64 {
		return SplitWords(name)
	}
	wordsCache.RLock()
	w, ok := wordsCache.m[name]
	wordsCache.RUnlock()
	if ok {
		return w
	}
	w = SplitWords(name)
	wordsCache.Lock()
	if len(wordsCache.m) >= wordsCacheMax {
		clear(wordsCache.m)
	}
	wordsCache.m[name] = w
	wordsCache.Unlock()
	return w
}
