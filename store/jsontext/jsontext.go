// Package jsontext holds the byte-level helpers Airlock's JSON scanners share.
package jsontext

import (
	"bytes"
	"encoding/binary"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// special reports whether any byte of v is '"', '\\' or a control character, as a mask
// with the high bit of each such byte set (and maybe of bytes after one: only zero and
// non-zero are meaningful).
func special(v uint64) uint64 {
	q := v ^ (lsb * '"')
	bs := v ^ (lsb * '\\')
	hasZeroQ := (q - lsb) &^ q
	hasZeroB := (bs - lsb) &^ bs
	less := (v - lsb*0x20) &^ v
	return (hasZeroQ | hasZeroB | less) & msb
}

// SkipPlain returns the index of the first byte at or after i that can end or escape a
// JSON string or is not allowed in one ('"', '\\', a control character), or len(b).
//
// After the first 32 bytes it looks through windows that start at 64 bytes and double up
// to 4 KiB while nothing special turns up: in each, the vectorised bytes.IndexByte finds
// the first '"' and the first '\\' before it, and a word-at-a-time pass looks for control
// characters before those. A long run without escapes (a base64 blob, a large text) goes
// by at several GB/s; text with an escape every few dozen bytes never searches far past it.
func SkipPlain(b []byte, i int) int {
	if i < 0 {
		return i
	}
	// Most strings are short: a look at the first 32 bytes, a word at a time, finds their end.
	if i+32 <= len(b) {
		w := b[i : i+32 : i+32]
		if special(binary.LittleEndian.Uint64(w[0:]))|special(binary.LittleEndian.Uint64(w[8:]))|
			special(binary.LittleEndian.Uint64(w[16:]))|special(binary.LittleEndian.Uint64(w[24:])) == 0 {
			i += 32
		} else {
			goto words
		}
	}
	for w := 64; i+w <= len(b); {
		win := b[i : i+w : i+w]
		end := w
		if q := bytes.IndexByte(win, '"'); q >= 0 {
			end = q
		}
		if k := bytes.IndexByte(win[:end], '\\'); k >= 0 {
			end = k
		}
		if k := firstControl(win[:end]); k >= 0 {
			return i + k
		}
		if end < w {
			return i + end
		}
		i += w
		if w < 4096 {
			w *= 2
		}
	}
words:
	for i+8 <= len(b) && special(binary.LittleEndian.Uint64(b[i:])) == 0 {
		i += 8
	}
	for i < len(b) {
		if c := b[i]; c == '"' || c == '\\' || c < 0x20 {
			return i
		}
		i++
	}
	return i
}

// firstControl returns the index of the first byte below 0x20 in b, or -1.
func firstControl(b []byte) int {
	i := 0
	for ; i+32 <= len(b); i += 32 {
		w := b[i : i+32 : i+32]
		if control(binary.LittleEndian.Uint64(w[0:]))|control(binary.LittleEndian.Uint64(w[8:]))|
			control(binary.LittleEndian.Uint64(w[16:]))|control(binary.LittleEndian.Uint64(w[24:])) != 0 {
			break
		}
	}
	for ; i+8 <= len(b); i += 8 {
		if control(binary.LittleEndian.Uint64(b[i:])) != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		if b[i] < 0x20 {
			return i
		}
	}
	return -1
}

// control reports whether any byte of v is below 0x20 (non-zero when one is; see special).
func control(v uint64) uint64 { return (v - lsb*0x20) &^ v & msb }

// SkipSpace returns the index of the first byte at or after i that is not JSON white
// space, or len(b).
func SkipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// SkipNumber reads the JSON number that starts at b[i] and returns where it ends. When it
// is not a valid number it returns where reading stopped and why ("invalid number: …").
func SkipNumber(b []byte, i int) (end int, why string) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return i, "invalid number"
	}
	if i < len(b) && b[i] == '.' {
		start := i + 1
		if i = digits(b, start); i == start {
			return i, "invalid number: no digits after the decimal point"
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		if i = digits(b, start); i == start {
			return i, "invalid number: no digits in the exponent"
		}
	}
	return i, ""
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// Unquote decodes the JSON string token tok (its quotes included) exactly as
// encoding/json decodes one into a Go string: escapes are decoded, a lone or broken
// UTF-16 surrogate and each byte of invalid UTF-8 become U+FFFD. ok is false when tok is
// not one valid JSON string. It copies runs of plain bytes whole, so it runs at memory
// speed where encoding/json's Unmarshal checks and decodes a byte at a time.
func Unquote(tok []byte) (s string, ok bool) {
	if len(tok) < 2 || tok[0] != '"' || tok[len(tok)-1] != '"' {
		return "", false
	}
	in := tok[1 : len(tok)-1]
	i := SkipPlain(in, 0)
	if i == len(in) && utf8.Valid(in) {
		return string(in), true
	}
	out := make([]byte, 0, len(in))
	start := 0
	for {
		out = appendValid(out, in[start:i])
		if i == len(in) {
			return string(out), true
		}
		if in[i] != '\\' || i+1 == len(in) { // a raw '"' or control character, or a lone '\'
			return "", false
		}
		switch c := in[i+1]; c {
		case '"', '\\', '/':
			out = append(out, c)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(in[i+2:])
			if r < 0 {
				return "", false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if r2 := u4(in[i:]); r2 >= 0 {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						out = utf8.AppendRune(out, d)
						i += 6
						start = i
						i = SkipPlain(in, i)
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			start = i
			i = SkipPlain(in, i)
			continue
		default:
			return "", false
		}
		i += 2
		start = i
		i = SkipPlain(in, i)
	}
}

// appendValid appends b to out with each byte of invalid UTF-8 replaced by U+FFFD.
func appendValid(out, b []byte) []byte {
	if utf8.Valid(b) {
		return append(out, b...)
	}
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		out = utf8.AppendRune(out, r)
		b = b[n:]
	}
	return out
}

// u4 reads a \uXXXX escape at the start of b, or returns -1.
func u4(b []byte) rune {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return -1
	}
	return hex4(b[2:])
}

// hex4 reads four hexadecimal digits at the start of b, or returns -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// SkipString returns the end (past the closing quote) of the JSON string whose opening
// quote is b[i]; ok is false when it is not closed or holds a control character. It does
// not check escapes.
func SkipString(b []byte, i int) (int, bool) {
	i++
	for {
		i = SkipPlain(b, i)
		if i >= len(b) {
			return 0, false
		}
		switch b[i] {
		case '"':
			return i + 1, true
		case '\\':
			i += 2
		default: // a control character: not valid JSON
			return 0, false
		}
	}
}

// SkipValue returns the end of the JSON value at i (after white space) in b, which must
// be valid JSON: it balances brackets and skips strings, and checks nothing else.
func SkipValue(b []byte, i int) (int, bool) {
	i = SkipSpace(b, i)
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			end, ok := SkipString(b, i)
			if !ok {
				return 0, false
			}
			i = end
		case '{', '[':
			depth++
			i++
			continue
		case '}', ']':
			if depth == 0 {
				return i, true // the end of a scalar inside a container
			}
			depth--
			i++
		case ',', ':', ' ', '\t', '\r', '\n':
			if depth == 0 {
				return i, true
			}
			i++
			continue
		default:
			i++
			continue
		}
		if depth == 0 {
			return i, true
		}
	}
	return i, depth == 0
}

// AppendString appends s as a JSON string: quotes, backslashes and control
// characters escaped (and U+2028, U+2029, which some JavaScript parsers reject), invalid
// UTF-8 replaced by U+FFFD; everything else as is.
func AppendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// HeldJSON reports whether s, the value of a JSON string, looks like it holds a JSON
// object or array, and returns it without the white space around it. Airlock's redactor
// and the log's summaries of large arguments both go by it, so what one treats as JSON
// held in a string the other does too.
func HeldJSON(s string) (string, bool) {
	t := strings.TrimSpace(s)
	return t, len(t) > 1 && (t[0] == '{' || t[0] == '[')
}
