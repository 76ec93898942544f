package oauth

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/consent/client"
	"github.com/airlock-mcp/airlock/store"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"
)

// Client registration kinds, in the order they are tried.
const (
	kindPreregistered = "preregistered"
	kindMetadata      = "metadata" // client ID metadata document
	kindDynamic       = "dynamic"  // RFC 7591
)

// SignInError is a sign-in that did not happen; its message is meant for the person
// (it reaches the IDE as the request's error).
type SignInError struct {
	Server string
	Msg    string
	// Denied reports that the person (or the broker's timeout) said no.
	Denied bool
}

func (e *SignInError) Error() string { return e.Msg }

// discovery is what the metadata says.
type discovery struct {
	prm *oauthex.ProtectedResourceMetadata
	asm *oauthex.AuthServerMeta
}

// signIn runs the authorization code flow: discovery, consent, registration, browser,
// callback, token exchange. The caller holds the lock.
func (a *Authorizer) signIn(ctx context.Context, ch challenge, stepUp bool) (err error) {
	defer func() {
		var se *SignInError
		if err != nil && !errors.As(err, &se) {
			a.record(ctx, store.OutcomeDeny, store.DecidedByPolicy, "", "sign-in failed: "+describe(err))
			err = &SignInError{Server: a.cfg.Server, Msg: fmt.Sprintf("server %q: sign-in failed: %s", a.cfg.Server, describe(err))}
		}
	}()
	d, err := a.discover(ctx, ch)
	if err != nil {
		return err
	}
	asm, resource := d.asm, d.prm.Resource

	// Scopes: what the challenge asks for, else what the resource lists; on step-up,
	// the union with what was granted.
	a.mu.Lock()
	st := a.st
	var granted []string
	if a.tok != nil {
		granted = a.tok.Scopes
	}
	a.mu.Unlock()
	scopes := ch.scopes
	if len(scopes) == 0 {
		scopes = d.prm.ScopesSupported
	}
	if stepUp {
		if len(ch.scopes) > 0 && subset(ch.scopes, granted) {
			return fmt.Errorf("server asks for scopes it was already granted (%s)", strings.Join(ch.scopes, " "))
		}
		scopes = union(granted, scopes)
	}
	if slices.Contains(asm.ScopesSupported, "offline_access") && !slices.Contains(scopes, "offline_access") {
		scopes = append(slices.Clip(scopes), "offline_access")
	}

	// The loopback listener, on the configured port, else on the port this server used
	// before (so a registered redirect URI keeps matching).
	var ln net.Listener
	var port int
	if a.cfg.RedirectPort > 0 {
		ln, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(a.cfg.RedirectPort))
		if err != nil {
			return fmt.Errorf("the redirect port %d configured for %q is in use (%v); free it or change oauth.redirectPort", a.cfg.RedirectPort, a.cfg.Server, err)
		}
		port = a.cfg.RedirectPort
	} else if ln, port, err = listen(st.Port); err != nil {
		return err
	}
	defer ln.Close()
	redirect := "http://127.0.0.1:" + strconv.Itoa(port) + "/callback"

	if err := a.ask(ctx, asm, resource, scopes, redirect, stepUp); err != nil {
		return err
	}

	reg, secret, err := a.register(ctx, asm, st, port, redirect)
	if err != nil {
		return err
	}
	reg.Resource = resource

	// State and PKCE are made only now, after consent; the state lives stateTTL.
	ctx, cancel := context.WithTimeout(ctx, stateTTL)
	defer cancel()
	verifier := oauth2.GenerateVerifier()
	stateValue := rand.Text()
	cfg := &oauth2.Config{
		ClientID:     reg.ClientID,
		ClientSecret: secret,
		Endpoint: oauth2.Endpoint{AuthURL: asm.AuthorizationEndpoint, TokenURL: asm.TokenEndpoint,
			AuthStyle: oauth2.AuthStyle(reg.AuthStyle)},
		RedirectURL: redirect,
		Scopes:      scopes,
	}
	authURL := cfg.AuthCodeURL(stateValue, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("resource", resource))

	got := make(chan callback, 1)
	srv := &http.Server{Handler: callbackHandler(stateValue, got), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	if err := a.cfg.OpenBrowser(authURL); err != nil {
		return fmt.Errorf("open the browser: %w", err)
	}
	var cb callback
	select {
	case cb = <-got:
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("the browser did not come back within %s", stateTTL)
		}
		return ctx.Err()
	}
	if cb.err != "" {
		return errors.New(cb.err)
	}
	if err := checkIssuer(cb.iss, asm); err != nil {
		return err
	}

	hc := context.WithValue(ctx, oauth2.HTTPClient, a.client)
	tok, err := cfg.Exchange(hc, cb.code, oauth2.VerifierOption(verifier), oauth2.SetAuthURLParam("resource", resource))
	if err != nil {
		return fmt.Errorf("exchange the authorization code: %s", describe(err))
	}
	if tt := tok.Type(); !strings.EqualFold(tt, "bearer") {
		return fmt.Errorf("the authorization server issued a %q token; Airlock only sends bearer tokens", tt)
	}
	t := &token{Access: tok.AccessToken, Type: tok.TokenType, Refresh: tok.RefreshToken, Expiry: tok.Expiry,
		Scopes: scopes, URL: a.cfg.URL, Resource: resource, Issuer: asm.Issuer, ClientID: reg.ClientID}
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		t.Scopes = fields(s)
	}
	if !tok.Expiry.IsZero() && tok.ExpiresIn > 0 {
		t.Expiry = a.cfg.Now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	if err := a.saveToken(t); err != nil {
		return err
	}
	reg.Managed = true
	reg.Scopes = t.Scopes
	if err := a.writeState(reg); err != nil {
		return err
	}
	args, _ := json.Marshal(map[string]any{"issuer": asm.Issuer, "resource": resource, "scopes": t.Scopes, "client": reg.ClientKind})
	a.record(ctx, store.OutcomeAllow, store.DecidedByUser, string(args),
		fmt.Sprintf("access token issued by %s for scopes %q%s", hostOf(asm.Issuer), strings.Join(t.Scopes, " "), expiresIn(t.Expiry, a.cfg.Now())))
	return nil
}

