package risk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// decoderTokens is the reference: encoding/json's Decoder.Token with UseNumber.
func decoderTokens(b []byte) []any {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out []any
	for {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		out = append(out, tok)
	}
}

// tokenizerTokens returns the tokens and whether the tokenizer ended cleanly.
func tokenizerTokens(b []byte) ([]any, bool) {
	t := newTokenizer(b)
	var out []any
	for n := 0; n < 1<<20; n++ {
		tok, err := t.Token()
		if errors.Is(err, io.EOF) {
			return out, true
		}
		if err != nil {
			return out, false
		}
		out = append(out, tok)
	}
	return out, false
}

var tokenSeeds = []string{
	`{}`, `[]`, `{"a":1}`, `{"a":[1,2,{"b":null}],"c":true,"d":false}`,
	`"plain"`, `"esc\"aped\n\u00e9\ud83d\ude00"`, `-0.5e+10`, `0`, `[ 1 , 2 ]`,
	"{\"k\":\"\xff\xfe bad utf8\"}", `{"a":{"b":{"c":[[[]]]}}}`, ` {"x" : "y" } `,
	// invalid
	`{`, `[1,]`, `{"a"}`, `{"a":}`, `{,}`, `01`, `1x`, `-`, `1.`, `1e`, `tru`, `nul`,
	`{"a":1}{}`, `[1] 2`, `"unterminated`, `"bad \x escape"`, "\"ctl\x01\"", `{"a" 1}`,
	`[}`, `{]`, `{"a":1,}`, `truex`, `[true false]`, `{1:2}`,
}

func TestTokenizerMatchesDecoder(t *testing.T) {
	for _, s := range tokenSeeds {
		checkTokenizer(t, []byte(s))
	}
	// A large string without escapes is sliced, not decoded: same value.
	big := `{"s":"` + strings.Repeat("abc:def ", 10000) + `"}`
	checkTokenizer(t, []byte(big))
}

func FuzzTokenizer(f *testing.F) {
	for _, s := range tokenSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkTokenizer(t, b) })
}

func checkTokenizer(t *testing.T, b []byte) {
	t.Helper()
	got, clean := tokenizerTokens(b)
	if !json.Valid(b) {
		if clean {
			t.Fatalf("%q: invalid JSON tokenized without an error: %v", b, got)
		}
		return
	}
	if !clean {
		t.Fatalf("%q: valid JSON gave an error after %v", b, got)
	}
	if want := decoderTokens(b); !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %#v\nwant %#v", b, got, want)
	}
}

// BenchmarkClassifyArgs: the cost of assessing one call by its arguments' size, the work
// airlock wrap does on the message path for every tools/call.
func BenchmarkClassifyArgs(b *testing.B) {
	for _, size := range []int{5, 64 << 10, 1 << 20} {
		payload := strings.Repeat("x", size)
		args := json.RawMessage(`{"text":"` + payload + `"}`)
		b.Run(byteSize(size), func(b *testing.B) {
			b.SetBytes(int64(len(args)))
			for b.Loop() {
				Classify(Call{Tool: "echo", Args: args})
			}
		})
	}
}

func byteSize(n int) string {
	switch {
	case n >= 1<<20:
		return itoa(n>>20) + "MiB"
	case n >= 1<<10:
		return itoa(n>>10) + "KiB"
	}
	return itoa(n) + "B"
}

func itoa(n int) string { return strconv.Itoa(n) }

