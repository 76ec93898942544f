package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
	"github.com/airlock-mcp/airlock/proxy/transport"
)

// failsafe bounds every wait so a broken relay fails the test instead of hanging it.
const failsafe = 10 * time.Second

// peer is the test's side of one in-memory connection: conn is what the session gets
// (a real transport.Stream over io.Pipes), send writes lines the session reads, and
// every line the session writes arrives on got.
type peer struct {
	t    *testing.T
	name string
	conn *transport.Stream
	in   *io.PipeWriter // test → session
	got  chan string    // session → test, one message per entry
}

func newPeer(t *testing.T, name string) *peer {
	toR, toW := io.Pipe()
	fromR, fromW := io.Pipe()
	p := &peer{t: t, name: name, in: toW, got: make(chan string, 1000)}
	p.conn = transport.NewStream(toR, fromW, func() error {
		toR.Close()
		fromW.Close()
		return nil
	}, 0)
	go func() {
		defer close(p.got)
		r := jsonrpc.NewReader(fromR, 0)
		for {
			m, err := r.Read()
			if err != nil {
				if jsonrpc.IsBadMessage(err) {
					p.got <- "BAD MESSAGE"
					continue
				}
				return
			}
			p.got <- string(m.Raw)
		}
	}()
	t.Cleanup(func() { toW.Close(); fromR.Close() })
	return p
}

// send writes lines to the session as this peer.
func (p *peer) send(lines ...string) {
	p.t.Helper()
	for _, l := range lines {
		if _, err := io.WriteString(p.in, l+"\n"); err != nil {
			p.t.Fatalf("%s: send %.80q: %v", p.name, l, err)
		}
	}
}

// expect returns the next message the session wrote to this peer.
func (p *peer) expect() string {
	p.t.Helper()
	select {
	case m, ok := <-p.got:
		if !ok {
			p.t.Fatalf("%s: connection closed, want a message", p.name)
		}
		return m
	case <-time.After(failsafe):
		p.t.Fatalf("%s: no message within %v", p.name, failsafe)
	}
	return ""
}

// expectRaw checks that the next message is exactly want.
func (p *peer) expectRaw(want string) {
	p.t.Helper()
	if got := p.expect(); got != want {
		p.t.Errorf("%s received (-want +got):\n%s", p.name, cmp.Diff(want, got))
	}
}

// expectError checks that the next message is an error response to id with code, whose
// message contains each of substrings, and returns the message.
func (p *peer) expectError(id string, code int, substrings ...string) string {
	p.t.Helper()
	raw := p.expect()
	m, err := jsonrpc.Parse([]byte(raw))
	if err != nil || m.Kind != jsonrpc.KindResponse || m.Error == nil {
		p.t.Fatalf("%s received %s, want an error response", p.name, raw)
	}
	e := m.ErrorObject()
	if m.ID.String() != id || e.Code != code {
		p.t.Errorf("%s received error id %s code %d, want id %s code %d (%s)", p.name, m.ID, e.Code, id, code, raw)
	}
	for _, s := range substrings {
		if !strings.Contains(e.Message, s) {
			p.t.Errorf("%s received error message %q, want it to contain %q", p.name, e.Message, s)
		}
	}
	return e.Message
}

// expectClosed checks that the session closed this peer's connection.
func (p *peer) expectClosed() {
	p.t.Helper()
	select {
	case m, ok := <-p.got:
		if ok {
			p.t.Fatalf("%s received %s, want the connection closed", p.name, m)
		}
	case <-time.After(failsafe):
		p.t.Fatalf("%s: connection not closed within %v", p.name, failsafe)
	}
}

// hangUp ends this peer's stream cleanly (EOF); exit ends it with err.
func (p *peer) hangUp()        { p.in.Close() }
func (p *peer) exit(err error) { p.in.CloseWithError(err) }

// logBuf collects Logf lines.
type logBuf struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuf) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

type harness struct {
	client, server *peer
	s              *Session
	log            *logBuf
	done           chan error
}

