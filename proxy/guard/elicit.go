package guard

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/consent/client"
	"github.com/airlock-mcp/airlock/proxy"
	"github.com/airlock-mcp/airlock/proxy/browser"
	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
	"github.com/airlock-mcp/airlock/store"
)

// Where URL-mode elicitations are shown.
const (
	// URLElicitationAirlock shows every URL elicitation in Airlock, which opens the
	// browser itself once the person allows it. It is the default.
	URLElicitationAirlock = "airlock"
	// URLElicitationIDE passes URL elicitations to an IDE that declared
	// elicitation.url; Airlock shows only those the IDE cannot.
	URLElicitationIDE = "ide"
)

// CodeURLElicitationRequired is the error a 2025-11-25 server answers a request with
// when the user must first visit a web page (retired in 2026-07-28).
const CodeURLElicitationRequired = -32042

// URLElicitations configures how a Guard shows URL-mode elicitations. The zero value
// shows them in Airlock and opens the system browser.
type URLElicitations struct {
	// Mode is URLElicitationAirlock ("", the default) or URLElicitationIDE.
	Mode string
	// Open opens rawURL in the browser. nil runs xdg-open, open or rundll32 url.dll
	// directly, never through a shell.
	Open func(ctx context.Context, rawURL string) error
}

// ElicitationMiddleware returns the interceptor that puts URL-mode elicitations in
// front of a person: elicitation/create requests in URL mode, -32042
// URLElicitationRequired errors and 2026-07-28 input_required results that ask for a
// URL. Form-mode elicitations pass untouched. Call it once per session.
func (g *Guard) ElicitationMiddleware() proxy.Middleware {
	return g.URLElicitationMiddleware(URLElicitations{Mode: g.URLElicitation, Open: g.OpenURL})
}

// URLElicitationMiddleware is ElicitationMiddleware with explicit settings.
func (g *Guard) URLElicitationMiddleware(o URLElicitations) proxy.Middleware {
	return g.newElicitor(o).middleware
}

// maxURLAsks bounds the URL elicitations of one session waiting for a person; more
// are declined, so a server cannot flood the approver.
const maxURLAsks = 16

// maxTrackedIDs bounds the elicitation ids a session remembers.
const maxTrackedIDs = 256

// elicitor is the per-session state of ElicitationMiddleware.
type elicitor struct {
	g    *Guard
	mode string
	open func(context.Context, string) error
	// busy counts goroutines holding a message (tests wait on it).
	busy sync.WaitGroup

	mu   sync.Mutex
	byID map[string]*urlAsk            // by elicitationId
	held map[string]context.CancelFunc // server elicitation/create requests Airlock answers, by raw id
	asks int                           // asks waiting for a person
}

// urlAsk is one elicitation id being, or having been, shown in Airlock.
type urlAsk struct {
	done      chan struct{} // closed once decided
	cancel    context.CancelFunc
	action    string // accept, decline or cancel; set before done is closed
	ideSaw    bool   // the IDE knows the id and may wait for its completion
	completed bool   // the server said the interaction is complete
}

func (a *urlAsk) finished() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

// urlElicitation is an elicitation's params (or an entry of -32042's data).
type urlElicitation struct {
	Mode          string `json:"mode"`
	ElicitationID string `json:"elicitationId"`
	URL           string `json:"url"`
	Message       string `json:"message"`
}

func (g *Guard) newElicitor(o URLElicitations) *elicitor {
	g.init()
	e := &elicitor{g: g, mode: o.Mode, open: o.Open, byID: map[string]*urlAsk{}, held: map[string]context.CancelFunc{}}
	switch e.mode {
	case "":
		e.mode = URLElicitationAirlock
	case URLElicitationAirlock, URLElicitationIDE:
	default:
		e.logf("airlock: unknown url_elicitation setting %q (want %q or %q); showing URL elicitations in Airlock", e.mode, URLElicitationAirlock, URLElicitationIDE)
		e.mode = URLElicitationAirlock
	}
	if e.open == nil {
		e.open = browser.Open
	}
	return e
}

