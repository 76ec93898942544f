// Package oauth signs Airlock in to remote MCP servers with OAuth 2.1, asking a person
// through the broker before any browser opens and keeping every credential in the OS keyring.
package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/store"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// Asker asks a person. *client.Client implements it.
type Asker interface {
	Ask(ctx context.Context, req apitype.AskRequest) (apitype.Decision, error)
}

// Recorder writes decision-log rows. *store.Log implements it.
type Recorder interface {
	Append(ctx context.Context, d *store.Decision) (int64, error)
}

// Secrets holds credentials. *secret.Store implements it; Get and Delete return an error
// matching secret.ErrNotFound for a missing name.
type Secrets interface {
	Get(name string) (string, error)
	Set(name, value string) error
	Delete(name string) error
}

// Config configures an Authorizer.
type Config struct {
	// Server is the server's name, shown to the person and used to name its secrets.
	Server string
	// URL is the server's MCP endpoint.
	URL string
	// Home is the Airlock home: the redirect port lives in Home/oauth, locks in Home/run.
	Home string
	// Secrets keeps tokens and client secrets (the OS keyring).
	Secrets Secrets
	// Asker reaches the broker; nil means there is none, and no sign-in can start.
	Asker Asker
	// Log records what happens; nil records nothing.
	Log Recorder
	// HTTPClient fetches metadata, registers the client and talks to the token
	// endpoint. When nil, a client with timeouts is used.
	HTTPClient *http.Client
	// OpenBrowser opens url in the person's browser. When nil, the system opener is
	// used (xdg-open, open, rundll32).
	OpenBrowser func(url string) error
	// ClientID and ClientSecret name a client registered with the authorization server
	// beforehand; ClientIssuer, if set, is the issuer it belongs to.
	ClientID, ClientSecret, ClientIssuer string
	// ClientMetadataURL is an https URL of Airlock's client ID metadata document, used
	// when the authorization server supports them and no ClientID is set.
	ClientMetadataURL string
	// RedirectPort, if set, is the one loopback port the browser's redirect may use
	// (http://127.0.0.1:PORT/callback), for clients registered with that exact URI.
	RedirectPort int
	// Now returns the time; nil means time.Now. Tests inject a clock.
	Now func() time.Time
}

// Tunables; variables so tests can shorten them.
var (
	// stateTTL is how long the browser has to come back after consent (the state's life).
	stateTTL = 10 * time.Minute
	// consentTTL bounds the wait for a person's answer (the broker times out first).
	consentTTL = 30 * time.Minute
	// refreshSkew refreshes a token this long before it expires.
	refreshSkew = time.Minute
	// maxStepUps caps step-up authorizations (403 insufficient_scope) per Authorizer.
	maxStepUps = 3
)

// Authorizer supplies Airlock's access token for one server and runs the sign-in when the
// server refuses it. It implements remote.Authorizer and is safe for concurrent use;
// within a process one flow or refresh runs at a time, and across processes a lock
// file under Home/run makes a second proxy wait for the first one's flow and reuse its
// token.
type Authorizer struct {
	cfg    Config
	id     string // names the secrets, the state file and the lock
	client *http.Client

	mu      sync.Mutex
	loaded  bool
	tok     *token // current token; nil when there is none
	st      state  // the state file (non-secret)
	flight  *flight
	stepUps int
	denied  error // the person said no: not asked again on this connection
}

type flight struct {
	done chan struct{}
	err  error
}

