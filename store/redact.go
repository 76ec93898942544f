package store

import (
	"bytes"
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/airlock-mcp/airlock/store/jsontext"
)

// minKnownLen is the shortest known secret value that is redacted; shorter
// values would match ordinary text everywhere.
const minKnownLen = 4

// Redactor removes secrets from text and JSON before they are logged: the
// Known values, token-shaped strings, and the values of fields whose names
// say they hold a secret.
//
// The zero Redactor redacts by pattern only. Known must not be modified
// after the first call; build a new Redactor instead. A Redactor is safe for
// concurrent use.
type Redactor struct {
	// Known holds secret values (for example every value in the keyring).
	// Values shorter than 4 bytes are ignored.
	Known []string

	once      sync.Once
	known     *strings.Replacer // nil if no usable Known values
	forms     []string          // the Known values in every form known replaces, longest first
	formBytes [][]byte          // forms, as bytes for HasKnown
	number    map[string]bool   // Known values that are valid JSON numbers
}

func (r *Redactor) init() {
	r.once.Do(func() {
		var olds []string
		seen := map[string]bool{}
		addForm := func(s string) {
			if len(s) >= minKnownLen && !seen[s] {
				seen[s] = true
				olds = append(olds, s)
			}
		}
		for _, k := range r.Known {
			if len(k) < minKnownLen {
				continue
			}
			addForm(k)
			// The same value as it appears inside a JSON string or a URL.
			if b, err := json.Marshal(k); err == nil {
				addForm(string(b[1 : len(b)-1]))
			}
			addForm(url.QueryEscape(k))
			addForm(url.PathEscape(k))
			if json.Valid([]byte(k)) && strings.IndexFunc(k, func(c rune) bool { return !strings.ContainsRune("0123456789.eE+-", c) }) < 0 {
				if r.number == nil {
					r.number = map[string]bool{}
				}
				r.number[k] = true
			}
		}
		if len(olds) == 0 {
			return
		}
		// strings.Replacer prefers the earlier argument at the same position:
		// put longer values first so a secret that contains another is
		// replaced whole.
		slices.SortFunc(olds, func(a, b string) int { return len(b) - len(a) })
		args := make([]string, 0, 2*len(olds))
		for _, o := range olds {
			args = append(args, o, "[REDACTED:keyring]")
		}
		r.forms = olds
		for _, o := range olds {
			if len(o) >= minSoughtLen {
				r.formBytes = append(r.formBytes, []byte(o))
			}
		}
		r.known = strings.NewReplacer(args...)
	})
}

// KeepWhole returns the largest cut c <= at in text, the start of something longer, such
// that no known value (in any form RedactString replaces) occurs in text starting before c
// and ending after it; one that text ends inside of counts as going on past the end (so
// at == len(text) moves back when text ends with the start of one). Text cut there and
// then redacted keeps no part of a known value: one the cut would split, such as a keyring
// passphrase with spaces in it, goes wholly to the far side. at is returned unchanged
// when it splits nothing.
func (r *Redactor) KeepWhole(text string, at int) int {
	r.init()
	if at <= 0 || at > len(text) {
		return at
	}
	for moved := true; moved && at > 0; {
		moved = false
		for _, f := range r.forms {
			// An occurrence starting after at-len(f) and before at straddles it.
			from := max(0, at-len(f)+1)
			if p := strings.Index(text[from:min(len(text), at+len(f)-1)], f); p >= 0 && from+p < at {
				at, moved = from+p, true
				continue
			}
			// One that text ends inside of.
			for p := max(from, len(text)-len(f)+1); p < at; p++ {
				if strings.HasPrefix(f, text[p:]) {
					at, moved = p, true
					break
				}
			}
		}
	}
	return at
}

// pattern is a token shape and its replacement template. The regexp runs
// only if the text contains one of hints (a cheap pre-check; most text has
// none of them).
type pattern struct {
	hints []string
	re    *regexp.Regexp
	repl  string
}

