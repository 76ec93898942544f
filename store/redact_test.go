package store

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Fake credentials in the shapes real ones have.
const (
	ghToken   = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"
	ghPAT     = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"
	antKey    = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789"
	oaiKey    = "sk-proj-abcdefghijklmnopqrstuvwxyz012345"
	slackTok  = "xoxb-1234567890-abcdefghijkl"
	awsKey    = "AKIAIOSFODNN7EXAMPLE"
	googleKey = "AIzaSyA1234567890abcdefghijklmnopqrstuv"
	jwt       = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXZhbHVl"
	pemKey    = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1234\nabcd==\n-----END RSA PRIVATE KEY-----"
	known     = "correct-horse-battery"
)

func TestRedactString(t *testing.T) {
	r := &Redactor{Known: []string{known, "abc", "", "p\"q\\r-secret-with-quote"}}
	tests := []struct {
		name, in, want string
	}{
		{"github token", "token " + ghToken + " end", "token [REDACTED:github-token] end"},
		{"github pat", ghPAT, "[REDACTED:github-token]"},
		{"anthropic", "key=" + antKey, "key=[REDACTED:anthropic-key]"},
		{"openai", "use " + oaiKey, "use [REDACTED:openai-key]"},
		{"slack", slackTok, "[REDACTED:slack-token]"},
		{"aws", "id " + awsKey + ".", "id [REDACTED:aws-access-key]."},
		{"google", googleKey, "[REDACTED:google-api-key]"},
		{"jwt", "jwt " + jwt, "jwt [REDACTED:jwt]"},
		{"bearer", "Authorization: Bearer abc.def-ghi_123", "Authorization: Bearer [REDACTED:bearer-token]"},
		{"pem", "key:\n" + pemKey + "\nafter", "key:\n[REDACTED:private-key]\nafter"},
		{"pem unterminated", "-----BEGIN PRIVATE KEY-----\nMIIE", "[REDACTED:private-key]"},
		{"url password", "git clone https://bob:s3cr3t@example.com/x.git", "git clone https://bob:[REDACTED:url-password]@example.com/x.git"},
		{"url no password", "https://bob@example.com/a:b@c", "https://bob@example.com/a:b@c"},
		{"env assignment", "GITHUB_TOKEN=abc123 npx server", "GITHUB_TOKEN=[REDACTED:secret] npx server"},
		{"flag", "--db-password=hunter22 --verbose", "--db-password=[REDACTED:secret] --verbose"},
		{"query string", "https://x.test/cb?code=1&access_token=zzz9&x=1", "https://x.test/cb?code=1&access_token=[REDACTED:secret]&x=1"},
		{"quoted value with spaces", `PASSWORD="correct horse battery staple" make`, `PASSWORD="[REDACTED:secret]" make`},
		{"single-quoted value with spaces", `mysql --password='two words' -e q`, `mysql --password='[REDACTED:secret]' -e q`},
		{"quoted value in JSON text", `{"api_key": "a b c", "n": 1}`, `{"api_key": "[REDACTED:secret]", "n": 1}`},
		{"quote that does not close", `token: "abc def`, `token: "[REDACTED:secret] def`},
		{"quoted value ends at the line", "secret='abc\nnext' x", "secret='[REDACTED:secret]\nnext' x"},
		{"non-ASCII text, quoted value", `clé passphrase = "un deux trois"`, `clé passphrase = "[REDACTED:secret]"`},
		{"known value", "echo " + known + "!", "echo [REDACTED:keyring]!"},
		{"known value json escaped", `{"v":"p\"q\\r-secret-with-quote"}`, `{"v":"[REDACTED:keyring]"}`},
		{"short known ignored", "abc abc", "abc abc"},
		{"plain text untouched", "read_file /etc/hosts: tier 0", "read_file /etc/hosts: tier 0"},
		{"task- is not sk-", "task-abcdefghijklmnopqrstuvwxyz", "task-abcdefghijklmnopqrstuvwxyz"},
		{"idempotent", "token [REDACTED:github-token]", "token [REDACTED:github-token]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.RedactString(tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("RedactString(%q) (-want +got):\n%s", tt.in, diff)
			}
			if again := r.RedactString(got); again != got {
				t.Errorf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

func TestSecretField(t *testing.T) {
	tests := map[string]bool{
		"password": true, "Password": true, "db_password": true, "passwd": true,
		"password_confirmation": true, "token": true, "access_token": true, "refreshToken": true,
		"secret": true, "client_secret": true, "clientSecret": true, "api_key": true, "apiKey": true,
		"APIKEY": true, "APIKey": true, "X-Api-Key": true, "key": true, "private_key": true,
		"privateKey": true, "secretAccessKey": true, "Authorization": true, "proxy-authorization": true,
		"cookie": true, "Set-Cookie": true, "credentials": true, "credential": true,
		"keyboard": false, "key_id": false, "monkey": false, "keys_count": false, "max_tokens": false,
		"path": false, "author": false, "tokenizer": false, "secretary": false, "": false,
	}
	for name, want := range tests {
		if got := secretField(name); got != want {
			t.Errorf("secretField(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestRedactJSON(t *testing.T) {
	r := &Redactor{Known: []string{known, "424242"}}
	tests := []struct {
		name, in, want string
	}{
		{
			name: "secret fields at any depth",
			in:   `{"user":"bob","Password":"pw1","nested":{"list":[{"api_key":"k1"},{"KEY":{"a":1}}],"keyboard":"qwerty"}}`,
			want: `{"user":"bob","Password":"[REDACTED:secret-field]","nested":{"list":[{"api_key":"[REDACTED:secret-field]"},{"KEY":"[REDACTED:secret-field]"}],"keyboard":"qwerty"}}`,
		},
		{
			name: "harmless values under secret names kept",
			in:   `{"token":null,"secret":false,"password":""}`,
			want: `{"token":null,"secret":false,"password":""}`,
		},
		{
			name: "tokens in arrays",
			in:   `{"args":["--x","` + ghToken + `",["` + slackTok + `"]]}`,
			want: `{"args":["--x","[REDACTED:github-token]",["[REDACTED:slack-token]"]]}`,
		},
		{
			name: "escaped strings",
			in:   `{"q":"ghp\u005faBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789","k":"correct\u002dhorse-battery"}`,
			want: `{"q":"[REDACTED:github-token]","k":"[REDACTED:keyring]"}`,
		},
		{
			name: "json inside a string",
			in:   `{"body":"{\"password\":\"hunter2\",\"n\":1}"}`,
			want: `{"body":"{\"password\":\"[REDACTED:secret-field]\",\"n\":1}"}`,
		},
		{
			name: "secret in key",
			in:   `{"` + ghToken + `":1}`,
			want: `{"[REDACTED:github-token]":1}`,
		},
		{
			name: "known numeric value",
			in:   `{"pin":424242,"n":4242}`,
			want: `{"pin":"[REDACTED:keyring]","n":4242}`,
		},
		{
			name: "pem in string",
			in:   `{"content":` + mustJSON(pemKey) + `}`,
			want: `{"content":"[REDACTED:private-key]"}`,
		},
		{
			name: "invalid json redacted as text",
			in:   `{"token": "` + ghToken,
			want: `"{\"token\": \"[REDACTED:github-token]"`,
		},
		{
			name: "html characters kept",
			in:   `{"q":"a<b>&c"}`,
			want: `{"q":"a<b>&c"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(r.RedactJSON(json.RawMessage(tt.in)))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("RedactJSON (-want +got):\n%s", diff)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("RedactJSON returned invalid JSON %s", got)
			}
		})
	}
}

// TestRedactJSONNoSecretSurvives builds a document holding every kind of
// secret in several encodings and checks none of them is left.
func TestRedactJSONNoSecretSurvives(t *testing.T) {
	secrets := []string{ghToken, ghPAT, antKey, oaiKey, slackTok, awsKey, googleKey, jwt, known, "hunter2", "s3cr3t"}
	doc := map[string]any{
		"a": []any{ghToken, map[string]any{"deep": []any{[]any{antKey}}}},
		"b": "Bearer " + jwt,
		"c": "https://me:s3cr3t@host/",
		"d": map[string]any{"headers": map[string]any{"Cookie": "sid=abc", "X-Api-Key": googleKey}},
		"e": mustJSON(map[string]any{"password": "hunter2", "t": slackTok}),
		"f": "aws " + awsKey + " and " + oaiKey + " and " + ghPAT,
		"g": "my " + known + " value",
	}
	raw, err := json.Marshal(doc) // escapes <>& and so on
	if err != nil {
		t.Fatal(err)
	}
	got := string((&Redactor{Known: []string{known}}).RedactJSON(raw))
	for _, s := range secrets {
		if strings.Contains(got, s) {
			t.Errorf("%q survived: %s", s, got)
		}
	}
	if strings.Contains(got, "sid=abc") {
		t.Errorf("cookie survived: %s", got)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// BenchmarkRedactString: redaction of a 4 KiB head of large arguments, the text every
// automatically allowed call with big arguments stores in the log.
func BenchmarkRedactString(b *testing.B) {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	p := make([]byte, 4096)
	for i := range p {
		p[i] = alphabet[(i*7+i/61)%len(alphabet)]
	}
	text := `{"text":"` + string(p) + `"}`
	r := &Redactor{}
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		r.RedactString(text)
	}
}

// The keyword-anchored search gives exactly what the whole pattern gives.
func FuzzRedactAssignments(f *testing.F) {
	for _, s := range []string{
		"password=hunter2", "DB_PASSWORD=abc x", `{"api_key": "sk-123", "token":"t0k"}`,
		"mytoken=abc&secret=def;x", "tokenizer=fast", "PRIVATE-KEY: xyz", "pass", "passwd:  'q'",
		"access_key=A token=B secret=C", "a=1 b:2", "apikey=\"v\" apiKey:w api-key = z",
		"tokentoken=1", "secret==x", "Tokens: many", "password=\u212a",
		`password="a b" x`, "secret='a b", "token: \"x\ny\"", `api_key='' k`, `PASS_WORD="x"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := secretAssignRE.ReplaceAllString(s, secretAssignRepl)
		if got := redactAssignments(s); got != want {
			t.Fatalf("%q:\n got %q\nwant %q", s, got, want)
		}
	})
}

func TestKeepWhole(t *testing.T) {
	r := &Redactor{Known: []string{"open sesame", "a/b c", "xyz"}}
	//            0         1         2
	//            0123456789012345678901234
	text := "say open sesame now a%2Fb+c"
	tests := []struct {
		at, want int
	}{
		{0, 0}, {4, 4}, // before the value
		{5, 4}, {9, 4}, {14, 4}, // inside it
		{15, 15}, {16, 16}, // after it
		{25, 20}, // inside its query-escaped form
		{len(text), len(text)},
	}
	for _, tt := range tests {
		if got := r.KeepWhole(text, tt.at); got != tt.want {
			t.Errorf("KeepWhole(%q, %d) = %d, want %d", text, tt.at, got, tt.want)
		}
	}
	// Text that ends inside a known value: the value goes on past the end.
	if got := r.KeepWhole("say open ses", 10); got != 4 {
		t.Errorf("KeepWhole at a cut before the end of a value the text ends in = %d, want 4", got)
	}
	if got := r.KeepWhole("say open ses", 12); got != 4 {
		t.Errorf("KeepWhole at the end of text that ends inside a value = %d, want 4", got)
	}
	// Values too short to be redacted ("xyz") are not kept whole either.
	if got := r.KeepWhole("wxyz", 2); got != 2 {
		t.Errorf("KeepWhole(wxyz, 2) = %d, want 2", got)
	}
	// Moving left out of one value can land inside another.
	r2 := &Redactor{Known: []string{"alpha beta", "beta gamma"}}
	if got := r2.KeepWhole("x alpha beta gamma y", 14); got != 2 {
		t.Errorf("KeepWhole across overlapping values = %d, want 2", got)
	}
	// With no known values every cut stays.
	if got := (&Redactor{}).KeepWhole(text, 9); got != 9 {
		t.Errorf("zero Redactor moved the cut to %d", got)
	}
}

func TestTokenShapeAndHasKnown(t *testing.T) {
	for in, want := range map[string]string{
		"token ghp_abcdefghijklmnopqrstuvwxyz0123456789 here": "github-token",
		"AKIAIOSFODNN7EXAMPLE":                                "aws-access-key",
		"sk_live_abcdefghijklmnopqrstuvwx":                    "stripe-key",
		"glpat-abcdefghijklmnopqrst":                          "gitlab-token",
		"npm_abcdefghijklmnopqrstuvwxyz0123456789":            "npm-token",
		"hf_abcdefghijklmnopqrstuvwxyz01234567":               "huggingface-token",
		"sk_live_short":                                       "",
		"sk-proj-abcdefghijklmnopqrstuvwxyz0123":              "openai-key",
		"-----BEGIN RSA PRIVATE KEY-----\nMIIE":               "private-key",
		"https://user:hunter2@example.com/":                   "url-password",
		"Authorization: Bearer abcdefghijklmnop":              "",
		"nothing secret here":                                 "",
	} {
		if got := TokenShape(in); got != want {
			t.Errorf("TokenShape(%q) = %q, want %q", in, got, want)
		}
	}
	r := &Redactor{Known: []string{"correct horse battery", `pa"ssword`, "1234"}}
	for in, want := range map[string]bool{
		"say correct horse battery staple": true,
		`{"note":"pa\"ssword"}`:            true,  // the JSON form
		"port 1234":                        false, // too short to look for
		"correct%20horse%20battery":        true,  // the URL form
		"correct horse":                    false,
	} {
		if got := r.HasKnown([]byte(in)); got != want {
			t.Errorf("HasKnown(%q) = %v, want %v", in, got, want)
		}
	}
	if (&Redactor{}).HasKnown([]byte("anything")) {
		t.Error("a Redactor without Known values found one")
	}
}