func newHarness(t *testing.T, mw ...Middleware) *harness {
	h := &harness{client: newPeer(t, "client"), server: newPeer(t, "server"), log: &logBuf{}, done: make(chan error, 1)}
	h.s = NewSession(context.Background(), h.client.conn, h.server.conn, Options{Name: "fake", Middleware: mw, Logf: h.log.logf})
	go func() { h.done <- h.s.Run() }()
	t.Cleanup(func() {
		h.s.Stop()
		select {
		case <-h.done:
		case <-time.After(failsafe):
			t.Errorf("Run did not return after Stop")
		}
	})
	return h
}

// wait returns Run's result.
func (h *harness) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-h.done:
		h.done <- err // for the cleanup
		return err
	case <-time.After(failsafe):
		t.Fatalf("Run did not return within %v", failsafe)
	}
	return nil
}

func TestRelayByteIdentical(t *testing.T) {
	h := newHarness(t, Handshake(), ToolCalls(nil))
	// Each line goes one way and must arrive unchanged, odd spacing and escapes included.
	steps := []struct {
		from *peer
		to   *peer
		line string
	}{
		{h.client, h.server, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","clientInfo":{"name":"ide","version":"1"},"capabilities":{}}}`},
		{h.server, h.client, `{ "result" : {"protocolVersion":"2025-11-25","serverInfo":{"name":"srv","version":"2"},"capabilities":{"tools":{}}}, "id" : 1, "jsonrpc":"2.0" }`},
		{h.client, h.server, `{"jsonrpc":"2.0","method":"notifications/initialized"}`},
		{h.client, h.server, `{"jsonrpc":"2.0","id":"1","method":"tools/call","params":{"name":"t","arguments":{"s":"\u00e9\/<>&","n":1.50e1}}}`},
		{h.server, h.client, `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"p","progress":0.5}}`},
		{h.server, h.client, `{"jsonrpc":"2.0","id":"1","result":{"content":[{"type":"text","text":"ok"}]}}`},
		// A server→client request and the client's answer.
		{h.server, h.client, `{"jsonrpc":"2.0","id":1,"method":"roots/list"}`},
		{h.client, h.server, `{"jsonrpc":"2.0","id":1,"result":{"roots":[]}}`},
		{h.server, h.client, `{"jsonrpc":"2.0","id":"s2","method":"sampling/createMessage","params":{"messages":[]}}`},
		{h.client, h.server, `{"jsonrpc":"2.0","id":"s2","error":{"code":-1,"message":"user rejected"}}`},
		// Unknown ids and huge messages still cross.
		{h.server, h.client, `{"jsonrpc":"2.0","id":999,"result":{}}`},
		{h.client, h.server, `{"jsonrpc":"2.0","id":2,"method":"x","params":["` + strings.Repeat("z", 3<<20) + `"]}`},
	}
	for _, st := range steps {
		st.from.send(st.line)
		want := strings.TrimSpace(st.line)
		if got := st.to.expect(); got != want {
			t.Errorf("%s → %s: got %.200s, want %.200s", st.from.name, st.to.name, got, want)
		}
	}
	h.client.hangUp()
	if err := h.wait(t); err != nil {
		t.Errorf("Run = %v, want nil when the client hangs up", err)
	}
	h.server.expectClosed()
}

func TestCancelledDropsLateResponse(t *testing.T) {
	h := newHarness(t)
	h.client.send(`{"jsonrpc":"2.0","id":5,"method":"slow"}`, `{"jsonrpc":"2.0","id":6,"method":"fast"}`)
	h.server.expect()
	h.server.expect()
	cancel := `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId": 5 ,"reason":"user"}}`
	h.client.send(cancel)
	h.server.expectRaw(cancel) // the server hears about it
	h.server.send(`{"jsonrpc":"2.0","id":5,"result":{"late":true}}`, `{"jsonrpc":"2.0","id":6,"result":{}}`)
	// The late answer to 5 is dropped: the next thing the client sees is the answer to 6.
	h.client.expectRaw(`{"jsonrpc":"2.0","id":6,"result":{}}`)

	// The server can cancel its own requests to the client too.
	h.server.send(`{"jsonrpc":"2.0","id":"e","method":"elicitation/create"}`)
	h.client.expect()
	h.server.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"e"}}`)
	h.client.expect()
	h.client.send(`{"jsonrpc":"2.0","id":"e","result":{"action":"accept"}}`, `{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}`)
	h.server.expectRaw(`{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}`)
}

func TestCancelledMatchesStringIDsExactly(t *testing.T) {
	h := newHarness(t)
	h.client.send(`{"jsonrpc":"2.0","id":"ab","method":"m"}`, `{"jsonrpc":"2.0","id":"a b","method":"m"}`)
	h.server.expect()
	h.server.expect()
	h.client.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"a b"}}`)
	h.server.expect()
	h.server.send(`{"jsonrpc":"2.0","id":"a b","result":{}}`, `{"jsonrpc":"2.0","id":"ab","result":{}}`)
	h.client.expectRaw(`{"jsonrpc":"2.0","id":"ab","result":{}}`)
}

