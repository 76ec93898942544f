// Package jsontext holds the byte-level helpers Airlock's JSON scanners share.
package jsontext

import "encoding/binary"

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// special reports whether any byte of v is '"', '\\' or a control character.
func special(v uint64) bool {
	q := v ^ (lsb * '"')
	bs := v ^ (lsb * '\\')
	hasZeroQ := (q - lsb) &^ q
	hasZeroB := (bs - lsb) &^ bs
	less := (v - lsb*0x20) &^ v
	return (hasZeroQ|hasZeroB|less)&msb != 0
}

// SkipPlain returns the index of the first byte at or after i that can end or escape a
// JSON string or is not allowed in one ('"', '\\', a control character), or len(b). It
// looks at eight bytes at a time.
func SkipPlain(b []byte, i int) int {
	for i+8 <= len(b) && !special(binary.LittleEndian.Uint64(b[i:])) {
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
