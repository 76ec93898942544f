package oauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/consent/client"
	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
	"github.com/airlock-mcp/airlock/proxy/remote"
	"github.com/airlock-mcp/airlock/store"
	"github.com/airlock-mcp/airlock/store/secret"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"github.com/zalando/go-keyring"
)

// waitLimit bounds every wait so a broken test fails instead of hanging.
const waitLimit = 20 * time.Second

const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

type env struct {
	t       *testing.T
	clock   *clock
	as      *authServer
	rs      *resourceServer
	home    string
	secrets *secret.Store
	asker   *asker
	log     *memLog
	browser *browser
}

func setup(t *testing.T) *env {
	keyring.MockInit()
	clk := &clock{t: time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)}
	as := newAuthServer(t, clk)
	rs := newResourceServer(t, as)
	home := t.TempDir()
	ss, err := secret.New(home)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, clock: clk, as: as, rs: rs, home: home, secrets: ss, asker: &asker{}, log: &memLog{}, browser: newBrowser(t)}
}

func (e *env) authorizer() *Authorizer {
	a, err := New(Config{Server: "notes", URL: e.rs.url, Home: e.home, Secrets: e.secrets, Asker: e.asker,
		Log: e.log, HTTPClient: loopbackClient(), OpenBrowser: e.browser.open, Now: e.clock.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// dial connects like `airlock run notes` does, with an IDE-configured Authorization
// header that must never reach the server once Airlock signs in.
func (e *env) dial(a *Authorizer) *remote.Conn {
	c, err := remote.Dial(context.Background(), remote.Options{Name: "notes", URL: e.rs.url, Auth: a,
		Header: map[string][]string{"Authorization": {"Bearer ide-token"}}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// call writes raw and returns the response with the same id.
func call(t *testing.T, c *remote.Conn, raw string) *jsonrpc.Message {
	t.Helper()
	m, err := jsonrpc.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	wrote := make(chan error, 1)
	go func() { wrote <- c.Write(m) }()
	type result struct {
		m   *jsonrpc.Message
		err error
	}
	got := make(chan result, 1)
	go func() {
		for {
			r, err := c.Read()
			if err != nil || (r.Kind == jsonrpc.KindResponse && r.ID == m.ID) {
				got <- result{r, err}
				return
			}
		}
	}()
	select {
	case r := <-got:
		if r.err != nil {
			t.Fatalf("Read: %v", r.err)
		}
		if err := <-wrote; err != nil {
			t.Fatalf("Write: %v", err)
		}
		return r.m
	case <-time.After(waitLimit):
		t.Fatalf("no answer to %s", raw)
		return nil
	}
}

func wantResult(t *testing.T, m *jsonrpc.Message) {
	t.Helper()
	if e := m.ErrorObject(); e != nil {
		t.Fatalf("want a result, got error %d %q", e.Code, e.Message)
	}
}

func wantError(t *testing.T, m *jsonrpc.Message, substr string) {
	t.Helper()
	e := m.ErrorObject()
	if e == nil {
		t.Fatalf("want an error containing %q, got %s", substr, m.Raw)
	}
	if !strings.Contains(e.Message, substr) {
		t.Fatalf("error %q does not contain %q", e.Message, substr)
	}
}

func (e *env) storedToken() *token {
	v, err := e.secrets.Get("oauth.notes.token")
	if errors.Is(err, secret.ErrNotFound) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return decodeToken(e.t, v)
}

// checkNoSecretsOnDisk walks the Airlock home and the decision rows for every token
// and client secret the authorization server issued.
func (e *env) checkNoSecretsOnDisk() {
	e.t.Helper()
	secrets := e.as.issuedSecrets()
	if len(secrets) == 0 {
		e.t.Fatal("the authorization server issued nothing")
	}
	filepath.WalkDir(e.home, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				e.t.Errorf("%s holds a token or client secret", p)
			}
		}
		return nil
	})
	for _, row := range e.log.all() {
		text := row.Args + row.Reason + row.Server + row.Tool
		for _, s := range secrets {
			if strings.Contains(text, s) {
				e.t.Errorf("decision row %q holds a token or client secret", row.Reason)
			}
		}
	}
}

func (e *env) rows(substr string) int {
	n := 0
	for _, r := range e.log.all() {
		if r.Kind != store.KindOAuth {
			e.t.Errorf("row of kind %q", r.Kind)
		}
		if strings.Contains(r.Reason, substr) {
			n++
		}
	}
	return n
}

func TestSignIn(t *testing.T) {
	e := setup(t)
	c := e.dial(e.authorizer())

	wantResult(t, call(t, c, initialize))
	wantResult(t, call(t, c, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{}}}`))

	asks := e.asker.requests()
	if len(asks) != 1 {
		t.Fatalf("asked %d times, want 1", len(asks))
	}
	ask := asks[0]
	asHost := strings.TrimPrefix(e.as.srv.URL, "http://")
	if ask.Kind != apitype.KindOAuth || ask.Server != "notes" || ask.URL != e.as.srv.URL+"/authorize" {
		t.Errorf("ask = %+v", ask)
	}
	for _, want := range []string{`"notes"`, asHost, "Scopes: read offline_access", "http://127.0.0.1:", "/callback"} {
		if !strings.Contains(ask.Message, want) {
			t.Errorf("consent message %q lacks %q", ask.Message, want)
		}
	}
	if strings.Contains(ask.URL, "state=") || strings.Contains(ask.Message, "state=") {
		t.Errorf("consent shows a state before consent: %+v", ask)
	}
	if e.browser.opens() != 1 {
		t.Errorf("browser opened %d times, want 1", e.browser.opens())
	}
	opened, _ := url.Parse(e.browser.opened[0])
	q := opened.Query()
	if q.Get("resource") != e.rs.url || q.Get("code_challenge_method") != "S256" || q.Get("state") == "" {
		t.Errorf("authorization URL %s lacks resource, S256 or state", opened)
	}
	if page := <-e.browser.done; !strings.Contains(page, "signed in") {
		t.Errorf("callback page = %q", page)
	}
	for _, r := range e.as.resources {
		if r != e.rs.url {
			t.Errorf("token request resource %q, want %q", r, e.rs.url)
		}
	}

	tok := e.storedToken()
	if tok == nil || !strings.HasPrefix(tok.Access, "at-") || !strings.HasPrefix(tok.Refresh, "rt-") {
		t.Fatalf("keyring token = %+v", tok)
	}
	if v, err := e.secrets.Get("oauth.notes.client"); err != nil || !strings.HasPrefix(v, "cs-") {
		t.Errorf("client secret in keyring = %q, %v", v, err)
	}
	e.checkNoSecretsOnDisk()
	fi, err := os.Stat(filepath.Join(e.home, "oauth", "notes.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file: %v %v", fi, err)
	}
	if st := (&Authorizer{cfg: Config{Home: e.home, URL: e.rs.url}, id: "notes"}).readState(); st.Port == 0 || !st.Managed {
		t.Errorf("state = %+v, want a port and managed", st)
	}

	// The IDE's header went out once, before Airlock managed the server; never after.
	seen := e.rs.authHeaders()
	if seen[0] != "Bearer ide-token" {
		t.Errorf("first request carried %q", seen[0])
	}
	for _, h := range seen[1:] {
		if h != "Bearer "+tok.Access {
			t.Errorf("a later request carried %q, want Airlock's token", h)
		}
	}
	if e.rows("access token issued") != 1 {
		t.Errorf("rows = %+v", e.log.all())
	}

	// A new connection (a restarted proxy) uses the stored token: no 401, no question.
	c2 := e.dial(e.authorizer())
	n := len(e.rs.authHeaders())
	wantResult(t, call(t, c2, initialize))
	if h := e.rs.authHeaders()[n]; h != "Bearer "+tok.Access {
		t.Errorf("restarted proxy sent %q", h)
	}
	if len(e.asker.requests()) != 1 {
		t.Errorf("restarted proxy asked again")
	}
}

func TestRefresh(t *testing.T) {
	e := setup(t)
	c := e.dial(e.authorizer())
	wantResult(t, call(t, c, initialize))
	first := e.storedToken()

	e.clock.Add(2 * time.Hour)
	wantResult(t, call(t, c, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{}}}`))
	_, _, issued, refreshes := e.as.counts()
	if issued != 1 || refreshes != 1 {
		t.Errorf("issued %d refreshed %d, want 1 and 1", issued, refreshes)
	}
	second := e.storedToken()
	if second.Access == first.Access || second.Refresh == first.Refresh {
		t.Errorf("token not replaced in the keyring")
	}
	if len(e.asker.requests()) != 1 || e.browser.opens() != 1 {
		t.Errorf("a refresh asked or opened the browser")
	}
	for _, r := range e.as.resources {
		if r != e.rs.url {
			t.Errorf("token request resource %q, want %q", r, e.rs.url)
		}
	}
	if e.rows("access token refreshed") != 1 {
		t.Errorf("rows = %+v", e.log.all())
	}
	e.checkNoSecretsOnDisk()
}

func TestRevokedRefreshTokenAsksAgain(t *testing.T) {
	e := setup(t)
	c := e.dial(e.authorizer())
	wantResult(t, call(t, c, initialize))

	e.as.revokeRefresh()
	e.clock.Add(2 * time.Hour)
	wantResult(t, call(t, c, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{}}}`))
	if n := len(e.asker.requests()); n != 2 {
		t.Errorf("asked %d times, want 2", n)
	}
	registrations, authorizations, issued, _ := e.as.counts()
	if registrations != 1 || authorizations != 2 || issued != 2 {
		t.Errorf("registrations %d authorizations %d issued %d, want 1 2 2 (the client and its port are reused)", registrations, authorizations, issued)
	}
	if e.rows("invalid_grant") != 1 {
		t.Errorf("rows = %+v", e.log.all())
	}
	e.checkNoSecretsOnDisk()
}

func TestCallbackRefused(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(url.Values)
		want   string
	}{
		{"wrong state", func(q url.Values) { q.Set("state", "forged") }, "state"},
		{"wrong iss", func(q url.Values) { q.Set("iss", "https://evil.example") }, "issuer"},
		{"missing iss", func(q url.Values) { q.Del("iss") }, "no iss"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t)
			e.browser.tamper = tc.tamper
			c := e.dial(e.authorizer())
			wantError(t, call(t, c, initialize), tc.want)
			if tok := e.storedToken(); tok != nil {
				t.Errorf("a token was stored: %+v", tok)
			}
			if _, _, issued, _ := e.as.counts(); issued != 0 {
				t.Errorf("%d tokens issued", issued)
			}
			if e.rows("sign-in failed") != 1 {
				t.Errorf("rows = %+v", e.log.all())
			}
		})
	}
}

func TestConsentDenied(t *testing.T) {
	e := setup(t)
	e.asker.outcome = apitype.Deny
	c := e.dial(e.authorizer())
	wantError(t, call(t, c, initialize), "not approved")
	wantError(t, call(t, c, strings.Replace(initialize, `"id":1`, `"id":3`, 1)), "not approved")
	if e.browser.opens() != 0 {
		t.Errorf("browser opened after a denial")
	}
	if n := len(e.asker.requests()); n != 1 {
		t.Errorf("asked %d times on one connection, want 1", n)
	}
	if registrations, _, _, _ := e.as.counts(); registrations != 0 {
		t.Errorf("registered with the authorization server before consent")
	}
}

func TestNoBroker(t *testing.T) {
	e := setup(t)
	e.asker.err = &client.NotRunningError{Socket: "x", Err: errors.New("connection refused")}
	c := e.dial(e.authorizer())
	wantError(t, call(t, c, initialize), "start the Airlock app")
	if e.browser.opens() != 0 {
		t.Errorf("browser opened without a broker")
	}
	rows := e.log.all()
	if len(rows) != 1 || rows[0].Outcome != store.OutcomeDeny || rows[0].DecidedBy != store.DecidedByFallback {
		t.Errorf("rows = %+v", rows)
	}
}

func TestStepUp(t *testing.T) {
	e := setup(t)
	c := e.dial(e.authorizer())
	wantResult(t, call(t, c, initialize))
	e.rs.mu.Lock()
	e.rs.need = []string{"read", "admin"}
	e.rs.mu.Unlock()
	wantResult(t, call(t, c, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{}}}`))
	asks := e.asker.requests()
	if len(asks) != 2 {
		t.Fatalf("asked %d times, want 2", len(asks))
	}
	if !strings.Contains(asks[1].Message, "grant more access") || !strings.Contains(asks[1].Message, "Scopes: read offline_access admin") {
		t.Errorf("step-up consent = %q, want the union of scopes", asks[1].Message)
	}
	if tok := e.storedToken(); strings.Join(tok.Scopes, " ") != "read offline_access admin" {
		t.Errorf("scopes = %q", tok.Scopes)
	}
}