// With maxStr set, a long string without escapes comes back as a valid prefix of at least
// maxStr-3 bytes; a string with escapes, or a short one, comes back whole.
func TestTokenizerMaxStr(t *testing.T) {
	const max = 40
	for _, s := range []string{
		strings.Repeat("x", 100),
		strings.Repeat("x", 39) + "é" + strings.Repeat("y", 60),   // é straddles the cut
		strings.Repeat("x", 38) + "日本語" + strings.Repeat("y", 60), // three-byte runes
		strings.Repeat("x", 37) + "😀" + strings.Repeat("y", 60),   // a four-byte rune
		"short",
	} {
		raw, _ := json.Marshal(map[string]string{"k": s})
		tz := newTokenizer(raw)
		tz.maxStr = max
		var got string
		for {
			tok, err := tz.Token()
			if err != nil {
				break
			}
			if v, ok := tok.(string); ok && v != "k" {
				got = v
			}
		}
		if !utf8.ValidString(got) || !strings.HasPrefix(s, got) {
			t.Errorf("%.20q…: got %q, not a valid prefix", s, got)
		}
		if len(s) > max && (len(got) < max-3 || len(got) > max) || len(s) <= max && got != s {
			t.Errorf("%.20q… (%d bytes): got %d bytes", s, len(s), len(got))
		}
	}
	escaped := `{"k":"` + strings.Repeat(`a\n`, 50) + `"}`
	tz := newTokenizer([]byte(escaped))
	tz.maxStr = max
	tz.Token() // {
	tz.Token() // k
	if tok, _ := tz.Token(); len(tok.(string)) != 100 {
		t.Errorf("a string with escapes was cut: %d bytes", len(tok.(string)))
	}
}

// FuzzASCIITraits: the eight-at-a-time check says what a byte-by-byte one says.
func FuzzASCIITraits(f *testing.F) {
	for _, s := range []string{"", "abc", "Hello, World", "tab\there", "\x7f", "é", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "@[`{ ~!",
		"0123456789abcdefZ", "0123456789abcdef\x1f", "0123456789abcdef\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		printable, upper := true, false
		for i := 0; i < len(s); i++ {
			c := s[i]
			printable = printable && c >= 0x20 && c <= 0x7e
			upper = upper || c >= 'A' && c <= 'Z'
		}
		if !printable {
			upper = false
		}
		if p, u := asciiTraits(s); p != printable || u != upper {
			t.Fatalf("asciiTraits(%q) = %v, %v; want %v, %v", s, p, u, printable, upper)
		}
	})
}

func TestDollarTag(t *testing.T) {
	for in, want := range map[string]string{
		"$$ x": "$$", "$body$ x": "$body$", "$_1$": "$_1$", "$1": "", "$1$": "", "$a1$": "$a1$",
		"$": "", "$ab": "", "$a b$": "", "$ü$": "$ü$",
	} {
		if got := dollarTag(in); got != want {
			t.Errorf("dollarTag(%q) = %q, want %q", in, got, want)
		}
	}
	// A parameter does not open a body: the literal after it stays a literal.
	for _, st := range sqlStatements("SELECT * FROM t WHERE id = $1 AND note = 'DROP TABLE x'") {
		if st.body {
			t.Errorf("statement %v read as a dollar-quoted body", st.words)
		}
		for _, w := range st.words {
			if w.w == "DROP" {
				t.Errorf("literal read as SQL: %v", st.words)
			}
		}
	}
}

// FuzzSQLStatements checks that no text makes the SQL reading panic or loop.
func FuzzSQLStatements(f *testing.F) {
	for _, s := range []string{"SELECT $$it's$$; DROP TABLE x", "$a$/*$a$", "/*!", "'\\", "$$--\r$$", "DO $x$ $y$ $x$;", "/*", "$", "$$"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		classifySQLText(s, false, 0)
	})
}

// Strings are read without copying them out of the arguments: nothing Classify returns
// may still share those bytes, or a caller reusing its buffer would change the reasons.
func TestAssessmentSharesNoArgumentBytes(t *testing.T) {
	args := []byte(`{"to":"someone@example.com","amount":"250 USD","path":"~/.ssh/id_rsa","command":"rm -rf ~/x",` +
		`"sql":"DROP TABLE users","a key that is not an identifier":{"nested":"sudo reboot"},"list":["/etc/shadow"]}`)
	for _, tool := range []string{"send_payment", "read_file", "write_file", "run_command"} {
		a := Classify(Call{Tool: tool, Args: args})
		before := fmt.Sprintf("%+v", a)
		for i := range args {
			args[i] ^= 0x20
		}
		after := fmt.Sprintf("%+v", a)
		for i := range args {
			args[i] ^= 0x20
		}
		if before != after {
			t.Errorf("%s: changing the arguments' bytes changed the assessment:\n%s\n%s", tool, before, after)
		}
	}
}
