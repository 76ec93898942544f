package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/airlock-mcp/airlock/store/atomicfile"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/airlock-mcp/airlock/store"
	"golang.org/x/oauth2"
)

// token is what the keyring holds for a server (one JSON value): the tokens and what
// they are bound to, so a token never goes to a server it was not issued for.
type token struct {
	Access  string    `json:"access"`
	Type    string    `json:"type,omitempty"`
	Refresh string    `json:"refresh,omitempty"`
	Expiry  time.Time `json:"expiry,omitzero"`
	Scopes  []string  `json:"scopes,omitempty"`
	// Binding.
	URL      string `json:"url"`
	Resource string `json:"resource"`
	Issuer   string `json:"issuer"`
	ClientID string `json:"clientId"`
}

func (t *token) bearer() string { return "Bearer " + t.Access }

// expired reports whether the token is no longer valid at now.
func (t *token) expired(now time.Time) bool { return !t.Expiry.IsZero() && !now.Before(t.Expiry) }

// state is the non-secret file Home/oauth/<id>.json: enough to refresh a token and to
// keep the redirect URI a registered client knows.
type state struct {
	Server string `json:"server"`
	URL    string `json:"url"`
	// Managed reports that Airlock signed in to this server: configured Authorization
	// headers are no longer sent.
	Managed bool `json:"managed,omitempty"`
	// Port is the loopback redirect listener's port.
	Port int `json:"port,omitempty"`
	// Client registration.
	Issuer        string   `json:"issuer,omitempty"`
	ClientID      string   `json:"clientId,omitempty"`
	ClientKind    string   `json:"clientKind,omitempty"` // preregistered, metadata, dynamic
	RedirectURI   string   `json:"redirectUri,omitempty"`
	TokenEndpoint string   `json:"tokenEndpoint,omitempty"`
	AuthStyle     int      `json:"authStyle,omitempty"` // oauth2.AuthStyle
	HasSecret     bool     `json:"hasSecret,omitempty"` // the client secret is in the keyring
	Resource      string   `json:"resource,omitempty"`
	Scopes        []string `json:"scopes,omitempty"` // granted
}

// keyringMu serialises this package's keyring calls (some backends, like the test mock,
// are not safe for concurrent use).
var keyringMu sync.Mutex

var simpleName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)

// secretID turns a server name into the part of secret and file names that stands for
// it: the name itself when it is short and plain, else a hash of it.
func secretID(server string) string {
	if simpleName.MatchString(server) {
		return server
	}
	sum := sha256.Sum256([]byte(server))
	return "h" + hex.EncodeToString(sum[:12])
}

func (a *Authorizer) tokenName() string  { return "oauth." + a.id + ".token" }
func (a *Authorizer) clientName() string { return "oauth." + a.id + ".client" }
func (a *Authorizer) statePath() string  { return filepath.Join(a.cfg.Home, "oauth", a.id+".json") }
func (a *Authorizer) lockPath() string {
	return filepath.Join(a.cfg.Home, "run", "oauth-"+a.id+".lock")
}

func (a *Authorizer) getSecret(name string) (string, error) {
	keyringMu.Lock()
	defer keyringMu.Unlock()
	return a.cfg.Secrets.Get(name)
}

func (a *Authorizer) setSecret(name, v string) error {
	keyringMu.Lock()
	defer keyringMu.Unlock()
	return a.cfg.Secrets.Set(name, v)
}

func (a *Authorizer) deleteSecret(name string) {
	keyringMu.Lock()
	defer keyringMu.Unlock()
	a.cfg.Secrets.Delete(name)
}

// loadLocked reads the state file and the token once.
func (a *Authorizer) loadLocked() {
	if !a.loaded {
		a.reloadLocked()
		a.loaded = true
	}
}

// reloadLocked reads the state file and the token again, keeping only a token bound to
// this server's URL and the registered client.
func (a *Authorizer) reloadLocked() {
	a.st = a.readState()
	a.tok = nil
	if !a.st.Managed {
		return // never signed in: no keyring access (and no keychain prompt)
	}
	v, err := a.getSecret(a.tokenName())
	if err != nil {
		return
	}
	var t token
	if json.Unmarshal([]byte(v), &t) != nil || t.Access == "" || t.URL != a.cfg.URL ||
		(a.st.ClientID != "" && t.ClientID != a.st.ClientID) {
		return
	}
	a.tok = &t
}

func (a *Authorizer) readState() state {
	var st state
	b, err := os.ReadFile(a.statePath())
	if err != nil || json.Unmarshal(b, &st) != nil || st.URL != a.cfg.URL {
		// A different URL under the same name: start over (the port may stay).
		return state{Server: a.cfg.Server, URL: a.cfg.URL, Port: st.Port}
	}
	return st
}

// writeState replaces the state file atomically, mode 0600. Callers hold the lock.
func (a *Authorizer) writeState(st state) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("write oauth state: %w", err)
	}
	if err := atomicfile.Write(a.statePath(), append(b, '\n')); err != nil {
		return fmt.Errorf("write oauth state: %w", err)
	}

	a.mu.Lock()
	a.st = st
	a.mu.Unlock()
	return nil
}

// saveToken stores t in the keyring and makes it current.
func (a *Authorizer) saveToken(t *token) error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	if err := a.setSecret(a.tokenName(), string(b)); err != nil {
		return fmt.Errorf("store the access token: %w", err)
	}
	a.mu.Lock()
	a.tok = t
	a.mu.Unlock()
	return nil
}

// dropToken forgets the token, in memory and in the keyring.
func (a *Authorizer) dropToken() {
	a.deleteSecret(a.tokenName())
	a.mu.Lock()
	a.tok = nil
	a.mu.Unlock()
}

