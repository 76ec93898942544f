package guard

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/proxy"
	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
	"github.com/airlock-mcp/airlock/proxy/transport"
	"github.com/airlock-mcp/airlock/store"
)

// watchdog bounds how long a test waits for a message that should come; it only
// decides failure, never ordering.
const watchdog = 10 * time.Second

// peer is one end of the relay (the IDE or the server) driven by a test.
type peer struct {
	t    *testing.T
	conn transport.Conn
	in   chan *jsonrpc.Message
}

func newPeer(t *testing.T, conn transport.Conn) *peer {
	p := &peer{t: t, conn: conn, in: make(chan *jsonrpc.Message, 64)}
	go func() {
		defer close(p.in)
		for {
			m, err := conn.Read()
			if err != nil {
				return
			}
			p.in <- m
		}
	}()
	return p
}

func (p *peer) send(lines ...string) {
	p.t.Helper()
	for _, l := range lines {
		m, err := jsonrpc.Parse([]byte(l))
		if err != nil {
			p.t.Fatalf("bad test message %s: %v", l, err)
		}
		if err := p.conn.Write(m); err != nil {
			p.t.Fatalf("write: %v", err)
		}
	}
}

func (p *peer) next() *jsonrpc.Message {
	p.t.Helper()
	select {
	case m, ok := <-p.in:
		if !ok {
			p.t.Fatal("connection closed while waiting for a message")
		}
		return m
	case <-time.After(watchdog):
		p.t.Fatal("no message arrived")
	}
	return nil
}

func (p *peer) expectRaw(want string) {
	p.t.Helper()
	if got := string(p.next().Raw); got != want {
		p.t.Errorf("got message\n  %s\nwant\n  %s", got, want)
	}
}

// pendingAsk is one question the fake broker holds until the test answers it.
type pendingAsk struct {
	req   apitype.AskRequest
	ctx   context.Context
	reply chan apitype.Decision
}

func (p *pendingAsk) answer(outcome apitype.Outcome, by store.DecidedBy) {
	p.reply <- apitype.Decision{Outcome: outcome, Scope: apitype.Once, DecidedBy: string(by)}
}

// chanAsker is a broker whose person is the test.
type chanAsker struct{ asks chan *pendingAsk }

func newChanAsker() *chanAsker { return &chanAsker{asks: make(chan *pendingAsk, 16)} }

func (a *chanAsker) Ask(ctx context.Context, req apitype.AskRequest) (apitype.Decision, error) {
	p := &pendingAsk{req: req, ctx: ctx, reply: make(chan apitype.Decision, 1)}
	a.asks <- p
	select {
	case d := <-p.reply:
		return d, nil
	case <-ctx.Done():
		return apitype.Decision{Outcome: apitype.Deny, DecidedBy: string(store.DecidedByFallback), Reason: "withdrawn"}, ctx.Err()
	}
}

func (a *chanAsker) next(t *testing.T) *pendingAsk {
	t.Helper()
	select {
	case p := <-a.asks:
		return p
	case <-time.After(watchdog):
		t.Fatal("nobody was asked")
	}
	return nil
}

func waitDone(t *testing.T, ctx context.Context) {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(watchdog):
		t.Fatal("the ask was not withdrawn")
	}
}

type elicitHarness struct {
	t      *testing.T
	ide    *peer
	srv    *peer
	g      *Guard
	e      *elicitor
	asker  *chanAsker
	opened chan string
	log    *memLog
}

const (
	capsURL  = `{"elicitation":{"form":{},"url":{}}}`
	capsForm = `{"elicitation":{}}`
	sentinel = `{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"sentinel"}}`
)