func TestReservedIDsRefused(t *testing.T) {
	h := newHarness(t)
	h.client.send(`{"jsonrpc":"2.0","id":"airlock/1","method":"tools/list"}`)
	h.client.expectError(`"airlock/1"`, jsonrpc.CodeInvalidRequest, "reserved")
	h.client.send(`{"jsonrpc":"2.0","id":"\u0061irlock/2","method":"tools/list"}`)
	h.client.expectError(`"\u0061irlock/2"`, jsonrpc.CodeInvalidRequest, "reserved")
	h.server.send(`{"jsonrpc":"2.0","id":"airlock/3","method":"sampling/createMessage"}`)
	h.server.expectError(`"airlock/3"`, jsonrpc.CodeInvalidRequest, "reserved")
	// Nothing reached the other side: the next message each sees is this one.
	h.client.send(`{"jsonrpc":"2.0","id":"airlock","method":"ok"}`)
	h.server.expectRaw(`{"jsonrpc":"2.0","id":"airlock","method":"ok"}`)
	h.server.send(`{"jsonrpc":"2.0","method":"ok"}`)
	h.client.expectRaw(`{"jsonrpc":"2.0","method":"ok"}`)
}

func TestCall(t *testing.T) {
	for _, dir := range []Direction{ToServer, ToClient} {
		t.Run(dir.String(), func(t *testing.T) {
			h := newHarness(t)
			to, other := h.server, h.client
			if dir == ToClient {
				to, other = h.client, h.server
			}
			type result struct {
				m   *jsonrpc.Message
				err error
			}
			res := make(chan result, 1)
			go func() {
				m, err := h.s.Call(context.Background(), dir, "ping", map[string]int{"n": 1})
				res <- result{m, err}
			}()
			req, err := jsonrpc.Parse([]byte(to.expect()))
			if err != nil {
				t.Fatal(err)
			}
			if req.Method != "ping" || !jsonrpc.IsReserved(req.ID) || string(req.Params) != `{"n":1}` {
				t.Fatalf("peer received %s, want a ping with a reserved id", req.Raw)
			}
			to.send(`{"jsonrpc":"2.0","id":` + req.ID.String() + `,"result":{"pong":true}}`)
			r := <-res
			if r.err != nil || string(r.m.Result) != `{"pong":true}` {
				t.Fatalf("Call = %v, %v; want the pong", r.m, r.err)
			}
			// The answer was not forwarded to the other peer.
			to.send(`{"jsonrpc":"2.0","method":"after"}`)
			other.expectRaw(`{"jsonrpc":"2.0","method":"after"}`)

			// An error answer comes back as a *jsonrpc.Error.
			go func() {
				m, err := h.s.Call(context.Background(), dir, "fail", nil)
				res <- result{m, err}
			}()
			req, _ = jsonrpc.Parse([]byte(to.expect()))
			to.send(`{"jsonrpc":"2.0","id":` + req.ID.String() + `,"error":{"code":-5,"message":"no"}}`)
			r = <-res
			var e *jsonrpc.Error
			if !errors.As(r.err, &e) || e.Code != -5 || e.Message != "no" {
				t.Errorf("Call error = %v, want the peer's error", r.err)
			}
		})
	}
}

