// Package guard puts consent on the relay's path: it tiers every tool call, applies the
// policy, asks a person through the broker when needed, and records each decision.
package guard

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/consent/client"
	"github.com/airlock-mcp/airlock/consent/policy"
	"github.com/airlock-mcp/airlock/consent/risk"
	"github.com/airlock-mcp/airlock/consent/toolpins"
	"github.com/airlock-mcp/airlock/proxy"
	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
	"github.com/airlock-mcp/airlock/store"
)

// Asker asks a person. *client.Client (a broker in another process) and *broker.Broker
// (in this process) implement it.
type Asker interface {
	Ask(ctx context.Context, req apitype.AskRequest) (apitype.Decision, error)
}

// Recorder writes decisions. *store.Log implements it.
type Recorder interface {
	Append(ctx context.Context, d *store.Decision) (int64, error)
}

// Guard is the consent layer of one relay session. Create one per session.
type Guard struct {
	Server string
	Policy *policy.Policy
	// Live, when set, supplies the policy in force instead of Policy, so that edits to
	// policy.toml apply to running sessions.
	Live *policy.Live
	// Asker reaches the broker; nil means there is none.
	Asker Asker
	// Log records decisions the guard makes itself (policy, fallback). The broker
	// records the ones a person or a grant makes.
	Log Recorder
	// Redact prepares arguments for display and the log; nil means no redaction.
	Redact func(json.RawMessage) json.RawMessage
	// RedactText redacts free text (an elicitation's URL).
	RedactText func(string) string
	// Pins keeps tool definitions across sessions (consent/toolpins): a tool first seen is
	// pinned, and one that a later session lists differently is shown to a person as
	// changed. Nil compares within the session only.
	Pins DefinitionPins
	// KnownSecret reports whether arguments hold one of the secrets Airlock keeps in the
	// keyring (see store.Redactor.HasKnown); such a call always goes to a person. Nil
	// checks nothing.
	KnownSecret func([]byte) bool
	// KeepWhole moves a cut in text that is to be redacted to the left of any known
	// secret value the cut would split (see store.Redactor.KeepWhole); nil leaves cuts
	// where they are.
	KeepWhole func(text string, cut int) int
	// Protect names Airlock's own files and the IDEs' MCP settings: a call whose
	// arguments name one always asks a person (see Protection). Nil protects nothing.
	Protect *Protection
	// URLElicitation says where URL-mode elicitations are shown: "airlock" (the
	// default: Airlock shows the URL and opens the browser on the user's click) or "ide"
	// (passed through to IDEs that declare URL elicitation).
	URLElicitation string
	// OpenURL opens a URL in the browser; nil means the system opener.
	OpenURL func(ctx context.Context, rawURL string) error
	// Logf reports problems (a decision that could not be recorded); nil discards.
	Logf func(format string, args ...any)
	// KeepAlive is how often a waiting call sends progress, when the request carried a
	// progress token (10 s when 0).
	KeepAlive time.Duration

	session string
	once    sync.Once
	pending sync.WaitGroup
	later   laterQueue

	mu       sync.Mutex
	tools    map[string]toolInfo
	approved map[string]time.Time // tool + args hash → until when a person's allow covers retries
	// defs is each tool's definition as first listed in this session (or as last accepted
	// by a person); changed says, for a tool listed since with another definition, what
	// changed. See observeList.
	defs    map[string]toolDef
	latest  map[string]toolDef // as last listed
	changed map[string]string
}

// DefinitionPins is where tool definitions are pinned across sessions.
type DefinitionPins interface {
	Server(server string) (map[string]toolpins.Def, error)
	Pin(server string, defs map[string]toolpins.Def) error
}

// toolDef is what a person relies on when they allow a tool: its description, input
// schema and annotations, compared by hash.
type toolDef struct {
	hash        string
	description string
}

// retryWindow is how long a person's allow covers the 2026-07-28 retries of the same
// call (the server asked for input and the client calls again with the answer).
const retryWindow = 2 * time.Minute

type toolInfo struct {
	description string
	annotations *risk.Annotations
}

func (g *Guard) init() {
	g.once.Do(func() {
		var b [8]byte
		rand.Read(b[:])
		g.session = hex.EncodeToString(b[:])
		if g.KeepAlive <= 0 {
			g.KeepAlive = 10 * time.Second
		}
		g.tools = make(map[string]toolInfo)
		g.approved = make(map[string]time.Time)
		g.defs = make(map[string]toolDef)
		g.latest = make(map[string]toolDef)
		g.changed = make(map[string]string)
	})
}