// patterns run in order; earlier ones see the text first.
var patterns = []pattern{
	{[]string{"-----BEGIN"}, regexp.MustCompile(`(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)`), "[REDACTED:private-key]"},
	{[]string{"://"}, regexp.MustCompile(`\b([A-Za-z][A-Za-z0-9+.-]*://[^\s/?#:@"'<>]*):[^\s/?#@"'<>]+@`), "${1}:[REDACTED:url-password]@"},
	{[]string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}, regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})`), "[REDACTED:github-token]"},
	{[]string{"sk-ant-"}, regexp.MustCompile(`\bsk-ant-[A-Za-z0-9_-]{16,}`), "[REDACTED:anthropic-key]"},
	{[]string{"sk-"}, regexp.MustCompile(`\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{16,}`), "[REDACTED:openai-key]"},
	{[]string{"xox"}, regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9-]{8,}`), "[REDACTED:slack-token]"},
	{[]string{"AKIA", "ASIA"}, regexp.MustCompile(`\b(?:AKIA|ASIA)[A-Z0-9]{16}\b`), "[REDACTED:aws-access-key]"},
	{[]string{"AIza"}, regexp.MustCompile(`\bAIza[A-Za-z0-9_-]{35}`), "[REDACTED:google-api-key]"},
	{[]string{"sk_live_", "sk_test_", "rk_live_", "rk_test_"}, regexp.MustCompile(`\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}`), "[REDACTED:stripe-key]"},
	{[]string{"glpat-"}, regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}`), "[REDACTED:gitlab-token]"},
	{[]string{"npm_"}, regexp.MustCompile(`\bnpm_[A-Za-z0-9]{36}\b`), "[REDACTED:npm-token]"},
	{[]string{"pypi-"}, regexp.MustCompile(`\bpypi-[A-Za-z0-9_-]{50,}`), "[REDACTED:pypi-token]"},
	{[]string{"hf_"}, regexp.MustCompile(`\bhf_[A-Za-z0-9]{30,}\b`), "[REDACTED:huggingface-token]"},
	{[]string{"SG."}, regexp.MustCompile(`\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b`), "[REDACTED:sendgrid-key]"},
	{[]string{"dop_v1_"}, regexp.MustCompile(`\bdop_v1_[a-f0-9]{64}\b`), "[REDACTED:digitalocean-token]"},
	{[]string{"eyJ"}, regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}`), "[REDACTED:jwt]"},
	{[]string{"earer", "EARER"}, regexp.MustCompile(`(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}`), bearerRepl},
}

const bearerRepl = "${1} [REDACTED:bearer-token]"

// minSoughtLen is the shortest known value HasKnown looks for: a four-digit PIN in the
// keyring must not make every call that mentions 1234 wait for a person.
const minSoughtLen = 8

// HasKnown reports whether b holds one of the Known values of at least 8 bytes, in any
// form RedactString replaces (as given, escaped for a JSON string or for a URL).
func (r *Redactor) HasKnown(b []byte) bool {
	r.init()
	for _, f := range r.formBytes {
		if bytes.Contains(b, f) {
			return true
		}
	}
	return false
}

// TokenShape returns what kind of credential the first token-shaped string in s is
// ("github-token", "aws-access-key", "private-key", "jwt", ...), by the patterns
// RedactString replaces, or "" if s holds none. A bearer token after the word "Bearer"
// is not counted: it is how any authenticated request is written.
func TokenShape(s string) string {
	for _, p := range patterns {
		if p.repl == bearerRepl {
			continue
		}
		for _, h := range p.hints {
			if strings.Contains(s, h) {
				if p.re.MatchString(s) {
					kind := p.repl[strings.Index(p.repl, "[REDACTED:")+len("[REDACTED:"):]
					return kind[:strings.IndexByte(kind, ']')]
				}
				break
			}
		}
	}
	return ""
}

// RedactString returns s with known secret values and token-shaped strings
// replaced by markers such as "[REDACTED:github-token]".
func (r *Redactor) RedactString(s string) string {
	if s == "" {
		return s
	}
	r.init()
	if r.known != nil {
		s = r.known.Replace(s)
	}
	for _, p := range patterns {
		for _, h := range p.hints {
			if strings.Contains(s, h) {
				s = p.re.ReplaceAllString(s, p.repl)
				break
			}
		}
	}
	return redactAssignments(s)
}

// NAME=value and "name": "value" where the name says secret, as in command lines, env
// assignments, query strings and JSON held in text. secretAssignRE is the whole pattern;
// secretAssignAt is it anchored, run only where a keyword starts (found by a plain search
// of the ASCII-lowered text), which keeps large texts cheap: unanchored, Go's regexp walks
// every position of a 4 KiB text with a case-folded alternation, about 1.5 ms.
//
// A quoted value is redacted to its closing quote on the same line, white space and all
// (PASSWORD="correct horse battery staple"); an unquoted one, or one whose quote does not
// close, up to white space or punctuation that ends a value.
const secretAssignExpr = `((?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)["']?\s*[=:]\s*)` +
	`(?:(")[^"\n]*(")|(')[^'\n]*(')|(["']?)[^\s"'&,;{}\[\]][^\s"'&,;{}\[\]]*)`

// secretAssignRepl keeps the name, the separator and any quotes.
const secretAssignRepl = "${1}${2}${4}${6}" + secretRepl + "${3}${5}"

var (
	secretAssignRE = regexp.MustCompile(`(?i)` + secretAssignExpr)
	secretAssignAt = regexp.MustCompile(`(?i)^` + secretAssignExpr)
	// secretKeywords are the lower-case words a match can start with.
	secretKeywords = []string{"pass", "secret", "token", "api", "access", "private"}
)

const secretRepl = "[REDACTED:secret]"