func TestCallCancelled(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := h.s.Call(ctx, ToServer, "slow", nil)
		errc <- err
	}()
	req, _ := jsonrpc.Parse([]byte(h.server.expect()))
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Call = %v, want context.Canceled", err)
	}
	n, err := jsonrpc.Parse([]byte(h.server.expect()))
	if err != nil || n.Method != "notifications/cancelled" || string(jsonrpc.Member(n.Params, "requestId")) != req.ID.String() {
		t.Errorf("server received %v, want notifications/cancelled for %s", n, req.ID)
	}
	// A late answer goes nowhere.
	h.server.send(`{"jsonrpc":"2.0","id":`+req.ID.String()+`,"result":{}}`, `{"jsonrpc":"2.0","method":"after"}`)
	h.client.expectRaw(`{"jsonrpc":"2.0","method":"after"}`)
}

func TestCallAnswerOnlyFromTheCalledPeer(t *testing.T) {
	h := newHarness(t)
	res := make(chan *jsonrpc.Message, 1)
	go func() {
		m, _ := h.s.Call(context.Background(), ToClient, "elicitation/create", nil)
		res <- m
	}()
	req, _ := jsonrpc.Parse([]byte(h.client.expect()))
	// The server guesses the id and answers first.
	h.server.send(`{"jsonrpc":"2.0","id":` + req.ID.String() + `,"result":{"action":"accept","forged":true}}`)
	h.client.send(`{"jsonrpc":"2.0","id":` + req.ID.String() + `,"result":{"action":"decline"}}`)
	if m := <-res; string(m.Result) != `{"action":"decline"}` {
		t.Errorf("Call result = %s, want the client's answer", m.Result)
	}
}

// failingConn is a Conn whose writes fail and whose reads wait for Close.
type failingConn struct {
	closed chan struct{}
	once   sync.Once
}

func (c *failingConn) Read() (*jsonrpc.Message, error) { <-c.closed; return nil, io.EOF }
func (c *failingConn) Write(*jsonrpc.Message) error    { return errors.New("broken pipe") }
func (c *failingConn) Close() error                    { c.once.Do(func() { close(c.closed) }); return nil }

func TestWriteToServerFails(t *testing.T) {
	client := newPeer(t, "client")
	server := &failingConn{closed: make(chan struct{})}
	s := NewSession(context.Background(), client.conn, server, Options{Name: "fake"})
	done := make(chan error, 1)
	go func() { done <- s.Run() }()
	defer func() { s.Stop(); <-done }()
	client.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	client.expectError(`1`, jsonrpc.CodeServerUnavailable, `server "fake"`, "broken pipe", "tools/list was not answered")
	// Notifications that cannot be written are dropped silently.
	client.send(`{"jsonrpc":"2.0","method":"n"}`, `{"jsonrpc":"2.0","id":2,"method":"again"}`)
	client.expectError(`2`, jsonrpc.CodeServerUnavailable, "again was not answered")
}

func TestCallWriteFails(t *testing.T) {
	client := newPeer(t, "client")
	s := NewSession(context.Background(), client.conn, &failingConn{closed: make(chan struct{})}, Options{Name: "fake"})
	done := make(chan error, 1)
	go func() { done <- s.Run() }()
	defer func() { s.Stop(); <-done }()
	ctx, cancel := context.WithTimeout(context.Background(), failsafe)
	defer cancel()
	if _, err := s.Call(ctx, ToServer, "ping", nil); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Call = %v, want the write error at once", err)
	}
	client.send(`{"jsonrpc":"2.0","id":1,"method":"x"}`)
	client.expectError(`1`, jsonrpc.CodeServerUnavailable) // not an answer to "airlock/1"
}