// clientSecret returns the client secret for st's client, or "".
func (a *Authorizer) clientSecret(st state) string {
	if st.ClientKind == kindPreregistered {
		return a.cfg.ClientSecret
	}
	if !st.HasSecret {
		return ""
	}
	v, err := a.getSecret(a.clientName())
	if err != nil {
		return ""
	}
	return v
}

// errInvalidGrant means the authorization server refused the refresh token.
var errInvalidGrant = errors.New("the authorization server refused the refresh token (invalid_grant)")

// refresh exchanges the refresh token for a new token, with the RFC 8707 resource. On
// invalid_grant it forgets the token and returns errInvalidGrant. The caller holds the
// lock.
func (a *Authorizer) refresh(ctx context.Context) error {
	a.mu.Lock()
	t, st := a.tok, a.st
	a.mu.Unlock()
	if t == nil || t.Refresh == "" || st.TokenEndpoint == "" {
		return errors.New("no refresh token")
	}
	v := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {t.Refresh}}
	if t.Resource != "" {
		v.Set("resource", t.Resource)
	}
	tr, err := a.tokenRequest(ctx, st, a.clientSecret(st), v)
	if err != nil {
		var re *tokenError
		if errors.As(err, &re) && re.Code == "invalid_grant" {
			a.dropToken()
			a.record(ctx, store.OutcomeDeny, store.DecidedByPolicy, "", "refresh token refused by the authorization server (invalid_grant); the next request asks to sign in again")
			return errInvalidGrant
		}
		a.record(ctx, store.OutcomeDeny, store.DecidedByPolicy, "", "refreshing the access token failed: "+describe(err))
		return err
	}
	nt := *t
	nt.Access, nt.Type, nt.Expiry = tr.AccessToken, tr.TokenType, tr.expiry(a.cfg.Now())
	if tr.RefreshToken != "" {
		nt.Refresh = tr.RefreshToken
	}
	if s := fields(tr.Scope); len(s) > 0 {
		nt.Scopes = s
	}
	if err := a.saveToken(&nt); err != nil {
		return err
	}
	a.record(ctx, store.OutcomeAllow, store.DecidedByPolicy, "", "access token refreshed"+expiresIn(nt.Expiry, a.cfg.Now()))
	return nil
}

// tokenResponse is a token endpoint's answer (RFC 6749 section 5.1).
type tokenResponse struct {
	AccessToken  string      `json:"access_token"`
	TokenType    string      `json:"token_type"`
	RefreshToken string      `json:"refresh_token"`
	ExpiresIn    json.Number `json:"expires_in"`
	Scope        string      `json:"scope"`
}

func (r *tokenResponse) expiry(now time.Time) time.Time {
	n, err := r.ExpiresIn.Int64()
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return now.Add(time.Duration(n) * time.Second)
}

// tokenError is a token endpoint's error (RFC 6749 section 5.2).
type tokenError struct {
	Status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *tokenError) Error() string {
	s := fmt.Sprintf("token endpoint answered HTTP %d", e.Status)
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Description != "" {
		s += " (" + e.Description + ")"
	}
	return s
}

// tokenRequest posts v to the token endpoint with the client's authentication. It is
// used for refreshes because golang.org/x/oauth2 cannot add the resource parameter to
// them.
func (a *Authorizer) tokenRequest(ctx context.Context, st state, secret string, v url.Values) (*tokenResponse, error) {
	style := oauth2.AuthStyle(st.AuthStyle)
	if secret == "" || style != oauth2.AuthStyleInHeader {
		v.Set("client_id", st.ClientID)
		if secret != "" {
			v.Set("client_secret", secret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, st.TokenEndpoint, strings.NewReader(v.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if secret != "" && style == oauth2.AuthStyleInHeader {
		req.SetBasicAuth(url.QueryEscape(st.ClientID), url.QueryEscape(secret))
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		te := &tokenError{Status: resp.StatusCode}
		json.Unmarshal(body, te)
		return nil, te
	}
	var tr tokenResponse
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" && !json.Valid(body) {
		return nil, fmt.Errorf("token endpoint answered %q, not JSON", mt)
	}
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, errors.New("token endpoint answered malformed JSON")
	}
	if tr.AccessToken == "" {
		te := &tokenError{Status: resp.StatusCode}
		json.Unmarshal(body, te)
		if te.Code != "" {
			return nil, te
		}
		return nil, errors.New("token endpoint answered without an access_token")
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer") {
		return nil, fmt.Errorf("token endpoint issued a %q token; Airlock only sends bearer tokens", tr.TokenType)
	}
	return &tr, nil
}

// describe turns an error into text for a log row or a message, without response
// bodies (oauth2.RetrieveError's text quotes them).
func describe(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		te := &tokenError{Code: re.ErrorCode, Description: re.ErrorDescription}
		if re.Response != nil {
			te.Status = re.Response.StatusCode
		}
		return te.Error()
	}
	s := err.Error()
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// scrub removes the secrets this Authorizer knows from s.
func (a *Authorizer) scrub(s string) string {
	a.mu.Lock()
	var known []string
	if t := a.tok; t != nil {
		known = append(known, t.Access, t.Refresh)
	}
	a.mu.Unlock()
	known = append(known, a.cfg.ClientSecret)
	for _, k := range known {
		if len(k) >= 4 {
			s = strings.ReplaceAll(s, k, "[redacted]")
		}
	}
	return s
}

func expiresIn(exp, now time.Time) string {
	if exp.IsZero() {
		return " (no expiry given)"
	}
	return fmt.Sprintf(" (expires in %s)", exp.Sub(now).Round(time.Second))
}

func fields(s string) []string { return strings.Fields(s) }

func defaultClient() *http.Client {
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout: 15 * time.Second,
			ForceAttemptHTTP2:   true,
		},
	}
}
