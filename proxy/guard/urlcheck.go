package guard

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// URLWarning is one thing a person should know about a web address before opening it.
type URLWarning struct {
	// Code names the kind of warning: invalid, scheme, userinfo, lookalike,
	// mixed-script, punycode, ip, insecure or long.
	Code string
	// Text is one sentence for a person.
	Text string
}

// URLCheck is what Airlock tells a person about a web address before opening it.
type URLCheck struct {
	// Host is the host as the browser looks it up: lower case, punycode for
	// international names, without brackets for IPv6.
	Host string
	// Display is Host as a person reads it (Unicode).
	Display string
	// Site is the part of the host to emphasize: the registrable domain
	// ("example.co.uk" for "login.example.co.uk") in Unicode, or the whole host when it
	// has none (an IP address, "localhost").
	Site string
	// Warnings are the problems found, most serious first.
	Warnings []URLWarning
	// Openable reports whether Airlock may open the address at all: an absolute http or
	// https URL with a host and nothing a browser could read differently from Airlock.
	Openable bool
}

// maxURLLen is the length above which an address is called unusually long.
const maxURLLen = 2000

// wellKnownSites are the domains whose imitations CheckURL looks for.
var wellKnownSites = []string{
	"github.com", "google.com", "microsoft.com", "apple.com", "amazon.com",
	"paypal.com", "stripe.com", "slack.com", "openai.com", "anthropic.com",
}

// CheckURL analyses a web address a server wants opened. It never fetches or resolves
// anything.
func CheckURL(raw string) URLCheck {
	var c URLCheck
	warn := func(code, format string, args ...any) {
		c.Warnings = append(c.Warnings, URLWarning{Code: code, Text: fmt.Sprintf(format, args...)})
	}
	if i := strings.IndexFunc(raw, func(r rune) bool {
		return r == '\\' || r == utf8.RuneError || unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
	}); i >= 0 {
		warn("invalid", "The address contains spaces, invisible characters or backslashes, which a browser may read differently than Airlock does; Airlock will not open it.")
		return c
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" {
		warn("invalid", "This is not a valid web address, so Airlock will not open it.")
		return c
	}
	if scheme := strings.ToLower(u.Scheme); scheme != "http" && scheme != "https" {
		warn("scheme", "The address starts with %q, not http or https: it is not a web page and could start another program, so Airlock will not open it.", scheme+":")
		return c
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "" {
		warn("invalid", "The address names no site, so Airlock will not open it.")
		return c
	}
	c.Openable = true

	ip, numeric := ipHost(host)
	loopback := host == "localhost" || strings.HasSuffix(host, ".localhost") || (ip != nil && ip.IsLoopback())
	c.Host, c.Display, c.Site = host, host, host
	if ip == nil && !numeric {
		idnOK := true
		if a, err := idna.Lookup.ToASCII(host); err == nil {
			c.Host = a
		} else {
			idnOK = false
		}
		if d, err := idna.Display.ToUnicode(c.Host); err == nil {
			c.Display = d
		} else {
			idnOK = false
		}
		c.Site = c.Display
		if site, err := publicsuffix.EffectiveTLDPlusOne(c.Host); err == nil {
			c.Site = site
			if d, err := idna.Display.ToUnicode(site); err == nil {
				c.Site = d
			}
		}
		if !idnOK {
			warn("punycode", "The site name %q is not a valid international domain name; browsers may show or reach it differently.", host)
		}
	}

	if u.User != nil {
		warn("userinfo", "Everything before the \"@\" (%q) is a user name, not the site: the page opens on %s.", u.User.Username(), c.Site)
	}
	if ip == nil && !numeric {
		if like, ok := lookalike(c.Host, c.Display, c.Site); ok {
			warn("lookalike", "The site %s looks like %s but is not it; it may be an imitation.", c.Site, like)
		}
		if label, scripts := mixedScript(c.Display); label != "" {
			warn("mixed-script", "The site name mixes %s letters in %q, a common trick to imitate another site.", scripts, label)
		}
		if c.Display != c.Host {
			if strings.Contains(host, "xn--") {
				warn("punycode", "The site name is written in punycode (%s); decoded it reads %q. Check that this is the site you expect.", c.Host, c.Display)
			} else {
				warn("punycode", "The site name %q uses letters outside the basic Latin alphabet (it is registered as %s). Check that this is the site you expect.", c.Display, c.Host)
			}
		}
	}
	switch {
	case numeric:
		warn("ip", "The site is written as a number (%s) instead of a name, which hides where it leads.", host)
	case ip != nil && !loopback:
		warn("ip", "The site is a bare IP address (%s), not a name: nothing says who runs it.", host)
	}
	if strings.EqualFold(u.Scheme, "http") && !loopback {
		warn("insecure", "The address uses http, not https: the page and anything you type into it travel unencrypted.")
	}
	if n := utf8.RuneCountInString(raw); n > maxURLLen {
		warn("long", "The address is unusually long (%d characters); a long address can push where it really leads out of view.", n)
	}
	return c
}

// ipHost reports the IP address host names, if it is one, and whether it is a number
// in a form other than the usual dotted quad or IPv6 (browsers read "2130706433" and
// "0x7f.1" as IPv4 addresses: a host whose last label is a number is one).
func ipHost(host string) (net.IP, bool) {
	if ip := net.ParseIP(host); ip != nil {
		return ip, false
	}
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return nil, false
	}
	digits := strings.TrimLeft(last, "0123456789") == ""
	hex := len(last) > 1 && (strings.HasPrefix(last, "0x") || strings.HasPrefix(last, "0X")) &&
		strings.TrimLeft(last[2:], "0123456789abcdefABCDEF") == ""
	return nil, digits || hex
}