// discover finds the protected resource metadata (RFC 9728) and the authorization
// server metadata (RFC 8414 / OIDC), which must support PKCE with S256.
func (a *Authorizer) discover(ctx context.Context, ch challenge) (*discovery, error) {
	u, err := url.Parse(a.cfg.URL)
	if err != nil {
		return nil, err
	}
	type try struct{ meta, resource string }
	var tries []try
	if ch.resourceMetadata != "" {
		tries = append(tries, try{ch.resourceMetadata, a.cfg.URL})
	}
	root := *u
	root.RawQuery, root.Fragment, root.RawPath = "", "", ""
	if p := strings.Trim(u.Path, "/"); p != "" {
		root.Path = "/.well-known/oauth-protected-resource/" + p
		tries = append(tries, try{root.String(), a.cfg.URL})
	}
	root.Path = "/.well-known/oauth-protected-resource"
	origin := *u
	origin.Path, origin.RawPath, origin.RawQuery, origin.Fragment = "", "", "", ""
	tries = append(tries, try{root.String(), origin.String()})

	var prm *oauthex.ProtectedResourceMetadata
	var errs []error
	for _, t := range tries {
		p, err := oauthex.GetProtectedResourceMetadata(ctx, t.meta, t.resource, a.client)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if p != nil {
			prm = p
			break
		}
	}
	if prm == nil {
		return nil, fmt.Errorf("the server asks for authorization but publishes no usable protected resource metadata (RFC 9728): %w", errors.Join(errs...))
	}
	if len(prm.AuthorizationServers) == 0 {
		return nil, errors.New("the server's protected resource metadata names no authorization server")
	}
	issuer := prm.AuthorizationServers[0]
	asm, err := auth.GetAuthServerMetadata(ctx, issuer, a.client)
	if err != nil {
		return nil, fmt.Errorf("authorization server metadata: %w", err)
	}
	if asm == nil {
		return nil, fmt.Errorf("authorization server %s publishes no metadata (RFC 8414)", issuer)
	}
	if !slices.Contains(asm.CodeChallengeMethodsSupported, "S256") {
		return nil, fmt.Errorf("authorization server %s does not support PKCE with S256; Airlock refuses to sign in without it", asm.Issuer)
	}
	if asm.AuthorizationEndpoint == "" || asm.TokenEndpoint == "" {
		return nil, fmt.Errorf("authorization server %s lists no authorization or token endpoint", asm.Issuer)
	}
	return &discovery{prm: prm, asm: asm}, nil
}