func (e *elicitor) logf(format string, args ...any) {
	if e.g.Logf != nil {
		e.g.Logf(format, args...)
	}
}

// inputMethods are the requests a 2026-07-28 server may answer with input_required.
var inputMethods = map[string]bool{"tools/call": true, "prompts/get": true, "resources/read": true}

func (e *elicitor) middleware(next proxy.Handler) proxy.Handler {
	return func(s *proxy.Session, dir proxy.Direction, m *jsonrpc.Message) {
		if dir == proxy.ToServer {
			if m.Kind == jsonrpc.KindResponse && m.Request != nil && m.Request.Method == "elicitation/create" {
				e.ideAnswered(s, m)
			}
			next(s, dir, m)
			return
		}
		switch m.Kind {
		case jsonrpc.KindRequest:
			if m.Method == "elicitation/create" {
				e.create(s, dir, m, next)
				return
			}
		case jsonrpc.KindNotification:
			switch m.Method {
			case "notifications/elicitation/complete":
				if !e.complete(s, m) {
					return
				}
			case "notifications/cancelled":
				if e.serverCancelled(m) {
					return
				}
			}
		case jsonrpc.KindResponse:
			switch {
			case m.Request == nil:
			case m.Error != nil:
				if els := requiredElicitations(m); len(els) > 0 {
					e.showThenForward(s, dir, m, next, els)
					return
				}
			case inputMethods[m.Request.Method] && bytes.Contains(m.Result, []byte("input_required")):
				if field := inputRequiredSecretForm(m); field != "" {
					e.refuseSecretForm(s, m, field)
					return
				}
				if els := inputRequiredElicitations(m); len(els) > 0 {
					e.showThenForward(s, dir, m, next, els)
					return
				}
			}
		}
		next(s, dir, m)
	}
}

// create handles an elicitation/create request from the server.
func (e *elicitor) create(s *proxy.Session, dir proxy.Direction, m *jsonrpc.Message, next proxy.Handler) {
	if err := jsonrpc.CheckDuplicateKeysValid(m.Params); err != nil {
		// The IDE and Airlock could read different modes or URLs.
		s.ReplyError(dir, m, jsonrpc.CodeInvalidParams,
			fmt.Sprintf("airlock refused an ambiguous elicitation/create: %v; send each key once", err), nil)
		return
	}
	var el urlElicitation
	if json.Unmarshal(m.Params, &el) != nil {
		next(s, dir, m)
		return
	}
	if el.Mode != "url" {
		if field := secretFormField(m.Params); field != "" {
			// MCP forbids asking for sensitive information in a form: a server that does
			// is phishing, or careless with what the IDE would hand it in plain text.
			why := fmt.Sprintf("the form asks for %q, a secret; MCP servers must not request sensitive information in a form elicitation (a URL elicitation opens the server's own page for that)", field)
			e.record(s, urlElicitation{Message: el.Message}, "", apitype.Deny, store.DecidedByPolicy, store.ChannelPolicy, why)
			e.logf("airlock: declined a form elicitation from server %q: %s", e.g.Server, why)
			s.Reply(dir, m, map[string]string{"action": "decline"})
			return
		}
		next(s, dir, m)
		return
	}
	ideURL := supportsURLElicitation(s.Info().ClientCapabilities)
	if e.mode == URLElicitationIDE && ideURL {
		next(s, dir, m) // the IDE's answer is recorded by ideAnswered
		return
	}
	ctx, cancel := context.WithCancel(s.Context())
	key := m.ID.String()
	e.mu.Lock()
	e.held[key] = cancel
	e.mu.Unlock()
	unhold := func() {
		e.mu.Lock()
		delete(e.held, key)
		e.mu.Unlock()
	}
	e.busy.Add(1)
	go func() {
		defer e.busy.Done()
		defer cancel()
		defer unhold()
		res := e.show(ctx, s, el, "")
		unhold()
		if ctx.Err() != nil {
			return // the server withdrew its request, or the session ended: no answer is due
		}
		if res.noBroker {
			if ideURL {
				e.logf("airlock: no Airlock approver is running; passing the URL elicitation from server %q to the IDE, which shows it itself", e.g.Server)
				e.sawByIDE(el.ElicitationID)
				next(s, dir, m)
				return
			}
			why := "no Airlock approver is running and the IDE does not support URL elicitation, so nobody could be shown the page"
			e.record(s, el, "", apitype.Deny, store.DecidedByFallback, store.ChannelNone, why)
			e.logf("airlock: declined the URL elicitation from server %q (%s): %s", e.g.Server, e.redact(el.URL), why)
			res.action = "decline"
		}
		s.Reply(dir, m, map[string]string{"action": res.action})
	}()
}

