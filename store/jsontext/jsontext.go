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