// Session is the id that scopes "allow for this session" grants.
func (g *Guard) Session() string { g.init(); return g.session }

// Middleware returns the interceptors: tools/list (hide what policy denies, learn tool
// descriptions and annotations) and tools/call (the gate).
func (g *Guard) Middleware() []proxy.Middleware {
	g.init()
	return []proxy.Middleware{proxy.ToolsList(g.observeList), proxy.ToolCalls(gate{g}), g.ElicitationMiddleware()}
}

// observeList learns each tool of a tools/list page and removes the ones an
// unconditional deny rule hides. It returns nil when the page needs no change.
func (g *Guard) observeList(s *proxy.Session, resp *jsonrpc.Message) json.RawMessage {
	var result map[string]json.RawMessage
	if json.Unmarshal(resp.Result, &result) != nil {
		return nil
	}
	var tools []json.RawMessage
	if json.Unmarshal(result["tools"], &tools) != nil {
		return nil
	}
	firstPage := jsonrpc.Member(resp.Request.Params, "cursor") == nil
	kept := tools[:0:0]
	var pinned map[string]toolpins.Def
	if g.Pins != nil {
		var err error
		if pinned, err = g.Pins.Server(g.Server); err != nil && g.Logf != nil {
			g.Logf("airlock: %v; tool definitions are compared within this session only", err)
		}
	}
	toPin := map[string]toolpins.Def{}
	defer func() {
		if len(toPin) > 0 && g.Pins != nil {
			if err := g.Pins.Pin(g.Server, toPin); err != nil && g.Logf != nil {
				g.Logf("airlock: could not pin the tool definitions of server %q: %v", g.Server, err)
			}
		}
	}()
	g.mu.Lock()
	if firstPage {
		// A fresh listing (after list_changed, say) replaces what we knew.
		g.tools = make(map[string]toolInfo)
	}
	for _, raw := range tools {
		var t struct {
			Name        string            `json:"name"`
			Description string            `json:"description"`
			Annotations *risk.Annotations `json:"annotations"`
		}
		if json.Unmarshal(raw, &t) != nil {
			kept = append(kept, raw)
			continue
		}
		g.tools[t.Name] = toolInfo{description: t.Description, annotations: t.Annotations}
		g.noteDefinitionLocked(t.Name, t.Description, raw, pinned, toPin)
		if g.pol().Hidden(g.Server, t.Name) {
			continue
		}
		kept = append(kept, raw)
	}
	g.mu.Unlock()
	if len(kept) == len(tools) {
		return nil
	}
	b, err := json.Marshal(kept)
	if err != nil {
		return nil
	}
	result["tools"] = b
	out, err := json.Marshal(result)
	if err != nil {
		return nil
	}
	return out
}

// noteDefinitionLocked compares a listed tool's definition with the one first listed in
// the session: a server that lists a harmless tool, then (after tools/list_changed)
// describes it differently, the classic "rug pull", gets the change shown to a person at
// the tool's next call. g.mu is held.
//
// A tool not yet seen in the session is compared with its pin from an earlier session
// (pinned), or, never seen before, goes into toPin to be pinned.
func (g *Guard) noteDefinitionLocked(name, description string, raw json.RawMessage, pinned, toPin map[string]toolpins.Def) {
	var d struct {
		Title        any `json:"title"`
		Description  any `json:"description"`
		InputSchema  any `json:"inputSchema"`
		OutputSchema any `json:"outputSchema"`
		Annotations  any `json:"annotations"`
	}
	if json.Unmarshal(raw, &d) != nil {
		return
	}
	canon, _ := json.Marshal(d) // maps re-encode with sorted keys: the order a server sends does not matter
	h := sha256.Sum256(canon)
	def := toolDef{hash: hex.EncodeToString(h[:]), description: description}
	g.latest[name] = def
	old, seen := g.defs[name]
	if !seen {
		if p, ok := pinned[name]; ok {
			old, seen = toolDef{hash: p.Hash, description: p.Description}, true
			g.defs[name] = old
		}
	}
	switch {
	case !seen:
		g.defs[name] = def
		toPin[name] = toolpins.Def{Hash: def.hash, Description: description, Pinned: time.Now().UTC()}
	case old.hash == def.hash:
		delete(g.changed, name) // back to what was first listed
	case old.description != description:
		g.changed[name] = fmt.Sprintf("its description was %q and is now %q", clip(old.description, 300), clip(description, 300))
	default:
		g.changed[name] = "its input schema, title or annotations changed (the description did not)"
	}
}