// secretFormField returns the name (or title) of the first field of a form elicitation's
// requestedSchema that asks for a secret (password, API key, token, ...), or "".
func secretFormField(params json.RawMessage) string {
	var p struct {
		RequestedSchema struct {
			Properties map[string]struct {
				Title       string `json:"title"`
				Description string `json:"description"`
			} `json:"properties"`
		} `json:"requestedSchema"`
	}
	if json.Unmarshal(params, &p) != nil {
		return ""
	}
	names := make([]string, 0, len(p.RequestedSchema.Properties))
	for name := range p.RequestedSchema.Properties {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		f := p.RequestedSchema.Properties[name]
		if store.SecretField(name) || store.SecretField(f.Title) || secretAsk.MatchString(f.Title+" "+f.Description) {
			return name
		}
	}
	return ""
}

// secretAsk finds a form field's title or description asking for a secret.
var secretAsk = regexp.MustCompile(`(?i)\b(password|passphrase|api[ _-]?key|secret[ _-]?key|access[ _-]?token|personal access token|private key|credit card|card number|cvv|cvc|social security number|seed phrase|recovery phrase|2fa code|otp)\b`)

// showThenForward shows the URL elicitations a response carries (a -32042 error, an
// input_required result), then forwards the response unchanged. The response waits
// while a person decides; if the IDE cancels its request meanwhile, the asks are
// withdrawn and the response dropped.
func (e *elicitor) showThenForward(s *proxy.Session, dir proxy.Direction, m *jsonrpc.Message, next proxy.Handler, els []urlElicitation) {
	tool := toolName(m.Request)
	ideURL := supportsURLElicitation(clientCaps(s, m.Request))
	if e.mode == URLElicitationIDE && ideURL {
		for _, el := range els {
			e.record(s, el, tool, apitype.Allow, store.DecidedByPolicy, store.ChannelPolicy,
				`passed to the IDE, which shows URL elicitations itself (url_elicitation = "ide")`)
			e.sawByIDE(el.ElicitationID)
		}
		next(s, dir, m)
		return
	}
	ctx, release := s.Hold(m.Request)
	e.busy.Add(1)
	go func() {
		defer e.busy.Done()
		defer release()
		results := make([]shown, len(els))
		var wg sync.WaitGroup
		for i, el := range els {
			wg.Go(func() { results[i] = e.show(ctx, s, el, tool) })
		}
		wg.Wait()
		if ctx.Err() != nil {
			e.logf("airlock: the IDE cancelled %s before the URL elicitations of server %q were decided; dropped the answer", m.Request.Method, e.g.Server)
			return
		}
		for i, el := range els {
			if !results[i].noBroker {
				continue
			}
			if ideURL {
				e.record(s, el, tool, apitype.Allow, store.DecidedByFallback, store.ChannelNone,
					"no Airlock approver is running; passed to the IDE, which shows URL elicitations itself")
				continue
			}
			why := "no Airlock approver is running and the IDE does not support URL elicitation, so nobody could be shown the page"
			e.record(s, el, tool, apitype.Deny, store.DecidedByFallback, store.ChannelNone, why)
			e.logf("airlock: server %q needs the user to visit %s, but %s", e.g.Server, e.redact(el.URL), why)
		}
		for _, el := range els {
			e.sawByIDE(el.ElicitationID)
		}
		next(s, dir, m)
	}()
}