// lookalike reports a well-known site that host imitates: by a name one or two edits
// away (two only for names of seven letters or more, where one edit barely changes
// the look, one below that, where two edits reach ordinary words), by confusable characters (0/o, 1/l,
// rn/m, Cyrillic and Greek letters that look Latin), by carrying a well-known domain in
// front of another one ("github.com.evil.tld"), or as a hyphenated part of the name
// ("paypal-login.com"). The well-known sites themselves and their subdomains are not
// lookalikes, and neither is the same name under another suffix ("google.de").
func lookalike(asciiHost, display, site string) (string, bool) {
	asciiSite, err := publicsuffix.EffectiveTLDPlusOne(asciiHost)
	if err != nil {
		return "", false
	}
	for _, known := range wellKnownSites {
		if asciiSite == known {
			return "", false
		}
	}
	name, _, _ := strings.Cut(site, ".")
	skel := skeleton(name)
	for _, known := range wellKnownSites {
		kname, _, _ := strings.Cut(known, ".")
		if name == kname {
			continue
		}
		limit := 1
		if len(kname) >= 7 {
			limit = 2
		}
		if skel == kname || editDistance(skel, kname) <= limit {
			return known, true
		}
		if strings.Contains("."+display+".", "."+known+".") {
			return known, true
		}
		for _, part := range strings.Split(skel, "-") {
			if part == kname {
				return known, true
			}
		}
	}
	return "", false
}

// confusables maps letters that look like a Latin letter to it.
var confusables = map[rune]rune{
	'0': 'o', '1': 'l',
	// Cyrillic.
	'а': 'a', 'в': 'b', 'е': 'e', 'о': 'o', 'р': 'p', 'с': 'c', 'у': 'y', 'х': 'x',
	'і': 'i', 'ј': 'j', 'ѕ': 's', 'ԁ': 'd', 'һ': 'h', 'ӏ': 'l', 'ԛ': 'q', 'ԝ': 'w', 'ь': 'b',
	'к': 'k', 'м': 'm', 'н': 'h', 'т': 't', 'п': 'n', 'г': 'r',
	// Greek.
	'α': 'a', 'β': 'b', 'ε': 'e', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p',
	'τ': 't', 'υ': 'u', 'χ': 'x', 'γ': 'y', 'ω': 'w',
}

