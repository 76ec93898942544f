// Package risk assigns an MCP tools/call a risk tier from the tool's name, description,
// annotations and arguments, and explains each step in sentences a person can read.
package risk

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
)

// Tier is the risk of one tool call. Higher is riskier; tiers compare with < and >.
type Tier int

// The four tiers. Tier 3 calls wait for a person.
const (
	SafeRead      Tier = 0 // reads nothing sensitive
	SensitiveRead Tier = 1 // reads secrets, messages or other private data
	Write         Tier = 2 // changes state, or its effect is unknown
	Destructive   Tier = 3 // destroys data, runs code, moves money or changes security
)

// String returns the tier as "tier N (label)".
func (t Tier) String() string {
	switch t {
	case SafeRead:
		return "tier 0 (safe read)"
	case SensitiveRead:
		return "tier 1 (sensitive read)"
	case Write:
		return "tier 2 (write)"
	case Destructive:
		return "tier 3 (destructive)"
	}
	return fmt.Sprintf("tier %d", int(t))
}

// Reason sources, the values of Reason.Source.
const (
	SourceName        = "name"
	SourceDescription = "description"
	SourceAnnotation  = "annotation"
	SourceArgument    = "argument"
	SourcePolicy      = "policy" // added by callers that apply a policy; Classify never emits it
)

// Call is what Classify looks at: one tools/call plus what tools/list said about the tool.
type Call struct {
	Server      string
	Tool        string
	Description string
	// Annotations is nil when the tool declared none.
	Annotations *Annotations
	// Args is the raw params.arguments object; nil or "null" means no arguments.
	Args json.RawMessage
	// ServerTrusted reports whether the user marked the server trusted, which lets its
	// readOnlyHint lower name-based guesses.
	ServerTrusted bool
}

// Annotations are the MCP tool annotation hints; a nil field means the tool did not send
// it. Per the MCP spec an absent destructiveHint or openWorldHint means true and an absent
// readOnlyHint means false; Classify only acts on hints that were actually sent.
type Annotations struct {
	ReadOnlyHint    *bool `json:"readOnlyHint,omitempty"`
	DestructiveHint *bool `json:"destructiveHint,omitempty"`
	IdempotentHint  *bool `json:"idempotentHint,omitempty"`
	OpenWorldHint   *bool `json:"openWorldHint,omitempty"`
}

// Reason is one observation that contributed to an Assessment.
type Reason struct {
	Source string `json:"source"` // one of the Source constants
	Tier   Tier   `json:"tier"`
	Text   string `json:"text"` // a sentence a person reads
}

// Assessment is the outcome of Classify. Tier is the maximum of the reasons' tiers;
// Reasons is never empty.
type Assessment struct {
	Tier    Tier     `json:"tier"`
	Reasons []Reason `json:"reasons"`
	// Danger marks a call whose arguments are dangerous in themselves, whatever tool
	// carries them: a shell or SQL command that destroys, escalates or runs downloaded
	// code, a credential file for a tool that may change it, or arguments Airlock could
	// not assess. A permission a person gave for the tool ("allow for this session",
	// "always") was given for what they saw, so it does not cover such a call.
	Danger bool `json:"danger,omitempty"`
}

// faultHook, set only by tests, runs at the start of every Classify.
var faultHook func(Call)

// Classify assigns c a tier. It never fails: unreadable arguments or unknown tools get
// tier 2 at least, and the work it does is bounded whatever the size of c.Args (it scans
// at most 20000 JSON tokens and 1088 KiB of text, and past that the call is tier 3 with a
// reason saying what was not read).
//
// Argument findings depend on what the name says the tool does: a sensitive path is
// tier 1 for a read and 3 for anything else, an amount of money 2 for a read and 3
// otherwise, and a recipient 2, or 3 when the name sends. Shell and SQL danger is 3
// whatever the name. A fault inside it makes the call tier 3 with a reason that says so.
// It is safe for concurrent use.
func Classify(c Call) (a Assessment) {
	defer func() {
		// A fault in the reading must not take the proxy down, nor let the call through:
		// it goes to a person, who is told why.
		if r := recover(); r != nil {
			a = Assessment{Tier: Destructive, Danger: true, Reasons: []Reason{{SourceArgument, Destructive,
				fmt.Sprintf("Airlock could not assess this call (internal error: %v), so a person decides", r)}}}
		}
	}()
	if faultHook != nil {
		faultHook(c)
	}
	t := toolAnalysis(c)
	rs := append([]Reason(nil), t.reasons...)
	args, danger := argumentReasons(c.Args, t.name)
	rs = append(rs, args...)
	a = Assessment{Reasons: rs, Danger: danger}
	for _, r := range rs {
		a.Tier = max(a.Tier, r.Tier)
	}
	return a
}

