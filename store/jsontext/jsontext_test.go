package jsontext

import "testing"

func naive(b []byte, i int) int {
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return len(b)
}

func FuzzSkipPlain(f *testing.F) {
	for _, s := range []string{"", "abc", `abcdefgh"`, "abcdefghijklmnop\\q", "\x00", "é\x1fx", "0123456789abcdef0123456789\"", "\x7f\x80\xff\"\x20"} {
		f.Add([]byte(s), 0)
	}
	f.Fuzz(func(t *testing.T, b []byte, i int) {
		if i < 0 || i > len(b) {
			return
		}
		if got, want := SkipPlain(b, i), naive(b, i); got != want {
			t.Fatalf("SkipPlain(%q, %d) = %d, want %d", b, i, got, want)
		}
	})
}