// acceptDefinition makes the definition a person was shown (the tool's definition as
// listed when its call was assessed) the one later listings are compared with. If the
// server listed the tool again meanwhile, with yet another definition, nothing is
// accepted: the tool's next call shows that one.
func (g *Guard) acceptDefinition(shown shownDef) {
	if shown.hash == "" {
		return
	}
	g.mu.Lock()
	d := g.latest[shown.name]
	accept := d.hash == shown.hash && g.changed[shown.name] != ""
	if accept {
		delete(g.changed, shown.name)
		g.defs[shown.name] = d
	}
	g.mu.Unlock()
	if accept && g.Pins != nil {
		if err := g.Pins.Pin(g.Server, map[string]toolpins.Def{shown.name: {Hash: d.hash, Description: d.description, Pinned: time.Now().UTC()}}); err != nil && g.Logf != nil {
			g.Logf("airlock: could not pin the new definition of tool %q: %v", shown.name, err)
		}
	}
}

// Assess classifies a call and applies the policy's tier and action.
//
// A name that matches a listed tool only up to case or invisible characters is judged
// as both names, the stricter outcome winning: a server that matches names loosely must
// not let "Delete_Repo" slip past a rule written for "delete_repo".
func (g *Guard) Assess(tool string, args json.RawMessage) (risk.Assessment, policy.Verdict) {
	a, v, _ := g.assess(tool, args)
	return a, v
}

// shownDef names the changed tool definition an assessment showed a person: the tool's
// name as listed and the hash of the definition the reason describes.
type shownDef struct{ name, hash string }

// assess is Assess, also returning which changed definition, if any, its reasons show.
func (g *Guard) assess(tool string, args json.RawMessage) (risk.Assessment, policy.Verdict, shownDef) {
	g.init()
	g.mu.Lock()
	info, listed := g.tools[tool]
	alias := ""
	if !listed {
		want := strings.ToLower(stripInvisible(tool))
		for name := range g.tools {
			if strings.ToLower(stripInvisible(name)) == want {
				alias, info = name, g.tools[name]
				break
			}
		}
	}
	g.mu.Unlock()
	trusted := g.pol().Trusted(g.Server)
	a := risk.Classify(risk.Call{
		Server: g.Server, Tool: tool, Description: info.description, Annotations: info.annotations,
		Args: args, ServerTrusted: trusted,
	})
	v := g.pol().Evaluate(policy.Input{Server: g.Server, Tool: tool, Args: args, Tier: int(a.Tier)})
	if alias != "" {
		a.Tier = max(a.Tier, 2)
		a.Reasons = append(a.Reasons, risk.Reason{Source: risk.SourceName, Tier: 2,
			Text: fmt.Sprintf("the name differs from the listed tool %q only by case or hidden characters", alias)})
		b := risk.Classify(risk.Call{Server: g.Server, Tool: alias, Description: info.description,
			Annotations: info.annotations, Args: args, ServerTrusted: trusted})
		if b.Tier > a.Tier {
			a.Tier = b.Tier
		}
		a.Danger = a.Danger || b.Danger
		a.Reasons = append(a.Reasons, b.Reasons...)
		va := g.pol().Evaluate(policy.Input{Server: g.Server, Tool: alias, Args: args, Tier: int(a.Tier)})
		v = stricter(v, va)
	}
	if v.Tier != nil {
		a.Tier = risk.Tier(*v.Tier)
		for _, r := range v.Reasons {
			a.Reasons = append(a.Reasons, risk.Reason{Source: risk.SourcePolicy, Tier: a.Tier, Text: r})
		}
	}
	if p := g.Protect.In(args); p != "" {
		// After the policy: no rule lowers this, and no allow skips the person.
		a.Tier = risk.Destructive
		a.Reasons = append(a.Reasons, risk.Reason{Source: risk.SourceArgument, Tier: risk.Destructive, Text: fmt.Sprintf(
			"an argument names %s, which configures Airlock or how your IDE reaches it: changing it could switch Airlock off, so a person decides whatever the policy says", p)})
		if v.Action != policy.Deny {
			v.Action = policy.Ask
		}
	}
	g.mu.Lock()
	shown := shownDef{name: tool}
	change, changed := g.changed[tool]
	if !changed && alias != "" {
		shown.name = alias
		change, changed = g.changed[alias]
	}
	if changed {
		shown.hash = g.latest[shown.name].hash
	} else {
		shown = shownDef{}
	}
	g.mu.Unlock()
	if changed {
		// Whatever was allowed for this tool was allowed for what it said it did then.
		a.Tier, a.Danger = risk.Destructive, true
		a.Reasons = append(a.Reasons, risk.Reason{Source: risk.SourceDescription, Tier: risk.Destructive, Text: "the server changed this tool after first listing it in this session: " + change + "; a tool that changes under you may now do something else, so a person decides whatever the policy says"})
		if v.Action != policy.Deny {
			v.Action = policy.Ask
		}
	}
	if g.KnownSecret != nil && len(args) > 0 && g.KnownSecret(args) {
		// A credential of one of the user's servers, on its way to this one: after the
		// policy too, and no permission for the tool covers it.
		a.Tier, a.Danger = risk.Destructive, true
		a.Reasons = append(a.Reasons, risk.Reason{Source: risk.SourceArgument, Tier: risk.Destructive, Text: "an argument holds one of the secrets Airlock keeps in your keyring (a credential of one of your servers): this server would receive it, so a person decides whatever the policy says"})
		if v.Action != policy.Deny {
			v.Action = policy.Ask
		}
	}
	return a, v, shown
}

