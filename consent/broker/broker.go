// Package broker owns the approval queue: requests wait here for a person, and grants
// ("allow for this session", "always") are kept here. The desktop app and `airlock
// daemon` both run one; proxies reach it through the local API.
package broker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/consent/policy"
	"github.com/airlock-mcp/airlock/store"
)

// DefaultTimeout is how long a request waits for a person: below the ~60 s after which
// hosts such as Claude Desktop give up on a call.
const DefaultTimeout = 50 * time.Second

// LateGrantWindow is how long an approval that arrives after its request timed out
// allows the identical call (same server, tool and arguments), so the agent's retry
// passes without a second prompt.
const LateGrantWindow = 5 * time.Minute

// Recorder writes decisions to the log. *store.Log implements it.
type Recorder interface {
	Append(ctx context.Context, d *store.Decision) (int64, error)
}

// Errors callers branch on.
var (
	ErrNotFound        = errors.New("no such pending request")
	ErrAlreadyDecided  = errors.New("the request was already decided")
	ErrCLIDisabled     = errors.New("approvals from the command line are turned off in the settings")
	ErrInvalidDecision = errors.New("invalid decision")
)

// Broker is the approval queue. Create one with New; it is safe for concurrent use.
type Broker struct {
	timeout      atomic.Int64 // time.Duration; settings can change while it runs
	cliApprovals atomic.Bool
	log          Recorder
	grants       *grantStore

	mu       sync.Mutex
	pending  map[string]*item
	expired  map[string]*item // timed out, still approvable late
	decided  map[string]bool  // recently decided ids, so a second decision gets ErrAlreadyDecided
	watchers map[chan apitype.Event]struct{}
}

type item struct {
	p       apitype.Pending
	decided chan apitype.Decision // buffered 1; receives exactly one decision
	done    bool
}

// Options configure a Broker.
type Options struct {
	// Timeout for each request (DefaultTimeout when 0).
	Timeout time.Duration
	// CLIApprovals allows decisions from the command line.
	CLIApprovals bool
	// Log receives every decision. nil records nothing (tests).
	Log Recorder
	// GrantsPath is where "always" grants persist; "" keeps them in memory only.
	GrantsPath string
}

// New returns a Broker.
func New(o Options) (*Broker, error) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	gs, err := openGrants(o.GrantsPath)
	if err != nil {
		return nil, err
	}
	b := &Broker{
		log:      o.Log,
		grants:   gs,
		pending:  make(map[string]*item),
		expired:  make(map[string]*item),
		decided:  make(map[string]bool),
		watchers: make(map[chan apitype.Event]struct{}),
	}
	b.SetSettings(o.Timeout, o.CLIApprovals)
	return b, nil
}

// SetSettings changes the approval timeout (for requests asked from now on) and whether
// decisions from the command line are accepted (at once). A timeout <= 0 keeps the
// current one.
func (b *Broker) SetSettings(timeout time.Duration, cliApprovals bool) {
	if timeout > 0 {
		b.timeout.Store(int64(timeout))
	}
	b.cliApprovals.Store(cliApprovals)
}

func (b *Broker) approvalTimeout() time.Duration { return time.Duration(b.timeout.Load()) }

// CLIApprovals reports whether decisions from the command line are accepted.
func (b *Broker) CLIApprovals() bool { return b.cliApprovals.Load() }

