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

// Short strings, as in most messages: names, ids, small values.
func BenchmarkSkipPlainShort(b *testing.B) {
	msg := []byte(`{"jsonrpc":"2.0","id":17,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"/home/user/project/src/main.go","encoding":"utf-8"}}}`)
	var starts []int
	for i, c := range msg {
		if c == '"' {
			starts = append(starts, i+1)
		}
	}
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		for _, i := range starts {
			SkipPlain(msg, i)
		}
	}
}

// Text with an escape every line, as in file contents.
func BenchmarkSkipPlainLines(b *testing.B) {
	buf := bytes.Repeat([]byte(`	fmt.Println("hello, world") // a line of code\n`), 1500)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		for i := 0; i < len(buf); i++ {
			i = SkipPlain(buf, i)
		}
	}
}