func TestServerExitFailsPending(t *testing.T) {
	h := newHarness(t)
	h.server.send(`{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info"}}`)
	h.client.expect()
	h.client.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}}`, `{"jsonrpc":"2.0","id":"2","method":"resources/read"}`, `{"jsonrpc":"2.0","id":3,"method":"cancelled-one"}`)
	for range 3 {
		h.server.expect()
	}
	h.client.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3}}`)
	h.server.expect()
	h.server.exit(&transport.ExitError{Name: "fake", Status: "exit status 3"})

	got := map[string]string{}
	for range 2 {
		raw := h.client.expect()
		m, err := jsonrpc.Parse([]byte(raw))
		if err != nil || m.ErrorObject() == nil {
			t.Fatalf("client received %s, want an error", raw)
		}
		e := m.ErrorObject()
		if e.Code != jsonrpc.CodeServerUnavailable {
			t.Errorf("code %d, want %d", e.Code, jsonrpc.CodeServerUnavailable)
		}
		got[m.ID.String()] = e.Message
	}
	want := map[string]string{
		`1`:   `server "fake" exited (exit status 3); tools/call was not answered`,
		`"2"`: `server "fake" exited (exit status 3); resources/read was not answered`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors for pending requests (-want +got):\n%s", diff)
	}
	err := h.wait(t)
	var exit *transport.ExitError
	if !errors.As(err, &exit) || exit.Status != "exit status 3" {
		t.Errorf("Run = %v, want the ExitError", err)
	}
	h.client.expectClosed() // the cancelled request got nothing; the IDE connection ends
	if !strings.Contains(h.log.String(), `airlock: server "fake" exited (exit status 3)`) {
		t.Errorf("log = %q, want a line naming the server and its exit status", h.log.String())
	}
}

func TestServerDiesSilently(t *testing.T) {
	h := newHarness(t)
	h.server.exit(&transport.ExitError{Name: "fake", Status: "exit status 127"})
	// Wait until the session has noticed: a Call toward the server returns once it has
	// (at once with the reason, or answered by failPending). This keeps the test clear of
	// the data race that TestServerDeathRacesSend documents.
	if _, err := h.s.Call(context.Background(), ToServer, "probe", nil); err == nil || !strings.Contains(err.Error(), "exit status 127") {
		t.Fatalf("Call after the server died = %v, want the exit status", err)
	}
	// The session stays up and answers each request with the reason.
	for _, id := range []string{`1`, `"two"`, `3`} {
		h.client.send(`{"jsonrpc":"2.0","id":` + id + `,"method":"initialize","params":{}}`)
		h.client.expectError(id, jsonrpc.CodeServerUnavailable, `server "fake" exited (exit status 127)`, "initialize was not answered")
		h.client.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`) // no answer
	}
	h.client.send(`{bad json`)
	h.client.expectError(`null`, jsonrpc.CodeParseError)
	h.client.hangUp()
	var exit *transport.ExitError
	if err := h.wait(t); !errors.As(err, &exit) {
		t.Errorf("Run = %v, want the ExitError", err)
	}
	if !strings.Contains(h.log.String(), "exit status 127") {
		t.Errorf("log = %q, want the exit status", h.log.String())
	}
}

func TestServerDeathRacesSend(t *testing.T) {
	// Requests that arrive while the session learns that the server died are each
	// answered once. Run with -race.
	h := newHarness(t)
	const n = 50
	go func() {
		for i := range n {
			h.client.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"m"}`, i))
		}
	}()
	h.server.exit(&transport.ExitError{Name: "fake", Status: "exit status 1"})
	seen := map[string]bool{}
	for range n {
		m, err := jsonrpc.Parse([]byte(h.client.expect()))
		if err != nil || m.ErrorObject() == nil || seen[m.ID.String()] {
			t.Fatalf("client received %v, want one error per request", m)
		}
		seen[m.ID.String()] = true
	}
}

