package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/store"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// clock is a settable clock shared by the fixture and the Authorizer.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type grant struct {
	client, resource string
	scopes           []string
	expiry           time.Time
}

type authReq struct {
	client, redirect, state, challenge, resource string
	scopes                                       []string
}

// authServer is a minimal OAuth 2.1 authorization server: RFC 8414 metadata, RFC 7591
// registration, authorization with PKCE S256 and RFC 8707 resources, a consent form,
// refresh token rotation, and RFC 9207 iss.
type authServer struct {
	t        *testing.T
	srv      *httptest.Server
	clock    *clock
	resource string
	ttl      time.Duration

	mu             sync.Mutex
	clients        map[string]*oauthex.ClientRegistrationResponse
	pending        map[string]authReq
	codes          map[string]authReq
	access         map[string]grant
	refresh        map[string]grant
	secrets        []string // every token and client secret issued
	registrations  int
	authorizations int
	issued         int
	refreshes      int
	resources      []string // resource parameters seen on the token endpoint
}

func newAuthServer(t *testing.T, clk *clock) *authServer {
	as := &authServer{t: t, clock: clk, ttl: time.Hour,
		clients: map[string]*oauthex.ClientRegistrationResponse{}, pending: map[string]authReq{},
		codes: map[string]authReq{}, access: map[string]grant{}, refresh: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", as.metadata)
	mux.HandleFunc("POST /register", as.register)
	mux.HandleFunc("GET /authorize", as.authorize)
	mux.HandleFunc("POST /consent", as.consent)
	mux.HandleFunc("POST /token", as.token)
	as.srv = httptest.NewServer(mux)
	t.Cleanup(as.srv.Close)
	return as
}

func (as *authServer) metadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, 200, &oauthex.AuthServerMeta{
		Issuer:                                     as.srv.URL,
		AuthorizationEndpoint:                      as.srv.URL + "/authorize",
		TokenEndpoint:                              as.srv.URL + "/token",
		RegistrationEndpoint:                       as.srv.URL + "/register",
		ScopesSupported:                            []string{"read", "admin", "offline_access"},
		ResponseTypesSupported:                     []string{"code"},
		CodeChallengeMethodsSupported:              []string{"S256"},
		TokenEndpointAuthMethodsSupported:          []string{"client_secret_basic", "none"},
		AuthorizationResponseIssParameterSupported: true,
	})
}

func (as *authServer) register(w http.ResponseWriter, r *http.Request) {
	var m oauthex.ClientRegistrationMetadata
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		writeJSON(w, 400, map[string]string{"error": "invalid_client_metadata"})
		return
	}
	if m.ApplicationType != "native" || len(m.RedirectURIs) == 0 {
		as.t.Errorf("registration: application_type %q, redirect_uris %q", m.ApplicationType, m.RedirectURIs)
	}
	for _, u := range m.RedirectURIs {
		if !strings.HasPrefix(u, "http://127.0.0.1:") {
			as.t.Errorf("registration: redirect URI %q is not loopback", u)
		}
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	as.registrations++
	resp := &oauthex.ClientRegistrationResponse{ClientRegistrationMetadata: m, ClientID: "client-" + rand.Text()[:8], ClientSecret: "cs-" + rand.Text()}
	resp.TokenEndpointAuthMethod = "client_secret_basic"
	as.clients[resp.ClientID] = resp
	as.secrets = append(as.secrets, resp.ClientSecret)
	writeJSON(w, 201, resp)
}

func (as *authServer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	as.mu.Lock()
	defer as.mu.Unlock()
	c := as.clients[q.Get("client_id")]
	switch {
	case c == nil:
		http.Error(w, "unknown client", 400)
	case !slices.Contains(c.RedirectURIs, q.Get("redirect_uri")):
		http.Error(w, "redirect_uri not registered", 400)
	case q.Get("response_type") != "code", q.Get("code_challenge_method") != "S256", q.Get("code_challenge") == "", q.Get("state") == "":
		http.Error(w, "bad request: need code, S256, a challenge and a state", 400)
	case q.Get("resource") != as.resource:
		http.Error(w, fmt.Sprintf("resource %q, want %q", q.Get("resource"), as.resource), 400)
	default:
		id := rand.Text()
		as.pending[id] = authReq{client: c.ClientID, redirect: q.Get("redirect_uri"), state: q.Get("state"),
			challenge: q.Get("code_challenge"), resource: q.Get("resource"), scopes: strings.Fields(q.Get("scope"))}
		fmt.Fprintf(w, `<form method="post" action="/consent"><input type="hidden" name="id" value="%s"><button>Allow</button></form>`, id)
	}
}