func strength(a policy.Action) int {
	switch a {
	case policy.Allow:
		return 1
	case policy.Ask:
		return 2
	case policy.Deny:
		return 3
	}
	return 0
}

// stricter merges two verdicts: the stronger action (deny > ask > allow) and the higher
// tier win; an allow survives only if both allow.
func stricter(a, b policy.Verdict) policy.Verdict {
	out := a
	if strength(b.Action) > strength(a.Action) {
		out.Action, out.Rule = b.Action, b.Rule
	}
	if a.Action == policy.Allow && b.Action != policy.Allow {
		out.Action = b.Action
	}
	if b.Tier != nil && (a.Tier == nil || *b.Tier > *a.Tier) {
		out.Tier = b.Tier
	}
	out.Reasons = append([]string(nil), a.Reasons...)
	for _, r := range b.Reasons {
		if !slices.Contains(out.Reasons, r) {
			out.Reasons = append(out.Reasons, r)
		}
	}
	return out
}

// stripInvisible removes what the policy treats as hidden, so both agree on names.
func stripInvisible(s string) string {
	out, _ := policy.StripHidden(s)
	return out
}

func tierName(t risk.Tier) string {
	switch t {
	case 0:
		return "tier 0, safe read"
	case 1:
		return "tier 1, sensitive read"
	case 2:
		return "tier 2, write"
	}
	return "tier 3, destructive / money / security"
}

// topReason picks the reason a person should read first: the highest-tier one.
func topReason(a risk.Assessment) string {
	best := ""
	var bt risk.Tier = -1
	for _, r := range a.Reasons {
		if r.Tier > bt {
			best, bt = r.Text, r.Tier
		}
	}
	return best
}

// gate adapts Guard to proxy.Gate.
type gate struct{ g *Guard }

func (x gate) Quick(s *proxy.Session, call *proxy.ToolCall) (proxy.Verdict, bool) {
	return x.g.quick(s, call)
}

func (x gate) Decide(ctx context.Context, s *proxy.Session, call *proxy.ToolCall) proxy.Verdict {
	return x.g.decide(ctx, s, call)
}

// pendingCall carries what quick learnt to decide, so the assessment runs once.
type pendingCall struct {
	a     risk.Assessment
	v     policy.Verdict
	shown shownDef // the changed definition the request shows, if any
}

func (g *Guard) askRequest(s *proxy.Session, call *proxy.ToolCall, a risk.Assessment) apitype.AskRequest {
	return g.request(s, call, a, true)
}

