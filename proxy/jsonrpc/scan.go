package jsonrpc

import (
	"bytes"
	"fmt"
	"github.com/airlock-mcp/airlock/store/jsontext"
)

// maxDepth bounds nesting, as encoding/json does, so a hostile message cannot exhaust
// the stack.
const maxDepth = 10000

// scanner validates JSON text. It is a single forward pass with no allocation on the
// common path; strings are skimmed eight bytes at a time.
type scanner struct {
	b     []byte
	i     int
	depth int
	// dups, when set, makes objects at every depth refuse repeated keys.
	dups bool
	// valid, when set, says b is known to be valid JSON: strings are then skipped by
	// finding their closing quote, without checking what is inside.
	valid bool
}

func (s *scanner) errorf(format string, args ...any) error {
	return fmt.Errorf("at byte %d: %s", s.i, fmt.Sprintf(format, args...))
}

func (s *scanner) ws() { s.i = jsontext.SkipSpace(s.b, s.i) }

// validate reports whether b is exactly one JSON value, surrounded by optional space.
func validate(b []byte) error {
	s := scanner{b: b}
	return s.whole()
}

func (s *scanner) whole() error {
	s.ws()
	if err := s.value(); err != nil {
		return err
	}
	s.ws()
	if s.i != len(s.b) {
		return s.errorf("unexpected data after the value")
	}
	return nil
}

// CheckDuplicateKeys returns an error naming the first object key that appears twice in
// one object anywhere in b. Such input is ambiguous: parsers disagree on which value wins.
func CheckDuplicateKeys(b []byte) error {
	s := scanner{b: b, dups: true}
	return s.whole()
}

// CheckDuplicateKeysValid is CheckDuplicateKeys for b already known to be valid JSON (a
// part of a parsed Message): it does not check strings again, only skips them.
func CheckDuplicateKeysValid(b []byte) error {
	s := scanner{b: b, dups: true, valid: true}
	return s.whole()
}

func (s *scanner) value() error {
	s.ws()
	if s.i >= len(s.b) {
		return s.errorf("unexpected end of input")
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object(nil)
	case c == '[':
		return s.array()
	case c == '"':
		_, err := s.str()
		return err
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	default:
		return s.errorf("invalid character %q looking for a value", c)
	}
}

func (s *scanner) lit(want string) error {
	if len(s.b)-s.i < len(want) || string(s.b[s.i:s.i+len(want)]) != want {
		return s.errorf("invalid literal")
	}
	s.i += len(want)
	return nil
}

func (s *scanner) number() error {
	end, why := jsontext.SkipNumber(s.b, s.i)
	s.i = end
	if why != "" {
		return s.errorf("%s", why)
	}
	return nil
}

// str scans a string literal starting at the opening quote. It reports whether the
// literal contained escapes; in valid mode it does not look and reports false.
func (s *scanner) str() (escaped bool, err error) {
	b := s.b
	i := s.i + 1
	if s.valid {
		// The closing quote is the first '"' not escaped by an odd run of backslashes.
		for {
			j := bytes.IndexByte(b[i:], '"')
			if j < 0 {
				s.i = len(b)
				return escaped, s.errorf("unterminated string")
			}
			k := i + j
			n := 0
			for k-1-n > s.i && b[k-1-n] == '\\' {
				n++
			}
			if n%2 == 0 {
				s.i = k + 1
				return false, nil // escaped is not known: the caller looks if it needs to
			}
			i = k + 1
		}
	}
	for {
		i = jsontext.SkipPlain(b, i)
		if i >= len(b) {
			s.i = i
			return escaped, s.errorf("unterminated string")
		}
		c := b[i]
		switch {
		case c == '"':
			s.i = i + 1
			return escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				s.i = i
				return escaped, s.errorf("unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					s.i = i
					return escaped, s.errorf(`invalid \u escape`)
				}
				i += 6
			default:
				s.i = i
				return escaped, s.errorf("invalid escape %q", b[i+1])
			}
		case c < 0x20:
			s.i = i
			return escaped, s.errorf("control character in string")
		default:
			i++
		}
	}
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func (s *scanner) array() error {
	s.depth++
	if s.depth > maxDepth {
		return s.errorf("nesting deeper than %d", maxDepth)
	}
	s.i++ // [
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		s.depth--
		return nil
	}
	for {
		if err := s.value(); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.errorf("unexpected end of input in array")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return nil
		default:
			return s.errorf("invalid character %q after array element", s.b[s.i])
		}
	}
}

// object scans an object starting at '{'. When member is non-nil it is called with each
// decoded key and the span of its value (top level only: nested objects pass nil).
func (s *scanner) object(member func(key []byte, vstart, vend int) error) error {
	s.depth++
	if s.depth > maxDepth {
		return s.errorf("nesting deeper than %d", maxDepth)
	}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return s.errorf("expected an object")
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		s.depth--
		return nil
	}
	var keys map[string]struct{}
	for {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return s.errorf("expected a string for an object key")
		}
		kstart := s.i
		escaped, err := s.str()
		if err != nil {
			return err
		}
		rawKey := s.b[kstart:s.i]
		if s.valid {
			escaped = bytes.IndexByte(rawKey, '\\') >= 0
		}
		var key []byte
		if member != nil || s.dups {
			if escaped {
				k, ok := decodeString(rawKey)
				if !ok {
					return s.errorf("invalid object key")
				}
				key = []byte(k)
			} else {
				key = rawKey[1 : len(rawKey)-1]
			}
		}
		if s.dups {
			if keys == nil {
				keys = make(map[string]struct{}, 8)
			}
			if _, dup := keys[string(key)]; dup {
				return s.errorf("duplicate key %q", key)
			}
			keys[string(key)] = struct{}{}
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return s.errorf("expected ':' after object key")
		}
		s.i++
		s.ws()
		vstart := s.i
		if err := s.value(); err != nil {
			return err
		}
		vend := s.i
		s.ws()
		if s.i >= len(s.b) {
			return s.errorf("unexpected end of input in object")
		}
		// Report a member only once it is known to end where it should, so a value
		// such as 01 is never mistaken for 0.
		if c := s.b[s.i]; member != nil && (c == ',' || c == '}') {
			if err := member(key, vstart, vend); err != nil {
				return err
			}
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			s.depth--
			return nil
		default:
			return s.errorf("invalid character %q after object member", s.b[s.i])
		}
	}
}
