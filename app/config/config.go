// Package config reads Airlock's own files under its home directory: where that is, and
// servers.json, the servers Airlock knows by name.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
)

// Home returns Airlock's home directory: $AIRLOCK_HOME, or "airlock" in the OS config
// directory (~/.config/airlock on Linux).
func Home() (string, error) {
	if h := os.Getenv("AIRLOCK_HOME"); h != "" {
		return filepath.Abs(h)
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find config dir: %w (set AIRLOCK_HOME)", err)
	}
	return filepath.Join(dir, "airlock"), nil
}

// EnsureHome creates the home directory with mode 0700 if needed and returns it.
func EnsureHome() (string, error) {
	h, err := Home()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(h, 0o700); err != nil {
		return "", fmt.Errorf("create airlock home: %w", err)
	}
	return h, nil
}

// Server is one server definition, in the shape IDE configs already use.
type Server struct {
	// Type is optional: "stdio", "http" (or "streamable-http"), or "sse"; inferred when empty.
	Type    string            `json:"type,omitempty"`
	Command string            `json:"command,omitempty"`
	Args    []string          `json:"args,omitempty"`
	Env     map[string]string `json:"env,omitempty"`
	Cwd     string            `json:"cwd,omitempty"`
	URL     string            `json:"url,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	// OAuth names a client registered with the server's authorization server beforehand
	// (for servers that do not offer dynamic registration), or Airlock's client ID
	// metadata document. Remote servers only; without it Airlock registers itself.
	OAuth *OAuth `json:"oauth,omitempty"`
}

// OAuth is the client a remote server's sign-in uses.
type OAuth struct {
	// ClientID is a pre-registered client's ID.
	ClientID string `json:"clientId,omitempty"`
	// ClientSecret is a confidential client's secret, as a "${keyring:NAME}" reference:
	// a secret written here in plain text is refused.
	ClientSecret string `json:"clientSecret,omitempty"`
	// Issuer, if set, is the authorization server the client ID belongs to; another one
	// is refused rather than handed the client's credentials.
	Issuer string `json:"issuer,omitempty"`
	// ClientMetadataURL is an https URL of a client ID metadata document, used when the
	// authorization server supports them and no ClientID is set.
	ClientMetadataURL string `json:"clientMetadataUrl,omitempty"`
	// RedirectPort fixes the loopback redirect URI to http://127.0.0.1:PORT/callback, for
	// clients registered with exactly that URI. By default Airlock picks a port once per
	// server and keeps it.
	RedirectPort int `json:"redirectPort,omitempty"`
}

// keyringRefRE is a whole-value secret reference.
var keyringRefRE = regexp.MustCompile(`^\$\{keyring:[A-Za-z0-9._-]{1,64}\}$`)

func (o *OAuth) validate() error {
	if o.ClientID == "" && o.ClientMetadataURL == "" {
		return fmt.Errorf(`"oauth" needs "clientId" or "clientMetadataUrl"`)
	}
	if o.ClientSecret != "" {
		if o.ClientID == "" {
			return fmt.Errorf(`"oauth.clientSecret" needs "oauth.clientId"`)
		}
		if !keyringRefRE.MatchString(o.ClientSecret) {
			return fmt.Errorf(`"oauth.clientSecret" must be a keyring reference such as "${keyring:my-client}" (store it with: airlock secret set my-client), never the secret itself`)
		}
	}
	if o.ClientMetadataURL != "" {
		u, err := url.Parse(o.ClientMetadataURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.Path == "" || u.Path == "/" {
			return fmt.Errorf(`"oauth.clientMetadataUrl" %q must be an https URL with a path`, o.ClientMetadataURL)
		}
	}
	if o.RedirectPort != 0 && (o.RedirectPort < 1024 || o.RedirectPort > 65535) {
		return fmt.Errorf(`"oauth.redirectPort" %d is not a port from 1024 to 65535`, o.RedirectPort)
	}
	if o.Issuer != "" {
		u, err := url.Parse(o.Issuer)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf(`"oauth.issuer" %q must be an https URL`, o.Issuer)
		}
	}
	return nil
}

// Remote reports whether the server is reached over HTTP.
func (s Server) Remote() bool { return s.URL != "" }

// Servers is the content of servers.json.
type Servers struct {
	MCPServers map[string]Server `json:"mcpServers"`
}

// Names returns the server names, sorted.
func (s *Servers) Names() []string {
	names := make([]string, 0, len(s.MCPServers))
	for n := range s.MCPServers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ServersPath returns the path of servers.json under home.
func ServersPath(home string) string { return filepath.Join(home, "servers.json") }

// LoadServers reads servers.json. A missing file is an empty configuration.
func LoadServers(path string) (*Servers, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Servers{MCPServers: map[string]Server{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return ParseServers(path, data)
}

// ParseServers decodes servers.json strictly: unknown fields are errors, and every error
// names the file, the line and what is wrong.
func ParseServers(path string, data []byte) (*Servers, error) {
	var s Servers
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, positioned(path, data, err)
	}
	if rest := bytes.TrimSpace(data[dec.InputOffset():]); len(rest) > 0 {
		return nil, fmt.Errorf("%s:%d: unexpected data after the top-level object", path, lineAt(data, int(dec.InputOffset())))
	}
	// encoding/json matches keys case-insensitively and lets a repeated key win
	// silently; a security tool's config must mean exactly one thing.
	if err := jsonrpc.CheckDuplicateKeys(data); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if err := exactKeys(path, data); err != nil {
		return nil, err
	}
	if s.MCPServers == nil {
		s.MCPServers = map[string]Server{}
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidName reports whether name can name a server: letters, digits, '.', '_' and '-',
// at most 64 characters, starting with a letter or digit.
func ValidName(name string) bool { return nameRE.MatchString(name) }

// Validate checks every server definition.
func (s *Servers) Validate() error {
	for _, name := range s.Names() {
		if err := s.MCPServers[name].validate(name); err != nil {
			return err
		}
	}
	return nil
}

func (srv Server) validate(name string) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("server %q: %s", name, fmt.Sprintf(format, args...))
	}
	if !ValidName(name) {
		return bad("invalid name: use letters, digits, '.', '_' and '-' (at most 64)")
	}
	switch srv.Type {
	case "", "stdio", "http", "streamable-http", "streamableHttp", "sse":
	default:
		return bad("unknown type %q (want stdio, http or sse)", srv.Type)
	}
	switch {
	case srv.Command != "" && srv.URL != "":
		return bad(`has both "command" and "url"; a server is either started locally or reached over HTTP`)
	case srv.Command == "" && srv.URL == "":
		return bad(`needs "command" (a local server) or "url" (a remote one)`)
	case srv.Command != "":
		if srv.Type != "" && srv.Type != "stdio" {
			return bad("type %q needs a \"url\", not a \"command\"", srv.Type)
		}
		if len(srv.Headers) > 0 {
			return bad(`"headers" only apply to remote servers`)
		}
		if srv.OAuth != nil {
			return bad(`"oauth" only applies to remote servers`)
		}
	default:
		if srv.Type == "stdio" {
			return bad(`type "stdio" needs a "command"`)
		}
		u, err := url.Parse(srv.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("url %q is not an http or https URL", srv.URL)
		}
		if len(srv.Args) > 0 || len(srv.Env) > 0 || srv.Cwd != "" {
			return bad(`"args", "env" and "cwd" only apply to local servers`)
		}
		if srv.OAuth != nil {
			if err := srv.OAuth.validate(); err != nil {
				return bad("%v", err)
			}
		}
	}
	for k := range srv.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return bad("invalid environment variable name %q", k)
		}
	}
	return nil
}

var serverKeys = map[string]bool{"type": true, "command": true, "args": true, "env": true, "cwd": true, "url": true, "headers": true, "oauth": true}

// exactKeys refuses keys that differ from the known ones only by case.
func exactKeys(path string, data []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil // already reported by the strict decode
	}
	for k := range top {
		if k != "mcpServers" {
			return fmt.Errorf("%s:%d: unknown field %q (did you mean \"mcpServers\"?)", path, keyLine(data, k), k)
		}
	}
	var servers map[string]map[string]json.RawMessage
	if err := json.Unmarshal(top["mcpServers"], &servers); err != nil {
		return nil
	}
	for name, fields := range servers {
		for k := range fields {
			if !serverKeys[k] {
				return fmt.Errorf("%s:%d: server %q: unknown field %q (fields are case-sensitive: type, command, args, env, cwd, url, headers, oauth)", path, keyLine(data, k), name, k)
			}
		}
		var oauth map[string]json.RawMessage
		if raw, ok := fields["oauth"]; ok && json.Unmarshal(raw, &oauth) == nil {
			for k := range oauth {
				if !oauthKeys[k] {
					return fmt.Errorf("%s:%d: server %q: unknown field oauth.%q (fields are case-sensitive: clientId, clientSecret, issuer, clientMetadataUrl, redirectPort)", path, keyLine(data, k), name, k)
				}
			}
		}
	}
	return nil
}

var oauthKeys = map[string]bool{"clientId": true, "clientSecret": true, "issuer": true, "clientMetadataUrl": true, "redirectPort": true}

var keyREs sync.Map

// keyLine finds the line of the first occurrence of key as an object key.
func keyLine(data []byte, key string) int {
	re, ok := keyREs.Load(key)
	if !ok {
		re, _ = keyREs.LoadOrStore(key, regexp.MustCompile(regexp.QuoteMeta(strconv.Quote(key))+`\s*:`))
	}
	if loc := re.(*regexp.Regexp).FindIndex(data); loc != nil {
		return lineAt(data, loc[0])
	}
	return 0
}

func positioned(path string, data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("%s:%d: invalid JSON: %v", path, lineAt(data, int(syn.Offset)), syn)
	case errors.As(err, &typ):
		return fmt.Errorf("%s:%d: %q should be %s, not %s", path, lineAt(data, int(typ.Offset)), typ.Field, typ.Type, typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.TrimPrefix(err.Error(), "json: unknown field ")
		name, _ := strconv.Unquote(field)
		return fmt.Errorf("%s:%d: unknown field %s", path, keyLine(data, name), field)
	case errors.Is(err, errors.New("EOF")) || err.Error() == "EOF":
		return fmt.Errorf("%s: the file is empty; want {\"mcpServers\": {…}}", path)
	}
	return fmt.Errorf("%s: %w", path, err)
}

func lineAt(data []byte, offset int) int {
	if offset > len(data) {
		offset = len(data)
	}
	return bytes.Count(data[:offset], []byte("\n")) + 1
}
