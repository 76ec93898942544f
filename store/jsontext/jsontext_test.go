package jsontext

import (
	"encoding/json"
	"strings"
	"testing"
)

func naive(b []byte, i int) int {
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return len(b)
}

func FuzzSkipPlain(f *testing.F) {
	long := "0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, s := range []string{"", "abc", `abcdefgh"`, "abcdefghijklmnop\\q", "\x00", "é\x1fx", "0123456789abcdef0123456789\"", "\x7f\x80\xff\"\x20",
		long + long, long + "\"" + long, long[:33] + "\\", long[:31] + "\x1f" + long, long + long[:7] + "\x00"} {
		f.Add([]byte(s), 0)
	}
	// Long runs: the windows grow to 4 KiB; a special byte in each of them, at their edges.
	run := strings.Repeat("ab+/", 3000)
	for _, at := range []int{31, 32, 95, 96, 224, 4000, 8159, 8160, 11999} {
		for _, c := range []string{"\"", "\\", "\x01"} {
			f.Add([]byte(run[:at]+c+run[at:]), 0)
		}
	}
	f.Add([]byte(run), 5)
	f.Fuzz(func(t *testing.T, b []byte, i int) {
		if i < 0 || i > len(b) {
			return
		}
		if got, want := SkipPlain(b, i), naive(b, i); got != want {
			t.Fatalf("SkipPlain(%q, %d) = %d, want %d", b, i, got, want)
		}
	})
}

// FuzzSkipNumber: a text is one whole number by SkipNumber exactly when encoding/json
// says it is a valid JSON number.
func FuzzSkipNumber(f *testing.F) {
	for _, s := range []string{"0", "-0", "12", "01", "1.", "1.5", "-", "1e", "1e+5", "1E-07", ".5", "-1.2e3x", "00", "1.e2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		end, why := SkipNumber([]byte(s), 0)
		whole := why == "" && end == len(s) && len(s) > 0
		var n json.Number
		valid := len(s) > 0 && s[0] != ' ' && json.Unmarshal([]byte(s), &n) == nil && string(n) == s
		if whole != valid {
			t.Fatalf("SkipNumber(%q) = %d, %q; encoding/json says valid=%v", s, end, why, valid)
		}
	})
}

func TestSkipSpace(t *testing.T) {
	if got := SkipSpace([]byte(" \t\r\n x "), 0); got != 5 {
		t.Errorf("SkipSpace = %d, want 5", got)
	}
	if got := SkipSpace([]byte("  "), 1); got != 2 {
		t.Errorf("SkipSpace at the end = %d, want 2", got)
	}
}

// FuzzUnquote: Unquote accepts exactly the string tokens encoding/json accepts and
// decodes them to the same Go string.
func FuzzUnquote(f *testing.F) {
	for _, s := range []string{`""`, `"abc"`, `"a\"b"`, `"\u00e9\n\t\/"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ud83dx"`,
		`"\ude00\ud83d"`, `"\ud83d\u0041"`, "\"\xff\xfe\"", "\"\xe2\x82\\n\"", `"\'"`, `"\x"`, `"\u12"`, `"\u12g4"`,
		"\"\x1f\"", `"a"b"`, `"\"`, `"`, `"\u0000"`, "\"\xed\xa0\x80\"", `"\uD800\uDC00"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, tok []byte) {
		got, ok := Unquote(tok)
		var want string
		wantOK := len(tok) >= 2 && tok[0] == '"' && tok[len(tok)-1] == '"' && json.Unmarshal(tok, &want) == nil
		if ok != wantOK || got != want {
			t.Fatalf("Unquote(%q) = %q, %v; encoding/json gives %q, %v", tok, got, ok, want, wantOK)
		}
	})
}

func TestSkipValue(t *testing.T) {
	for _, tt := range []struct {
		in   string
		at   int
		want int
	}{
		{`{"a":[1,"]}",{"b":null}]} rest`, 0, 25},
		{`  "x\"y"  `, 0, 8},
		{`[12.5e3, true]`, 1, 7},
		{`[12.5e3, true]`, 8, 13},
		{`{"a":"\\"}`, 5, 9},
	} {
		if got, ok := SkipValue([]byte(tt.in), tt.at); !ok || got != tt.want {
			t.Errorf("SkipValue(%q, %d) = %d, %v; want %d", tt.in, tt.at, got, ok, tt.want)
		}
	}
	for _, in := range []string{`"abc`, "\"a\x01\"", `[1,2`} {
		if got, ok := SkipValue([]byte(in), 0); ok {
			t.Errorf("SkipValue(%q) = %d, ok; want not ok", in, got)
		}
	}
}

// FuzzSkipValue: on valid JSON, SkipValue ends where the value does.
func FuzzSkipValue(f *testing.F) {
	for _, s := range []string{`1`, ` {"a":[1,{"b":"}"}]} `, `"\"\\"`, `[[],{},""]`, `-0.5E+2`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		end, ok := SkipValue(in, 0)
		if !json.Valid(in) {
			return
		}
		if !ok || SkipSpace(in, end) != len(in) || !json.Valid(in[:end]) {
			t.Fatalf("SkipValue(%q) = %d, %v", in, end, ok)
		}
	})
}