// shown is the outcome of showing one URL elicitation in Airlock.
type shown struct {
	action   string // accept (the browser was opened), decline or cancel
	noBroker bool   // nobody could be asked; action is empty
}

// show asks a person whether to open el's URL and opens it on allow. Decisions the
// broker makes are recorded by the broker; show records the ones it makes itself.
func (e *elicitor) show(ctx context.Context, s *proxy.Session, el urlElicitation, tool string) shown {
	g := e.g
	check := CheckURL(el.URL)
	logged := e.redact(el.URL)
	if !check.Openable {
		why := "Airlock will not open the page: " + check.Warnings[0].Text
		e.record(s, el, tool, apitype.Deny, store.DecidedByFallback, store.ChannelNone, why)
		e.logf("airlock: declined the URL elicitation from server %q (%s): %s", g.Server, logged, why)
		return shown{action: "decline"}
	}
	a, res, ok := e.begin(ctx, el.ElicitationID)
	if !ok {
		return res
	}
	if a == nil {
		why := fmt.Sprintf("more than %d URL elicitations are already waiting for a person", maxURLAsks)
		e.record(s, el, tool, apitype.Deny, store.DecidedByFallback, store.ChannelNone, why)
		e.logf("airlock: declined the URL elicitation from server %q (%s): %s", g.Server, logged, why)
		return shown{action: "decline"}
	}
	actx, cancel := context.WithCancel(ctx)
	e.mu.Lock()
	a.cancel = cancel
	completed := a.completed
	e.mu.Unlock()
	if completed {
		cancel()
	}
	res = e.decide(ctx, actx, s, el, tool, check, logged, a)
	cancel()
	e.finish(el.ElicitationID, a, res.action)
	return res
}

// begin registers an ask for id. ok=false means the caller must not ask and should
// return res: the same id is being shown already (res is its outcome) or was opened
// already. a is nil when too many asks are waiting.
func (e *elicitor) begin(ctx context.Context, id string) (a *urlAsk, res shown, ok bool) {
	for {
		e.mu.Lock()
		prev := e.byID[id]
		if id == "" || prev == nil || prev.completed || (prev.finished() && prev.action != "accept") {
			if e.asks >= maxURLAsks {
				e.mu.Unlock()
				return nil, shown{}, true
			}
			e.asks++
			a = &urlAsk{done: make(chan struct{})}
			if id != "" {
				e.byID[id] = a
				e.evictLocked()
			}
			e.mu.Unlock()
			return a, shown{}, true
		}
		e.mu.Unlock()
		if prev.finished() {
			e.logf("airlock: the page for elicitation %s of server %q was opened already; not asking again", id, e.g.Server)
			return nil, shown{action: "accept"}, false
		}
		select {
		case <-prev.done:
		case <-ctx.Done():
			return nil, shown{action: "cancel"}, false
		}
	}
}

// finish publishes a's outcome.
func (e *elicitor) finish(id string, a *urlAsk, action string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.asks--
	a.action = action
	close(a.done)
	if a.completed && e.byID[id] == a {
		delete(e.byID, id)
	}
}

// evictLocked forgets decided ids beyond maxTrackedIDs.
func (e *elicitor) evictLocked() {
	if len(e.byID) <= maxTrackedIDs {
		return
	}
	for id, a := range e.byID {
		if a.finished() {
			delete(e.byID, id)
		}
	}
}

