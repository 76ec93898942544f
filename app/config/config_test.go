package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseServersValid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]Server
	}{
		{"empty object", `{}`, map[string]Server{}},
		{"null", `null`, map[string]Server{}},
		{"empty servers", `{"mcpServers":{}}`, map[string]Server{}},
		{
			name: "local and remote, as IDE configs write them",
			in: `{
  "mcpServers": {
    "files": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"], "env": {"DEBUG": "1"}, "cwd": "/srv"},
    "typed.local_1": {"type": "stdio", "command": "./srv"},
    "remote": {"type": "http", "url": "https://mcp.example.com/mcp", "headers": {"Authorization": "Bearer x"}},
    "legacy-sse": {"type": "sse", "url": "http://127.0.0.1:9000/sse"},
    "shttp": {"type": "streamable-http", "url": "http://h/"},
    "camel": {"type": "streamableHttp", "url": "http://h/"},
    "github": {"url": "https://api.example.com/mcp/", "oauth": {"clientId": "Iv1.abc", "clientSecret": "${keyring:gh-client}", "issuer": "https://example.com/login/oauth", "redirectPort": 33418}},
    "cimd": {"url": "https://mcp.example.org/mcp", "oauth": {"clientMetadataUrl": "https://me.example.net/airlock/client.json"}}
  }
}
`,
			want: map[string]Server{
				"files":         {Command: "npx", Args: []string{"-y", "@modelcontextprotocol/server-filesystem", "/tmp"}, Env: map[string]string{"DEBUG": "1"}, Cwd: "/srv"},
				"typed.local_1": {Type: "stdio", Command: "./srv"},
				"remote":        {Type: "http", URL: "https://mcp.example.com/mcp", Headers: map[string]string{"Authorization": "Bearer x"}},
				"legacy-sse":    {Type: "sse", URL: "http://127.0.0.1:9000/sse"},
				"shttp":         {Type: "streamable-http", URL: "http://h/"},
				"camel":         {Type: "streamableHttp", URL: "http://h/"},
				"github": {URL: "https://api.example.com/mcp/", OAuth: &OAuth{ClientID: "Iv1.abc",
					ClientSecret: "${keyring:gh-client}", Issuer: "https://example.com/login/oauth", RedirectPort: 33418}},
				"cimd": {URL: "https://mcp.example.org/mcp", OAuth: &OAuth{ClientMetadataURL: "https://me.example.net/airlock/client.json"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseServers("servers.json", []byte(tt.in))
			if err != nil {
				t.Fatalf("ParseServers: %v", err)
			}
			if diff := cmp.Diff(tt.want, got.MCPServers); diff != "" {
				t.Errorf("servers mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseServersInvalid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // substrings of the error
	}{
		{"empty file", ``, []string{"/h/servers.json: the file is empty"}},
		{"blank file", "  \n", []string{"/h/servers.json: the file is empty"}},
		{"unknown field", "{\n  \"mcpServers\": {\n    \"a\": {\"command\": \"x\", \"comand\": \"y\"}\n  }\n}", []string{"/h/servers.json:3:", `unknown field "comand"`}},
		{"unknown top-level field", "{\"servers\": {}}", []string{"/h/servers.json:1:", `unknown field "servers"`}},
		{"command and url", `{"mcpServers":{"a":{"command":"x","url":"http://h"}}}`, []string{"/h/servers.json:", `server "a"`, `both "command" and "url"`}},
		{"neither", `{"mcpServers":{"a":{"args":["x"]}}}`, []string{`server "a"`, `needs "command"`}},
		{"bad URL scheme", `{"mcpServers":{"a":{"url":"ftp://h/x"}}}`, []string{`server "a"`, `url "ftp://h/x" is not an http or https URL`}},
		{"URL without host", `{"mcpServers":{"a":{"url":"http:///x"}}}`, []string{`is not an http or https URL`}},
		{"unparsable URL", `{"mcpServers":{"a":{"url":"http://[::1"}}}`, []string{`is not an http or https URL`}},
		{"relative URL", `{"mcpServers":{"a":{"url":"/mcp"}}}`, []string{`is not an http or https URL`}},
		{"bad name: space", `{"mcpServers":{"my server":{"command":"x"}}}`, []string{`server "my server": invalid name`}},
		{"bad name: leading dot", `{"mcpServers":{".hidden":{"command":"x"}}}`, []string{`server ".hidden": invalid name`}},
		{"bad name: slash", `{"mcpServers":{"a/b":{"command":"x"}}}`, []string{`invalid name`}},
		{"bad name: empty", `{"mcpServers":{"":{"command":"x"}}}`, []string{`invalid name`}},
		{"bad name: too long", `{"mcpServers":{"` + strings.Repeat("a", 65) + `":{"command":"x"}}}`, []string{`invalid name`}},
		{"unknown type", `{"mcpServers":{"a":{"type":"websocket","url":"http://h"}}}`, []string{`unknown type "websocket"`}},
		{"http type with command", `{"mcpServers":{"a":{"type":"http","command":"x"}}}`, []string{`type "http" needs a "url"`}},
		{"stdio type with url", `{"mcpServers":{"a":{"type":"stdio","url":"http://h"}}}`, []string{`type "stdio" needs a "command"`}},
		{"headers on local", `{"mcpServers":{"a":{"command":"x","headers":{"k":"v"}}}}`, []string{`"headers" only apply to remote`}},
		{"args on remote", `{"mcpServers":{"a":{"url":"http://h","args":["x"]}}}`, []string{`only apply to local`}},
		{"cwd on remote", `{"mcpServers":{"a":{"url":"http://h","cwd":"/"}}}`, []string{`only apply to local`}},
		{"bad env name", `{"mcpServers":{"a":{"command":"x","env":{"A=B":"1"}}}}`, []string{`invalid environment variable name "A=B"`}},
		{"empty env name", `{"mcpServers":{"a":{"command":"x","env":{"":"1"}}}}`, []string{`invalid environment variable name ""`}},
		{"type mismatch: args", "{\"mcpServers\": {\n\"a\": {\n\"command\": \"x\",\n\"args\": \"-v\"}}}", []string{"/h/servers.json:4:", `args" should be []string, not string`}},
		{"type mismatch: servers", `{"mcpServers":[]}`, []string{"/h/servers.json:1:", `"mcpServers" should be`}},
		{"type mismatch: env value", `{"mcpServers":{"a":{"command":"x","env":{"N":1}}}}`, []string{"should be string, not number"}},
		{"invalid JSON", "{\"mcpServers\":{\n\"a\":{\"command\":\"x\",}}}", []string{"/h/servers.json:2: invalid JSON"}},
		{"trailing data", `{"mcpServers":{}} {}`, []string{"/h/servers.json:1: unexpected data after the top-level object"}},
		{"not an object", `"x"`, []string{"/h/servers.json:1:"}},
		{"oauth on local", `{"mcpServers":{"a":{"command":"x","oauth":{"clientId":"c"}}}}`, []string{`"oauth" only applies to remote`}},
		{"oauth empty", `{"mcpServers":{"a":{"url":"https://h/","oauth":{}}}}`, []string{`needs "clientId" or "clientMetadataUrl"`}},
		{"oauth plaintext secret", `{"mcpServers":{"a":{"url":"https://h/","oauth":{"clientId":"c","clientSecret":"s3cr3t"}}}}`, []string{`must be a keyring reference`, `never the secret itself`}},
		{"oauth secret with text around the reference", `{"mcpServers":{"a":{"url":"https://h/","oauth":{"clientId":"c","clientSecret":"x${keyring:k}"}}}}`, []string{`must be a keyring reference`}},
		{"oauth secret without id", `{"mcpServers":{"a":{"url":"https://h/","oauth":{"clientMetadataUrl":"https://m/c.json","clientSecret":"${keyring:k}"}}}}`, []string{`needs "oauth.clientId"`}},
		{"oauth metadata over http", `{"mcpServers":{"a":{"url":"https://h/","oauth":{"clientMetadataUrl":"http://m/c.json"}}}}`, []string{`must be an https URL with a path`}},
		{"oauth issuer over http", `{"mcpServers":{"a":{"url":"https://h/","oauth":{"clientId":"c","issuer":"http://as"}}}}`, []string{`"oauth.issuer" "http://as" must be an https URL`}},
		{"oauth key case", "{\"mcpServers\":{\"a\":{\"url\":\"https://h/\",\n\"oauth\":{\"clientid\":\"c\"}}}}", []string{"/h/servers.json:2:", `unknown field oauth."clientid"`}},
		{"oauth low port", `{"mcpServers":{"a":{"url":"https://h/","oauth":{"clientId":"c","redirectPort":80}}}}`, []string{`"oauth.redirectPort" 80 is not a port`}},
		{"oauth unknown key", `{"mcpServers":{"a":{"url":"https://h/","oauth":{"clientId":"c","scope":"x"}}}}`, []string{`unknown field "scope"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseServers("/h/servers.json", []byte(tt.in))
			if err == nil {
				t.Fatalf("ParseServers = %+v, want an error", s)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestParseServersUnknownFieldLine(t *testing.T) {
	// The line must be the unknown key's, not that of an earlier value with the same text.
	in := "{\"mcpServers\": {\n\"a\": {\n\"args\": [\"timeout\"],\n\"command\": \"x\",\n\"timeout\": 3}}}"
	_, err := ParseServers("s.json", []byte(in))
	if err == nil || !strings.HasPrefix(err.Error(), "s.json:5:") {
		t.Errorf("error = %v, want it at s.json:5", err)
	}
}

func TestParseServersTrailingBracket(t *testing.T) {
	for _, in := range []string{`{"mcpServers":{}}}`, `{"mcpServers":{}}]`} {
		if _, err := ParseServers("s.json", []byte(in)); err == nil {
			t.Errorf("ParseServers(%q) succeeded, want an error for the trailing data", in)
		}
	}
}

func TestParseServersStrictNames(t *testing.T) {
	for _, in := range []string{
		`{"mcpServers":{"a":{"COMMAND":"x"}}}`,
		`{"mcpServers":{"a":{"command":"x"},"a":{"url":"http://h"}}}`,
	} {
		if _, err := ParseServers("s.json", []byte(in)); err == nil {
			t.Errorf("ParseServers(%q) succeeded, want an error", in)
		}
	}
}

func TestLoadServers(t *testing.T) {
	dir := t.TempDir()
	got, err := LoadServers(filepath.Join(dir, "servers.json"))
	if err != nil || got.MCPServers == nil || len(got.MCPServers) != 0 {
		t.Errorf("LoadServers(missing) = %+v, %v; want an empty configuration", got, err)
	}
	path := ServersPath(dir)
	if path != filepath.Join(dir, "servers.json") {
		t.Errorf("ServersPath = %q", path)
	}
	if err := os.WriteFile(path, []byte(`{"mcpServers":{"b":{"command":"b"},"a":{"url":"https://a"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err = LoadServers(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b"}, got.Names()); diff != "" {
		t.Errorf("Names (-want +got):\n%s", diff)
	}
	if !got.MCPServers["a"].Remote() || got.MCPServers["b"].Remote() {
		t.Errorf("Remote() wrong for %+v", got.MCPServers)
	}
	if err := os.WriteFile(path, []byte(`{"mcpServers":{"b":{}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadServers(path); err == nil || !strings.HasPrefix(err.Error(), path+": ") {
		t.Errorf("LoadServers(invalid) = %v, want an error naming %s", err, path)
	}
	if _, err := LoadServers(dir); err == nil || !strings.Contains(err.Error(), "read "+dir) {
		t.Errorf("LoadServers(a directory) = %v, want a read error", err)
	}
}

func TestHome(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AIRLOCK_HOME", filepath.Join(dir, "h"))
	got, err := Home()
	if err != nil || got != filepath.Join(dir, "h") {
		t.Errorf("Home() = %q, %v", got, err)
	}
	got, err = EnsureHome()
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(got)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("EnsureHome made %v (%v), want a 0700 directory", fi, err)
	}

	t.Chdir(dir)
	t.Setenv("AIRLOCK_HOME", "rel")
	if got, _ := Home(); got != filepath.Join(dir, "rel") {
		t.Errorf("Home() with a relative AIRLOCK_HOME = %q, want it made absolute", got)
	}
	t.Setenv("AIRLOCK_HOME", "")
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "xdg"))
	if got, _ := Home(); got != filepath.Join(dir, "xdg", "airlock") {
		t.Errorf("Home() = %q, want under XDG_CONFIG_HOME", got)
	}
}

func TestValidName(t *testing.T) {
	tests := map[string]bool{
		"a": true, "A9": true, "files": true, "my-server_2.local": true, "0": true,
		strings.Repeat("a", 64): true, strings.Repeat("a", 65): false,
		"": false, "-a": false, ".a": false, "_a": false, "a b": false, "a/b": false, "é": false, "a\n": false,
	}
	for name, want := range tests {
		if got := ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", name, got, want)
		}
	}
}