// newElicitHarness starts a relay with the URL elicitation middleware. noBroker leaves
// the Guard without an Asker. caps, when not empty, is what the IDE declares in an
// initialize handshake run before the test starts.
func newElicitHarness(t *testing.T, mode string, noBroker bool, caps string) *elicitHarness {
	h := &elicitHarness{t: t, asker: newChanAsker(), opened: make(chan string, 8), log: &memLog{}}
	h.g = &Guard{Server: "srv", Log: h.log, RedactText: (&store.Redactor{}).RedactString}
	if !noBroker {
		h.g.Asker = h.asker
	}
	h.e = h.g.newElicitor(URLElicitations{Mode: mode, Open: func(_ context.Context, u string) error {
		h.opened <- u
		return nil
	}})
	ideSide, proxyClient := pipeConns()
	proxyServer, serverSide := pipeConns()
	sess := proxy.NewSession(context.Background(), proxyClient, proxyServer, proxy.Options{
		Name: "srv", Middleware: []proxy.Middleware{proxy.Handshake(), h.e.middleware},
	})
	done := make(chan error, 1)
	go func() { done <- sess.Run() }()
	t.Cleanup(func() {
		ideSide.Close()
		serverSide.Close()
		<-done
	})
	h.ide, h.srv = newPeer(t, ideSide), newPeer(t, serverSide)
	if caps != "" {
		h.ide.send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":` + caps + `,"clientInfo":{"name":"ide","version":"1"}}}`)
		h.srv.next()
		h.srv.send(`{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"s","version":"1"}}}`)
		h.ide.next()
	}
	return h
}

// quietIDE checks that the IDE received nothing before the sentinel.
func (h *elicitHarness) quietIDE() {
	h.t.Helper()
	h.srv.send(sentinel)
	h.ide.expectRaw(sentinel)
}

// quietServer checks that the server received nothing: call once every goroutine that
// could answer it is done.
func (h *elicitHarness) quietServer() {
	h.t.Helper()
	h.e.busy.Wait()
	h.ide.send(`{"jsonrpc":"2.0","id":"probe","method":"ping"}`)
	if m := h.srv.next(); m.Method != "ping" {
		h.t.Errorf("server got %s, want nothing before the probe", m.Raw)
	}
}

func (h *elicitHarness) notOpened() {
	h.t.Helper()
	select {
	case u := <-h.opened:
		h.t.Errorf("the browser was opened on %s", u)
	default:
	}
}

func (h *elicitHarness) rows() []string {
	h.g.Flush()
	h.log.mu.Lock()
	defer h.log.mu.Unlock()
	var out []string
	for _, d := range h.log.rows {
		out = append(out, fmt.Sprintf("%s %s %s %s tool=%q args=%s", d.Kind, d.Outcome, d.DecidedBy, d.Channel, d.Tool, d.Args))
	}
	slices.Sort(out) // rows are written in the background, in no set order
	return out
}

func urlCreate(id, elicitationID, url string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%q,"method":"elicitation/create","params":{"mode":"url","elicitationId":%q,"url":%q,"message":"Sign in to Example."}}`, id, elicitationID, url)
}

func action(id, a string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%q,"result":{"action":%q}}`, id, a)
}

const (
	exampleURL = "https://auth.example.com/connect?elicitationId=550e8400-e29b-41d4-a716-446655440000&code=abc123secret"
	loggedURL  = "https://auth.example.com/connect?elicitationId=550e8400-e29b-41d4-a716-446655440000&code=[REDACTED:secret]"
)

func TestURLElicitationAllowOpensBrowser(t *testing.T) {
	h := newElicitHarness(t, "", false, capsURL)
	h.srv.send(urlCreate("e1", "el-1", exampleURL))
	p := h.asker.next(t)
	want := apitype.AskRequest{
		Kind: apitype.KindElicitation, Server: "srv", Client: "ide", Session: h.g.Session(), Tier: 0,
		URL: loggedURL, Message: "Sign in to Example.", ArgsHash: urlHash(exampleURL),
		Reasons: []apitype.Reason{{Source: "site", Tier: 0, Text: "The page is on example.com."}},
	}
	if diff := cmp.Diff(want, p.req); diff != "" {
		t.Errorf("ask mismatch (-want +got):\n%s", diff)
	}
	p.answer(apitype.Allow, store.DecidedByUser)
	h.srv.expectRaw(action("e1", "accept"))
	if got := <-h.opened; got != exampleURL {
		t.Errorf("opened %q, want exactly %q", got, exampleURL)
	}
	h.quietIDE()
	if rows := h.rows(); len(rows) != 0 {
		t.Errorf("the guard recorded %q; the broker records a person's decision", rows)
	}

	// The same elicitation id again, while the page is open: no second card.
	h.srv.send(`{"jsonrpc":"2.0","id":"e2","method":"elicitation/create","params":{"mode":"url","elicitationId":"el-1","url":"` + exampleURL + `","message":"again"}}`)
	h.srv.expectRaw(action("e2", "accept"))
	h.notOpened()
}

