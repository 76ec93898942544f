package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/ext"
)

// costLimit bounds the work of one `when` evaluation.
const costLimit = 100_000

func celEnv() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("args", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("server", cel.StringType),
		cel.Variable("tool", cel.StringType),
		cel.Variable("tier", cel.IntType),
		cel.CrossTypeNumericComparisons(true),
		ext.Strings(),
	)
}

// compile checks that src is a boolean CEL expression and plans it with a cost limit.
func compile(env *cel.Env, src string) (cel.Program, error) {
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		var msgs []string
		for _, e := range iss.Errors() {
			msgs = append(msgs, fmt.Sprintf("%s (column %d)", e.Message, e.Location.Column()+1))
		}
		return nil, fmt.Errorf("%s", strings.Join(msgs, "; "))
	}
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) && !t.IsExactType(cel.DynType) {
		return nil, fmt.Errorf("must be a boolean expression, got %s", t)
	}
	prg, err := env.Program(ast, cel.CostLimit(costLimit))
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	return prg, nil
}

// Input is the call a policy is asked about.
type Input struct {
	Server string
	Tool   string
	Args   json.RawMessage // the params.arguments object
	Tier   int             // the tier the classifier assigned
}

// Verdict is what the policy says about one call.
type Verdict struct {
	// Action is allow, ask or deny, or empty when no rule with an action matched.
	Action Action
	// Tier is the tier set by matching rules (the highest, if several), or nil.
	Tier *int
	// Reasons has one sentence per matching rule, and one per condition that failed.
	Reasons []string
	// Rule is the 1-based index of the first rule with the winning action, or 0.
	Rule int
}

// Evaluate applies every matching rule to in. Deny wins over ask over allow; a `when`
// that cannot be evaluated counts as ask. A tool name with hidden characters never
// matches an allow rule or a rule that lowers the tier, while deny, ask and raising rules
// also match the name with those characters removed.
func (p *Policy) Evaluate(in Input) Verdict {
	var v Verdict
	if p == nil {
		return v
	}
	clean, hidden := stripHidden(in.Tool)
	var vars map[string]any
	decide := func(a Action, rule int) {
		if a.strength() > v.Action.strength() {
			v.Action, v.Rule = a, rule
		}
	}
	for i := range p.rules {
		r := &p.rules[i]
		lowers := r.Action == Allow || (r.Tier != nil && *r.Tier < in.Tier)
		if hidden && lowers {
			continue
		}
		if !r.matches(in.Server, in.Tool) && !(hidden && r.matches(in.Server, clean)) {
			continue
		}
		if r.prg != nil {
			if vars == nil {
				vars = map[string]any{"args": argsMap(in.Args), "server": in.Server, "tool": in.Tool, "tier": int64(in.Tier)}
			}
			ok, err := eval(r.prg, vars)
			if err != nil {
				v.Reasons = append(v.Reasons, fmt.Sprintf("%s: condition could not be evaluated (%v), so the call is asked about", p.ruleName(r), err))
				decide(Ask, r.Index)
				continue
			}
			if !ok {
				continue
			}
		}
		if r.Tier != nil && (v.Tier == nil || *r.Tier > *v.Tier) {
			t := *r.Tier
			v.Tier = &t
		}
		decide(r.Action, r.Index)
		v.Reasons = append(v.Reasons, p.ruleName(r)+": "+r.describe())
	}
	return v
}

// Hidden reports whether an unconditional deny rule matches the tool, so that it should
// be left out of tools/list.
func (p *Policy) Hidden(server, tool string) bool {
	if p == nil {
		return false
	}
	clean, _ := stripHidden(tool)
	for i := range p.rules {
		r := &p.rules[i]
		if r.Action == Deny && r.When == "" && (r.matches(server, tool) || r.matches(server, clean)) {
			return true
		}
	}
	return false
}

func (r *Rule) matches(server, tool string) bool {
	s, _ := path.Match(r.Server, server)
	t, _ := path.Match(r.Tool, tool)
	return s && t
}

func (p *Policy) ruleName(r *Rule) string {
	return fmt.Sprintf("rule %d (%s)", r.Index, where(p.file, r.Line))
}

func (r *Rule) describe() string {
	var parts []string
	if r.Action != "" {
		parts = append(parts, string(r.Action))
	}
	if r.Tier != nil {
		parts = append(parts, fmt.Sprintf("tier %d", *r.Tier))
	}
	s := strings.Join(parts, ", ")
	if r.Reason != "" {
		s += ": " + r.Reason
	}
	return s
}

func eval(prg cel.Program, vars map[string]any) (bool, error) {
	out, _, err := prg.Eval(vars)
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("condition gave %v, not a boolean", out.Value())
	}
	return b, nil
}

// argsMap decodes the arguments for CEL; anything but a JSON object becomes an empty map.
func argsMap(raw json.RawMessage) map[string]any {
	m := map[string]any{}
	if len(bytes.TrimSpace(raw)) == 0 || json.Unmarshal(raw, &m) != nil || m == nil {
		return map[string]any{}
	}
	return m
}

// stripHidden removes invisible and bidi control characters and reports whether any were
// present. It mirrors consent/risk, which this package does not import.
// StripHidden removes invisible and control characters (format characters, variation
// selectors, fillers) from s and reports whether there were any. Airlock compares tool
// names after this, so a hidden character cannot steer a name past a rule.
func StripHidden(s string) (string, bool) { return stripHidden(s) }

func stripHidden(s string) (string, bool) {
	hidden := func(r rune) bool {
		return r == utf8.RuneError || unicode.Is(unicode.Cf, r) || unicode.IsControl(r) ||
			(r >= 0xFE00 && r <= 0xFE0F) || (r >= 0xE0100 && r <= 0xE01EF) ||
			r == 0x034F || r == 0x115F || r == 0x1160 || r == 0x3164 || r == 0xFFA0 || r == 0x180E
	}
	if strings.IndexFunc(s, hidden) < 0 {
		return s, false
	}
	return strings.Map(func(r rune) rune {
		if hidden(r) {
			return -1
		}
		return r
	}, s), true
}