// decide asks the broker and acts on its answer.
func (e *elicitor) decide(ctx, actx context.Context, s *proxy.Session, el urlElicitation, tool string, check URLCheck, logged string, a *urlAsk) shown {
	g := e.g
	req := apitype.AskRequest{
		Kind: apitype.KindElicitation, Server: g.Server, Client: s.Info().ClientName, Session: g.Session(),
		Tool: tool, URL: logged, Message: clip(el.Message, 2000), ArgsHash: urlHash(el.URL),
	}
	req.Reasons, req.Tier = urlReasons(check)
	d, err := g.ask(actx, req)
	e.mu.Lock()
	completed := a.completed
	e.mu.Unlock()
	switch {
	case err == nil && d.Outcome == apitype.Allow:
		if actx.Err() != nil {
			return shown{action: "cancel"} // withdrawn as the person decided: do not open
		}
		if err := e.open(ctx, el.URL); err != nil {
			why := fmt.Sprintf("the user allowed opening the page, but the browser could not be started (%v)", err)
			e.record(s, el, tool, apitype.Deny, store.DecidedByFallback, store.ChannelNone, why)
			e.logf("airlock: %s for server %q: %s", logged, g.Server, why)
			return shown{action: "cancel"}
		}
		e.logf("airlock: opened %s for server %q (allowed in Airlock)", logged, g.Server)
		return shown{action: "accept"}
	case err == nil && d.DecidedBy == string(store.DecidedByTimeout):
		e.logf("airlock: nobody decided in time whether to open %s for server %q; answered cancel", logged, g.Server)
		return shown{action: "cancel"}
	case err == nil:
		e.logf("airlock: the user declined opening %s for server %q%s", logged, g.Server, suffix(d.Reason))
		return shown{action: "decline"}
	case completed:
		e.logf("airlock: server %q reported elicitation %s complete; withdrew it from Airlock", g.Server, el.ElicitationID)
		return shown{action: "cancel"}
	case ctx.Err() != nil:
		return shown{action: "cancel"}
	case client.IsNotRunning(err):
		return shown{noBroker: true}
	}
	why := fmt.Sprintf("Airlock could not get a decision (%v)", err)
	e.record(s, el, tool, apitype.Deny, store.DecidedByFallback, store.ChannelNone, why)
	e.logf("airlock: declined opening %s for server %q: %s", logged, g.Server, why)
	return shown{action: "decline"}
}

// complete handles notifications/elicitation/complete: a pending ask for the id is
// withdrawn. It reports whether the notification goes on to the IDE: only when the IDE
// may know the id (it saw the elicitation, or Airlock never did) and declared URL
// elicitation.
func (e *elicitor) complete(s *proxy.Session, m *jsonrpc.Message) bool {
	var p struct {
		ElicitationID string `json:"elicitationId"`
	}
	json.Unmarshal(m.Params, &p)
	e.mu.Lock()
	a := e.byID[p.ElicitationID]
	forward := a == nil || a.ideSaw
	if a != nil {
		a.completed = true
		if a.cancel != nil {
			a.cancel()
		}
		if a.finished() {
			delete(e.byID, p.ElicitationID)
		}
	}
	e.mu.Unlock()
	return forward && supportsURLElicitation(s.Info().ClientCapabilities)
}

// serverCancelled handles the server cancelling a request; it reports whether the
// request was one Airlock answers itself (the IDE never saw it, so the notification
// stops here).
func (e *elicitor) serverCancelled(m *jsonrpc.Message) bool {
	raw := jsonrpc.Member(m.Params, "requestId")
	if raw == nil {
		return false
	}
	e.mu.Lock()
	cancel := e.held[string(bytes.TrimSpace(raw))]
	e.mu.Unlock()
	if cancel == nil {
		return false
	}
	cancel()
	return true
}

// sawByIDE notes that the IDE knows elicitation id.
func (e *elicitor) sawByIDE(id string) {
	if id == "" {
		return
	}
	e.mu.Lock()
	if a := e.byID[id]; a != nil {
		a.ideSaw = true
	}
	e.mu.Unlock()
}