func newID() string {
	var r [6]byte
	rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

// Ask waits for a decision on req: from a standing grant at once, else from a person,
// else a deny when the timeout passes or ctx ends. The decision is committed to the log
// before Ask returns. A timeout denies this one request and creates no lasting rule.
func (b *Broker) Ask(ctx context.Context, req apitype.AskRequest) (apitype.Decision, error) {
	if g, ok := b.grants.match(req, time.Now()); ok {
		d := apitype.Decision{Outcome: apitype.Allow, Scope: g.Scope, DecidedBy: string(store.DecidedByGrant),
			Reason: fmt.Sprintf("allowed by grant %s (%s)", g.ID, g.Scope)}
		return d, b.record(ctx, req, d)
	}
	now := time.Now()
	timeout := b.approvalTimeout()
	it := &item{
		p:       apitype.Pending{ID: newID(), Created: now, Deadline: now.Add(timeout), Request: req},
		decided: make(chan apitype.Decision, 1),
	}
	b.mu.Lock()
	b.pending[it.p.ID] = it
	b.broadcastLocked(apitype.Event{Type: "pending", ID: it.p.ID, Pending: []apitype.Pending{it.p}})
	b.mu.Unlock()

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var d apitype.Decision
	select {
	case d = <-it.decided:
	case <-timer.C:
		b.mu.Lock()
		if it.done { // a decision raced the timer; it wins
			b.mu.Unlock()
			d = <-it.decided
			break
		}
		it.done = true
		delete(b.pending, it.p.ID)
		b.expired[it.p.ID] = it
		d = apitype.Decision{Outcome: apitype.Deny, Scope: apitype.Once, DecidedBy: string(store.DecidedByTimeout),
			Reason: fmt.Sprintf("nobody answered within %s; denied this once (approving it now allows the identical call for %s)", timeout, LateGrantWindow)}
		b.broadcastLocked(apitype.Event{Type: "decided", ID: it.p.ID, Decision: &d})
		b.mu.Unlock()
		id := it.p.ID
		time.AfterFunc(LateGrantWindow, func() {
			b.mu.Lock()
			delete(b.expired, id)
			b.mu.Unlock()
		})
	case <-ctx.Done():
		b.mu.Lock()
		if it.done {
			b.mu.Unlock()
			d = <-it.decided
			break
		}
		it.done = true
		delete(b.pending, it.p.ID)
		b.broadcastLocked(apitype.Event{Type: "withdrawn", ID: it.p.ID})
		b.mu.Unlock()
		d = apitype.Decision{Outcome: apitype.Deny, Scope: apitype.Once, DecidedBy: string(store.DecidedByFallback),
			Reason: "the request was withdrawn (the IDE cancelled it or disconnected) before anyone decided"}
		// Record with a fresh context: the asker's is gone, the row must not be.
		rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return d, errors.Join(ctx.Err(), b.record(rctx, req, d))
	}
	// The row must be written even if the asker went away meanwhile.
	return d, b.record(context.WithoutCancel(ctx), req, d)
}

// Decide records a person's decision on the pending request d.ID. A decision on a
// request that already timed out, when it allows, grants the identical call for
// LateGrantWindow instead.
func (b *Broker) Decide(ctx context.Context, d apitype.DecideRequest) error {
	switch d.Outcome {
	case apitype.Allow:
		switch d.Scope {
		case "":
			d.Scope = apitype.Once
		case apitype.Once, apitype.Session, apitype.Always:
		default:
			return fmt.Errorf("%w: unknown scope %q (want once, session or always)", ErrInvalidDecision, d.Scope)
		}
	case apitype.Deny:
		d.Scope = apitype.Once // a deny never becomes a standing rule from a dialog
	default:
		return fmt.Errorf("%w: unknown outcome %q (want allow or deny)", ErrInvalidDecision, d.Outcome)
	}
	switch d.Channel {
	case apitype.ChannelApp:
	case apitype.ChannelCLI:
		if !b.cliApprovals.Load() {
			return ErrCLIDisabled
		}
	default:
		return fmt.Errorf("%w: unknown channel %q", ErrInvalidDecision, d.Channel)
	}
	b.mu.Lock()
	it := b.pending[d.ID]
	if it == nil {
		if b.decided[d.ID] {
			b.mu.Unlock()
			return ErrAlreadyDecided
		}
		late := b.expired[d.ID]
		b.mu.Unlock()
		if late == nil {
			return ErrNotFound
		}
		if d.Outcome != apitype.Allow {
			return nil // it was already denied by the timeout
		}
		return b.lateGrant(ctx, late, d)
	}
	if it.done {
		b.mu.Unlock()
		return ErrAlreadyDecided
	}
	it.done = true
	delete(b.pending, d.ID)
	b.decided[d.ID] = true
	time.AfterFunc(LateGrantWindow, func() {
		b.mu.Lock()
		delete(b.decided, d.ID)
		b.mu.Unlock()
	})
	dec := apitype.Decision{Outcome: d.Outcome, Scope: d.Scope, DecidedBy: string(store.DecidedByUser), Channel: string(d.Channel), Reason: d.Reason}
	if dec.Reason == "" {
		if dec.Outcome == apitype.Allow {
			dec.Reason = "approved by the user"
		} else {
			dec.Reason = "denied by the user"
		}
	}
	b.mu.Unlock()
	// Launch approvals are remembered by the asker as pinned commands, not as grants.
	if dec.Outcome == apitype.Allow && dec.Scope != apitype.Once && it.p.Request.Kind != apitype.KindLaunch {
		if err := b.saveGrant(it.p.Request, dec.Scope, time.Time{}); err != nil {
			// The call is still allowed once; the standing grant failed to persist.
			dec.Scope = apitype.Once
			dec.Reason += fmt.Sprintf(" (could not save the %s grant: %v)", d.Scope, err)
		}
	}
	// Watchers see the decision as it finally stands, then the grants it created.
	shown := dec
	b.mu.Lock()
	b.broadcastLocked(apitype.Event{Type: "decided", ID: d.ID, Decision: &shown})
	if dec.Scope != apitype.Once {
		b.broadcastLocked(apitype.Event{Type: "grants", Grants: b.grants.list()})
	}
	b.mu.Unlock()
	it.decided <- dec
	return nil
}

func (b *Broker) lateGrant(ctx context.Context, it *item, d apitype.DecideRequest) error {
	req := it.p.Request
	if err := b.addGrant(req, apitype.Once, time.Now().Add(LateGrantWindow)); err != nil {
		return err
	}
	if d.Scope == apitype.Session || d.Scope == apitype.Always {
		if err := b.addGrant(req, d.Scope, time.Time{}); err != nil {
			return err
		}
	}
	b.mu.Lock()
	delete(b.expired, it.p.ID)
	b.mu.Unlock()
	dec := apitype.Decision{Outcome: apitype.Allow, Scope: d.Scope, DecidedBy: string(store.DecidedByUser), Channel: string(d.Channel),
		Reason: fmt.Sprintf("approved after the request had timed out; the identical call is allowed for %s", LateGrantWindow)}
	return b.record(ctx, req, dec)
}

func (b *Broker) addGrant(req apitype.AskRequest, scope apitype.Scope, expires time.Time) error {
	if err := b.saveGrant(req, scope, expires); err != nil {
		return err
	}
	b.mu.Lock()
	b.broadcastLocked(apitype.Event{Type: "grants", Grants: b.grants.list()})
	b.mu.Unlock()
	return nil
}

// saveGrant stores a grant without telling watchers.
func (b *Broker) saveGrant(req apitype.AskRequest, scope apitype.Scope, expires time.Time) error {
	g := apitype.Grant{ID: newID(), Kind: req.Kind, Server: req.Server, Tool: req.Tool, Scope: scope, Created: time.Now(), Expires: expires}
	switch {
	case !expires.IsZero():
		g.ArgsHash = req.ArgsHash
	case scope == apitype.Session:
		g.Session = req.Session
	}
	return b.grants.add(g)
}

// Grants lists standing grants.
func (b *Broker) Grants() []apitype.Grant { return b.grants.list() }

// Revoke removes a grant.
func (b *Broker) Revoke(id string) error {
	if err := b.grants.remove(id); err != nil {
		return err
	}
	b.mu.Lock()
	b.broadcastLocked(apitype.Event{Type: "grants", Grants: b.grants.list()})
	b.mu.Unlock()
	return nil
}

// EndSession drops the session's grants.
func (b *Broker) EndSession(session string) { b.grants.endSession(session) }

// Pending lists the requests waiting for a person, oldest first.
func (b *Broker) Pending() []apitype.Pending {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pendingLocked()
}

func (b *Broker) pendingLocked() []apitype.Pending {
	out := make([]apitype.Pending, 0, len(b.pending))
	for _, it := range b.pending {
		out = append(out, it.p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out
}

// Watch returns a stream of events that starts with a snapshot of what is pending. The
// channel closes when ctx ends. A watcher that falls too far behind is dropped (its
// channel closes) rather than slowing the broker.
func (b *Broker) Watch(ctx context.Context) <-chan apitype.Event {
	ch := make(chan apitype.Event, 256)
	b.mu.Lock()
	ch <- apitype.Event{Type: "snapshot", Time: time.Now(), Pending: b.pendingLocked(), Grants: b.grants.list()}
	b.watchers[ch] = struct{}{}
	b.mu.Unlock()
	go func() {
		<-ctx.Done()
		b.mu.Lock()
		if _, ok := b.watchers[ch]; ok {
			delete(b.watchers, ch)
			close(ch)
		}
		b.mu.Unlock()
	}()
	return ch
}

func (b *Broker) broadcastLocked(e apitype.Event) {
	e.Time = time.Now()
	for ch := range b.watchers {
		select {
		case ch <- e:
		default:
			delete(b.watchers, ch)
			close(ch)
		}
	}
}

// record writes the decision about req to the log.
func (b *Broker) record(ctx context.Context, req apitype.AskRequest, d apitype.Decision) error {
	if b.log == nil {
		return nil
	}
	row := DecisionRow(req, d)
	if _, err := b.log.Append(ctx, row); err != nil {
		return fmt.Errorf("record decision: %w", err)
	}
	return nil
}

// DecisionRow builds the log row for a decision about req.
func DecisionRow(req apitype.AskRequest, d apitype.Decision) *store.Decision {
	kind := store.Kind(req.Kind)
	tier := req.Tier
	if req.Kind != apitype.KindToolCall {
		tier = store.TierNone
	}
	args := string(req.Arguments)
	hash := req.ArgsHash
	if req.Launch != nil {
		hash = req.Launch.Fingerprint
		args = launchArgs(req.Launch)
	}
	if req.URL != "" {
		args = req.URL
	}
	ch := store.Channel(d.Channel)
	if ch == "" {
		ch = store.ChannelNone
	}
	return &store.Decision{
		Time:      time.Now().UTC(),
		Kind:      kind,
		Server:    req.Server,
		Client:    req.Client,
		Session:   req.Session,
		Tool:      req.Tool,
		Tier:      tier,
		Args:      args,
		ArgsHash:  hash,
		Outcome:   store.Outcome(d.Outcome),
		DecidedBy: store.DecidedBy(d.DecidedBy),
		Channel:   ch,
		Scope:     store.Scope(d.Scope),
		Reason:    d.Reason,
	}
}

func launchArgs(l *apitype.Launch) string {
	b, _ := jsonMarshal(map[string]any{"argv": l.Argv, "dir": l.Dir, "executable": l.Executable})
	return string(b)
}

// FollowPolicy keeps b's settings (approval timeout, terminal approvals) those of the
// policy file at path as it changes, until ctx ends: turning terminal approvals off in
// the app or by hand takes effect within seconds, not at the next start. logf, if set,
// reports each change and each edit that could not be used.
func (b *Broker) FollowPolicy(ctx context.Context, path string, logf func(string, ...any)) {
	cur, err := policy.Load(path)
	if err != nil {
		cur = policy.Default()
	}
	l := policy.NewLive(path, cur)
	l.OnChange = func(p *policy.Policy) {
		st := p.Settings()
		b.SetSettings(st.ApprovalTimeout, st.CLIApprovals)
		if logf != nil {
			logf("airlock: settings from %s now apply: approval timeout %s, terminal approvals %v", path, st.ApprovalTimeout, st.CLIApprovals)
		}
	}
	l.OnError = func(err error) {
		if logf != nil {
			logf("airlock: %s changed but cannot be used, so the previous settings stay: %v", path, err)
		}
	}
	t := time.NewTicker(policy.CheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			l.Reload()
		}
	}
}