// logArgsMax bounds the arguments an automatic allow stores in the log; larger ones are
// summarised. A person deciding a call always sees all of them.
const logArgsMax = 16 << 10

// request builds the description of a call for the broker and the log. With full unset,
// large arguments are replaced by a redacted summary, so logging a harmless call stays
// cheap whatever its size.
func (g *Guard) request(s *proxy.Session, call *proxy.ToolCall, a risk.Assessment, full bool) apitype.AskRequest {
	req := apitype.AskRequest{
		Kind: apitype.KindToolCall, Server: g.Server, Client: clientName(s, call), Session: g.sessionFor(call),
		Tool: call.Name, Tier: int(a.Tier),
	}
	if full {
		// Grants match on this hash: key order must not matter.
		req.ArgsHash = ArgsHash(call.Arguments)
		// A standing grant for the tool does not cover Airlock's own files, nor arguments
		// that are dangerous in themselves.
		req.Protected = g.Protect.In(call.Arguments) != ""
		req.Dangerous = a.Danger
	} else {
		// Only a record: the exact bytes' hash is cheap and identifies them as well.
		req.ArgsHash = rawHash(call.Arguments)
	}
	for _, r := range a.Reasons {
		req.Reasons = append(req.Reasons, apitype.Reason{Source: r.Source, Tier: int(r.Tier), Text: r.Text})
	}
	switch {
	case len(call.Arguments) == 0:
	case full || len(call.Arguments) <= logArgsMax:
		req.Arguments = call.Arguments
		if g.Redact != nil {
			req.Arguments = g.Redact(call.Arguments)
		}
	default:
		sum, ok := summarizeArgs(call.Arguments, g.KeepWhole)
		req.Arguments = g.truncatedArgs(sum, ok, len(call.Arguments))
	}
	return req
}

// truncatedArgs is what the log keeps of arguments too large to record whole: their
// size and their summary (see summarizeArgs), redacted; only the size when they could not be
// summarised.
func (g *Guard) truncatedArgs(summary []byte, ok bool, size int) json.RawMessage {
	out := append([]byte(`{"truncated":true,"bytes":`), strconv.Itoa(size)...)
	if ok {
		if g.Redact != nil {
			summary = g.Redact(summary)
		}
		out = append(append(out, `,"summary":`...), summary...)
	}
	return append(out, '}')
}

// pol returns the policy in force.
func (g *Guard) pol() *policy.Policy {
	if g.Live != nil {
		return g.Live.Current()
	}
	return g.Policy
}

// sessionFor is the session a call's "allow for this session" covers: this proxy session,
// and for a request that names its client (2026-07-28, where one stateless backend of
// airlock serve carries the calls of every IDE) that client within it, so that one IDE's
// grant does not cover another's calls.
func (g *Guard) sessionFor(call *proxy.ToolCall) string {
	if n := call.Meta.ClientInfo.Name; n != "" {
		return g.session + "/" + n
	}
	return g.session
}

// clientName names the IDE behind a call: the request's own clientInfo when it carries
// one (2026-07-28, where one stateless backend serves every client of airlock serve),
// else the name from the session's handshake.
func clientName(s *proxy.Session, call *proxy.ToolCall) string {
	if n := call.Meta.ClientInfo.Name; n != "" {
		return n
	}
	return s.Info().ClientName
}

// ArgsHash identifies a call's arguments: the store's canonical hash up to 64 KiB (so key
// order does not matter), the hash of the exact bytes above that.
func ArgsHash(args json.RawMessage) string {
	if len(args) <= 64<<10 {
		return store.HashArgs(args)
	}
	return rawHash(args)
}

func rawHash(args json.RawMessage) string {
	if len(args) == 0 {
		return ""
	}
	sum := sha256.Sum256(args)
	return "raw:" + hex.EncodeToString(sum[:])
}

func (g *Guard) refusal(call *proxy.ToolCall, a risk.Assessment, why string) proxy.Verdict {
	return proxy.Verdict{Refuse: true, Message: fmt.Sprintf(
		"Airlock refused the call to tool %q on server %q (%s): %s", call.Name, g.Server, tierName(a.Tier), why)}
}

