package guard

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheckURL(t *testing.T) {
	long := "https://example.com/?q=" + strings.Repeat("a", maxURLLen)
	for _, tc := range []struct {
		url      string
		site     string
		codes    []string
		openable bool
	}{
		{"https://github.com/login/device", "github.com", nil, true},
		{"https://gist.github.com/x", "github.com", nil, true},
		{"https://login.example.co.uk/a", "example.co.uk", nil, true},
		{"https://google.de/", "google.de", nil, true},
		{"http://localhost:8080/cb", "localhost", nil, true},
		{"http://127.0.0.1:3000/cb", "127.0.0.1", nil, true},
		{"http://[::1]:3000/cb", "::1", nil, true},
		{"http://example.com/", "example.com", []string{"insecure"}, true},
		{"https://github.com@evil.tld/login", "evil.tld", []string{"userinfo"}, true},
		{"https://user:pw@example.com/", "example.com", []string{"userinfo"}, true},
		{"https://paypa1.com/", "paypa1.com", []string{"lookalike"}, true},
		{"https://rnicrosoft.com/", "rnicrosoft.com", []string{"lookalike"}, true},
		{"https://g00gle.com/", "g00gle.com", []string{"lookalike"}, true},
		{"https://gihtub.com/", "gihtub.com", []string{"lookalike"}, true},
		{"https://anthropicc.ai/", "anthropicc.ai", []string{"lookalike"}, true},
		{"https://github.com.evil.tld/", "evil.tld", []string{"lookalike"}, true},
		{"https://paypal-login.com/", "paypal-login.com", []string{"lookalike"}, true},
		{"https://xn--pple-43d.com/", "аpple.com", []string{"lookalike", "mixed-script", "punycode"}, true},
		{"https://аpple.com/", "аpple.com", []string{"lookalike", "mixed-script", "punycode"}, true},
		{"https://xn--80ak6aa92e.com/", "аррӏе.com", []string{"lookalike", "punycode"}, true},
		{"https://straße.de/", "straße.de", []string{"punycode"}, true},
		{"https://xn--zz.com/", "xn--zz.com", []string{"punycode"}, true},
		{"https://203.0.113.7/x", "203.0.113.7", []string{"ip"}, true},
		{"http://203.0.113.7/x", "203.0.113.7", []string{"ip", "insecure"}, true},
		{"https://[2001:db8::1]/", "2001:db8::1", []string{"ip"}, true},
		{"https://3405803783/", "3405803783", []string{"ip"}, true},
		{long, "example.com", []string{"long"}, true},
		{"javascript:alert(1)", "", []string{"invalid"}, false},
		{"file:///etc/passwd", "", []string{"scheme"}, false},
		{"vscode://ext/install", "", []string{"scheme"}, false},
		{"https://github.com\\@evil.tld/", "", []string{"invalid"}, false},
		{"https://exa mple.com/", "", []string{"invalid"}, false},
		{"https://example.com/\u202egnp.exe", "", []string{"invalid"}, false},
		{"/relative/path", "", []string{"invalid"}, false},
		{"https:///nohost", "", []string{"invalid"}, false},
	} {
		c := CheckURL(tc.url)
		var codes []string
		for _, w := range c.Warnings {
			codes = append(codes, w.Code)
			if !strings.HasSuffix(w.Text, ".") || strings.ToUpper(w.Text[:1]) != w.Text[:1] {
				t.Errorf("CheckURL(%q): warning %q is not a sentence", tc.url, w.Text)
			}
		}
		if diff := cmp.Diff(tc.codes, codes); diff != "" {
			t.Errorf("CheckURL(%q) warnings (-want +got):\n%s\n%q", tc.url, diff, c.Warnings)
		}
		if c.Site != tc.site || c.Openable != tc.openable {
			t.Errorf("CheckURL(%q) = site %q openable %v, want %q %v", tc.url, c.Site, c.Openable, tc.site, tc.openable)
		}
	}
}

func TestCheckURLPunycodeShowsUnicode(t *testing.T) {
	c := CheckURL("https://xn--pple-43d.com/")
	if c.Display != "аpple.com" || c.Host != "xn--pple-43d.com" {
		t.Errorf("Display, Host = %q, %q", c.Display, c.Host)
	}
	var text string
	for _, w := range c.Warnings {
		if w.Code == "punycode" {
			text = w.Text
		}
	}
	if !strings.Contains(text, `"аpple.com"`) {
		t.Errorf("punycode warning %q does not show the decoded name", text)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://example.com/a?b=c":                                    "https://example.com/a?b=c",
		"https://example.com/cb?code=abc&state=xyz":                    "https://example.com/cb?code=[REDACTED:secret]&state=xyz",
		"https://example.com/?access_token=t&api_key=k&x=1":            "https://example.com/?access_token=[REDACTED:secret]&api_key=[REDACTED:secret]&x=1",
		"https://example.com/?id=550e8400-e29b-41d4-a716-446655440000": "https://example.com/?id=550e8400-e29b-41d4-a716-446655440000",
		"https://example.com/?x=AbCdEf0123456789xyzQ":                  "https://example.com/?x=[REDACTED:secret]",
		"https://example.com/#access_token=zz&token_type=bearer":       "https://example.com/#access_token=[REDACTED:secret]&token_type=bearer",
		"https://u:pw@example.com/p":                                   "https://u:[REDACTED:secret]@example.com/p",
		"https://u@example.com/p?key=":                                 "https://u@example.com/p?key=",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"github", "github", 0}, {"gihtub", "github", 1}, {"githb", "github", 1},
		{"paypall", "paypal", 1}, {"opera", "openai", 2}, {"", "abc", 3},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
