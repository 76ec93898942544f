package guard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/airlock-mcp/airlock/store"
)

// summaryBound is the most a summary can hold: the budget, plus the value that crossed
// it, plus a closer and a count of what was left out at each level.
// A value may be JSON held in a string, summarised within its own budget and escaped
// (which at most doubles it).
const summaryBound = summaryMax + 2*(summaryInnerMax+summaryStrMax+64+(summaryDepth+1)*48) + 64 + (summaryDepth+1)*48

func TestSummarizeArgs(t *testing.T) {
	words := strings.Repeat("lorem ipsum ", 100)
	token := "ghp_" + strings.Repeat("Z", 36)
	tests := []struct {
		name string
		in   string
		want string // exact, when set
		has  []string
		not  []string
	}{
		{name: "small", in: `{"a": 1, "b": [true, null, "x"], "c": {"d": -2.5e3}}`,
			want: `{"a":1,"b":[true,null,"x"],"c":{"d":-2.5e3}}`},
		{name: "long text keeps its start and length", in: `{"path":"/tmp/a","content":"` + words + `"}`,
			want: `{"path":"/tmp/a","content":"` + words[:198] + `… [1200 bytes]"}`},
		{name: "a token across the cut is dropped whole",
			in:  `{"t":"` + words[:180] + token + ` tail"}`,
			has: []string{`"t":"` + words[:180] + `… [`}, not: []string{"ghp_", "ZZZ"}},
		{name: "a base64 run with escaped slashes is dropped whole",
			in:  `{"t":"` + words[:190] + `QUJD\/REVG\/` + strings.Repeat("R0hJ", 20) + `"}`,
			not: []string{"QUJD", "REVG"}},
		{name: "a blob keeps nothing", in: `["` + strings.Repeat("x", 5000) + `"]`, want: `["… [5000 bytes]"]`},
		{name: "not inside an escape", in: `["` + strings.Repeat(`\n`, 150) + `"]`,
			want: `["` + strings.Repeat(`\n`, 100) + `… [300 bytes]"]`},
		{name: "a run without white space is dropped whole", in: `["` + strings.Repeat(`a\u00e9`, 100) + `"]`,
			want: `["… [700 bytes]"]`},
		{name: "shorter once decoded is kept whole", in: `["` + strings.Repeat(`a\u00e9`, 50) + `"]`,
			want: `["` + strings.Repeat(`aé`, 50) + `"]`},
		{name: "cut by the text, however it is spelled", in: `["` + strings.Repeat(`lorem\u0020`, 40) + `"]`,
			want: `["` + strings.Repeat(`lorem `, 33) + `… [440 bytes]"]`},
		{name: "a password across the cut is dropped whole",
			in:  `{"cmd":"` + words[:185] + `mysql -pP@ss!w0rd#2024 -e 'select 1'"}`,
			has: []string{words[:185] + `mysql … [`}, not: []string{"P@ss", "w0rd", "2024"}},
		{name: "cut after an escaped newline", in: `["` + strings.Repeat(`line\n`, 40) + `"]`,
			want: `["` + strings.Repeat(`line\n`, 33) + `… [240 bytes]"]`},
		{name: "not inside UTF-8", in: `["` + strings.Repeat("é ", 150) + `"]`, has: []string{"é… [450 bytes]"}},
		{name: "long number", in: `{"n":` + strings.Repeat("9", 300) + `}`, want: `{"n":"… [300-byte number]"}`},
		{name: "deep nesting", in: strings.Repeat("[", 40) + strings.Repeat("]", 40),
			want: strings.Repeat("[", summaryDepth) + `"… [` + fmt.Sprint(2*(40-summaryDepth)) + ` bytes nested deeper]"` + strings.Repeat("]", summaryDepth)},
		{name: "long name", in: `{"` + words + `":1}`, has: []string{`{"lorem ipsum`, `… [1200 bytes]":1}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := summarizeArgs([]byte(tt.in), nil)
			if !ok || !json.Valid(got) || !utf8.Valid(got) {
				t.Fatalf("summarizeArgs(%.80q) = %s, %v: want valid JSON", tt.in, got, ok)
			}
			if tt.want != "" && string(got) != tt.want {
				t.Errorf("summarizeArgs(%.80q)\n got %s\nwant %s", tt.in, got, tt.want)
			}
			for _, h := range tt.has {
				if !strings.Contains(string(got), h) {
					t.Errorf("summary %s\nlacks %q", got, h)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(string(got), n) {
					t.Errorf("summary %s\nholds %q", got, n)
				}
			}
		})
	}
}

// A keyring value with spaces in it that a cut would split goes wholly to the far side of
// the cut, however the arguments spell it, so redaction afterwards leaves none of it.
func TestSummarizeArgsKeepsKnownWhole(t *testing.T) {
	pass := "correct horse battery staple"
	long := strings.TrimSpace(strings.Repeat("quiet river stone ", 40)) // runs past the window
	r := &store.Redactor{Known: []string{pass, long}}
	words := strings.Repeat("lorem ipsum ", 20)
	for _, tt := range []struct{ name, secret, in string }{
		{"plain", pass, `{"cmd":"` + words[:180] + pass + ` and more text after it"}`},
		{"escaped", pass, `{"cmd":"` + words[:180] + strings.ReplaceAll(pass, " ", `\u0020`) + ` and more text after it"}`},
		{"more white space after", pass, `{"cmd":"` + words[:180] + pass + strings.Repeat(" x", 400) + `"}`},
		{"longer than the window", long, `{"cmd":"` + words[:150] + long + ` tail"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := summarizeArgs([]byte(tt.in), r.KeepWhole)
			if !ok || !json.Valid(got) {
				t.Fatalf("summary %s, %v: want valid JSON", got, ok)
			}
			red := string(r.RedactJSON(got))
			for _, w := range strings.Fields(tt.secret) {
				if strings.Contains(red, w) {
					t.Errorf("redacted summary %s\nholds %q", red, w)
				}
			}
			if !strings.Contains(red, words[:120]) {
				t.Errorf("redacted summary %s\nlost the text before the secret", red)
			}
			if without, _ := summarizeArgs([]byte(tt.in), nil); bytes.Equal(without, got) {
				t.Errorf("summary %s is the same without KeepWhole: the test shows nothing", got)
			}
		})
	}
}

// JSON held in a long string is summarised as JSON, so the redactor still finds the values
// of secret-named fields in it; cut as text, a cookie or a password with spaces would stay.
func TestSummarizeArgsJSONInString(t *testing.T) {
	inner := `{"url":"https://api.example.com/v1/items","headers":{"Cookie":"sid=Q2x1ZTI4MTk; theme=dark","X-Trace":"abc"},` +
		`"auth":{"password":"correct horse battery staple"},"body":"` + strings.Repeat("lorem ipsum ", 60) + `"}`
	in, _ := json.Marshal(map[string]any{"request": inner, "note": "n"})
	got, ok := summarizeArgs(in, nil)
	if !ok || !json.Valid(got) {
		t.Fatalf("summary %s, %v: want valid JSON", got, ok)
	}
	var outer map[string]string
	if err := json.Unmarshal(got, &outer); err != nil {
		t.Fatalf("summary %s: %v", got, err)
	}
	if !json.Valid([]byte(outer["request"])) || !strings.Contains(outer["request"], `"X-Trace":"abc"`) || outer["note"] != "n" {
		t.Errorf("summary %s: want the request summarised as JSON, and the note", got)
	}
	red := string((&store.Redactor{}).RedactJSON(got))
	for _, secret := range []string{"Q2x1ZTI4MTk", "horse", "battery"} {
		if strings.Contains(red, secret) {
			t.Errorf("redacted summary %s\nholds %q", red, secret)
		}
	}
	// White space before the JSON, Unicode's included, as the redactor allows it.
	spaced, _ := json.Marshal(map[string]any{"request": "\u00a0\n " + inner})
	got, _ = summarizeArgs(spaced, nil)
	if red := string((&store.Redactor{}).RedactJSON(got)); strings.Contains(red, "Q2x1ZTI4MTk") {
		t.Errorf("JSON after white space: redacted summary %s holds the cookie", red)
	}
	// JSON in a string in JSON in a string is cut as text (and its summary stays small).
	deeper, _ := json.Marshal(map[string]any{"a": string(in)})
	if got, ok := summarizeArgs(deeper, nil); !ok || len(got) > summaryBound {
		t.Errorf("nested summary: %d bytes, %v", len(got), ok)
	}
	// A string that only looks like JSON is cut as text.
	broken := `{"s":"{` + strings.Repeat("lorem ipsum ", 40) + `"}`
	if got, _ := summarizeArgs([]byte(broken), nil); !strings.Contains(string(got), `… [481 bytes]`) {
		t.Errorf("summary of text that is not JSON: %s", got)
	}
}

// A summary past its budget keeps the members it reached and counts the rest.
func TestSummarizeArgsBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"first":"here",`)
	for i := range 2000 {
		fmt.Fprintf(&b, `"k%d":[%d,"v"],`, i, i)
	}
	b.WriteString(`"last":"gone"}`)
	in := b.String()
	got, ok := summarizeArgs([]byte(in), nil)
	if !ok || !json.Valid(got) {
		t.Fatalf("summary %s, %v: want valid JSON", got, ok)
	}
	if len(got) < summaryMax || len(got) > summaryBound {
		t.Errorf("summary holds %d bytes, want %d to %d", len(got), summaryMax, summaryBound)
	}
	var m map[string]any
	json.Unmarshal(got, &m)
	if m["first"] != "here" || m["last"] != nil {
		t.Errorf("summary %s: want the first member and not the last", got)
	}
	left, _ := m["…"].(string)
	var n int
	if _, err := fmt.Sscanf(left, "… [%d more bytes]", &n); err != nil || n <= 0 || n >= len(in) {
		t.Errorf(`summary's "…" member = %q, want a count of the bytes left out`, left)
	}
}