// quick decides at once what needs no person: policy denies and allows, and calls below
// tier 3. Allows are recorded in the background so a harmless call waits for no disk
// write; denies are committed before the refusal goes out.
func (g *Guard) quick(s *proxy.Session, call *proxy.ToolCall) (proxy.Verdict, bool) {
	a, v, shown := g.assess(call.Name, call.Arguments)
	if h, ok := g.Log.(interface{ Err() error }); ok {
		if err := h.Err(); err != nil {
			// Fail closed: a call Airlock cannot record is a call it does not allow.
			return g.refusal(call, a, fmt.Sprintf("Airlock cannot record decisions (%v); fix the decision log and retry", err)), true
		}
	}
	switch {
	case v.Action == policy.Deny:
		why := "a policy rule denies it: " + strings.Join(v.Reasons, "; ")
		g.record(context.Background(), g.askRequest(s, call, a), apitype.Deny, store.DecidedByPolicy, store.ChannelPolicy, why)
		return g.refusal(call, a, why+". Do not retry; ask the user to change the policy if the call is needed."), true
	case v.Action == policy.Allow:
		g.recordLater(s, call, a, "a policy rule allows it: "+strings.Join(v.Reasons, "; "))
		return proxy.Verdict{}, true
	case v.Action != policy.Ask && a.Tier < 3:
		g.recordLater(s, call, a, fmt.Sprintf("%s calls pass without asking (%s)", tierName(a.Tier), topReason(a)))
		return proxy.Verdict{}, true
	case call.Retry && g.recentlyApproved(call):
		g.recordLaterBy(s, call, a, store.DecidedByGrant, "a retry (with the server's requested input) of a call the user just approved")
		return proxy.Verdict{}, true
	}
	call.State = pendingCall{a: a, v: v, shown: shown}
	return proxy.Verdict{}, false
}

// recordLater records an automatic allow without holding the call.
func (g *Guard) recordLater(s *proxy.Session, call *proxy.ToolCall, a risk.Assessment, reason string) {
	g.recordLaterBy(s, call, a, store.DecidedByPolicy, reason)
}

func (g *Guard) recordLaterBy(s *proxy.Session, call *proxy.ToolCall, a risk.Assessment, by store.DecidedBy, reason string) {
	if g.Log == nil {
		return
	}
	client := clientName(s, call)
	// The record waits for its batch holding no reference to the message: large arguments
	// are hashed and summarised at once, so sixteen 1 MiB calls in flight do not keep
	// 16 MiB alive for the batch's sake. That runs beside the call, not before it: the
	// call goes on to the server while its arguments are hashed.
	light := &proxy.ToolCall{Name: call.Name, Arguments: call.Arguments, Meta: call.Meta}
	var big *bigArgs
	if len(call.Arguments) > logArgsMax {
		big = newBigArgs(call.Arguments, g.KeepWhole)
		light.Arguments = nil
	}
	g.pending.Add(1)
	g.later.add(func() {
		defer g.pending.Done()
		req := g.request(s, light, a, false)
		if big != nil {
			<-big.done
			req.ArgsHash = big.hash
			req.Arguments = g.truncatedArgs(big.summary, big.ok, big.size)
		}
		req.Client = client
		ch := store.ChannelPolicy
		if by != store.DecidedByPolicy {
			ch = store.ChannelNone
		}
		row := g.row(req, apitype.Allow, by, ch, reason)
		if l, ok := g.Log.(interface{ AppendLater(*store.Decision) error }); ok {
			if err := l.AppendLater(row); err != nil && g.Logf != nil {
				g.Logf("airlock: could not record a decision about %s: %v", req.Tool, err)
			}
			return
		}
		g.Log.Append(context.Background(), row)
	})
}

// bigArgs is what the log keeps of arguments too large to record whole: their hash, size
// and summary, taken on their own goroutine (done is closed when they are ready).
type bigArgs struct {
	hash    string
	summary []byte
	ok      bool
	size    int
	done    chan struct{}
}

func newBigArgs(args json.RawMessage, keep func(string, int) int) *bigArgs {
	b := &bigArgs{size: len(args), done: make(chan struct{})}
	go func() {
		b.hash = rawHash(args)
		b.summary, b.ok = summarizeArgs(args, keep)
		close(b.done)
	}()
	return b
}

// recentlyApproved reports whether a person allowed this exact call (tool and arguments)
// within the retry window.
func (g *Guard) recentlyApproved(call *proxy.ToolCall) bool {
	key := call.Name + "\x00" + ArgsHash(call.Arguments)
	g.mu.Lock()
	defer g.mu.Unlock()
	until, ok := g.approved[key]
	return ok && time.Now().Before(until)
}