// appendGroups writes the submatches (groups) of s (as FindStringSubmatchIndex gives them in
// m) that took part in the match.
func appendGroups(b *strings.Builder, s string, m []int, groups ...int) {
	for _, g := range groups {
		if m[2*g] >= 0 {
			b.WriteString(s[m[2*g]:m[2*g+1]])
		}
	}
}

func redactAssignments(s string) string {
	if !strings.ContainsAny(s, "=:") {
		return s
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			// Unicode case folding (the Kelvin sign is a k): the general path.
			return secretAssignRE.ReplaceAllString(s, secretAssignRepl)
		}
	}
	low := strings.ToLower(s) // ASCII only: same length, same offsets
	next := make([]int, len(secretKeywords))
	for k := range next {
		next[k] = -2 // not searched yet
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		// The nearest keyword at or after i.
		j := -1
		for k, kw := range secretKeywords {
			if next[k] != -1 && next[k] < i {
				if n := strings.Index(low[i:], kw); n >= 0 {
					next[k] = i + n
				} else {
					next[k] = -1
				}
			}
			if next[k] >= 0 && (j < 0 || next[k] < j) {
				j = next[k]
			}
		}
		if j < 0 {
			break
		}
		m := secretAssignAt.FindStringSubmatchIndex(s[j:])
		if m == nil {
			i = j + 1
			continue
		}
		b.WriteString(s[last:j])
		appendGroups(&b, s[j:], m, 1, 2, 4, 6)
		b.WriteString(secretRepl)
		appendGroups(&b, s[j:], m, 3, 5)
		last = j + m[1]
		i = last
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// RedactJSON returns a copy of the JSON value raw with secrets removed: every
// string (and object key) goes through RedactString, strings that themselves
// hold a JSON object or array are redacted structurally, and the value of
// any field whose name looks like a secret (password, token, api_key,
// private_key, authorization, cookie, credentials, ...; at any depth,
// case-insensitive) is replaced whole. Booleans, null and empty strings under
// such names are kept. Members keep their order; white space between tokens
// is dropped. Input that is not valid JSON is redacted as text and returned
// as a JSON string.
func (r *Redactor) RedactJSON(raw json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(raw)) == 0 {
		return raw
	}
	r.init()
	if out, ok := r.redactJSON(raw, 0); ok {
		return out
	}
	return jsontext.AppendString(nil, r.RedactString(string(raw)))
}

// maxNest bounds recursion into JSON held inside JSON strings.
const maxNest = 8

// secretLastWords are words that make a field secret when they end its name
// ("private_key", "X-Api-Key", "clientSecret"); secretAnyWords do so anywhere
// ("password_confirmation").
var (
	secretLastWords = map[string]bool{
		"password": true, "passwd": true, "passphrase": true, "pwd": true,
		"secret": true, "secrets": true, "token": true, "key": true, "apikey": true,
		"authorization": true, "cookie": true, "cookies": true, "credential": true,
		"credentials": true, "bearer": true, "privatekey": true, "accesstoken": true,
	}
	secretAnyWords = map[string]bool{
		"password": true, "passwd": true, "passphrase": true, "credential": true,
		"credentials": true, "authorization": true,
	}
)

// SecretField reports whether a field name looks like it holds a secret (password,
// apiKey, access_token, ...), as the redactor judges JSON fields.
func SecretField(name string) bool { return secretField(name) }

// secretField reports whether a JSON field name looks like it holds a secret.
// Names are split into words at non-alphanumerics and camelCase boundaries,
// so "key" matches "api_key", "apiKey" and "X-Api-Key" but not "keyboard" or
// "key_id".
func secretField(name string) bool {
	words := Words(name)
	if len(words) == 0 {
		return false
	}
	if secretLastWords[words[len(words)-1]] {
		return true
	}
	for _, w := range words {
		if secretAnyWords[w] {
			return true
		}
	}
	return false
}

// SplitWords lower-cases name and splits it into words: on anything that is not a letter
// or digit, and on camelCase boundaries ("getHTTPServer" → get, http, server).
func SplitWords(name string) []string {
	var words []string
	rs := []rune(name)
	start := -1
	flush := func(end int) {
		if start >= 0 && end > start {
			words = append(words, strings.ToLower(string(rs[start:end])))
		}
		start = -1
	}
	for i, c := range rs {
		if !unicode.IsLetter(c) && !unicode.IsDigit(c) {
			flush(i)
			continue
		}
		if start < 0 {
			start = i
			continue
		}
		prev := rs[i-1]
		switch {
		case unicode.IsUpper(c) && unicode.IsLower(prev):
			// fooBar
			flush(i)
			start = i
		case unicode.IsUpper(c) && unicode.IsUpper(prev) && i+1 < len(rs) && unicode.IsLower(rs[i+1]):
			// APIKey: split before the K
			flush(i)
			start = i
		}
	}
	flush(len(rs))
	return words
}
