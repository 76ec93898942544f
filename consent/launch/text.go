package launch

import (
	"net"
	"regexp"
	"strings"
)

// match is a finding in a string: the byte range and why it matters.
type match struct {
	start, end int
	sev        Severity
	why        string
}

var tokenShapes = []struct {
	re       *regexp.Regexp
	what     string
	hasDigit bool // the token must contain a digit (keeps "sk-" from matching words)
}{
	{re: regexp.MustCompile(`gh[pousr]_[A-Za-z0-9]{36,255}`), what: "a GitHub token"},
	{re: regexp.MustCompile(`github_pat_[A-Za-z0-9_]{22,255}`), what: "a GitHub token"},
	{re: regexp.MustCompile(`sk-ant-[A-Za-z0-9_-]{20,}`), what: "an Anthropic API key"},
	{re: regexp.MustCompile(`sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}`), what: "an OpenAI API key", hasDigit: true},
	{re: regexp.MustCompile(`sk-[A-Za-z0-9]{32,}`), what: "an OpenAI-style API key", hasDigit: true},
	{re: regexp.MustCompile(`[sr]k_(?:live|test)_[A-Za-z0-9]{16,}`), what: "a Stripe key"},
	{re: regexp.MustCompile(`xox[abposr]-[A-Za-z0-9-]{10,}`), what: "a Slack token"},
	{re: regexp.MustCompile(`(?:AKIA|ASIA)[A-Z0-9]{16}`), what: "an AWS access key"},
	{re: regexp.MustCompile(`AIza[0-9A-Za-z_-]{35}`), what: "a Google API key"},
	{re: regexp.MustCompile(`glpat-[A-Za-z0-9_-]{20,}`), what: "a GitLab token"},
	{re: regexp.MustCompile(`npm_[A-Za-z0-9]{36}`), what: "an npm token"},
	{re: regexp.MustCompile(`hf_[A-Za-z0-9]{30,}`), what: "a Hugging Face token"},
	{re: regexp.MustCompile(`eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}`), what: "a signed token (JWT)"},
}