func TestURLElicitationDecisions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		outcome apitype.Outcome
		by      store.DecidedBy
		want    string
	}{
		{"deny", apitype.Deny, store.DecidedByUser, "decline"},
		{"timeout", apitype.Deny, store.DecidedByTimeout, "cancel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newElicitHarness(t, "", false, capsForm)
			h.srv.send(urlCreate("e1", "el-1", exampleURL))
			h.asker.next(t).answer(tc.outcome, tc.by)
			h.srv.expectRaw(action("e1", tc.want))
			h.notOpened()
			h.quietIDE()
		})
	}
}

func TestURLElicitationCompleteWithdrawsAsk(t *testing.T) {
	h := newElicitHarness(t, "", false, capsURL)
	h.srv.send(urlCreate("e1", "el-1", exampleURL))
	p := h.asker.next(t)
	h.srv.send(`{"jsonrpc":"2.0","method":"notifications/elicitation/complete","params":{"elicitationId":"el-1"}}`)
	waitDone(t, p.ctx)
	h.srv.expectRaw(action("e1", "cancel"))
	h.notOpened()
	h.quietIDE() // the IDE never saw el-1, so it does not get its completion

	// An id the IDE may know is passed on.
	other := `{"jsonrpc":"2.0","method":"notifications/elicitation/complete","params":{"elicitationId":"el-9"}}`
	h.srv.send(other)
	h.ide.expectRaw(other)
}

