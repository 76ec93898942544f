package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/airlock-mcp/airlock/app/ideconfig"
	"github.com/airlock-mcp/airlock/consent/client"
	"github.com/airlock-mcp/airlock/consent/pins"
	"github.com/airlock-mcp/airlock/consent/policy"
	"github.com/airlock-mcp/airlock/consent/toolpins"
	"github.com/airlock-mcp/airlock/proxy"
	"github.com/airlock-mcp/airlock/proxy/guard"
	"github.com/airlock-mcp/airlock/store"
	"github.com/airlock-mcp/airlock/store/secret"
)

// consent is what a proxy needs to guard its sessions: the policy, the decision log and
// the way to the broker.
type consent struct {
	paths    paths
	policy   *policy.Policy
	live     *policy.Live // policy.toml as it is now: edits apply to running sessions
	log      *lazyLog
	broker   *client.Client
	launches *guard.Launcher
	protect  *guard.Protection
	toolPins *toolpins.Store // tool definitions as first seen, shared by the sessions

	mu     sync.Mutex
	guards []*guard.Guard
}

func openConsent(env *Env) (*consent, error) {
	p, err := homePaths()
	if err != nil {
		return nil, err
	}
	pol, err := policy.Load(p.policy)
	if err != nil {
		return nil, err
	}
	live := policy.NewLive(p.policy, pol)
	live.OnError = func(err error) {
		fmt.Fprintf(env.Stderr, "airlock: policy.toml changed but cannot be used, so the previous policy stays in force: %v\n", err)
	}
	c := &consent{paths: p, policy: pol, live: live, log: openLazy(p), broker: &client.Client{Socket: p.socket}, protect: protection(env, p.home)}
	c.launches = &guard.Launcher{Policy: pol, Live: live, Asker: c.broker, Log: c.log, Pins: pins.Open(p.pins)}
	c.toolPins = toolpins.Open(p.toolPins)
	return c, nil
}

// protection lists what no tool call may touch without a person: Airlock's home (policy,
// pins, grants, decision log, servers.json), the airlock executable, and every IDE MCP
// settings file Airlock knows, user-wide and per project.
func protection(env *Env, airlockHome string) *guard.Protection {
	p := platform(env)
	paths := []string{airlockHome}
	if exe, err := os.Executable(); err == nil {
		paths = append(paths, exe)
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			paths = append(paths, real)
		}
	}
	if real, err := filepath.EvalSymlinks(airlockHome); err == nil {
		paths = append(paths, real)
	}
	p.Cwd = "" // project files are protected by name, wherever the project is
	for _, l := range p.Locations() {
		paths = append(paths, l.Path)
	}
	return guard.NewProtection(p.Home, paths, ideconfig.ProjectFileNames())
}

// Close waits for decisions still being recorded, then closes the log.
func (c *consent) Close() error {
	c.launches.Flush()
	c.mu.Lock()
	guards := c.guards
	c.mu.Unlock()
	for _, g := range guards {
		g.Flush()
		g.End()
	}
	return c.log.Close()
}

// resolveSecrets returns values with every "${keyring:NAME}" reference replaced by the
// secret from the OS keyring, and records which secrets server used (by name only).
func (c *consent) resolveSecrets(ctx context.Context, server, where string, values map[string]string) (map[string]string, error) {
	if !hasReference(values) {
		return values, nil
	}
	ss, err := secret.New(c.paths.home)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(values))
	var used []string
	for k, v := range values {
		r, names, err := ss.Resolve(v)
		if err != nil {
			return nil, fmt.Errorf("server %q: %s %s: %w", server, where, k, err)
		}
		out[k] = r
		for _, n := range names {
			used = append(used, fmt.Sprintf("%s (%s %s)", n, where, k))
		}
	}
	sort.Strings(used)
	c.log.AppendLater(&store.Decision{Kind: store.KindSecretUse, Server: server, Tier: store.TierNone,
		Outcome: store.OutcomeAllow, DecidedBy: store.DecidedByPolicy, Channel: store.ChannelPolicy,
		Scope: store.ScopeOnce, Reason: "secrets used: " + strings.Join(used, ", ")})
	return out, nil
}

func hasReference(values map[string]string) bool {
	for _, v := range values {
		if strings.Contains(v, "${keyring:") {
			return true
		}
	}
	return false
}

// launcher returns the launch-consent check for stdio servers.
func (c *consent) launcher() *guard.Launcher { return c.launches }

// chain returns the interceptors for one session with server name.
func (c *consent) chain(name string, logf func(string, ...any)) []proxy.Middleware {
	g := &guard.Guard{
		Server:      name,
		Policy:      c.policy,
		Live:        c.live,
		Asker:       c.broker,
		Log:         c.log,
		Redact:      c.log.RedactJSON,
		RedactText:  c.log.RedactString,
		KeepWhole:   c.log.KeepWhole,
		KnownSecret: c.log.HasKnown,
		Pins:        c.toolPins,
		Logf:        logf,
		Protect:     c.protect,
	}
	c.mu.Lock()
	c.guards = append(c.guards, g)
	c.mu.Unlock()
	return append([]proxy.Middleware{proxy.Handshake()}, g.Middleware()...)
}

// lazyLog opens the decision log (and reads the keyring for its redactor) in the
// background, so a proxy starts its server without waiting for either. Every use waits
// for the opening to finish.
type lazyLog struct {
	ready chan struct{}
	log   *store.Log
	err   error
}

func openLazy(p paths) *lazyLog {
	l := &lazyLog{ready: make(chan struct{})}
	go func() {
		defer close(l.ready)
		l.log, l.err = openLog(p)
	}()
	return l
}

// Err reports why the log could not be opened, or nil.
func (l *lazyLog) Err() error { <-l.ready; return l.err }

// Append implements guard.Recorder.
func (l *lazyLog) Append(ctx context.Context, d *store.Decision) (int64, error) {
	if err := l.Err(); err != nil {
		return 0, err
	}
	return l.log.Append(ctx, d)
}

// AppendLater queues a row that gates nothing (see store.Log.AppendLater).
func (l *lazyLog) AppendLater(d *store.Decision) error {
	if err := l.Err(); err != nil {
		return err
	}
	return l.log.AppendLater(d)
}

// RedactJSON redacts arguments for display. Without a log (and so without the list of
// keyring values) it still removes token shapes and secret-named fields.
func (l *lazyLog) RedactJSON(b json.RawMessage) json.RawMessage {
	if l.Err() != nil {
		return (&store.Redactor{}).RedactJSON(b)
	}
	return l.log.Redactor().RedactJSON(b)
}

// RedactString redacts free text.
func (l *lazyLog) RedactString(s string) string {
	if l.Err() != nil {
		return (&store.Redactor{}).RedactString(s)
	}
	return l.log.Redactor().RedactString(s)
}

// HasKnown reports whether b holds a keyring value (see store.Redactor.HasKnown).
// Without a log there are no keyring values to look for.
func (l *lazyLog) HasKnown(b []byte) bool {
	if l.Err() != nil {
		return false
	}
	return l.log.Redactor().HasKnown(b)
}

// KeepWhole moves a cut in text to the left of any keyring value it would split (see
// store.Redactor.KeepWhole). Without a log there are no keyring values to keep whole.
func (l *lazyLog) KeepWhole(text string, cut int) int {
	if l.Err() != nil {
		return cut
	}
	return l.log.Redactor().KeepWhole(text, cut)
}

// Close closes the log once it is open.
func (l *lazyLog) Close() error {
	if l.Err() != nil {
		return nil
	}
	return l.log.Close()
}