// skeleton folds a host label to the Latin letters it looks like.
func skeleton(s string) string {
	s = strings.Map(func(r rune) rune {
		if l, ok := confusables[r]; ok {
			return l
		}
		return r
	}, strings.ToLower(s))
	return strings.NewReplacer("rn", "m", "vv", "w").Replace(s)
}

// editDistance is the optimal string alignment distance between a and b, in runes:
// insertions, deletions, substitutions and swaps of neighbours.
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

// mixedScript returns the first label of host that mixes Latin, Cyrillic and Greek
// letters, and the scripts it mixes ("Latin and Cyrillic").
func mixedScript(host string) (label, scripts string) {
	for _, l := range strings.Split(host, ".") {
		var found []string
		for _, sc := range []struct {
			name  string
			table *unicode.RangeTable
		}{{"Latin", unicode.Latin}, {"Cyrillic", unicode.Cyrillic}, {"Greek", unicode.Greek}} {
			if strings.IndexFunc(l, func(r rune) bool { return unicode.Is(sc.table, r) }) >= 0 {
				found = append(found, sc.name)
			}
		}
		if len(found) > 1 {
			return l, strings.Join(found, " and ")
		}
	}
	return "", ""
}

// secretParams are query parameter names whose values are credentials.
var secretParams = map[string]bool{
	"code": true, "token": true, "key": true, "secret": true, "password": true, "pass": true,
	"pwd": true, "sig": true, "signature": true, "auth": true, "jwt": true, "assertion": true,
	"otp": true, "ticket": true, "session": true, "sessionid": true, "apikey": true,
}

func secretParam(name string) bool {
	n := strings.ToLower(name)
	if strings.HasSuffix(n, "type") { // token_type=bearer
		return false
	}
	return secretParams[n] || strings.Contains(n, "token") || strings.Contains(n, "secret") ||
		strings.Contains(n, "password") || strings.HasSuffix(n, "key") || strings.HasSuffix(n, "_code")
}

// tokenShaped reports whether v looks like a credential: long, from a token alphabet,
// with both letters and digits. UUIDs are identifiers, not credentials.
func tokenShaped(v string) bool {
	if len(v) < 20 || isUUID(v) {
		return false
	}
	letter, digit := false, false
	for _, r := range v {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
			letter = true
		case r >= '0' && r <= '9':
			digit = true
		case strings.ContainsRune("-_.~+/=", r):
		default:
			return false
		}
	}
	return letter && digit
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if r != '-' {
				return false
			}
		} else if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

// redactedMark replaces a secret in an address.
const redactedMark = "[REDACTED:secret]"

// RedactURL returns raw with the credentials a query string or fragment may carry
// replaced: values of parameters named like code, token, key or secret, token-shaped
// values, and a password in the user info. Everything else is kept as written.
func RedactURL(raw string) string {
	rest, frag, hasFrag := strings.Cut(raw, "#")
	base, query, hasQuery := strings.Cut(rest, "?")
	if scheme, after, ok := strings.Cut(base, "://"); ok {
		authority, path, hasPath := strings.Cut(after, "/")
		if at := strings.LastIndexByte(authority, '@'); at >= 0 {
			if user, _, hasPass := strings.Cut(authority[:at], ":"); hasPass {
				authority = user + ":" + redactedMark + authority[at:]
			}
		}
		base = scheme + "://" + authority
		if hasPath {
			base += "/" + path
		}
	}
	out := base
	if hasQuery {
		out += "?" + redactParams(query)
	}
	if hasFrag {
		out += "#" + redactParams(frag)
	}
	return out
}

func redactParams(s string) string {
	parts := strings.Split(s, "&")
	for i, p := range parts {
		k, v, ok := strings.Cut(p, "=")
		if !ok || v == "" {
			continue
		}
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			value = v
		}
		if secretParam(name) || tokenShaped(value) {
			parts[i] = k + "=" + redactedMark
		}
	}
	return strings.Join(parts, "&")
}