func TestSummarizeArgsInvalid(t *testing.T) {
	for _, in := range []string{``, `{`, `{"a":}`, `{"a" 1}`, `["a" "b"]`, `"abc`, `{"a":1} x`, "[\"\x01\"]", `}`} {
		if got, ok := summarizeArgs([]byte(in), nil); ok {
			t.Errorf("summarizeArgs(%q) = %s, ok; want not ok", in, got)
		}
	}
}

// Whatever valid JSON comes in, the summary is valid JSON within its bound, and small
// arguments come out as compact copies of themselves.
func FuzzSummarizeArgs(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[1,[2,[3]]]`, `"x"`, `{"s":"` + strings.Repeat(`ab\"c\u1234 `, 40) + `"}`,
		`{"k":[` + strings.Repeat(`"lorem ipsum dolor",`, 200) + `0]}`, strings.Repeat(`{"a":`, 30) + `1` + strings.Repeat(`}`, 30),
		`{"j":"{\"a\":[` + strings.Repeat(`\"lorem ipsum dolor\",`, 40) + `0]}"}`} {
		f.Add([]byte(s))
	}
	r := &store.Redactor{Known: []string{"lorem ipsum dolor", "ab\"c", "ሴ a"}}
	f.Fuzz(func(t *testing.T, in []byte) {
		keep := r.KeepWhole
		if len(in)%2 == 0 {
			keep = nil
		}
		got, ok := summarizeArgs(in, keep)
		if !json.Valid(in) {
			return // arguments reach the summary only from a parsed message
		}
		if !ok || !json.Valid(got) {
			t.Fatalf("summarizeArgs(%q) = %q, %v: want valid JSON", in, got, ok)
		}
		if len(got) > summaryBound {
			t.Fatalf("summary of %d bytes holds %d", len(in), len(got))
		}
		if utf8.Valid(in) && !utf8.Valid(got) {
			t.Fatalf("summarizeArgs(%q) = %q: cut inside a UTF-8 sequence", in, got)
		}
		if len(in) < summaryStrMax && bytes.Count(in, []byte("{"))+bytes.Count(in, []byte("[")) < summaryDepth {
			var a, b any
			json.Unmarshal(in, &a)
			json.Unmarshal(got, &b)
			if fmt.Sprint(a) != fmt.Sprint(b) {
				t.Fatalf("summarizeArgs(%q) = %q: a small value changed", in, got)
			}
		}
	})
}