// ideAnswered records the IDE's answer to a URL elicitation it showed.
func (e *elicitor) ideAnswered(s *proxy.Session, m *jsonrpc.Message) {
	var el urlElicitation
	if json.Unmarshal(m.Request.Params, &el) != nil || el.Mode != "url" {
		return
	}
	var r struct {
		Action string `json:"action"`
	}
	json.Unmarshal(m.Result, &r)
	switch {
	case m.Error != nil:
		e.record(s, el, "", apitype.Deny, store.DecidedByFallback, store.ChannelElicitation, "the IDE answered the URL elicitation with an error")
	case r.Action == "accept":
		e.record(s, el, "", apitype.Allow, store.DecidedByUser, store.ChannelElicitation, "the user accepted in the IDE, which opens the page itself")
	case r.Action == "decline":
		e.record(s, el, "", apitype.Deny, store.DecidedByUser, store.ChannelElicitation, "the user declined in the IDE")
	default:
		e.record(s, el, "", apitype.Deny, store.DecidedByUser, store.ChannelElicitation, fmt.Sprintf("the IDE answered %q", r.Action))
	}
}

// record writes a decision the elicitor made itself, in the background (Guard.Flush
// waits for it).
func (e *elicitor) record(s *proxy.Session, el urlElicitation, tool string, outcome apitype.Outcome, by store.DecidedBy, ch store.Channel, reason string) {
	g := e.g
	if g.Log == nil {
		return
	}
	row := &store.Decision{
		Time: time.Now().UTC(), Kind: store.KindElicitation, Server: g.Server, Client: s.Info().ClientName,
		Session: g.Session(), Tool: tool, Tier: store.TierNone, Args: e.redact(el.URL), ArgsHash: urlHash(el.URL),
		Outcome: store.Outcome(outcome), DecidedBy: by, Channel: ch, Scope: store.ScopeOnce, Reason: reason,
	}
	g.pending.Add(1)
	go func() {
		defer g.pending.Done()
		if _, err := g.Log.Append(context.Background(), row); err != nil {
			e.logf("airlock: could not record a decision about a URL elicitation from server %q: %v", g.Server, err)
		}
	}()
}

// redact prepares a URL for display and the log.
func (e *elicitor) redact(u string) string {
	u = RedactURL(u)
	if e.g.RedactText != nil {
		u = e.g.RedactText(u)
	}
	return u
}

func urlHash(u string) string {
	b, _ := json.Marshal(u)
	return store.HashArgs(b)
}