// ask asks the person, through the broker, before anything is sent to the
// authorization server or any browser opens.
func (a *Authorizer) ask(ctx context.Context, asm *oauthex.AuthServerMeta, resource string, scopes []string, redirect string, stepUp bool) error {
	domain := hostOf(asm.AuthorizationEndpoint)
	what := "sign in"
	if stepUp {
		what = "grant more access"
	}
	scopeText := strings.Join(scopes, " ")
	if scopeText == "" {
		scopeText = "(none named)"
	}
	msg := fmt.Sprintf("Server %q (%s) asks you to %s at %s (authorization server %s). Scopes: %s. The browser will return to %s.",
		a.cfg.Server, a.cfg.URL, what, domain, asm.Issuer, scopeText, redirect)
	req := apitype.AskRequest{Kind: apitype.KindOAuth, Server: a.cfg.Server, URL: asm.AuthorizationEndpoint, Message: msg}
	args, _ := json.Marshal(map[string]any{"authorizationServer": domain, "issuer": asm.Issuer, "resource": resource, "scopes": scopes, "redirect": redirect})
	if a.cfg.Asker == nil {
		return a.noBroker(ctx, string(args))
	}
	actx, cancel := context.WithTimeout(ctx, consentTTL)
	defer cancel()
	d, err := a.cfg.Asker.Ask(actx, req)
	if client.IsNotRunning(err) {
		return a.noBroker(ctx, string(args))
	}
	if err != nil {
		return fmt.Errorf("ask for consent: %w", err)
	}
	if d.Outcome != apitype.Allow {
		reason := d.Reason
		if reason == "" {
			reason = "denied"
		}
		// The broker recorded the person's decision.
		return &SignInError{Server: a.cfg.Server, Denied: true,
			Msg: fmt.Sprintf("server %q needs you to sign in at %s, and that was not approved (%s); no browser was opened", a.cfg.Server, domain, reason)}
	}
	return nil
}

func (a *Authorizer) noBroker(ctx context.Context, args string) error {
	a.record(ctx, store.OutcomeDeny, store.DecidedByFallback, args, "sign-in needed but no Airlock approver was running; no browser was opened")
	return &SignInError{Server: a.cfg.Server, Msg: fmt.Sprintf(
		"server %q needs you to sign in, and Airlock opens the browser only after you approve it there: start the Airlock app (or `airlock daemon`) and try again", a.cfg.Server)}
}

// register returns the client to use: pre-registered, a client ID metadata document,
// the client registered before for this issuer and redirect URI, or a new dynamic
// registration (RFC 7591, application_type native). The returned state carries the
// registration; the client secret, if any, is in the keyring.
func (a *Authorizer) register(ctx context.Context, asm *oauthex.AuthServerMeta, st state, port int, redirect string) (state, string, error) {
	reg := state{Server: a.cfg.Server, URL: a.cfg.URL, Port: port, Managed: st.Managed,
		Issuer: asm.Issuer, RedirectURI: redirect, TokenEndpoint: asm.TokenEndpoint}
	switch {
	case a.cfg.ClientID != "":
		if a.cfg.ClientIssuer != "" && strings.TrimSuffix(a.cfg.ClientIssuer, "/") != strings.TrimSuffix(asm.Issuer, "/") {
			return reg, "", fmt.Errorf("the configured client belongs to %s, not to %s", a.cfg.ClientIssuer, asm.Issuer)
		}
		reg.ClientKind, reg.ClientID = kindPreregistered, a.cfg.ClientID
		reg.AuthStyle = int(authStyle(asm.TokenEndpointAuthMethodsSupported, a.cfg.ClientSecret != ""))
		return reg, a.cfg.ClientSecret, nil
	case a.cfg.ClientMetadataURL != "" && asm.ClientIDMetadataDocumentSupported:
		reg.ClientKind, reg.ClientID, reg.AuthStyle = kindMetadata, a.cfg.ClientMetadataURL, int(oauth2.AuthStyleInParams)
		return reg, "", nil
	case st.ClientKind == kindDynamic && st.ClientID != "" && st.Issuer == asm.Issuer && st.RedirectURI == redirect && st.TokenEndpoint == asm.TokenEndpoint:
		reg.ClientKind, reg.ClientID, reg.AuthStyle, reg.HasSecret = kindDynamic, st.ClientID, st.AuthStyle, st.HasSecret
		return reg, a.clientSecret(st), nil
	case asm.RegistrationEndpoint != "":
		resp, err := oauthex.RegisterClient(ctx, asm.RegistrationEndpoint, &oauthex.ClientRegistrationMetadata{
			RedirectURIs:            []string{redirect},
			TokenEndpointAuthMethod: "none",
			GrantTypes:              []string{"authorization_code", "refresh_token"},
			ResponseTypes:           []string{"code"},
			ClientName:              "Airlock",
			ApplicationType:         "native",
		}, a.client)
		if err != nil {
			return reg, "", errors.New("dynamic client registration failed") // its text may quote a secret
		}
		reg.ClientKind, reg.ClientID = kindDynamic, resp.ClientID
		reg.AuthStyle = int(authStyleFor(resp.TokenEndpointAuthMethod, resp.ClientSecret != ""))
		a.deleteSecret(a.clientName())
		if resp.ClientSecret != "" {
			if err := a.setSecret(a.clientName(), resp.ClientSecret); err != nil {
				return reg, "", fmt.Errorf("store the client secret: %w", err)
			}
			reg.HasSecret = true
		}
		// Keep the registration even if the flow fails later, so it is not repeated.
		a.writeState(reg)
		return reg, resp.ClientSecret, nil
	}
	return reg, "", fmt.Errorf("authorization server %s offers no way to register Airlock as a client (no dynamic registration); configure a client ID", asm.Issuer)
}

