package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const example = `# Airlock policy
[settings]
approval_timeout = "30s"
cli_approvals = true
no_broker = "deny"

[servers.github]
trust = "trusted"

[servers.fs]
trust = "untrusted"

[[rules]]
server = "github"
tool = "delete_*"
when = 'args.branch == "main"'
action = "deny"
reason = "never delete main"

[[rules]]
tool = "read_*"
action = "allow"
tier = 0

[[launch]]
name = "fs"
fingerprint = "sha256:abc123"
`

func TestParseExample(t *testing.T) {
	p, err := Parse("policy.toml", []byte(example))
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{ApprovalTimeout: 30 * time.Second, CLIApprovals: true, NoBroker: NoBrokerDeny}
	if diff := cmp.Diff(want, p.Settings()); diff != "" {
		t.Errorf("Settings (-want +got):\n%s", diff)
	}
	if !p.Trusted("github") || p.Trusted("fs") || p.Trusted("other") {
		t.Errorf("Trusted: github %v fs %v other %v", p.Trusted("github"), p.Trusted("fs"), p.Trusted("other"))
	}
	if !p.LaunchApproved("fs", "sha256:abc123") || p.LaunchApproved("fs", "sha256:abc124") || p.LaunchApproved("gh", "sha256:abc123") {
		t.Errorf("LaunchApproved wrong")
	}
	rules := p.Rules()
	if len(rules) != 2 || rules[0].Line != 13 || rules[1].Line != 20 || rules[1].Server != "*" {
		t.Errorf("rules = %+v", rules)
	}
}

