package ideconfig

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tailscale/hujson"
)

// Transport is how a server is reached.
type Transport string

// The transports.
const (
	Stdio Transport = "stdio"
	HTTP  Transport = "http"
	SSE   Transport = "sse"
)

// Entry is one server entry of a configuration file.
type Entry struct {
	// Name is the entry's key in the file.
	Name string `json:"name"`
	// Project is the project directory of a Claude Code project-scoped entry, else "".
	Project string `json:"project,omitempty"`
	// Pointer is the entry's JSON pointer (RFC 6901) in the file.
	Pointer   string    `json:"pointer"`
	Transport Transport `json:"transport,omitempty"`
	// Protected reports whether the entry already goes through Airlock; Via says how.
	Protected bool   `json:"protected"`
	Via       string `json:"via,omitempty"`
	// Problem, when set, says why install leaves this entry alone.
	Problem string `json:"problem,omitempty"`

	fields rawEntry
}

// rawEntry holds the fields of an entry that install reads.
type rawEntry struct {
	Type      string            `json:"type"`
	Command   string            `json:"command"`
	Args      []string          `json:"args"`
	Env       map[string]string `json:"env"`
	Cwd       string            `json:"cwd"`
	URL       string            `json:"url"`
	ServerURL string            `json:"serverUrl"`
	Headers   map[string]string `json:"headers"`
}

// Doc is a parsed configuration file.
type Doc struct {
	Path    string
	Format  Format
	Data    []byte
	Entries []Entry
	root    hujson.Value
}

var hujsonPos = regexp.MustCompile(`^hujson: line (\d+), column (\d+): `)

// Parse parses data, the content of the file at path, as a configuration of format f.
// JSON with comments and trailing commas is accepted. Errors name the file and, for
// syntax errors, the line.
func Parse(path string, f Format, data []byte) (*Doc, error) {
	root, err := hujson.Parse(data)
	if err != nil {
		msg := err.Error()
		if m := hujsonPos.FindStringSubmatch(msg); m != nil {
			return nil, fmt.Errorf("%s:%s:%s: invalid JSON: %s", path, m[1], m[2], msg[len(m[0]):])
		}
		return nil, fmt.Errorf("%s: invalid JSON: %v", path, err)
	}
	if _, ok := root.Value.(*hujson.Object); !ok {
		return nil, fmt.Errorf("%s:%d: the top level should be a JSON object", path, line(data, root.StartOffset))
	}
	d := &Doc{Path: path, Format: f, Data: data, root: root}
	for _, c := range containers(&d.root, f) {
		v := d.root.Find(c.ptr)
		if v == nil {
			continue
		}
		obj, ok := v.Value.(*hujson.Object)
		if !ok {
			return nil, fmt.Errorf("%s:%d: %s should be an object of servers", path, line(data, v.StartOffset), c.label)
		}
		for _, m := range obj.Members {
			name := m.Name.Value.(hujson.Literal).String()
			e := Entry{Name: name, Project: c.project, Pointer: c.ptr + "/" + escapePtr(name)}
			e.classify(m.Value)
			d.Entries = append(d.Entries, e)
		}
	}
	return d, nil
}

type container struct{ ptr, label, project string }

// containers returns where the server objects of format f are in root.
func containers(root *hujson.Value, f Format) []container {
	switch f {
	case FormatVSCode:
		return []container{{ptr: "/servers", label: `"servers"`}}
	case FormatVSCodeSettings:
		return []container{{ptr: "/mcp/servers", label: `"mcp"."servers"`}}
	case FormatClaudeCode:
		out := []container{{ptr: "/mcpServers", label: `"mcpServers"`}}
		if p := root.Find("/projects"); p != nil {
			if obj, ok := p.Value.(*hujson.Object); ok {
				var dirs []string
				for _, m := range obj.Members {
					dirs = append(dirs, m.Name.Value.(hujson.Literal).String())
				}
				sort.Strings(dirs)
				for _, dir := range dirs {
					out = append(out, container{
						ptr:     "/projects/" + escapePtr(dir) + "/mcpServers",
						label:   fmt.Sprintf(`"projects".%s."mcpServers"`, strconv.Quote(dir)),
						project: dir,
					})
				}
			}
		}
		return out
	}
	return []container{{ptr: "/mcpServers", label: `"mcpServers"`}}
}

func escapePtr(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func line(data []byte, off int) int {
	if off > len(data) {
		off = len(data)
	}
	return strings.Count(string(data[:off]), "\n") + 1
}

// classify fills in the transport, whether the entry is protected, and any problem.
func (e *Entry) classify(v hujson.Value) {
	if _, ok := v.Value.(*hujson.Object); !ok {
		e.Problem = "not an object"
		return
	}
	v = v.Clone()
	v.Standardize()
	if err := json.Unmarshal(v.Pack(), &e.fields); err != nil {
		e.Problem = "unexpected field types: " + strings.TrimPrefix(err.Error(), "json: ")
		return
	}
	f := &e.fields
	u := f.URL
	if u == "" {
		u = f.ServerURL
	}
	switch {
	case f.Command != "" && u != "":
		e.Problem = `has both "command" and a URL`
	case f.Command != "":
		e.Transport = Stdio
		if argv := append([]string{f.Command}, f.Args...); isAirlock(argv) {
			e.Protected = true
			e.Via = "airlock " + strings.Join(argv[1:], " ")
		} else if argv := splitLoose(f.Command, f.Args); isAirlock(argv) {
			e.Protected = true
			e.Via = "airlock " + strings.Join(argv[1:], " ")
		}
	case u != "":
		e.Transport = HTTP
		if t := strings.ToLower(f.Type); t == "sse" || strings.HasSuffix(strings.TrimRight(u, "/"), "/sse") && t == "" {
			e.Transport = SSE
		}
		if viaServe(u) {
			e.Protected = true
			e.Via = "airlock serve (" + u + ")"
		}
	default:
		e.Problem = `has neither "command" nor "url"`
	}
}

// recognise marks e protected when it runs the airlock executable at one of paths
// (which need not be named "airlock": a renamed or test binary).
func (e *Entry) recognise(paths ...string) {
	f := e.fields
	if e.Protected || e.Problem != "" || e.Transport != Stdio || len(f.Args) == 0 || f.Args[0] != "run" && f.Args[0] != "wrap" {
		return
	}
	for _, p := range paths {
		if p != "" && f.Command == p {
			e.Protected = true
			e.Via = "airlock " + strings.Join(f.Args, " ")
		}
	}
}

// splitLoose returns command and args as one argv, splitting a command that carries its
// arguments; it is only used to recognise Airlock, never to run anything.
func splitLoose(command string, args []string) []string {
	argv := strings.Fields(command)
	if len(argv) == 0 {
		return nil
	}
	return append(argv, args...)
}

// isAirlock reports whether argv runs Airlock as a stdio relay (airlock run or wrap).
func isAirlock(argv []string) bool {
	if len(argv) < 2 {
		return false
	}
	base := strings.ToLower(argv[0][strings.LastIndexAny(argv[0], `/\`)+1:])
	base = strings.TrimSuffix(base, ".exe")
	return base == "airlock" && (argv[1] == "run" || argv[1] == "wrap")
}

// viaServe reports whether u is an endpoint of `airlock serve`: loopback, /mcp/NAME.
func viaServe(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	host := p.Hostname()
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return false
	}
	dir, name := path.Split(strings.TrimRight(p.Path, "/"))
	return dir == "/mcp/" && name != ""
}
