package ideconfig

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/airlock-mcp/airlock/consent/launch"
)

var winExe = regexp.MustCompile(`(?i)^[A-Za-z]:\\.*?\.(?:exe|cmd|bat|com|ps1)(?:\s|$)`)

// splitCommand splits a command line written into "command" with shell-like rules:
// blanks separate words, single and double quotes group them. With windows set a
// backslash is an ordinary character (C:\tools\x.exe) and an unquoted path such as
// C:\Program Files\nodejs\npx.cmd is kept whole up to its extension; otherwise a
// backslash escapes the next character.
func splitCommand(s string, windows bool) ([]string, error) {
	var out []string
	s = strings.TrimSpace(s)
	if windows {
		if m := winExe.FindString(s); m != "" {
			out = append(out, strings.TrimSpace(m))
			s = s[len(m):]
		}
	}
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\\' && !windows:
			if i+1 == len(s) {
				return nil, fmt.Errorf("command %q ends with a backslash", s)
			}
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == '"' && !windows:
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) && (s[j+1] == '"' || s[j+1] == '\\' || s[j+1] == '$' || s[j+1] == '`') {
					j++
				}
				cur.WriteByte(s[j])
			}
			if j == len(s) {
				return nil, fmt.Errorf("command %q has an unterminated \" quote", s)
			}
			i = j
			inWord = true
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("command %q has an unterminated %c quote", s, c)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}

// isSecret reports whether the value of an env variable or header named key is a
// credential, by the rules of Airlock's launch consent (consent/launch), plus a few
// key names those leave out because they also name modes or files in flags.
func isSecret(key, value string) bool {
	if strings.TrimSpace(value) == "" || hasIDEVar(value) {
		return false
	}
	a := launch.Analyze(launch.Command{Env: map[string]string{key: value}})
	if len(a.Env) == 1 && a.Env[0].Secret {
		return true
	}
	k := strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(key))
	for _, w := range []string{"TOKEN", "SECRET", "PASSWORD", "PASSWD", "API_KEY", "APIKEY", "AUTH", "CREDENTIAL", "PRIVATE_KEY"} {
		if strings.Contains(k, w) && !strings.HasPrefix(value, "/") && !strings.HasPrefix(value, "~") {
			return true
		}
	}
	return false
}

var ideVar = regexp.MustCompile(`\$\{([^}]*)\}`)

// hasIDEVar reports whether s holds a variable the IDE expands (${input:x}, ${env:X},
// ${workspaceFolder}, Claude Code's ${VAR}); ${keyring:NAME} is Airlock's own.
func hasIDEVar(s string) bool {
	for _, m := range ideVar.FindAllStringSubmatch(s, -1) {
		if !strings.HasPrefix(m[1], "keyring:") {
			return true
		}
	}
	return false
}