func authStyle(supported []string, hasSecret bool) oauth2.AuthStyle {
	if !hasSecret {
		return oauth2.AuthStyleInParams
	}
	for _, m := range []string{"client_secret_post", "client_secret_basic"} {
		if slices.Contains(supported, m) {
			return authStyleFor(m, true)
		}
	}
	return oauth2.AuthStyleInHeader
}

func authStyleFor(method string, hasSecret bool) oauth2.AuthStyle {
	switch {
	case !hasSecret, method == "none", method == "client_secret_post":
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleInHeader
}

// checkIssuer applies RFC 9207: an iss in the response must be the issuer, and one
// is required when the server says it sends it.
func checkIssuer(iss string, asm *oauthex.AuthServerMeta) error {
	if iss == "" {
		if asm.AuthorizationResponseIssParameterSupported {
			return errors.New("the authorization response has no iss although the authorization server promises one (RFC 9207)")
		}
		return nil
	}
	if iss != asm.Issuer {
		return fmt.Errorf("the authorization response came from issuer %q, not %q (RFC 9207): refused", iss, asm.Issuer)
	}
	return nil
}

// callback is what came back to the redirect listener.
type callback struct {
	code, iss string
	err       string
}

// callbackHandler accepts one redirect to /callback: the first one decides, with the
// expected state or not (the state is single-use).
func callbackHandler(want string, got chan<- callback) http.Handler {
	used := make(chan struct{}, 1)
	used <- struct{}{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		select {
		case <-used:
		default:
			http.Error(w, "This sign-in has already been answered.", http.StatusGone)
			return
		}
		q := r.URL.Query()
		var cb callback
		switch {
		case q.Get("state") != want:
			cb.err = "the authorization response does not carry the state Airlock sent: refused"
		case q.Get("error") != "":
			cb.err = "the authorization server answered " + q.Get("error")
			if d := q.Get("error_description"); d != "" {
				cb.err += " (" + d + ")"
			}
		case q.Get("code") == "":
			cb.err = "the authorization response has no code"
		default:
			cb.code, cb.iss = q.Get("code"), q.Get("iss")
		}
		got <- cb
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if cb.err != "" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "<!doctype html><title>Airlock</title><p>Airlock could not finish signing in: %s.</p>", html.EscapeString(cb.err))
			return
		}
		fmt.Fprint(w, "<!doctype html><title>Airlock</title><p>Airlock is signed in. You can close this tab.</p>")
	})
}

// listen binds the loopback redirect listener on port, or on a new port when port is 0
// or taken.
func listen(port int) (net.Listener, int, error) {
	if port > 0 {
		if ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			return ln, port, nil
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, 0, fmt.Errorf("listen for the browser's redirect: %w", err)
	}
	return ln, ln.Addr().(*net.TCPAddr).Port, nil
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	return u.Host
}

func subset(a, b []string) bool {
	for _, s := range a {
		if !slices.Contains(b, s) {
			return false
		}
	}
	return true
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