// urlReasons turns a URL check into the reasons a person reads: the site first, then
// each warning. It also returns the highest tier among them.
func urlReasons(c URLCheck) ([]apitype.Reason, int) {
	out := []apitype.Reason{{Source: "site", Tier: 0, Text: fmt.Sprintf("The page is on %s.", c.Site)}}
	top := 0
	for _, w := range c.Warnings {
		tier := 2
		switch w.Code {
		case "userinfo", "lookalike", "mixed-script":
			tier = 3
		}
		top = max(top, tier)
		out = append(out, apitype.Reason{Source: "url", Tier: tier, Text: w.Text})
	}
	return out, top
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// requiredElicitations returns the URL elicitations of a -32042 error.
func requiredElicitations(m *jsonrpc.Message) []urlElicitation {
	eo := m.ErrorObject()
	if eo == nil || eo.Code != CodeURLElicitationRequired || len(eo.Data) == 0 {
		return nil
	}
	var data struct {
		Elicitations []urlElicitation `json:"elicitations"`
	}
	if json.Unmarshal(eo.Data, &data) != nil {
		return nil
	}
	return slices.DeleteFunc(data.Elicitations, func(el urlElicitation) bool { return el.Mode != "url" })
}

// inputRequest is one entry of a 2026-07-28 input_required result's inputRequests.
type inputRequest struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// inputRequests returns the elicitation/create requests of an input_required result,
// with their elicitations, in key order.
func inputRequests(m *jsonrpc.Message) (reqs []inputRequest, els []urlElicitation) {
	var r struct {
		ResultType    string                  `json:"resultType"`
		InputRequests map[string]inputRequest `json:"inputRequests"`
	}
	if json.Unmarshal(m.Result, &r) != nil || r.ResultType != "input_required" {
		return nil, nil
	}
	for _, key := range slices.Sorted(maps.Keys(r.InputRequests)) {
		in := r.InputRequests[key]
		var el urlElicitation
		if in.Method != "elicitation/create" || json.Unmarshal(in.Params, &el) != nil {
			continue
		}
		reqs, els = append(reqs, in), append(els, el)
	}
	return reqs, els
}

// inputRequiredElicitations returns the URL elicitations of a 2026-07-28
// input_required result, in key order. They carry no elicitation id.
func inputRequiredElicitations(m *jsonrpc.Message) []urlElicitation {
	_, els := inputRequests(m)
	var out []urlElicitation
	for _, el := range els {
		if el.Mode == "url" {
			el.ElicitationID = ""
			out = append(out, el)
		}
	}
	return out
}

// inputRequiredSecretForm returns the secret field a form elicitation among a 2026-07-28
// input_required result's requests asks for (see secretFormField), or "".
func inputRequiredSecretForm(m *jsonrpc.Message) string {
	reqs, els := inputRequests(m)
	for i, in := range reqs {
		if els[i].Mode == "url" {
			continue
		}
		if field := secretFormField(in.Params); field != "" {
			return field
		}
	}
	return ""
}

// refuseSecretForm answers the IDE's request, in place of the server's input_required
// result, with a refusal: the result asked for a secret in a form. The server gets no
// retry, which ends its flow as a decline would.
func (e *elicitor) refuseSecretForm(s *proxy.Session, m *jsonrpc.Message, field string) {
	why := fmt.Sprintf("server %q asked, in a form, for %q, a secret; MCP servers must not request sensitive information in a form elicitation", e.g.Server, field)
	e.record(s, urlElicitation{}, toolName(m.Request), apitype.Deny, store.DecidedByPolicy, store.ChannelPolicy, why)
	e.logf("airlock: refused a form elicitation from server %q: %s", e.g.Server, why)
	msg := "Airlock refused the request: " + why + ". Do not retry; ask the user to sign in to the server another way."
	if m.Request.Method == "tools/call" {
		s.Reply(proxy.ToServer, m.Request, proxy.RefusalResult(msg))
		return
	}
	s.ReplyError(proxy.ToServer, m.Request, jsonrpc.CodeInvalidRequest, msg, nil)
}

// toolName names what a request was about, for the log: the tool of a tools/call.
func toolName(req *jsonrpc.Message) string {
	if req.Method != "tools/call" {
		return ""
	}
	var name string
	json.Unmarshal(jsonrpc.Member(req.Params, "name"), &name)
	return name
}

// clientCaps returns the IDE's capabilities as they apply to req: its own _meta in
// 2026-07-28, the initialize handshake's before.
func clientCaps(s *proxy.Session, req *jsonrpc.Message) json.RawMessage {
	if meta := proxy.RequestMeta(req); meta.ProtocolVersion >= proxy.ModernVersion {
		return meta.ClientCapabilities
	}
	return s.Info().ClientCapabilities
}

// supportsURLElicitation reports whether capabilities declare elicitation.url.
func supportsURLElicitation(caps json.RawMessage) bool {
	el := jsonrpc.Member(caps, "elicitation")
	if el == nil || bytes.Equal(el, []byte("null")) {
		return false
	}
	u := jsonrpc.Member(el, "url")
	return u != nil && !bytes.Equal(u, []byte("null"))
}