func TestTwoProxiesOneFlow(t *testing.T) {
	e := setup(t)
	e.asker.gate = make(chan struct{})
	e.asker.askedSig = make(chan struct{}, 4)
	waiting := make(chan struct{}, 4)
	testHookLockWait = func(string) { waiting <- struct{}{} }
	t.Cleanup(func() { testHookLockWait = nil })

	ca, cb := e.dial(e.authorizer()), e.dial(e.authorizer())
	answers := make(chan *jsonrpc.Message, 2)
	go func() { answers <- callQuiet(ca, initialize) }()
	await(t, e.asker.askedSig, "the first proxy's consent")
	go func() { answers <- callQuiet(cb, initialize) }()
	await(t, waiting, "the second proxy to wait for the lock")
	close(e.asker.gate)
	for range 2 {
		select {
		case m := <-answers:
			if m == nil {
				t.Fatal("a proxy got no answer")
			}
			wantResult(t, m)
		case <-time.After(waitLimit):
			t.Fatal("timed out")
		}
	}
	_, authorizations, issued, _ := e.as.counts()
	if n := len(e.asker.requests()); n != 1 || e.browser.opens() != 1 || authorizations != 1 || issued != 1 {
		t.Errorf("asks %d, opens %d, authorizations %d, issued %d: want one flow", n, e.browser.opens(), authorizations, issued)
	}
}