// New returns an Authorizer for cfg.Server. It touches neither the keyring nor the disk.
func New(cfg Config) (*Authorizer, error) {
	if cfg.Server == "" || cfg.URL == "" || cfg.Home == "" || cfg.Secrets == nil {
		return nil, errors.New("new authorizer: Server, URL, Home and Secrets are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.OpenBrowser == nil {
		cfg.OpenBrowser = OpenBrowser
	}
	c := cfg.HTTPClient
	if c == nil {
		c = defaultClient()
	}
	return &Authorizer{cfg: cfg, id: secretID(cfg.Server), client: c}, nil
}

// Authorization returns the Authorization header value for the next request to the
// server. managed reports whether Airlock handles the server's authorization: once it
// does, only Airlock's token may go upstream (value is "" when there is none yet, so
// the server's 401 starts a sign-in), and the caller must drop any configured
// Authorization header. A token about to expire is refreshed first; a refresh token the
// server revoked is dropped, so the next 401 asks the person again.
func (a *Authorizer) Authorization(ctx context.Context) (value string, managed bool, err error) {
	a.mu.Lock()
	a.loadLocked()
	needRefresh := a.refreshNeededLocked()
	a.mu.Unlock()
	if needRefresh {
		err = a.once(ctx, a.refreshNeededLocked, a.refreshFlow)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		return "", true, fmt.Errorf("server %q: refresh the access token: %w", a.cfg.Server, err)
	}
	if a.tok != nil && !a.tok.expired(a.cfg.Now()) {
		return a.tok.bearer(), true, nil
	}
	return "", a.st.Managed, nil
}

// Authorize handles a 401, or a 403 whose challenge says insufficient_scope, received
// for a request sent with the Authorization value sent ("" for none). It returns nil
// when the request should be sent once more: another request or proxy already got a
// newer token, a refresh worked, or the person approved and finished a sign-in. It only
// reads resp's headers. The flow survives ctx (a cancelled request does not waste a
// finished browser sign-in); ctx only bounds the wait.
func (a *Authorizer) Authorize(ctx context.Context, sent string, resp *http.Response) error {
	challenges, _ := oauthex.ParseWWWAuthenticate(resp.Header.Values("WWW-Authenticate"))
	ch := challengeOf(challenges)
	stepUp := resp.StatusCode == http.StatusForbidden
	if stepUp && ch.err != "insufficient_scope" {
		return fmt.Errorf("server %q refused the request (HTTP 403)", a.cfg.Server)
	}
	a.mu.Lock()
	denied := a.denied
	a.mu.Unlock()
	if denied != nil {
		return denied
	}
	// Called with a.mu held: is there no usable token but the one that failed?
	needed := func() bool { return a.tok == nil || a.tok.expired(a.cfg.Now()) || a.tok.bearer() == sent }
	return a.once(ctx, needed, func(fctx context.Context) error {
		return a.authorizeFlow(fctx, ch, stepUp, needed)
	})
}

// once runs f unless needed (called with a.mu held) says there is nothing to do, or
// joins the flow or refresh already running and checks again when it ends. It waits at
// most as long as ctx allows; f runs on a context that ctx's cancellation does not reach.
func (a *Authorizer) once(ctx context.Context, needed func() bool, f func(context.Context) error) error {
	for {
		a.mu.Lock()
		a.loadLocked()
		if !needed() {
			a.mu.Unlock()
			return nil
		}
		if fl := a.flight; fl != nil {
			a.mu.Unlock()
			select {
			case <-fl.done:
				if fl.err != nil {
					return fl.err
				}
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		fl := &flight{done: make(chan struct{})}
		a.flight = fl
		a.mu.Unlock()
		go func() {
			fl.err = f(context.WithoutCancel(ctx))
			a.mu.Lock()
			a.flight = nil
			a.mu.Unlock()
			close(fl.done)
		}()
		select {
		case <-fl.done:
			return fl.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// refreshNeededLocked reports whether the token is about to expire and can be refreshed.
func (a *Authorizer) refreshNeededLocked() bool {
	return a.tok != nil && a.tok.Refresh != "" && a.tok.expired(a.cfg.Now().Add(refreshSkew))
}

// refreshFlow refreshes the token under the cross-process lock. A token another proxy
// refreshed meanwhile is taken as is; a refused refresh token is forgotten.
func (a *Authorizer) refreshFlow(ctx context.Context) error {
	unlock, err := a.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	a.mu.Lock()
	a.reloadLocked()
	needed := a.refreshNeededLocked()
	a.mu.Unlock()
	if !needed {
		return nil
	}
	err = a.refresh(ctx)
	if errors.Is(err, errInvalidGrant) {
		return nil // dropped: the server's 401 will start a new sign-in
	}
	return err
}

// authorizeFlow runs under the cross-process lock: it takes a token another proxy got
// meanwhile, else tries the refresh token on a 401, else signs in.
func (a *Authorizer) authorizeFlow(ctx context.Context, ch challenge, stepUp bool, needed func() bool) error {
	unlock, err := a.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	a.mu.Lock()
	a.reloadLocked()
	if !needed() {
		a.mu.Unlock()
		return nil
	}
	canRefresh := !stepUp && a.tok != nil && a.tok.Refresh != ""
	if stepUp {
		if a.stepUps >= maxStepUps {
			a.mu.Unlock()
			return fmt.Errorf("server %q keeps asking for more scopes (%d step-ups): giving up", a.cfg.Server, maxStepUps)
		}
		a.stepUps++
	}
	a.mu.Unlock()
	if canRefresh {
		if err := a.refresh(ctx); err == nil {
			return nil
		}
	}
	err = a.signIn(ctx, ch, stepUp)
	var se *SignInError
	if errors.As(err, &se) && se.Denied {
		a.mu.Lock()
		a.denied = err
		a.mu.Unlock()
	}
	return err
}

// challenge is what a Bearer WWW-Authenticate challenge asked for.
type challenge struct {
	resourceMetadata string
	scopes           []string
	err              string
}

func challengeOf(cs []oauthex.Challenge) challenge {
	var c challenge
	for _, x := range cs {
		if x.Scheme != "bearer" {
			continue
		}
		if c.resourceMetadata == "" {
			c.resourceMetadata = x.Params["resource_metadata"]
		}
		if len(c.scopes) == 0 {
			c.scopes = fields(x.Params["scope"])
		}
		if c.err == "" {
			c.err = x.Params["error"]
		}
	}
	return c
}

// record writes one oauth row; reasons never hold a token or a secret.
func (a *Authorizer) record(ctx context.Context, o store.Outcome, by store.DecidedBy, args, reason string) {
	if a.cfg.Log == nil {
		return
	}
	ch := store.ChannelNone
	if by == store.DecidedByPolicy {
		ch = store.ChannelPolicy
	}
	a.cfg.Log.Append(context.WithoutCancel(ctx), &store.Decision{
		Time: a.cfg.Now().UTC(), Kind: store.KindOAuth, Server: a.cfg.Server, Tier: store.TierNone,
		Args: args, Outcome: o, DecidedBy: by, Channel: ch, Scope: store.ScopeOnce, Reason: a.scrub(reason),
	})
}
