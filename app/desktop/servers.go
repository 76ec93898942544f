package desktop

import (
	"errors"
	"sort"

	"github.com/airlock-mcp/airlock/app/config"
	"github.com/airlock-mcp/airlock/consent/launch"
	"github.com/airlock-mcp/airlock/consent/pins"
	"github.com/airlock-mcp/airlock/consent/policy"
)

// Server is one server Airlock knows: from servers.json, from a pinned launch command
// (servers wrapped with `airlock wrap --name`), or from the policy's [servers.NAME].
type Server struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"` // "stdio" or "http"
	Command []string `json:"command"`
	URL     string   `json:"url"`
	Trusted bool     `json:"trusted"`
	Pinned  bool     `json:"pinned"`
	// PinMatches reports whether the pinned command is the one that would run now, so
	// the next launch starts without asking.
	PinMatches bool `json:"pinMatches"`
	// Fingerprint is the fingerprint of the command that would run now (the pinned one
	// for servers known only by their pin); "" for remote servers.
	Fingerprint string `json:"fingerprint"`
}

// Servers lists the known servers by name.
func (a *App) Servers() ([]Server, error) {
	cfg, err := config.LoadServers(a.paths.servers)
	if err != nil {
		return nil, err
	}
	pol, err := policy.Load(a.paths.policy)
	if err != nil {
		return nil, err
	}
	_, pinned, err := pins.Open(a.paths.pins).List()
	if err != nil {
		return nil, err
	}
	byName := map[string]*Server{}
	for name, srv := range cfg.MCPServers {
		s := &Server{Name: name, Command: []string{}, Trusted: pol.Trusted(name)}
		if srv.Remote() {
			s.Kind, s.URL = "http", srv.URL
		} else {
			s.Kind = "stdio"
			s.Command = append([]string{srv.Command}, srv.Args...)
			c := launch.Resolve(launch.Command{Name: name, Argv: s.Command, Dir: srv.Cwd, Env: srv.Env}, nil)
			s.Fingerprint = launch.Analyze(c).Fingerprint
			if pin, ok := pinned[name]; ok {
				s.Pinned, s.PinMatches = true, pin.Fingerprint == s.Fingerprint
			}
		}
		byName[name] = s
	}
	for name, pin := range pinned {
		if byName[name] == nil {
			byName[name] = &Server{Name: name, Kind: "stdio", Command: pin.Argv, Trusted: pol.Trusted(name),
				Pinned: true, PinMatches: true, Fingerprint: pin.Fingerprint}
		}
	}
	for _, name := range pol.TrustedServers() {
		if byName[name] == nil {
			byName[name] = &Server{Name: name, Kind: "stdio", Command: []string{}, Trusted: true}
		}
	}
	out := make([]Server, 0, len(byName))
	for _, s := range byName {
		if s.Command == nil {
			s.Command = []string{}
		}
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ServerTools starts the server name from servers.json (its launch is approved like
// any other), lists its tools and the tier a call to each gets.
func (a *App) ServerTools(name string) ([]ToolInfo, error) {
	if a.tools == nil {
		return nil, errors.New("listing tools is not available in this build")
	}
	// Long enough for a person to approve the launch, then for the server to answer.
	out, err := a.tools(a.ctx, name)
	if out == nil {
		out = []ToolInfo{}
	}
	return out, err
}
