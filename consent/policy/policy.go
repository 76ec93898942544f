// Package policy loads the user's policy.toml and answers what it says about a tool call,
// a server's trust and a launch command.
//
// A policy file looks like this; every section is optional and a missing file is the
// empty default policy:
//
//	[settings]
//	approval_timeout = "50s"   # how long a tier-3 call waits for a person; default 50s
//	cli_approvals = true       # allow `airlock approve` from a terminal; default false
//	no_broker = "elicit"       # elicit (default) | deny: tier 3 when no broker answers
//	retention = "90d"          # how long decisions stay in the log; default forever
//
//	[servers.github]
//	trust = "trusted"          # untrusted (default) | trusted: trust its tool annotations
//
//	[[rules]]
//	server = "github"          # glob (path.Match), default "*"
//	tool = "delete_*"          # glob (path.Match), default "*"
//	when = 'args.branch == "main"'  # optional CEL over args, server, tool, tier
//	action = "deny"            # allow | ask | deny; optional when tier is set
//	tier = 3                   # optional: set the tier, up or down
//	reason = "never delete main"
//
//	[[launch]]                 # pre-approved launch commands
//	name = "fs"
//	fingerprint = "sha256:…"
//
// Every matching rule applies: deny wins over ask over allow, and when several rules set
// a tier the highest wins. Globs are case-sensitive. A `when` condition that fails to
// evaluate (a missing key, a wrong type, the cost limit) counts as ask, never allow; use
// has(args.x) to test for optional arguments.
package policy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	toml "github.com/pelletier/go-toml/v2"
)

// Action is what a rule says to do with a call.
type Action string

// Actions, weakest first. The empty Action means no rule decided.
const (
	Allow Action = "allow"
	Ask   Action = "ask"
	Deny  Action = "deny"
)

func (a Action) strength() int {
	switch a {
	case Allow:
		return 1
	case Ask:
		return 2
	case Deny:
		return 3
	}
	return 0
}

// NoBroker says what a tier-3 call does when no broker answers.
type NoBroker string

// NoBroker modes.
const (
	NoBrokerElicit NoBroker = "elicit" // ask the person through MCP elicitation, else refuse
	NoBrokerDeny   NoBroker = "deny"   // refuse
)

// DefaultApprovalTimeout is how long a call waits for a person unless settings say otherwise.
const DefaultApprovalTimeout = 50 * time.Second

// Settings are the [settings] table with defaults filled in.
type Settings struct {
	ApprovalTimeout time.Duration
	// CLIApprovals reports whether pending calls may be approved from a terminal. It is
	// off by default: an agent with a shell tool could otherwise approve its own calls.
	CLIApprovals bool
	NoBroker     NoBroker
	// Retention is how long decisions stay in the log; 0 keeps them forever.
	Retention time.Duration
}

// DefaultSettings returns the settings of an empty policy.
func DefaultSettings() Settings {
	return Settings{ApprovalTimeout: DefaultApprovalTimeout, NoBroker: NoBrokerElicit}
}

// Rule is one [[rules]] entry.
type Rule struct {
	Index  int    // 1-based position in the file
	Line   int    // line of its [[rules]] header, 0 if unknown
	Server string // glob
	Tool   string // glob
	When   string // CEL source, empty for none
	Action Action // may be empty when Tier is set
	Tier   *int
	Reason string

	prg cel.Program
}

// Launch is one pre-approved launch command.
type Launch struct {
	Name        string
	Fingerprint string
}

// Policy is a parsed policy file. It is immutable and safe for concurrent use; a nil
// *Policy behaves as the empty default policy.
type Policy struct {
	file     string
	settings Settings
	trusted  map[string]bool
	rules    []Rule
	launches []Launch
}

// Default returns the empty policy: default settings, no rules, nothing trusted.
func Default() *Policy {
	return &Policy{file: "policy.toml", settings: DefaultSettings()}
}

// Load reads and parses the policy file at path. A missing file is the empty default
// policy, not an error.
func Load(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		p := Default()
		p.file = path
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	return Parse(path, data)
}

// file mirrors policy.toml for strict decoding.
type file struct {
	Settings *settingsFile         `toml:"settings"`
	Servers  map[string]serverFile `toml:"servers"`
	Rules    []ruleFile            `toml:"rules"`
	Launch   []launchFile          `toml:"launch"`
}