var (
	privateKeyRE = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)`)
	// headerRE finds credentials in HTTP header arguments, "Authorization: Bearer …".
	headerRE = regexp.MustCompile(`(?i)\b(?:proxy-authorization|authorization|x-api-key|api-key|x-auth-token|private-token|cookie)\s*:\s*(?:(?:bearer|basic|token|bot)\s+)?([^\s"',;]+)`)
	// userinfoRE finds the password of a URL such as https://user:password@host.
	userinfoRE = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^\s/:@"'<>]*:([^\s/@"'<>]+)@`)
	httpRE     = regexp.MustCompile("(?i)\\b(?:http|ws)://[^\\s\"'<>|()`;{}\\\\^]+")
	// referenceRE matches values that name a secret rather than hold one.
	referenceRE = regexp.MustCompile(`^(?:\$\{?[A-Za-z_][A-Za-z0-9_:.-]*\}?|%[A-Za-z_][A-Za-z0-9_]*%|\$env:[A-Za-z_][A-Za-z0-9_]*|<[^<>]*>|\{\{.*\}\}|\[[^\[\]]*\]|x+|X+|\*+|•+|\.{3,}|(?i:changeme|redacted|your[-_ .].*|\$\{.*\}))$`)
)

// isReference reports whether v is empty, a reference to a secret kept elsewhere
// (${GITHUB_TOKEN}, %TOKEN%, ${input:token}) or a placeholder (<your-token>, xxxx).
func isReference(v string) bool {
	v = strings.TrimSpace(v)
	return v == "" || referenceRE.MatchString(v)
}

func isTokenByte(b byte) bool {
	return b == '_' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

// findCredentials finds credentials written out in s: known token shapes, private keys,
// header values and URL passwords.
func findCredentials(s string) []match {
	var out []match
	for _, t := range tokenShapes {
		for _, m := range t.re.FindAllStringIndex(s, -1) {
			if m[0] > 0 && isTokenByte(s[m[0]-1]) || m[1] < len(s) && isTokenByte(s[m[1]]) {
				continue
			}
			if t.hasDigit && !strings.ContainsAny(s[m[0]:m[1]], "0123456789") {
				continue
			}
			out = append(out, match{m[0], m[1], "", "This looks like " + t.what + ", written out in plain text where other programs and logs can read it."})
		}
	}
	for _, m := range privateKeyRE.FindAllStringIndex(s, -1) {
		out = append(out, match{m[0], m[1], "", "This is a private key written out in plain text."})
	}
	for _, m := range headerRE.FindAllStringSubmatchIndex(s, -1) {
		if !isReference(s[m[2]:m[3]]) {
			out = append(out, match{m[2], m[3], "", "This header value is a credential written out in plain text; reference an environment variable instead."})
		}
	}
	for _, m := range userinfoRE.FindAllStringSubmatchIndex(s, -1) {
		if !isReference(s[m[2]:m[3]]) {
			out = append(out, match{m[2], m[3], "", "This URL carries a password in plain text."})
		}
	}
	return out
}

// pathTokens splits s into the runs that could be paths: it breaks at spaces, quotes and
// the punctuation that separates a flag from its value or one path from another. A colon
// after a drive letter (C:\) does not break.
func pathTokens(s string) [][2]int {
	var out [][2]int
	start := -1
	for i := 0; i <= len(s); i++ {
		brk := i == len(s)
		if !brk {
			switch c := s[i]; c {
			case ' ', '\t', '\n', '\r', '"', '\'', '`', '=', ',', ';', '(', ')', '<', '>', '|', '&':
				brk = true
			case ':':
				drive := start >= 0 && i-start == 1 && i+1 < len(s) && (s[i+1] == '\\' || s[i+1] == '/')
				brk = !drive
			}
		}
		switch {
		case brk && start >= 0:
			out = append(out, [2]int{start, i})
			start = -1
		case !brk && start < 0:
			start = i
		}
	}
	return out
}

// findSensitivePaths finds paths to credentials and other secrets in s: the whole path
// is the match.
func findSensitivePaths(s string) []match {
	var out []match
	for _, t := range pathTokens(s) {
		tok := s[t[0]:t[1]]
		if strings.HasPrefix(tok, "//") { // the rest of a URL
			continue
		}
		if sev, why := sensitivePath(tok); why != "" {
			out = append(out, match{t[0], t[1], sev, why})
		}
	}
	return out
}

var envFileNotSecret = map[string]bool{
	"example": true, "sample": true, "template": true, "dist": true, "default": true, "defaults": true,
	"schema": true, "js": true, "mjs": true, "cjs": true, "ts": true, "py": true,
}

// homeRE matches a whole home directory (or the root of the disk), as a server's root
// directory argument names it.
var homeRE = regexp.MustCompile(`^(~|\$HOME|\$\{HOME\}|%USERPROFILE%|/|/root|/home/[^/\\]+|/Users/[^/\\]+|[A-Za-z]:\\Users\\[^/\\]+|[A-Za-z]:\\?)[/\\]?$`)

// wholeHomeWhy is why an argument naming a whole home directory is highlighted.
const wholeHomeWhy = "This gives the server your whole home directory (or disk): your SSH keys, cloud credentials and Airlock's own settings are in it. Airlock asks before any call that names its settings, but a narrower directory, such as the project, is safer."

// sensitivePath returns why the path p is sensitive, or "" when it is not.
func sensitivePath(p string) (Severity, string) {
	comps := strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' })
	if strings.HasPrefix(p, "/etc/") && len(comps) >= 2 {
		switch comps[1] {
		case "shadow", "gshadow", "master.passwd":
			return Danger, "This is the system's password hash file."
		case "sudoers", "sudoers.d":
			return Danger, "This file decides who may run commands as root."
		}
	}
	for i, c := range comps {
		next := ""
		if i+1 < len(comps) {
			next = comps[i+1]
		}
		switch lc := strings.ToLower(c); {
		case lc == ".ssh":
			return Danger, "This is your SSH directory, which holds the private keys that log in to your servers and Git hosts."
		case lc == "id_rsa" || lc == "id_dsa" || lc == "id_ecdsa" || lc == "id_ed25519":
			return Danger, "This is an SSH private key."
		case lc == ".aws":
			return Danger, "This directory holds your AWS credentials."
		case lc == ".gnupg":
			return Danger, "This directory holds your GPG private keys."
		case lc == ".kube":
			return Danger, "This directory holds your Kubernetes cluster credentials."
		case lc == ".azure":
			return Danger, "This directory holds your Azure credentials."
		case lc == ".config" && strings.EqualFold(next, "gcloud"):
			return Danger, "This directory holds your Google Cloud credentials."
		case lc == ".docker" && strings.EqualFold(next, "config.json"):
			return Danger, "This file holds your container registry logins."
		case lc == ".netrc" || lc == "_netrc" || lc == ".git-credentials":
			return Danger, "This file holds saved passwords."
		case lc == ".env" || strings.HasPrefix(lc, ".env.") && !envFileNotSecret[lc[len(".env."):]]:
			return Warn, "A .env file usually holds API keys and passwords."
		}
	}
	return "", ""
}

// findHTTP finds http:// and ws:// URLs to hosts other than this machine.
func findHTTP(s string) []match {
	var out []match
	for _, m := range httpRE.FindAllStringIndex(s, -1) {
		end := m[1]
		for end > m[0] && strings.IndexByte(".,:", s[end-1]) >= 0 {
			end--
		}
		u := s[m[0]:end]
		host := urlHost(u[strings.Index(u, "://")+3:])
		if host == "" || strings.ContainsAny(host, "$%{}") || isLocalHost(host) {
			continue
		}
		out = append(out, match{m[0], end, Warn, "This connection is not encrypted, so anyone on the network path can read or change what is sent."})
	}
	return out
}

// urlHost returns the lower-case host of the URL part after "scheme://".
func urlHost(rest string) string {
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	if strings.HasPrefix(rest, "[") {
		if i := strings.IndexByte(rest, ']'); i >= 0 {
			return strings.ToLower(rest[1:i])
		}
		return strings.ToLower(rest[1:])
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		rest = rest[:i]
	}
	return strings.ToLower(rest)
}

func isLocalHost(h string) bool {
	if h == "localhost" || strings.HasSuffix(h, ".localhost") || h == "host.docker.internal" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}