func TestServerClosesStdout(t *testing.T) {
	h := newHarness(t)
	h.server.send(`{"jsonrpc":"2.0","method":"hello"}`)
	h.client.expect()
	h.client.send(`{"jsonrpc":"2.0","id":1,"method":"m"}`)
	h.server.expect()
	h.server.hangUp()
	h.client.expectError(`1`, jsonrpc.CodeServerUnavailable, `server "fake" exited (closed the connection)`)
	if err := h.wait(t); err == nil {
		t.Errorf("Run = nil, want an error when the server goes")
	}
}

func TestBadMessages(t *testing.T) {
	h := newHarness(t)
	// From the client: an error response, and the session keeps going.
	h.client.send(`{"jsonrpc":"2.0","id":1,"method":"m"`)
	h.client.expectError(`1`, jsonrpc.CodeParseError, "parse error")
	h.client.send(`[{"jsonrpc":"2.0","id":2,"method":"m"}]`)
	h.client.expectError(`null`, jsonrpc.CodeInvalidRequest, "batches")
	h.client.send(`{"jsonrpc":"2.0","id":"x","method":"m","params":"s"}`)
	h.client.expectError(`"x"`, jsonrpc.CodeInvalidRequest, "params")
	h.client.send(`{"jsonrpc":"2.0","id":3,"method":"good"}`, `{"jsonrpc":"2.0","id":4,"method":"good"}`)
	h.server.expectRaw(`{"jsonrpc":"2.0","id":3,"method":"good"}`)
	h.server.expectRaw(`{"jsonrpc":"2.0","id":4,"method":"good"}`)

	// From the server: a malformed response carrying a pending id gets that id an error.
	h.server.send(`{"jsonrpc":"2.0","id":3,"result":{},"error":{"code":1,"message":"x"}}`)
	h.client.expectError(`3`, jsonrpc.CodeInternalError, `server "fake" sent a malformed response`)
	h.server.send(`{"jsonrpc":"2.0","id":4,"result":{"a":[}}`)
	h.client.expectError(`4`, jsonrpc.CodeInternalError, "malformed")
	// Garbage without a pending id is only logged.
	h.server.send(`Starting server...`, `{"jsonrpc":"2.0","id":77,"result":1,"error":{}}`, `{"jsonrpc":"2.0","method":"after"}`)
	h.client.expectRaw(`{"jsonrpc":"2.0","method":"after"}`)
	if log := h.log.String(); strings.Count(log, `server "fake" sent a message Airlock cannot relay`) != 4 {
		t.Errorf("log = %q, want four lines about malformed server messages", log)
	}
}

func TestToolCalls(t *testing.T) {
	h := newHarness(t, ToolCalls(nil))
	refused := []string{
		`{"name":"rm","arguments":{"path":"/tmp/x","path":"/"}}`,
		`{"name":"q","arguments":{"filter":{"and":[{"a":1},{"b":2,"b":3}]}}}`,
		`{"name":"a","name":"b"}`,
		`{"name":"t","arguments":{"k":1,"\u006b":2}}`,
	}
	for i, params := range refused {
		id := fmt.Sprint(i + 1)
		h.client.send(`{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":` + params + `}`)
		h.client.expectError(id, jsonrpc.CodeInvalidParams, "ambiguous tools/call", "duplicate key")
	}
	h.client.send(`{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"arguments":{}}}`)
	h.client.expectError(`10`, jsonrpc.CodeInvalidParams, "without a tool name")
	// Duplicate keys elsewhere are not this middleware's business.
	clean := []string{
		`{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"rm","arguments":{"path":"/tmp/x","opts":{"path":1}}}}`,
		`{"jsonrpc":"2.0","id":12,"method":"tools/list","params":{"a":1,"a":2}}`,
	}
	for _, c := range clean {
		h.client.send(c)
		h.server.expectRaw(c)
	}
}