// End tells the broker, when the Asker can be told (a *client.Client can), that this
// session is over, so that its "allow for this session" grants go with it. It waits at
// most a second: a broker that is gone has nothing to forget.
func (g *Guard) End() {
	e, ok := g.Asker.(interface {
		EndSession(ctx context.Context, session string) error
	})
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	e.EndSession(ctx, g.Session())
}

// Flush waits until every decision recorded in the background is written.
func (g *Guard) Flush() {
	g.later.run()
	g.pending.Wait()
}

// laterDelay is how long the record of an automatic allow waits before it is built
// (redacted, hashed) and queued for the log. The work then happens in one batch between
// calls instead of competing, call by call, with the server and the client for the CPU
// while the call is in flight; the log commits it within about 20 ms more.
const laterDelay = 10 * time.Millisecond

// laterQueue runs functions in batches, laterDelay after the first of a batch.
type laterQueue struct {
	mu    sync.Mutex
	items []func()
	armed bool
}

func (q *laterQueue) add(f func()) {
	q.mu.Lock()
	q.items = append(q.items, f)
	if !q.armed {
		q.armed = true
		time.AfterFunc(laterDelay, q.run)
	}
	q.mu.Unlock()
}

// run runs what is queued now.
func (q *laterQueue) run() {
	q.mu.Lock()
	items := q.items
	q.items, q.armed = nil, false
	q.mu.Unlock()
	for _, f := range items {
		f()
	}
}

// decide asks a person about a call quick could not decide.
func (g *Guard) decide(ctx context.Context, s *proxy.Session, call *proxy.ToolCall) proxy.Verdict {
	pc, ok := call.State.(pendingCall)
	if !ok {
		pc.a, pc.v, pc.shown = g.assess(call.Name, call.Arguments)
	}
	a := pc.a
	req := g.askRequest(s, call, a)
	refuse := func(why string) proxy.Verdict { return g.refusal(call, a, why) }

	stop := g.keepAlive(s, call)
	d, err := g.ask(ctx, req)
	stop()
	if err == nil {
		if d.Outcome == apitype.Allow {
			g.mu.Lock()
			g.approved[call.Name+"\x00"+req.ArgsHash] = time.Now().Add(retryWindow)
			g.mu.Unlock()
			g.acceptDefinition(pc.shown) // the person was shown what changed
			return proxy.Verdict{}
		}
		why := d.Reason
		if d.DecidedBy == string(store.DecidedByTimeout) {
			return refuse("nobody approved it in time (" + why + "). The user may approve it in Airlock; then retry the identical call.")
		}
		return refuse("the user denied it" + suffix(why) + ". Do not retry the same call; ask the user what to do instead.")
	}
	if ctx.Err() != nil {
		return refuse("the request was cancelled before anyone decided")
	}
	if !client.IsNotRunning(err) {
		why := fmt.Sprintf("Airlock could not get a decision (%v)", err)
		g.record(context.Background(), req, apitype.Deny, store.DecidedByFallback, store.ChannelNone, why)
		return refuse(why)
	}
	return g.fallback(ctx, s, call, req, a, refuse)
}

func suffix(why string) string {
	if why == "" || why == "denied by the user" {
		return ""
	}
	return ": " + why
}

func (g *Guard) ask(ctx context.Context, req apitype.AskRequest) (apitype.Decision, error) {
	if g.Asker == nil {
		return apitype.Decision{}, &client.NotRunningError{Err: errors.New("no broker configured")}
	}
	return g.Asker.Ask(ctx, req)
}