type settingsFile struct {
	ApprovalTimeout *string `toml:"approval_timeout"`
	CLIApprovals    *bool   `toml:"cli_approvals"`
	NoBroker        *string `toml:"no_broker"`
	Retention       *string `toml:"retention"`
}

type serverFile struct {
	Trust string `toml:"trust"`
}

type ruleFile struct {
	Server string `toml:"server"`
	Tool   string `toml:"tool"`
	When   string `toml:"when"`
	Action string `toml:"action"`
	Tier   *int   `toml:"tier"`
	Reason string `toml:"reason"`
}

type launchFile struct {
	Name        string `toml:"name"`
	Fingerprint string `toml:"fingerprint"`
}

// Parse parses policy data; name is used in error messages ("policy.toml:12: rule 3: …").
// Unknown keys are errors. All problems found are reported, joined, one per line.
func Parse(name string, data []byte) (*Policy, error) {
	var f file
	dec := toml.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, decodeError(name, data, err)
	}
	pos := positionsOf(data)
	var errs lineErrors
	fail := func(line int, format string, args ...any) {
		errs.add(name, line, fmt.Sprintf(format, args...))
	}

	p := &Policy{file: name, settings: DefaultSettings(), trusted: map[string]bool{}}
	if s := f.Settings; s != nil {
		if s.ApprovalTimeout != nil {
			d, err := time.ParseDuration(*s.ApprovalTimeout)
			if err != nil || d <= 0 {
				fail(pos.key("settings", "approval_timeout"), "settings: invalid approval_timeout %q (want a positive duration such as \"50s\")", *s.ApprovalTimeout)
			}
			p.settings.ApprovalTimeout = d
		}
		if s.CLIApprovals != nil {
			p.settings.CLIApprovals = *s.CLIApprovals
		}
		if s.Retention != nil {
			d, err := parseRetention(*s.Retention)
			if err != nil {
				fail(pos.key("settings", "retention"), "settings: invalid retention %q (want a duration such as \"90d\" or \"720h\", or \"forever\")", *s.Retention)
			}
			p.settings.Retention = d
		}
		if s.NoBroker != nil {
			switch nb := NoBroker(*s.NoBroker); nb {
			case NoBrokerElicit, NoBrokerDeny:
				p.settings.NoBroker = nb
			default:
				fail(pos.key("settings", "no_broker"), "settings: unknown no_broker %q (want elicit, deny)", *s.NoBroker)
			}
		}
	}
	for server, s := range f.Servers {
		switch s.Trust {
		case "trusted":
			p.trusted[server] = true
		case "", "untrusted":
		default:
			line := pos.key("servers."+server, "trust")
			fail(line, "server %q: unknown trust %q (want untrusted, trusted)", server, s.Trust)
		}
	}
	// Building a CEL environment costs milliseconds: only do it for files that use
	// conditions, so a proxy with a plain policy starts fast.
	var env *cel.Env
	for _, r := range f.Rules {
		if r.When != "" {
			var err error
			if env, err = celEnv(); err != nil {
				return nil, fmt.Errorf("policy: build CEL environment: %w", err)
			}
			break
		}
	}
	for i, r := range f.Rules {
		n := i + 1
		rp := pos.arrayEntry("rules", i)
		rule := Rule{Index: n, Line: rp.header, Server: orStar(r.Server), Tool: orStar(r.Tool),
			When: r.When, Action: Action(r.Action), Tier: r.Tier, Reason: r.Reason}
		switch rule.Action {
		case Allow, Ask, Deny:
		case "":
			if r.Tier == nil {
				fail(rp.header, "rule %d: needs an action or a tier", n)
			}
		default:
			fail(rp.line("action"), "rule %d: unknown action %q (want allow, ask, deny)", n, r.Action)
		}
		if r.Tier != nil && (*r.Tier < 0 || *r.Tier > 3) {
			fail(rp.line("tier"), "rule %d: tier %d out of range (want 0 to 3)", n, *r.Tier)
		}
		for _, g := range []struct{ key, pat string }{{"server", rule.Server}, {"tool", rule.Tool}} {
			if _, err := path.Match(g.pat, ""); err != nil {
				fail(rp.line(g.key), "rule %d: bad %s pattern %q: %v", n, g.key, g.pat, err)
			}
		}
		if r.When != "" {
			prg, err := compile(env, r.When)
			if err != nil {
				fail(rp.line("when"), "rule %d: when: %v", n, err)
			}
			rule.prg = prg
		}
		p.rules = append(p.rules, rule)
	}
	for i, l := range f.Launch {
		lp := pos.arrayEntry("launch", i)
		switch {
		case l.Name == "" || l.Fingerprint == "":
			fail(lp.header, "launch %d: needs a name and a fingerprint", i+1)
		case !strings.HasPrefix(l.Fingerprint, "sha256:") || len(l.Fingerprint) == len("sha256:"):
			fail(lp.line("fingerprint"), "launch %d: fingerprint %q must start with \"sha256:\"", i+1, l.Fingerprint)
		}
		p.launches = append(p.launches, Launch{Name: l.Name, Fingerprint: l.Fingerprint})
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return p, nil
}