func TestGate(t *testing.T) {
	calls := make(chan *ToolCall, 10)
	gate := func(ctx context.Context, s *Session, call *ToolCall) Verdict {
		calls <- call
		if call.Name == "dangerous" {
			return Verdict{Refuse: true, Message: "denied by the user"}
		}
		return Verdict{}
	}
	h := newHarness(t, ToolCalls(GateFunc(gate)))
	h.client.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"dangerous","arguments":{"x":1},"_meta":{"progressToken":"p1"}}}`)
	raw := h.client.expect()
	m, err := jsonrpc.Parse([]byte(raw))
	if err != nil || m.ID.String() != "1" || m.Result == nil {
		t.Fatalf("client received %s, want a result for 1", raw)
	}
	var res struct {
		IsError bool `json:"isError"`
		Content []struct {
			Type, Text string
		} `json:"content"`
	}
	if err := json.Unmarshal(m.Result, &res); err != nil {
		t.Fatal(err)
	}
	if !res.IsError || len(res.Content) != 1 || res.Content[0].Text != "denied by the user" || res.Content[0].Type != "text" {
		t.Errorf("refusal result = %s, want isError with the message", m.Result)
	}
	call := <-calls
	if call.Name != "dangerous" || string(call.Arguments) != `{"x":1}` || string(call.Meta.ProgressToken) != `"p1"` || call.Request.ID.String() != "1" {
		t.Errorf("gate saw %+v", call)
	}
	allowed := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"safe"}}`
	h.client.send(allowed)
	h.server.expectRaw(allowed)
}