func TestURLElicitationServerCancels(t *testing.T) {
	h := newElicitHarness(t, "", false, capsURL)
	h.srv.send(urlCreate("e1", "el-1", exampleURL))
	p := h.asker.next(t)
	h.srv.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"e1"}}`)
	waitDone(t, p.ctx)
	h.quietServer()
	h.quietIDE()
	h.notOpened()
}

func TestFormElicitationUntouched(t *testing.T) {
	h := newElicitHarness(t, "", false, capsURL)
	form := `{"jsonrpc":"2.0","id":"e1","method":"elicitation/create","params":{"message":"Name?","requestedSchema":{"type":"object","properties":{"name":{"type":"string"}}}}}`
	h.srv.send(form)
	h.ide.expectRaw(form)
	h.ide.send(`{"jsonrpc":"2.0","id":"e1","result":{"action":"accept","content":{"name":"x"}}}`)
	h.srv.expectRaw(`{"jsonrpc":"2.0","id":"e1","result":{"action":"accept","content":{"name":"x"}}}`)
	if n := len(h.asker.asks); n != 0 {
		t.Errorf("%d asks for a form elicitation, want 0", n)
	}
	if rows := h.rows(); len(rows) != 0 {
		t.Errorf("rows = %q, want none", rows)
	}
}

func TestURLElicitationIDEMode(t *testing.T) {
	t.Run("IDE supports URL mode", func(t *testing.T) {
		h := newElicitHarness(t, URLElicitationIDE, false, capsURL)
		create := urlCreate("e1", "el-1", exampleURL)
		h.srv.send(create)
		h.ide.expectRaw(create)
		h.ide.send(action("e1", "accept"))
		h.srv.expectRaw(action("e1", "accept"))
		done := `{"jsonrpc":"2.0","method":"notifications/elicitation/complete","params":{"elicitationId":"el-1"}}`
		h.srv.send(done)
		h.ide.expectRaw(done)
		want := []string{`elicitation allow user elicitation tool="" args=` + loggedURL}
		if diff := cmp.Diff(want, h.rows()); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
		h.notOpened()
	})
	t.Run("IDE without URL mode", func(t *testing.T) {
		h := newElicitHarness(t, URLElicitationIDE, false, capsForm)
		h.srv.send(urlCreate("e1", "el-1", exampleURL))
		h.asker.next(t).answer(apitype.Allow, store.DecidedByUser)
		h.srv.expectRaw(action("e1", "accept"))
		if got := <-h.opened; got != exampleURL {
			t.Errorf("opened %q", got)
		}
	})
}

func TestURLElicitationNoBroker(t *testing.T) {
	t.Run("IDE supports URL mode", func(t *testing.T) {
		h := newElicitHarness(t, "", true, capsURL)
		create := urlCreate("e1", "el-1", exampleURL)
		h.srv.send(create)
		h.ide.expectRaw(create)
		h.ide.send(action("e1", "decline"))
		h.srv.expectRaw(action("e1", "decline"))
		want := []string{`elicitation deny user elicitation tool="" args=` + loggedURL}
		if diff := cmp.Diff(want, h.rows()); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
	})
	t.Run("IDE without URL mode", func(t *testing.T) {
		h := newElicitHarness(t, "", true, capsForm)
		h.srv.send(urlCreate("e1", "el-1", exampleURL))
		h.srv.expectRaw(action("e1", "decline"))
		h.quietIDE()
		want := []string{`elicitation deny fallback none tool="" args=` + loggedURL}
		if diff := cmp.Diff(want, h.rows()); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
	})
}

func TestURLElicitationRefusesBadURLs(t *testing.T) {
	h := newElicitHarness(t, "", false, capsURL)
	h.srv.send(urlCreate("e1", "el-1", "javascript:alert(1)"))
	h.srv.expectRaw(action("e1", "decline"))
	h.srv.send(`{"jsonrpc":"2.0","id":"e2","method":"elicitation/create","params":{"mode":"form","mode":"url","url":"https://x.example","message":"m"}}`)
	if e := h.srv.next().ErrorObject(); e == nil || e.Code != jsonrpc.CodeInvalidParams {
		t.Errorf("ambiguous elicitation answered %+v, want invalid params", e)
	}
	h.notOpened()
	if n := len(h.asker.asks); n != 0 {
		t.Errorf("%d asks, want 0", n)
	}
	if rows := h.rows(); len(rows) != 1 || !strings.HasPrefix(rows[0], "elicitation deny fallback") {
		t.Errorf("rows = %q, want one fallback deny", rows)
	}
}

const required = `{"jsonrpc":"2.0","id":5,"error":{"code":-32042,"message":"This request requires more information.","data":{"elicitations":[` +
	`{"mode":"url","elicitationId":"el-a","url":"https://a.example.com/connect","message":"Authorize A."},` +
	`{"mode":"url","elicitationId":"el-b","url":"https://b.example.com/connect","message":"Authorize B."}]}}}`

const connectCall = `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"connect","arguments":{}}}`

func TestURLElicitationRequiredError(t *testing.T) {
	h := newElicitHarness(t, "", false, capsURL)
	h.ide.send(connectCall)
	h.srv.next()
	h.srv.send(required)
	asks := map[string]*pendingAsk{}
	for range 2 {
		p := h.asker.next(t)
		asks[p.req.URL] = p
	}
	a, b := asks["https://a.example.com/connect"], asks["https://b.example.com/connect"]
	if a == nil || b == nil {
		t.Fatalf("asked about %v, want both URLs", asks)
	}
	if a.req.Tool != "connect" || a.req.Message != "Authorize A." {
		t.Errorf("ask = %+v", a.req)
	}
	a.answer(apitype.Allow, store.DecidedByUser)
	b.answer(apitype.Deny, store.DecidedByUser)
	h.ide.expectRaw(required)
	if got := <-h.opened; got != "https://a.example.com/connect" {
		t.Errorf("opened %q", got)
	}
	h.notOpened()
}

func TestURLElicitationRequiredNoBroker(t *testing.T) {
	h := newElicitHarness(t, "", true, capsForm)
	h.ide.send(connectCall)
	h.srv.next()
	h.srv.send(required)
	h.ide.expectRaw(required)
	want := []string{
		`elicitation deny fallback none tool="connect" args=https://a.example.com/connect`,
		`elicitation deny fallback none tool="connect" args=https://b.example.com/connect`,
	}
	if diff := cmp.Diff(want, h.rows()); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestURLElicitationRequiredIDECancels(t *testing.T) {
	h := newElicitHarness(t, "", false, capsURL)
	h.ide.send(connectCall)
	h.srv.next()
	h.srv.send(required)
	p, q := h.asker.next(t), h.asker.next(t)
	h.ide.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5}}`)
	waitDone(t, p.ctx)
	waitDone(t, q.ctx)
	h.e.busy.Wait()
	h.quietIDE() // the error for the cancelled request is dropped
	h.notOpened()
}

func TestInputRequiredURL(t *testing.T) {
	h := newElicitHarness(t, "", false, "")
	h.ide.send(`{"jsonrpc":"2.0","id":"call-7","method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"ide","version":"1"},"io.modelcontextprotocol/clientCapabilities":{"elicitation":{"form":{}}}},"name":"connect","arguments":{}}}`)
	h.srv.next()
	result := `{"jsonrpc":"2.0","id":"call-7","result":{"resultType":"input_required","inputRequests":{` +
		`"approve":{"method":"elicitation/create","params":{"mode":"form","message":"Allow?","requestedSchema":{"type":"object","properties":{}}}},` +
		`"login":{"method":"elicitation/create","params":{"mode":"url","url":"https://login.example.com/start","message":"Log in."}}},` +
		`"requestState":"eyJ2IjoxfQ.sig"}}`
	h.srv.send(result)
	p := h.asker.next(t)
	if p.req.URL != "https://login.example.com/start" || p.req.Message != "Log in." || p.req.Tool != "connect" {
		t.Errorf("ask = %+v", p.req)
	}
	p.answer(apitype.Allow, store.DecidedByUser)
	h.ide.expectRaw(result)
	if got := <-h.opened; got != "https://login.example.com/start" {
		t.Errorf("opened %q", got)
	}
	if n := len(h.asker.asks); n != 0 {
		t.Errorf("%d more asks, want 0 (the form request is the IDE's)", n)
	}
}