// fallback decides a call that needs a person when no broker answers: through MCP
// elicitation if the IDE supports it and the settings allow, otherwise a refusal that
// says how to start Airlock. It never allows without a person.
func (g *Guard) fallback(ctx context.Context, s *proxy.Session, call *proxy.ToolCall, req apitype.AskRequest, a risk.Assessment, refuse func(string) proxy.Verdict) proxy.Verdict {
	const howTo = "no Airlock approver is running. Ask the user to start the Airlock app (or `airlock daemon`) and then retry"
	info := s.Info()
	if g.pol().Settings().NoBroker != policy.NoBrokerElicit || info.Modern || !supportsFormElicitation(info.ClientCapabilities) {
		g.record(context.Background(), req, apitype.Deny, store.DecidedByFallback, store.ChannelNone, howTo)
		return refuse(howTo + ".")
	}
	args := string(req.Arguments)
	if len(args) > 600 {
		args = args[:600] + "…"
	}
	msg := fmt.Sprintf("Airlock: allow %q on server %q?\n%s — %s\nArguments: %s",
		call.Name, g.Server, tierName(a.Tier), topReason(a), args)
	ectx, cancel := context.WithTimeout(ctx, g.pol().Settings().ApprovalTimeout)
	defer cancel()
	resp, err := s.Call(ectx, proxy.ToClient, "elicitation/create", map[string]any{
		"mode":    "form",
		"message": msg,
		"requestedSchema": map[string]any{
			"type": "object",
			"properties": map[string]any{
				"approve": map[string]any{"type": "boolean", "title": "Allow this call", "default": false},
			},
			"required": []string{"approve"},
		},
	})
	if err != nil {
		why := fmt.Sprintf("no Airlock approver is running and asking in the IDE failed (%v)", err)
		g.record(context.Background(), req, apitype.Deny, store.DecidedByFallback, store.ChannelElicitation, why)
		return refuse(why)
	}
	var r struct {
		Action  string `json:"action"`
		Content struct {
			Approve bool `json:"approve"`
		} `json:"content"`
	}
	json.Unmarshal(resp.Result, &r)
	if r.Action == "accept" && r.Content.Approve {
		g.record(context.Background(), req, apitype.Allow, store.DecidedByUser, store.ChannelElicitation, "approved in the IDE (no Airlock approver was running)")
		return proxy.Verdict{}
	}
	why := fmt.Sprintf("the user did not approve it in the IDE (%s)", r.Action)
	g.record(context.Background(), req, apitype.Deny, store.DecidedByUser, store.ChannelElicitation, why)
	return refuse(why + ". Do not retry the same call.")
}

func supportsFormElicitation(caps json.RawMessage) bool {
	el := jsonrpc.Member(caps, "elicitation")
	if el == nil || bytes.Equal(el, []byte("null")) {
		return false
	}
	// {} means form only; {"url":{}} without "form" means URL only.
	return jsonrpc.Member(el, "form") != nil || jsonrpc.Member(el, "url") == nil
}

// keepAlive sends progress while a call waits for a person, when the request asked for
// progress. It returns a function that stops it.
func (g *Guard) keepAlive(s *proxy.Session, call *proxy.ToolCall) func() {
	tok := call.Meta.ProgressToken
	if len(tok) == 0 {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(g.KeepAlive)
		defer t.Stop()
		for n := 1; ; n++ {
			select {
			case <-done:
				return
			case <-s.Context().Done():
				return
			case <-t.C:
				m, err := jsonrpc.NewNotification("notifications/progress", map[string]any{
					"progressToken": tok, "progress": n,
					"message": "waiting for approval in Airlock",
				})
				if err == nil {
					s.Send(proxy.ToClient, m)
				}
			}
		}
	}()
	return func() { close(done) }
}

// row builds the log row for a decision the guard made itself.
func (g *Guard) row(req apitype.AskRequest, outcome apitype.Outcome, by store.DecidedBy, ch store.Channel, reason string) *store.Decision {
	return &store.Decision{
		Time: time.Now().UTC(), Kind: store.KindToolCall, Server: req.Server, Client: req.Client,
		Session: req.Session, Tool: req.Tool, Tier: req.Tier, Args: string(req.Arguments), ArgsHash: req.ArgsHash,
		Outcome: store.Outcome(outcome), DecidedBy: by, Channel: ch, Scope: store.ScopeOnce, Reason: reason,
	}
}

// record writes a decision the guard made itself and waits for the commit. A failure to
// record a deny is reported on stderr; the deny stands.
func (g *Guard) record(ctx context.Context, req apitype.AskRequest, outcome apitype.Outcome, by store.DecidedBy, ch store.Channel, reason string) {
	if g.Log == nil {
		return
	}
	if _, err := g.Log.Append(context.WithoutCancel(ctx), g.row(req, outcome, by, ch, reason)); err != nil && g.Logf != nil {
		g.Logf("airlock: could not record a decision about %s: %v", req.Tool, err)
	}
}