func TestDefaults(t *testing.T) {
	dir := t.TempDir()
	p, err := Load(filepath.Join(dir, "policy.toml"))
	if err != nil {
		t.Fatalf("Load missing file: %v", err)
	}
	want := Settings{ApprovalTimeout: 50 * time.Second, NoBroker: NoBrokerElicit}
	for _, p := range []*Policy{p, nil, Default()} {
		if diff := cmp.Diff(want, p.Settings()); diff != "" {
			t.Errorf("Settings (-want +got):\n%s", diff)
		}
		if v := p.Evaluate(Input{Server: "s", Tool: "delete_file", Tier: 3}); v.Action != "" || v.Tier != nil {
			t.Errorf("empty policy gave %+v", v)
		}
		if p.Hidden("s", "t") || p.Trusted("s") || p.LaunchApproved("a", "sha256:b") {
			t.Errorf("empty policy hides, trusts or approves")
		}
	}
	path := filepath.Join(dir, "real.toml")
	if err := os.WriteFile(path, []byte("[[rules]]\naction = \"nope\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || err.Error() != path+`:2: rule 1: unknown action "nope" (want allow, ask, deny)` {
		t.Errorf("Load error = %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"unknown action", "[[rules]]\ntool = \"a\"\naction = \"allow\"\n\n[[rules]]\naction = \"ask\"\n\n[[rules]]\n# c\ntool = \"x\"\naction = \"alow\"\n",
			`policy.toml:11: rule 3: unknown action "alow" (want allow, ask, deny)`},
		{"unknown rule key", "[[rules]]\ntool = \"a\"\naction = \"allow\"\n\n[[rules]]\nactoin = \"deny\"\n",
			`policy.toml:6: rule 2: unknown key "actoin"`},
		{"unknown top key", "approval_timeout = \"5s\"\n", `policy.toml:1: unknown key "approval_timeout"`},
		{"unknown settings key", "[settings]\ntimeout = \"5s\"\n", `policy.toml:2: settings: unknown key "timeout"`},
		{"unknown server key", "[servers.gh]\ntrusted = true\n", `policy.toml:2: server "gh": unknown key "trusted"`},
		{"wrong type", "[[rules]]\naction = \"deny\"\ntier = \"3\"\n", `policy.toml:3: rule 1: tier: want an integer, got a TOML string`},
		{"syntax", "[settings\n", `policy.toml:1: expected ']' to close table name`},
		{"no action or tier", "[[rules]]\ntool = \"x\"\n", `policy.toml:1: rule 1: needs an action or a tier`},
		{"tier range", "[[rules]]\ntier = 4\n", `policy.toml:2: rule 1: tier 4 out of range (want 0 to 3)`},
		{"bad glob", "[[rules]]\ntool = \"[x\"\naction = \"deny\"\n", `policy.toml:2: rule 1: bad tool pattern "[x": syntax error in pattern`},
		{"cel syntax", "[[rules]]\naction = \"deny\"\nwhen = 'args.x ==== 1'\n",
			`policy.toml:3: rule 1: when: Syntax error: extraneous input '==' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER} (column 10)`},
		{"cel undeclared", "[[rules]]\naction = \"deny\"\nwhen = 'argz.x == 1'\n",
			`policy.toml:3: rule 1: when: undeclared reference to 'argz' (did you mean 'args'?) (column 1)`},
		{"cel not bool", "[[rules]]\naction = \"deny\"\nwhen = 'tier + 1'\n", `policy.toml:3: rule 1: when: must be a boolean expression, got int`},
		{"timeout", "[settings]\napproval_timeout = \"soon\"\n", `policy.toml:2: settings: invalid approval_timeout "soon" (want a positive duration such as "50s")`},
		{"no_broker", "[settings]\nno_broker = \"wait\"\n", `policy.toml:2: settings: unknown no_broker "wait" (want elicit, deny)`},
		{"trust", "\n[servers.gh]\ntrust = \"maybe\"\n", `policy.toml:3: server "gh": unknown trust "maybe" (want untrusted, trusted)`},
		{"launch missing", "[[launch]]\nname = \"fs\"\n", `policy.toml:1: launch 1: needs a name and a fingerprint`},
		{"launch fingerprint", "[[launch]]\nname = \"fs\"\nfingerprint = \"md5:x\"\n", `policy.toml:3: launch 1: fingerprint "md5:x" must start with "sha256:"`},
		{"several, by line", "[settings]\nno_broker = \"x\"\n[[rules]]\naction = \"no\"\n",
			"policy.toml:2: settings: unknown no_broker \"x\" (want elicit, deny)\npolicy.toml:4: rule 1: unknown action \"no\" (want allow, ask, deny)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse("policy.toml", []byte(tc.src))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", p)
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func ip(i int) *int { return &i }

func TestEvaluate(t *testing.T) {
	const rules = `
[[rules]]
server = "github"
tool = "delete_*"
when = 'args.branch == "main"'
action = "deny"
reason = "never delete main"

[[rules]]
server = "github"
tool = "*"
action = "allow"

[[rules]]
server = "shop"
tool = "buy"
when = 'args.amount > 100'
action = "ask"
tier = 3
reason = "big purchase"

[[rules]]
server = "shop"
tool = "buy"
tier = 2

[[rules]]
server = "fs"
tool = "read_?"
action = "allow"
tier = 0

[[rules]]
server = "fs"
tool = "*"
when = 'tier >= 2 && tool.startsWith("write")'
action = "ask"

[[rules]]
server = "cel"
tool = "missing"
when = 'args.nope == 1'
action = "allow"

[[rules]]
server = "cel"
tool = "costly"
when = 'args.xs.all(x, args.xs.all(y, args.xs.all(z, x + y + z >= 0)))'
action = "allow"

[[rules]]
server = "cel"
tool = "*"
action = "allow"
`
	p, err := Parse("policy.toml", []byte(rules))
	if err != nil {
		t.Fatal(err)
	}
	xs := make([]int, 200)
	costly, _ := json.Marshal(map[string]any{"xs": xs})
	tests := []struct {
		name   string
		in     Input
		action Action
		tier   *int
		rule   int
		reason string
	}{
		{"deny wins over allow", Input{Server: "github", Tool: "delete_branch", Args: json.RawMessage(`{"branch":"main"}`), Tier: 3}, Deny, nil, 1, "rule 1 (policy.toml:2): deny: never delete main"},
		{"condition false", Input{Server: "github", Tool: "delete_branch", Args: json.RawMessage(`{"branch":"dev"}`), Tier: 3}, Allow, nil, 2, "rule 2 (policy.toml:9): allow"},
		{"no args", Input{Server: "github", Tool: "list_issues"}, Allow, nil, 2, ""},
		{"server glob is exact", Input{Server: "github2", Tool: "list_issues"}, "", nil, 0, ""},
		{"glob is case-sensitive", Input{Server: "GitHub", Tool: "delete_branch", Args: json.RawMessage(`{"branch":"main"}`)}, "", nil, 0, ""},
		{"tier: highest wins", Input{Server: "shop", Tool: "buy", Args: json.RawMessage(`{"amount":250.5}`), Tier: 3}, Ask, ip(3), 3, "big purchase"},
		{"tier lowered", Input{Server: "shop", Tool: "buy", Args: json.RawMessage(`{"amount":5}`), Tier: 3}, "", ip(2), 0, "rule 4 (policy.toml:22): tier 2"},
		{"question mark glob", Input{Server: "fs", Tool: "read_x", Tier: 1}, Allow, ip(0), 5, ""},
		{"question mark is one char", Input{Server: "fs", Tool: "read_xy", Tier: 1}, "", nil, 0, ""},
		{"cel on tier and tool", Input{Server: "fs", Tool: "write_file", Tier: 3}, Ask, nil, 6, ""},
		{"cel error asks", Input{Server: "cel", Tool: "missing", Args: json.RawMessage(`{}`)}, Ask, nil, 7, "condition could not be evaluated (no such key: nope)"},
		{"cel cost limit asks", Input{Server: "cel", Tool: "costly", Args: costly}, Ask, nil, 8, "cost limit"},
		{"invalid args are an empty map", Input{Server: "cel", Tool: "missing", Args: json.RawMessage(`[`)}, Ask, nil, 7, ""},
		{"hidden char never allowed", Input{Server: "github", Tool: "list\u200b_issues"}, "", nil, 0, ""},
		{"hidden char still denied", Input{Server: "github", Tool: "delete\u200b_branch", Args: json.RawMessage(`{"branch":"main"}`)}, Deny, nil, 1, ""},
		{"bidi never allowed", Input{Server: "fs", Tool: "read_x\u202e", Tier: 1}, "", nil, 0, ""},
		{"hidden char no lowering", Input{Server: "shop", Tool: "b\u200buy", Args: json.RawMessage(`{"amount":5}`), Tier: 3}, "", nil, 0, ""},
		{"hidden char raising applies", Input{Server: "shop", Tool: "b\u200buy", Args: json.RawMessage(`{"amount":500}`), Tier: 1}, Ask, ip(3), 3, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := p.Evaluate(tc.in)
			if v.Action != tc.action || v.Rule != tc.rule || !cmp.Equal(v.Tier, tc.tier) {
				t.Errorf("Evaluate = action %q rule %d tier %v, want %q %d %v; reasons %q", v.Action, v.Rule, deref(v.Tier), tc.action, tc.rule, deref(tc.tier), v.Reasons)
			}
			if tc.reason != "" && !strings.Contains(strings.Join(v.Reasons, "\n"), tc.reason) {
				t.Errorf("reasons %q lack %q", v.Reasons, tc.reason)
			}
		})
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestEvaluateExact(t *testing.T) {
	p, err := Parse("policy.toml", []byte(example))
	if err != nil {
		t.Fatal(err)
	}
	got := p.Evaluate(Input{Server: "fs", Tool: "read_file", Tier: 1})
	want := Verdict{Action: Allow, Tier: ip(0), Rule: 2, Reasons: []string{"rule 2 (policy.toml:20): allow, tier 0"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Evaluate (-want +got):\n%s", diff)
	}
}

func TestHidden(t *testing.T) {
	p, err := Parse("policy.toml", []byte(`
[[rules]]
server = "gh"
tool = "delete_*"
action = "deny"

[[rules]]
server = "gh"
tool = "merge_*"
when = 'args.base == "main"'
action = "deny"

[[rules]]
tool = "exec"
action = "ask"
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		server, tool string
		want         bool
	}{
		{"gh", "delete_repo", true},
		{"gh", "delete\u200b_repo", true},
		{"gh", "merge_pull_request", false}, // conditional
		{"gh", "exec", false},               // ask, not deny
		{"other", "delete_repo", false},
		{"gh", "list_repos", false},
	}
	for _, tc := range tests {
		if got := p.Hidden(tc.server, tc.tool); got != tc.want {
			t.Errorf("Hidden(%q, %q) = %v, want %v", tc.server, tc.tool, got, tc.want)
		}
	}
}