func (as *authServer) consent(w http.ResponseWriter, r *http.Request) {
	as.mu.Lock()
	defer as.mu.Unlock()
	req, ok := as.pending[r.FormValue("id")]
	if !ok {
		http.Error(w, "no such request", 400)
		return
	}
	delete(as.pending, r.FormValue("id"))
	as.authorizations++
	code := rand.Text()
	as.codes[code] = req
	u, _ := url.Parse(req.redirect)
	u.RawQuery = url.Values{"code": {code}, "state": {req.state}, "iss": {as.srv.URL}}.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (as *authServer) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.FormValue("client_id"), r.FormValue("client_secret")
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	c := as.clients[id]
	if c == nil || c.ClientSecret != secret {
		writeJSON(w, 401, map[string]string{"error": "invalid_client"})
		return
	}
	as.resources = append(as.resources, r.FormValue("resource"))
	if r.FormValue("resource") != as.resource {
		writeJSON(w, 400, map[string]string{"error": "invalid_target"})
		return
	}
	var g grant
	switch r.FormValue("grant_type") {
	case "authorization_code":
		req, ok := as.codes[r.FormValue("code")]
		delete(as.codes, r.FormValue("code"))
		sum := sha256.Sum256([]byte(r.FormValue("code_verifier")))
		if !ok || req.client != id || req.redirect != r.FormValue("redirect_uri") ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != req.challenge {
			writeJSON(w, 400, map[string]string{"error": "invalid_grant"})
			return
		}
		g = grant{client: id, resource: req.resource, scopes: req.scopes}
		as.issued++
	case "refresh_token":
		old, ok := as.refresh[r.FormValue("refresh_token")]
		delete(as.refresh, r.FormValue("refresh_token"))
		if !ok || old.client != id {
			writeJSON(w, 400, map[string]string{"error": "invalid_grant"})
			return
		}
		g = old
		as.refreshes++
	default:
		writeJSON(w, 400, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	g.expiry = as.clock.Now().Add(as.ttl)
	at, rt := "at-"+rand.Text(), "rt-"+rand.Text()
	as.access[at], as.refresh[rt] = g, g
	as.secrets = append(as.secrets, at, rt)
	writeJSON(w, 200, map[string]any{"access_token": at, "token_type": "Bearer", "refresh_token": rt,
		"expires_in": int(as.ttl / time.Second), "scope": strings.Join(g.scopes, " ")})
}

// revokeRefresh forgets every refresh token, as a server does when a person revokes
// access.
func (as *authServer) revokeRefresh() {
	as.mu.Lock()
	defer as.mu.Unlock()
	clear(as.refresh)
}

func (as *authServer) counts() (registrations, authorizations, issued, refreshes int) {
	as.mu.Lock()
	defer as.mu.Unlock()
	return as.registrations, as.authorizations, as.issued, as.refreshes
}

func (as *authServer) issuedSecrets() []string {
	as.mu.Lock()
	defer as.mu.Unlock()
	return slices.Clone(as.secrets)
}

// resourceServer is an MCP server behind a bearer check against the authorization
// server's tokens, with RFC 9728 metadata.
type resourceServer struct {
	srv  *httptest.Server
	url  string // the MCP endpoint
	meta string // its protected resource metadata URL

	mu     sync.Mutex
	need   []string // scopes a tools/call needs
	seen   []string // Authorization headers received
	bodies []string
}

func newResourceServer(t *testing.T, as *authServer) *resourceServer {
	rs := &resourceServer{}
	srv := mcp.NewServer(&mcp.Implementation{Name: "protected", Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "echo"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ok"}}}, nil, nil
	})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	mux := http.NewServeMux()
	mux.Handle("/mcp", rs.bearer(as, h))
	rs.srv = httptest.NewServer(mux)
	t.Cleanup(rs.srv.Close)
	rs.url = rs.srv.URL + "/mcp"
	rs.meta = rs.srv.URL + "/.well-known/oauth-protected-resource/mcp"
	as.resource = rs.url
	mux.Handle("/.well-known/oauth-protected-resource/mcp", auth.ProtectedResourceMetadataHandler(&oauthex.ProtectedResourceMetadata{
		Resource: rs.url, AuthorizationServers: []string{as.srv.URL}, ScopesSupported: []string{"read"}}))
	return rs
}

func (rs *resourceServer) bearer(as *authServer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		h := r.Header.Get("Authorization")
		rs.mu.Lock()
		rs.seen = append(rs.seen, h)
		need := rs.need
		rs.mu.Unlock()
		as.mu.Lock()
		g, ok := as.access[strings.TrimPrefix(h, "Bearer ")]
		as.mu.Unlock()
		if !ok || !strings.HasPrefix(h, "Bearer ") || !as.clock.Now().Before(g.expiry) || g.resource != rs.url {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer resource_metadata=%q, scope="read"`, rs.meta))
			http.Error(w, "unauthorized", 401)
			return
		}
		if strings.Contains(string(body), `"tools/call"`) && !subset(need, g.scopes) {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error="insufficient_scope", scope=%q, resource_metadata=%q`, strings.Join(need, " "), rs.meta))
			http.Error(w, "insufficient scope", 403)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (rs *resourceServer) authHeaders() []string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return slices.Clone(rs.seen)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// browser is a scripted browser: it follows the authorization URL, posts the consent
// form and follows the redirect to Airlock's listener. tamper, when set, may change the
// redirect's query before it is followed.
type browser struct {
	t      *testing.T
	tamper func(q url.Values)

	mu     sync.Mutex
	opened []string
	done   chan string // the listener's answer page, one per opening
}

func newBrowser(t *testing.T) *browser { return &browser{t: t, done: make(chan string, 8)} }

func (b *browser) open(u string) error {
	b.mu.Lock()
	b.opened = append(b.opened, u)
	b.mu.Unlock()
	go func() { b.done <- b.visit(u) }()
	return nil
}

func (b *browser) opens() int { b.mu.Lock(); defer b.mu.Unlock(); return len(b.opened) }

var formID = regexp.MustCompile(`name="id" value="([^"]+)"`)

func (b *browser) visit(u string) string {
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u)
	if err != nil {
		return "error: " + err.Error()
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := formID.FindSubmatch(page)
	if m == nil {
		return "authorize refused: " + string(page)
	}
	au, _ := url.Parse(u)
	resp, err = c.PostForm(au.Scheme+"://"+au.Host+"/consent", url.Values{"id": {string(m[1])}})
	if err != nil {
		return "error: " + err.Error()
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		return fmt.Sprintf("consent answered %d", resp.StatusCode)
	}
	if b.tamper != nil {
		q := loc.Query()
		b.tamper(q)
		loc.RawQuery = q.Encode()
	}
	resp, err = c.Get(loc.String())
	if err != nil {
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	page, _ = io.ReadAll(resp.Body)
	return string(page)
}

// asker is a fake broker.
type asker struct {
	mu       sync.Mutex
	asked    []apitype.AskRequest
	outcome  apitype.Outcome
	err      error
	gate     chan struct{} // when set, Ask waits for it
	askedSig chan struct{} // when set, receives one value per Ask
}

func (a *asker) Ask(ctx context.Context, req apitype.AskRequest) (apitype.Decision, error) {
	a.mu.Lock()
	a.asked = append(a.asked, req)
	gate, sig, outcome, err := a.gate, a.askedSig, a.outcome, a.err
	a.mu.Unlock()
	if sig != nil {
		sig <- struct{}{}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return apitype.Decision{}, ctx.Err()
		}
	}
	if err != nil {
		return apitype.Decision{}, err
	}
	if outcome == "" {
		outcome = apitype.Allow
	}
	return apitype.Decision{Outcome: outcome, DecidedBy: "user", Channel: "app"}, nil
}

func (a *asker) requests() []apitype.AskRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.asked)
}

// memLog is an in-memory decision log.
type memLog struct {
	mu   sync.Mutex
	rows []store.Decision
}

func (l *memLog) Append(_ context.Context, d *store.Decision) (int64, error) {
	if err := d.Validate(); err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rows = append(l.rows, *d)
	return int64(len(l.rows)), nil
}

func (l *memLog) all() []store.Decision {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.rows)
}

// loopbackClient reaches the test servers: a transport with its own dialer opts out of
// oauthex's guard against private addresses.
func loopbackClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{}).DialContext}}
}

func decodeToken(t *testing.T, v string) *token {
	t.Helper()
	var tok token
	if err := json.Unmarshal([]byte(v), &tok); err != nil {
		t.Fatal(err)
	}
	return &tok
}
