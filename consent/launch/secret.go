package launch

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// bullets stands in for a secret, or part of one, wherever one would be shown.
const bullets = "••••••"

// mask hides all of s, keeping only its length.
func mask(s string) string {
	n := utf8.RuneCountInString(s)
	if n == 1 {
		return bullets + "  (1 char)"
	}
	return fmt.Sprintf("%s  (%d chars)", bullets, n)
}

// redact returns s with the byte ranges in parts replaced by bullets; when they cover
// all of s (blanks aside) it masks s whole.
func redact(s string, parts [][2]int) string {
	parts = mergeRanges(parts)
	if len(parts) == 0 {
		return s
	}
	if strings.TrimSpace(s[:parts[0][0]]) == "" && strings.TrimSpace(s[parts[len(parts)-1][1]:]) == "" && len(parts) == 1 {
		return mask(s)
	}
	var b strings.Builder
	last := 0
	for _, p := range parts {
		b.WriteString(s[last:p[0]])
		b.WriteString(bullets)
		last = p[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// mergeRanges sorts ranges and merges the overlapping ones.
func mergeRanges(rs [][2]int) [][2]int {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b [2]int) int { return a[0] - b[0] })
	var out [][2]int
	for _, r := range rs {
		if n := len(out); n > 0 && r[0] <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], r[1])
			continue
		}
		out = append(out, r)
	}
	return out
}

// EnvVar is one variable the config sets, ready to show.
type EnvVar struct {
	Key string
	// Display is the value, with every secret part replaced by bullets. A value that is
	// entirely secret shows only its length: "••••••  (40 chars)".
	Display string
	// Secret reports whether any part of the value is hidden from Display.
	Secret bool
}

// envInfo is an env variable classified: which parts of its value are secret.
type envInfo struct {
	key, value string
	whole      bool     // the whole value is secret
	parts      [][2]int // the secret ranges of value when not whole, merged
}

func classifyEnv(key, value string) envInfo {
	e := envInfo{key: key, value: value}
	if strings.TrimSpace(value) == "" {
		return e
	}
	if secretName(key, false) && credentialValue(value) {
		e.whole = true
		return e
	}
	var rs [][2]int
	for _, m := range findCredentials(value) {
		rs = append(rs, [2]int{m.start, m.end})
	}
	e.parts = mergeRanges(rs)
	if len(e.parts) == 1 && strings.TrimSpace(value[:e.parts[0][0]]) == "" && strings.TrimSpace(value[e.parts[0][1]:]) == "" {
		e.whole, e.parts = true, nil
	}
	return e
}

func (e envInfo) secret() bool { return e.whole || len(e.parts) > 0 }

func (e envInfo) display() string {
	if e.whole {
		return mask(e.value)
	}
	return redact(e.value, e.parts)
}

func classifyAll(env map[string]string) []envInfo {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]envInfo, len(keys))
	for i, k := range keys {
		out[i] = classifyEnv(k, env[k])
	}
	return out
}

// nameWords splits an env key or flag name into upper-case words: "GITHUB_TOKEN",
// "--api-key" and "apiKey" give [GITHUB TOKEN], [API KEY] and [API KEY].
func nameWords(name string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToUpper(string(cur)))
			cur = cur[:0]
		}
	}
	prevLower := false
	for _, r := range name {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
			prevLower = false
			continue
		case unicode.IsUpper(r) && prevLower:
			flush()
		}
		cur = append(cur, r)
		prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
	}
	flush()
	return words
}

var secretWords = map[string]bool{
	"TOKEN": true, "SECRET": true, "SECRETS": true, "PASSWORD": true,
	"PASSWORDS": true, "PASSWD": true, "PASS": true, "PASSPHRASE": true, "APIKEY": true,
	"APIKEYS": true, "ACCESSKEY": true, "SECRETKEY": true, "PRIVATEKEY": true,
	"AUTHTOKEN": true, "CREDENTIAL": true, "CREDENTIALS": true, "CREDS": true, "PAT": true,
	"COOKIE": true, "DSN": true, "AUTHORIZATION": true, "BEARER": true,
}

// notSecretSuffix holds last words that make a name describe a secret rather than hold
// one: GITHUB_TOKEN_FILE, --password-stdin, TOKEN_URL, COOKIE_DOMAIN.
var notSecretSuffix = map[string]bool{
	"FILE": true, "FILES": true, "PATH": true, "DIR": true, "URL": true, "URI": true,
	"ENDPOINT": true, "HOST": true, "PORT": true, "NAME": true, "TYPE": true, "MODE": true,
	"TTL": true, "EXPIRY": true, "EXPIRES": true, "EXPIRATION": true, "LENGTH": true,
	"SIZE": true, "HEADER": true, "ENABLED": true, "DISABLED": true, "REQUIRED": true,
	"REGION": true, "SCOPE": true, "SCOPES": true, "METHOD": true, "PROVIDER": true,
	"FORMAT": true, "COMMAND": true, "CMD": true, "STDIN": true, "ENV": true, "VAR": true,
	"LIMIT": true, "COUNT": true, "TIMEOUT": true, "ALGORITHM": true, "ISSUER": true,
	"AUDIENCE": true, "PREFIX": true, "HELPER": true, "DOMAIN": true,
}

// notSecretWords mark a name as a setting about secrets, not one: --max-tokens.
var notSecretWords = map[string]bool{"MAX": true, "MIN": true, "NUM": true}

// secretName reports whether an env key or flag name says its value is a secret. For
// flags (strict), a bare "key" does not count, since --key usually names a file, and
// neither does "auth", since --auth often takes a mode.
func secretName(name string, strict bool) bool {
	ws := nameWords(name)
	if len(ws) == 0 || notSecretSuffix[ws[len(ws)-1]] || strict && ws[0] == "NO" {
		return false
	}
	for _, w := range ws {
		if notSecretWords[w] {
			return false
		}
	}
	for _, w := range ws {
		switch {
		case secretWords[w]:
			return true
		case w == "KEY" || w == "KEYS":
			if !strict || len(ws) > 1 {
				return true
			}
		case w == "AUTH":
			if !strict {
				return true
			}
		}
	}
	return false
}
