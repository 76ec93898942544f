package risk

import (
	"encoding/json"
	"errors"
	"github.com/airlock-mcp/airlock/store/jsontext"
	"io"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// tokenizer yields the tokens of one JSON value as encoding/json's Decoder.Token does with
// UseNumber (json.Delim, string, json.Number, bool, nil), and checks the same grammar, but
// without the Decoder's buffering and per-string reflection: a 64 KiB string argument
// costs one pass over its bytes instead of several. Anything after the one top-level value
// other than white space is an error.
type tokenizer struct {
	b []byte
	i int
	// maxStr, when above zero, cuts a string without escapes that is longer than maxStr
	// bytes to about maxStr (at a character boundary, never below maxStr-3): a caller that
	// looks only at the start of long strings need not copy them whole.
	maxStr int
	stack  []byte // '{' or '['
	// what the next token may be
	state tokState
	done  bool // the top-level value is complete
}

type tokState uint8

const (
	stValue      tokState = iota // a value
	stFirstValue                 // a value or ']' (just after '[')
	stFirstKey                   // a key or '}' (just after '{')
	stKey                        // a key (after ',' in an object)
	stColon                      // ':' then a value
	stComma                      // ',' or the container's close
)

var errSyntax = errors.New("invalid JSON")

func newTokenizer(b []byte) *tokenizer { return &tokenizer{b: b} }

func (t *tokenizer) ws() { t.i = jsontext.SkipSpace(t.b, t.i) }

// Token returns the next token; io.EOF after the complete value.
func (t *tokenizer) Token() (any, error) {
	for {
		t.ws()
		if t.done {
			if t.i < len(t.b) {
				return nil, errSyntax
			}
			return nil, io.EOF
		}
		if t.i >= len(t.b) {
			return nil, io.ErrUnexpectedEOF
		}
		c := t.b[t.i]
		switch t.state {
		case stColon:
			if c != ':' {
				return nil, errSyntax
			}
			t.i++
			t.state = stValue
			continue
		case stComma:
			top := t.stack[len(t.stack)-1]
			switch {
			case c == ',':
				t.i++
				if top == '{' {
					t.state = stKey
				} else {
					t.state = stValue
				}
				continue
			case (c == '}' && top == '{') || (c == ']' && top == '['):
				t.i++
				return t.close(c), nil
			}
			return nil, errSyntax
		case stFirstKey, stKey:
			if c == '}' && t.state == stFirstKey {
				t.i++
				return t.close(c), nil
			}
			if c != '"' {
				return nil, errSyntax
			}
			s, err := t.str()
			if err != nil {
				return nil, err
			}
			t.state = stColon
			return s, nil
		case stFirstValue:
			if c == ']' {
				t.i++
				return t.close(c), nil
			}
		}
		return t.value(c)
	}
}

// close pops a container and returns its closing delimiter.
func (t *tokenizer) close(c byte) json.Delim {
	t.stack = t.stack[:len(t.stack)-1]
	t.afterValue()
	return json.Delim(c)
}

func (t *tokenizer) afterValue() {
	if len(t.stack) == 0 {
		t.done = true
	} else {
		t.state = stComma
	}
}

// value reads a value starting with c, in a value position.
func (t *tokenizer) value(c byte) (any, error) {
	switch {
	case c == '{' || c == '[':
		t.i++
		t.stack = append(t.stack, c)
		if c == '{' {
			t.state = stFirstKey
		} else {
			t.state = stFirstValue
		}
		return json.Delim(c), nil
	case c == '"':
		s, err := t.str()
		if err != nil {
			return nil, err
		}
		t.afterValue()
		return s, nil
	case c == '-' || (c >= '0' && c <= '9'):
		n, err := t.number()
		if err != nil {
			return nil, err
		}
		t.afterValue()
		return n, nil
	}
	for _, lit := range [...]struct {
		s string
		v any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if strings.HasPrefix(string(t.b[t.i:min(len(t.b), t.i+5)]), lit.s) {
			t.i += len(lit.s)
			t.afterValue()
			return lit.v, nil
		}
	}
	return nil, errSyntax
}

// str reads a string at t.i (a '"'). Strings without escapes or invalid UTF-8 are
// sliced; the others are decoded by encoding/json, so the result is always the same.
func (t *tokenizer) str() (string, error) {
	start := t.i
	t.i++
	escaped := false
	for t.i < len(t.b) {
		t.i = jsontext.SkipPlain(t.b, t.i)
		if t.i >= len(t.b) {
			break
		}
		c := t.b[t.i]
		switch {
		case c == '"':
			t.i++
			body := t.b[start+1 : t.i-1]
			if !escaped && t.maxStr > 0 && len(body) > t.maxStr {
				cut := t.maxStr
				for cut > t.maxStr-3 && body[cut]&0xC0 == 0x80 {
					cut-- // not inside a UTF-8 sequence
				}
				body = body[:cut]
			}
			if escaped || !utf8.Valid(body) {
				s, ok := jsontext.Unquote(t.b[start:t.i])
				if !ok {
					return "", errSyntax
				}
				return s, nil
			}
			// Not copied: the string shares the argument's bytes, which nobody changes
			// while Classify runs, and Classify keeps nothing of it (findings hold their own
			// copies). A 1 MiB argument is not copied a second time to be read.
			return unsafe.String(unsafe.SliceData(body), len(body)), nil
		case c == '\\':
			escaped = true
			t.i += 2
			continue
		case c < 0x20:
			return "", errSyntax
		}
		t.i++
	}
	return "", io.ErrUnexpectedEOF
}

// number reads a JSON number at t.i.
func (t *tokenizer) number() (json.Number, error) {
	start := t.i
	end, why := jsontext.SkipNumber(t.b, t.i)
	t.i = end
	if why != "" {
		return "", errSyntax
	}
	return json.Number(t.b[start:end]), nil
}
