package desktop

import (
	"errors"
	"fmt"
	"github.com/airlock-mcp/airlock/store/atomicfile"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/airlock-mcp/airlock/consent/policy"
)

// PolicyFile is the policy's path and text.
type PolicyFile struct {
	Path string `json:"path"`
	Text string `json:"text"`
}

// Problem is one thing wrong with a policy text; Line is 0 when it is not tied to one.
type Problem struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// PolicyText returns policy.toml ("" when it does not exist yet).
func (a *App) PolicyText() (PolicyFile, error) {
	text, err := a.readPolicy()
	return PolicyFile{Path: a.paths.policy, Text: text}, err
}

func (a *App) readPolicy() (string, error) {
	b, err := os.ReadFile(a.paths.policy)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read policy: %w", err)
	}
	return string(b), nil
}

// CheckPolicy reports what is wrong with text as a policy; none means it is valid.
func (a *App) CheckPolicy(text string) []Problem {
	_, probs := parsePolicy(text)
	return probs
}

// SavePolicy writes text to policy.toml if it is a valid policy; otherwise it writes
// nothing and returns the problems.
func (a *App) SavePolicy(text string) ([]Problem, error) {
	if _, probs := parsePolicy(text); len(probs) > 0 {
		return probs, nil
	}
	a.fileMu.Lock()
	defer a.fileMu.Unlock()
	return []Problem{}, writeFileAtomic(a.paths.policy, []byte(text))
}

const policyName = "policy.toml"

// parsePolicy parses text, turning the parser's "policy.toml:LINE: message" lines into
// Problems.
func parsePolicy(text string) (*policy.Policy, []Problem) {
	pol, err := policy.Parse(policyName, []byte(text))
	if err == nil {
		return pol, []Problem{}
	}
	var out []Problem
	for _, ln := range strings.Split(err.Error(), "\n") {
		if ln = strings.TrimSpace(ln); ln == "" {
			continue
		}
		p := Problem{Message: ln}
		if rest, ok := strings.CutPrefix(ln, policyName+":"); ok {
			p.Message = strings.TrimSpace(rest)
			if num, msg, ok := strings.Cut(rest, ":"); ok {
				if n, err := strconv.Atoi(num); err == nil {
					p.Line, p.Message = n, strings.TrimSpace(msg)
				}
			}
		}
		out = append(out, p)
	}
	return nil, out
}

// editPolicy applies edit to the policy text, checks that the result parses and that
// check accepts it, and writes it atomically.
func (a *App) editPolicy(edit func(string) string, check func(*policy.Policy) bool) error {
	a.fileMu.Lock()
	defer a.fileMu.Unlock()
	old, err := a.readPolicy()
	if err != nil {
		return err
	}
	if _, probs := parsePolicy(old); len(probs) > 0 {
		return fmt.Errorf("policy.toml has problems (line %d: %s); fix them in the Policy tab first", probs[0].Line, probs[0].Message)
	}
	text := edit(old)
	pol, probs := parsePolicy(text)
	if len(probs) > 0 || !check(pol) {
		return errors.New("could not make this change in policy.toml without disturbing it; edit it in the Policy tab")
	}
	return writeFileAtomic(a.paths.policy, []byte(text))
}

// SetTrust marks server trusted (its tool annotations may lower tiers) or untrusted, in
// policy.toml's [servers.NAME] table.
func (a *App) SetTrust(name string, trusted bool) error {
	if name == "" {
		return errors.New("set trust: no server name")
	}
	v := `"untrusted"`
	if trusted {
		v = `"trusted"`
	}
	return a.editPolicy(
		func(t string) string { return setKey(t, []string{"servers", name}, "trust", v) },
		func(p *policy.Policy) bool { return p.Trusted(name) == trusted })
}

// Settings are the [settings] of policy.toml as the window edits them.
type Settings struct {
	ApprovalTimeoutSeconds int    `json:"approvalTimeoutSeconds"`
	CLIApprovals           bool   `json:"cliApprovals"`
	NoBroker               string `json:"noBroker"`      // "elicit" or "deny"
	RetentionDays          int    `json:"retentionDays"` // 0 keeps decisions forever
}

// Settings returns the settings in effect in policy.toml (defaults where it is silent).
func (a *App) Settings() (Settings, error) {
	pol, err := policy.Load(a.paths.policy)
	if err != nil {
		return Settings{}, err
	}
	st := pol.Settings()
	days := int((st.Retention + 12*time.Hour) / (24 * time.Hour))
	if st.Retention > 0 && days == 0 {
		days = 1
	}
	return Settings{
		ApprovalTimeoutSeconds: int(st.ApprovalTimeout.Round(time.Second) / time.Second),
		CLIApprovals:           st.CLIApprovals,
		NoBroker:               string(st.NoBroker),
		RetentionDays:          days,
	}, nil
}

// SaveSettings writes s into policy.toml's [settings], keeping the rest of the file as it
// is. A running broker (embedded or airlock daemon) and running proxies pick the change
// up within about a second (broker.FollowPolicy, policy.Live).
func (a *App) SaveSettings(s Settings) error {
	if s.ApprovalTimeoutSeconds < 1 || s.ApprovalTimeoutSeconds > 24*3600 {
		return fmt.Errorf("the approval timeout must be between 1 second and a day, not %d seconds", s.ApprovalTimeoutSeconds)
	}
	if s.NoBroker != string(policy.NoBrokerElicit) && s.NoBroker != string(policy.NoBrokerDeny) {
		return fmt.Errorf("unknown noBroker %q (want elicit or deny)", s.NoBroker)
	}
	if s.RetentionDays < 0 {
		return fmt.Errorf("retention must be 0 (forever) or a number of days, not %d", s.RetentionDays)
	}
	retention := "forever"
	if s.RetentionDays > 0 {
		retention = fmt.Sprintf("%dd", s.RetentionDays)
	}
	sec := []string{"settings"}
	return a.editPolicy(func(t string) string {
		t = setKey(t, sec, "approval_timeout", tomlString(fmt.Sprintf("%ds", s.ApprovalTimeoutSeconds)))
		t = setKey(t, sec, "cli_approvals", strconv.FormatBool(s.CLIApprovals))
		t = setKey(t, sec, "no_broker", tomlString(s.NoBroker))
		return setKey(t, sec, "retention", tomlString(retention))
	}, func(p *policy.Policy) bool {
		st := p.Settings()
		return st.ApprovalTimeout == time.Duration(s.ApprovalTimeoutSeconds)*time.Second &&
			st.CLIApprovals == s.CLIApprovals && string(st.NoBroker) == s.NoBroker &&
			st.Retention == time.Duration(s.RetentionDays)*24*time.Hour
	})
}

// writeFileAtomic replaces path with data (mode 0600) so readers never see half a file.
func writeFileAtomic(path string, data []byte) error { return atomicfile.Write(path, data) }
