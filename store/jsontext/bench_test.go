package jsontext

import (
	"bytes"
	"testing"
)

func BenchmarkSkipPlain64K(b *testing.B) {
	buf := bytes.Repeat([]byte("x"), 64<<10)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if SkipPlain(buf, 0) != len(buf) {
			b.Fatal("stopped early")
		}
	}
}