func TestSupportsURLElicitation(t *testing.T) {
	for caps, want := range map[string]bool{
		``: false, `{}`: false, `{"elicitation":{}}`: false, `{"elicitation":null}`: false,
		`{"elicitation":{"form":{}}}`: false, `{"elicitation":{"url":{}}}`: true,
		`{"elicitation":{"form":{},"url":{}}}`: true, `{"elicitation":{"url":null}}`: false,
	} {
		if got := supportsURLElicitation(json.RawMessage(caps)); got != want {
			t.Errorf("supportsURLElicitation(%s) = %v, want %v", caps, got, want)
		}
	}
}

// A form that asks for a secret (MCP forbids requesting sensitive information in a form)
// never reaches the IDE: the server is told the user declined, and the log says why.
func TestFormElicitationAskingForASecretDeclined(t *testing.T) {
	for _, props := range []string{
		`{"github_token":{"type":"string","title":"GitHub token"}}`,
		`{"value":{"type":"string","description":"Enter your AWS secret key"}}`,
		`{"name":{"type":"string"},"pw":{"type":"string","title":"Password"}}`,
	} {
		h := newElicitHarness(t, "", false, capsURL)
		h.srv.send(`{"jsonrpc":"2.0","id":"e1","method":"elicitation/create","params":{"message":"Sign in","requestedSchema":{"type":"object","properties":` + props + `}}}`)
		h.srv.expectRaw(`{"jsonrpc":"2.0","id":"e1","result":{"action":"decline"}}`)
		h.quietIDE()
		rows := h.rows()
		if len(rows) != 1 || !strings.HasPrefix(rows[0], "elicitation deny policy policy") {
			t.Errorf("%s: rows = %q, want one policy denial", props, rows)
		}
	}
}

// The same in a 2026-07-28 input_required result: the IDE gets a refusal instead of the
// form, and the server no retry.
func TestInputRequiredSecretFormRefused(t *testing.T) {
	h := newElicitHarness(t, "", false, "")
	h.ide.send(`{"jsonrpc":"2.0","id":"call-7","method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"ide","version":"1"},"io.modelcontextprotocol/clientCapabilities":{"elicitation":{"form":{}}}},"name":"connect","arguments":{}}}`)
	h.srv.next()
	h.srv.send(`{"jsonrpc":"2.0","id":"call-7","result":{"resultType":"input_required","inputRequests":{` +
		`"creds":{"method":"elicitation/create","params":{"mode":"form","message":"Sign in","requestedSchema":{"type":"object","properties":{"apiKey":{"type":"string"}}}}}},` +
		`"requestState":"eyJ2IjoxfQ.sig"}}`)
	m := h.ide.next()
	var r struct {
		IsError bool `json:"isError"`
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	if json.Unmarshal(m.Result, &r) != nil || !r.IsError || len(r.Content) != 1 || !strings.Contains(r.Content[0].Text, `"apiKey"`) {
		t.Fatalf("IDE got %s, want a refusal naming the field", m.Raw)
	}
	if m.ID.String() != `"call-7"` {
		t.Errorf("refusal id %s", m.ID)
	}
	if rows := h.rows(); len(rows) != 1 || !strings.HasPrefix(rows[0], `elicitation deny policy policy tool="connect"`) {
		t.Errorf("rows = %q", rows)
	}
	h.quietServer()
}