// lineErrors collects "name:line: message" errors and reports them sorted by line.
type lineErrors []lineError

type lineError struct {
	line int
	err  error
}

func (le *lineErrors) add(name string, line int, msg string) {
	*le = append(*le, lineError{line, fmt.Errorf("%s: %s", where(name, line), msg)})
}

func (le lineErrors) err() error {
	if len(le) == 0 {
		return nil
	}
	sort.SliceStable(le, func(i, j int) bool { return le[i].line < le[j].line })
	errs := make([]error, len(le))
	for i, e := range le {
		errs[i] = e.err
	}
	return errors.Join(errs...)
}

func orStar(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

func where(name string, line int) string {
	if line <= 0 {
		return name
	}
	return fmt.Sprintf("%s:%d", name, line)
}

// decodeError turns go-toml errors into "name:line: message" lines.
func decodeError(name string, data []byte, err error) error {
	pos := positionsOf(data)
	var errs lineErrors
	var strict *toml.StrictMissingError
	var de *toml.DecodeError
	switch {
	case errors.As(err, &strict):
		for _, e := range strict.Errors {
			line, _ := e.Position()
			key := []string(e.Key())
			errs.add(name, line, fmt.Sprintf("%sunknown key %q", pos.context(key, line), key[len(key)-1]))
		}
	case errors.As(err, &de):
		line, _ := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		if m := typeMismatch.FindStringSubmatch(msg); m != nil {
			key := []string(de.Key())
			k := "value"
			if len(key) > 0 {
				k = key[len(key)-1]
			}
			msg = fmt.Sprintf("%s%s: want %s, got a TOML %s", pos.context(key, line), k, tomlTypeName(m[2]), m[1])
		}
		errs.add(name, line, msg)
	default:
		return fmt.Errorf("%s: %w", name, err)
	}
	return errs.err()
}

var typeMismatch = regexp.MustCompile(`^cannot decode TOML (\w+) into .* of type (\S+)$`)

func tomlTypeName(goType string) string {
	switch strings.TrimPrefix(goType, "*") {
	case "int":
		return "an integer"
	case "bool":
		return "a boolean"
	case "string":
		return "a string"
	}
	return "a table"
}

// parseRetention reads "90d", "720h", "forever" (0).
func parseRetention(s string) (time.Duration, error) {
	if s == "forever" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("bad day count")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("bad duration")
	}
	return d, nil
}

// TrustedServers lists the servers marked trusted, sorted.
func (p *Policy) TrustedServers() []string {
	if p == nil {
		return nil
	}
	var out []string
	for s, ok := range p.trusted {
		if ok {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// Launches lists the pre-approved launch commands.
func (p *Policy) Launches() []Launch {
	if p == nil {
		return nil
	}
	return append([]Launch(nil), p.launches...)
}

// Settings returns the settings, with defaults for what the file leaves out.
func (p *Policy) Settings() Settings {
	if p == nil {
		return DefaultSettings()
	}
	return p.settings
}

// Trusted reports whether the policy marks server as trusted.
func (p *Policy) Trusted(server string) bool {
	return p != nil && p.trusted[server]
}

// LaunchApproved reports whether a [[launch]] entry pre-approves name with exactly this
// fingerprint.
func (p *Policy) LaunchApproved(name, fingerprint string) bool {
	if p == nil {
		return false
	}
	for _, l := range p.launches {
		if l.Name == name && l.Fingerprint == fingerprint {
			return true
		}
	}
	return false
}

// Rules returns a copy of the rules in file order.
func (p *Policy) Rules() []Rule {
	if p == nil {
		return nil
	}
	return append([]Rule(nil), p.rules...)
}