func TestGateWaitsForSessionEnd(t *testing.T) {
	// A gate that waits for a person must return when the session ends.
	entered := make(chan struct{})
	returned := make(chan struct{})
	gate := func(ctx context.Context, s *Session, call *ToolCall) Verdict {
		close(entered)
		<-ctx.Done()
		close(returned)
		return Verdict{Refuse: true, Message: "session over"}
	}
	h := newHarness(t, ToolCalls(GateFunc(gate)))
	h.client.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}`)
	<-entered
	h.client.hangUp()
	h.wait(t)
	select {
	case <-returned:
	case <-time.After(failsafe):
		t.Fatal("gate's ctx not done after the session ended")
	}
}

func TestHandshake(t *testing.T) {
	t.Run("initialize", func(t *testing.T) {
		h := newHarness(t, Handshake())
		h.client.send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","clientInfo":{"name":"Code","version":"1.99"},"capabilities":{"roots":{"listChanged":true}}}}`)
		h.server.expect()
		h.server.send(`{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-06-18","serverInfo":{"name":"files","version":"0.3"},"capabilities":{"tools":{}}}}`)
		h.client.expect()
		want := PeerInfo{
			ClientName: "Code", ClientVersion: "1.99", ClientCapabilities: json.RawMessage(`{"roots":{"listChanged":true}}`),
			ProtocolVersion: "2025-06-18",
			ServerName:      "files", ServerVersion: "0.3", ServerCapabilities: json.RawMessage(`{"tools":{}}`),
		}
		if diff := cmp.Diff(want, h.s.Info()); diff != "" {
			t.Errorf("Info mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("2026-07-28 _meta", func(t *testing.T) {
		h := newHarness(t, Handshake())
		h.client.send(`{"jsonrpc":"2.0","id":"d","method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"Zed","version":"0.2"},"io.modelcontextprotocol/clientCapabilities":{"elicitation":{}}}}}`)
		h.server.expect()
		want := PeerInfo{
			ClientName: "Zed", ClientVersion: "0.2", ClientCapabilities: json.RawMessage(`{"elicitation":{}}`),
			ProtocolVersion: "2026-07-28", Modern: true,
		}
		if diff := cmp.Diff(want, h.s.Info()); diff != "" {
			t.Errorf("Info mismatch (-want +got):\n%s", diff)
		}
		// An older-looking request does not downgrade it.
		h.client.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2025-11-25"}}}`)
		h.server.expect()
		if diff := cmp.Diff(want, h.s.Info()); diff != "" {
			t.Errorf("Info after an old request mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("modern tools/call", func(t *testing.T) {
		h := newHarness(t, Handshake())
		h.client.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"cli"}}}}`)
		h.server.expect()
		if got := h.s.Info(); !got.Modern || got.ClientName != "cli" || got.ProtocolVersion != "2026-07-28" {
			t.Errorf("Info = %+v, want modern cli", got)
		}
	})
}

func TestToolsListAndElicitations(t *testing.T) {
	h := newHarness(t,
		ToolsList(func(s *Session, resp *jsonrpc.Message) json.RawMessage {
			if strings.Contains(string(resp.Result), "secret") {
				return json.RawMessage(`{"tools":[]}`)
			}
			return nil
		}),
		Elicitations(func(s *Session, req *jsonrpc.Message) bool {
			if string(jsonrpc.Member(req.Params, "message")) == `"auto"` {
				s.Reply(ToClient, req, map[string]string{"action": "decline"})
				return false
			}
			return true
		}),
	)
	h.client.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	h.server.expect()
	h.server.expect()
	h.server.send(`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"secret"}]}}`, `{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"ok"}]}}`)
	h.client.expectRaw(`{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}`)
	h.client.expectRaw(`{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"ok"}]}}`)

	h.server.send(`{"jsonrpc":"2.0","id":"e1","method":"elicitation/create","params":{"message":"auto"}}`)
	h.server.expectRaw(`{"jsonrpc":"2.0","id":"e1","result":{"action":"decline"}}`)
	asked := `{"jsonrpc":"2.0","id":"e2","method":"elicitation/create","params":{"message":"ask"}}`
	h.server.send(asked)
	h.client.expectRaw(asked)
}

func TestStopEndsSession(t *testing.T) {
	h := newHarness(t)
	h.s.Stop()
	if err := h.wait(t); err != nil {
		t.Errorf("Run after Stop = %v, want nil", err)
	}
	h.server.expectClosed()
	h.client.expectClosed()
	select {
	case <-h.s.Context().Done():
	default:
		t.Errorf("Context not done after Stop")
	}
}

func TestDirection(t *testing.T) {
	got := []string{ToServer.String(), ToClient.String(), ToServer.Reverse().String(), ToClient.Reverse().String()}
	want := []string{"client→server", "server→client", "server→client", "client→server"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// While a large request waits for its answer the session keeps it slimmed (its name and
// small params, not its arguments), except an elicitation/create, whose params the
// answer's handlers read; either way the answer is matched to it.
func TestLargeRequestKeptSlimmed(t *testing.T) {
	seen := make(chan *jsonrpc.Message, 2)
	watch := func(next Handler) Handler {
		return func(s *Session, dir Direction, m *jsonrpc.Message) {
			if m.Kind == jsonrpc.KindResponse && m.Request != nil {
				seen <- m.Request
			}
			next(s, dir, m)
		}
	}
	h := newHarness(t, watch)
	big := strings.Repeat("x", 100<<10)
	h.client.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"write_file","arguments":{"content":"` + big + `"}}}`)
	h.server.expect()
	h.server.send(`{"jsonrpc":"2.0","id":1,"result":{"content":[]}}`)
	h.client.expect()
	req := <-seen
	if req.Raw != nil || jsonrpc.Member(req.Params, "arguments") != nil {
		t.Error("the answered tools/call was kept whole")
	}
	if req.Method != "tools/call" || string(jsonrpc.Member(req.Params, "name")) != `"write_file"` {
		t.Errorf("the slimmed request lost its method or name: %s %s", req.Method, req.Params)
	}
	h.server.send(`{"jsonrpc":"2.0","id":"e1","method":"elicitation/create","params":{"mode":"url","url":"https://example.com/?q=` + big + `","message":"m"}}`)
	h.client.expect()
	h.client.send(`{"jsonrpc":"2.0","id":"e1","result":{"action":"decline"}}`)
	h.server.expect()
	req = <-seen
	if req.Raw == nil || jsonrpc.Member(req.Params, "url") == nil {
		t.Error("an elicitation/create was slimmed: its answer's handlers need its URL")
	}
}