// applyAnnotations adds annotation reasons. Hints from an untrusted server only raise;
// a trusted server's readOnlyHint lowers the name and description guesses about effects
// (not sensitivity, hidden characters or arguments).
func applyAnnotations(rs []Reason, c Call, n *nameInfo) []Reason {
	a := c.Annotations
	if a == nil {
		return rs
	}
	ro := a.ReadOnlyHint != nil && *a.ReadOnlyHint
	notRO := a.ReadOnlyHint != nil && !*a.ReadOnlyHint
	destr := a.DestructiveHint != nil && *a.DestructiveHint
	notDestr := a.DestructiveHint != nil && !*a.DestructiveHint

	switch {
	case destr && ro:
		rs = append(rs, Reason{SourceAnnotation, Destructive,
			"the server marks the tool both read-only and destructive; treated as destructive"})
	case destr:
		rs = append(rs, Reason{SourceAnnotation, Destructive, "the server marks the tool destructive"})
	case notRO && a.DestructiveHint == nil && n.effect >= Write:
		rs = append(rs, Reason{SourceAnnotation, Write, "the server marks the tool as not read-only"})
	}

	switch {
	case ro && !destr && c.ServerTrusted:
		n.effect, n.readish = SafeRead, true // arguments are judged as for a read
		for i := range rs {
			r := &rs[i]
			if (r.Source == SourceName || r.Source == SourceDescription) && r.Tier >= Write {
				r.Tier = SafeRead
				r.Text += " (lowered: a trusted server marks the tool read-only)"
			}
		}
		rs = append(rs, Reason{SourceAnnotation, SafeRead, "the trusted server marks the tool read-only"})
	case ro && !destr && n.effect >= Write:
		rs = append(rs, Reason{SourceAnnotation, SafeRead,
			"the server claims the tool is read-only, but the server is not trusted, so the claim is ignored"})
	case notRO && notDestr && c.ServerTrusted:
		for i := range rs {
			r := &rs[i]
			if (r.Source == SourceName || r.Source == SourceDescription) && r.Tier == Destructive {
				r.Tier = Write
				r.Text += " (lowered: a trusted server marks the tool not destructive)"
			}
		}
	}
	return rs
}

// toolPart is what Classify finds from the tool alone (name, description, annotations),
// the same for every call of the tool, so it is worked out once per tool.
type toolPart struct {
	reasons []Reason // never modified once cached
	name    nameInfo
}

type toolKey struct {
	tool, description string
	hints             [4]int8 // ReadOnly, Destructive, Idempotent, OpenWorld: 0 unset, 1 false, 2 true
	trusted           bool
}

func hint(b *bool) int8 {
	switch {
	case b == nil:
		return 0
	case *b:
		return 2
	}
	return 1
}

var (
	toolMu    sync.Mutex
	toolCache = map[toolKey]toolPart{}
)

// toolCacheMax bounds the cache; past it the cache starts again.
const toolCacheMax = 4096

func toolAnalysis(c Call) toolPart {
	k := toolKey{tool: c.Tool, description: c.Description, trusted: c.ServerTrusted}
	if a := c.Annotations; a != nil {
		k.hints = [4]int8{hint(a.ReadOnlyHint), hint(a.DestructiveHint), hint(a.IdempotentHint), hint(a.OpenWorldHint)}
	} else {
		k.hints = [4]int8{-1, -1, -1, -1} // no annotations at all, unlike all unset
	}
	toolMu.Lock()
	t, ok := toolCache[k]
	toolMu.Unlock()
	if ok {
		return t
	}
	var rs []Reason
	n := analyzeName(c.Tool)
	rs = append(rs, n.reasons...)
	rs = append(rs, descriptionReasons(c.Description, n)...)
	rs = applyAnnotations(rs, c, &n)
	rs = append(rs, n.hidden...)
	t = toolPart{reasons: slices.Clip(rs), name: n}
	toolMu.Lock()
	if len(toolCache) >= toolCacheMax {
		clear(toolCache)
	}
	toolCache[k] = t
	toolMu.Unlock()
	return t
}