func callQuiet(c *remote.Conn, raw string) *jsonrpc.Message {
	m, _ := jsonrpc.Parse([]byte(raw))
	if c.Write(m) != nil {
		return nil
	}
	for {
		r, err := c.Read()
		if err != nil {
			return nil
		}
		if r.Kind == jsonrpc.KindResponse && r.ID == m.ID {
			return r
		}
	}
}

func await(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(waitLimit):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestSecretID(t *testing.T) {
	for name, want := range map[string]string{"notes": "notes", "my_server-2": "my_server-2"} {
		if got := secretID(name); got != want {
			t.Errorf("secretID(%q) = %q", name, got)
		}
	}
	for _, name := range []string{"a.b", "@org/server", strings.Repeat("x", 60), "has space"} {
		id := secretID(name)
		if !secret.ValidName("oauth." + id + ".client") {
			t.Errorf("secretID(%q) = %q makes an invalid secret name", name, id)
		}
	}
}

// A client registered beforehand (for authorization servers without dynamic registration):
// its ID and secret come from the configuration, the redirect uses the one registered
// port, nothing is registered, and the secret never reaches the keyring or the disk.
func TestPreregisteredClient(t *testing.T) {
	e := setup(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	redirect := fmt.Sprintf("http://127.0.0.1:%d/callback", port)
	const id, clientSecret = "pre-registered-id", "cs-preregistered-secret"
	e.as.mu.Lock()
	c := &oauthex.ClientRegistrationResponse{ClientID: id, ClientSecret: clientSecret}
	c.RedirectURIs = []string{redirect}
	e.as.clients[id] = c
	e.as.secrets = append(e.as.secrets, clientSecret)
	e.as.mu.Unlock()

	cfg := func(issuer string) Config {
		return Config{Server: "notes", URL: e.rs.url, Home: e.home, Secrets: e.secrets, Asker: e.asker,
			Log: e.log, HTTPClient: loopbackClient(), OpenBrowser: e.browser.open, Now: e.clock.Now,
			ClientID: id, ClientSecret: clientSecret, ClientIssuer: issuer, RedirectPort: port}
	}

	// A client that belongs to another issuer is never shown to this one.
	a, err := New(cfg("https://elsewhere.example"))
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, call(t, e.dial(a), initialize), "the configured client belongs to https://elsewhere.example")
	if e.browser.opens() != 0 {
		t.Fatalf("browser opened for a client of another issuer")
	}

	a, err = New(cfg(e.as.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	wantResult(t, call(t, e.dial(a), initialize))
	if e.browser.opens() != 1 {
		t.Fatalf("browser opened %d times, want 1", e.browser.opens())
	}
	opened, _ := url.Parse(e.browser.opened[0])
	if q := opened.Query(); q.Get("client_id") != id || q.Get("redirect_uri") != redirect {
		t.Errorf("authorization URL %s: want client_id %s and redirect_uri %s", opened, id, redirect)
	}
	if page := <-e.browser.done; !strings.Contains(page, "signed in") {
		t.Errorf("callback page = %q", page)
	}
	e.as.mu.Lock()
	regs := e.as.registrations
	e.as.mu.Unlock()
	if regs != 0 {
		t.Errorf("%d dynamic registrations, want none", regs)
	}
	if tok := e.storedToken(); tok == nil || !strings.HasPrefix(tok.Access, "at-") {
		t.Fatalf("keyring token = %+v", tok)
	}
	if _, err := e.secrets.Get("oauth.notes.client"); !errors.Is(err, secret.ErrNotFound) {
		t.Errorf("the configured client secret was copied to the keyring (%v)", err)
	}
	e.checkNoSecretsOnDisk()

	// The registered port taken by something else: a clear error, not another port.
	busy, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	e.secrets.Delete("oauth.notes.token")
	a, err = New(cfg(e.as.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, call(t, e.dial(a), initialize), fmt.Sprintf("redirect port %d configured for \"notes\" is in use", port))
}
