// Package proxy relays MCP messages between an IDE and a server, passing each one
// through a chain of interceptors that can observe, answer, hold or refuse it.
package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
	"github.com/airlock-mcp/airlock/proxy/transport"
)

// Direction says which way a message travels.
type Direction uint8

const (
	// ToServer is from the IDE (client) toward the server.
	ToServer Direction = iota
	// ToClient is from the server toward the IDE.
	ToClient
)

// Reverse returns the opposite direction.
func (d Direction) Reverse() Direction { return 1 - d }

func (d Direction) side() string {
	if d == ToServer {
		return "server"
	}
	return "client"
}

func (d Direction) String() string {
	if d == ToServer {
		return "client→server"
	}
	return "server→client"
}

// Handler processes one message travelling in one direction. It forwards it (by calling
// the next handler), answers it (Session.Reply, Session.ReplyError), or drops it.
// Handlers run on the read loop of the message's sender: one that must wait (for a
// person, say) does so in its own goroutine.
type Handler func(s *Session, dir Direction, m *jsonrpc.Message)

// Middleware wraps a Handler.
type Middleware func(next Handler) Handler

// Options configure a Session.
type Options struct {
	// Name is the server's name as the user knows it.
	Name string
	// Middleware runs in order: the first sees a message first.
	Middleware []Middleware
	// Logf writes one diagnostic line (to stderr in the CLI). nil discards.
	Logf func(format string, args ...any)
}

// Session relays one IDE connection to one server.
type Session struct {
	Name string

	client, server transport.Conn
	handler        Handler
	logf           func(string, ...any)
	ids            jsonrpc.IDSpace

	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	toServer  map[string]*pending           // requests from the client, by raw id
	toClient  map[string]*pending           // requests from the server, by raw id
	calls     map[string]*call              // requests Airlock originated, by raw id
	held      map[string]context.CancelFunc // client requests an interceptor holds, by raw id
	serverErr error                         // set once the server is gone

	heardServer atomic.Bool
	info        PeerInfo
}

// call is a request Airlock itself sent; its answer must come back from the peer it
// went to.
type call struct {
	dir Direction
	ch  chan *jsonrpc.Message
}

// slimAbove is the size above which a forwarded request is kept only in slimmed form
// (see jsonrpc.Message.Slim) until its answer comes.
const slimAbove = 64 << 10

// keepWhole are the requests kept whole whatever their size, because the handling of
// their answer reads their params: an elicitation/create's URL and mode (the decision
// log records what the person answered about).
var keepWhole = map[string]bool{"elicitation/create": true}

type pending struct {
	req       *jsonrpc.Message
	cancelled bool
}

// NewSession returns a Session relaying client to server.
func NewSession(ctx context.Context, client, server transport.Conn, opts Options) *Session {
	s := &Session{
		Name:     opts.Name,
		client:   client,
		server:   server,
		logf:     opts.Logf,
		toServer: make(map[string]*pending),
		toClient: make(map[string]*pending),
		calls:    make(map[string]*call),
		held:     make(map[string]context.CancelFunc),
	}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	s.ctx, s.cancel = context.WithCancel(ctx)
	h := Handler(func(s *Session, dir Direction, m *jsonrpc.Message) { s.Send(dir, m) })
	for i := len(opts.Middleware) - 1; i >= 0; i-- {
		h = opts.Middleware[i](h)
	}
	s.handler = h
	return s
}

// Context is cancelled when the session ends.
func (s *Session) Context() context.Context { return s.ctx }

// Logf writes a diagnostic line.
func (s *Session) Logf(format string, args ...any) { s.logf(format, args...) }

// Run relays until the client goes away, or the server does after having spoken. It
// returns nil when the client closed the connection.
//
// When the client closes, the server is shut down (its stdin closed, then its process
// group signalled) before Run returns. When the server dies, every request it had not
// answered gets an error naming it and its exit status. A server that dies before ever
// sending a message leaves the session answering each request with why, until the
// client closes: the IDE sees the reason instead of a silent hang.
func (s *Session) Run() error {
	defer s.cancel()
	clientDone := make(chan error, 1)
	serverDone := make(chan error, 1)
	go func() { clientDone <- s.pump(s.client, ToServer) }()
	go func() { serverDone <- s.pump(s.server, ToClient) }()

	select {
	case err := <-clientDone:
		s.server.Close()
		<-serverDone
		s.failPending(fmt.Errorf("server %q: the connection was closed", s.Name))
		if isEOF(err) {
			return nil
		}
		return err
	case <-s.ctx.Done():
		s.server.Close()
		<-serverDone
		s.client.Close()
		return nil
	case err := <-serverDone:
		serr := serverGone(s.Name, err)
		s.logf("airlock: %v", serr)
		s.failPending(serr)
		if s.heardServer.Load() {
			s.client.Close()
			s.server.Close()
			return serr
		}
		// Keep answering the IDE with the reason until it hangs up.
		select {
		case <-clientDone:
		case <-s.ctx.Done():
			s.client.Close()
		}
		s.server.Close()
		return serr
	}
}

// Stop ends the session as if the client had gone.
func (s *Session) Stop() { s.cancel() }

func isEOF(err error) bool { return err == nil || errors.Is(err, io.EOF) }

func serverGone(name string, err error) error {
	var exit *transport.ExitError
	if errors.As(err, &exit) {
		return exit
	}
	if isEOF(err) {
		return &transport.ExitError{Name: name, Status: "closed the connection"}
	}
	return fmt.Errorf("server %q: %w", name, err)
}

// pump reads from one peer until it fails.
func (s *Session) pump(from transport.Conn, dir Direction) error {
	for {
		m, err := from.Read()
		if err != nil {
			var bad *jsonrpc.BadMessageError
			if errors.As(err, &bad) {
				s.badMessage(dir, bad)
				continue
			}
			return err
		}
		if dir == ToClient {
			s.heardServer.Store(true)
		}
		s.receive(dir, m)
	}
}

// Deliver passes m, from the client, through the chain on the caller's goroutine, as the
// client side's read loop does with what it reads. A transport whose messages arrive on
// goroutines of its own (one per HTTP request) uses it instead of feeding Read, which
// saves a hand-off between goroutines per message. Handlers already run concurrently
// (one read loop per direction) and lock what they share.
func (s *Session) Deliver(m *jsonrpc.Message) { s.receive(ToServer, m) }

// badMessage answers a message that could not be parsed. A bad message from the client
// gets a JSON-RPC error; one from the server is reported on stderr, and if it carried the
// id of a pending request, that request gets an error instead of waiting forever.
func (s *Session) badMessage(dir Direction, bad *jsonrpc.BadMessageError) {
	if dir == ToServer {
		s.write(ToClient, jsonrpc.NewError(bad.ID, bad.Code, bad.Reason, nil))
		return
	}
	s.logf("airlock: server %q sent a message Airlock cannot relay: %s", s.Name, bad.Reason)
	if bad.ID.IsZero() {
		return
	}
	s.mu.Lock()
	p := s.toServer[bad.ID.String()]
	delete(s.toServer, bad.ID.String())
	s.mu.Unlock()
	if p != nil {
		s.write(ToClient, jsonrpc.NewError(bad.ID, jsonrpc.CodeInternalError,
			fmt.Sprintf("server %q sent a malformed response: %s", s.Name, bad.Reason), nil))
	}
}

func (s *Session) receive(dir Direction, m *jsonrpc.Message) {
	switch m.Kind {
	case jsonrpc.KindRequest:
		if jsonrpc.IsReserved(m.ID) {
			s.write(dir.Reverse(), jsonrpc.NewError(m.ID, jsonrpc.CodeInvalidRequest,
				fmt.Sprintf("request ids starting with %q are reserved by Airlock; use another id", jsonrpc.ReservedPrefix), nil))
			return
		}
	case jsonrpc.KindResponse:
		key := m.ID.String()
		if jsonrpc.IsReserved(m.ID) {
			s.mu.Lock()
			c := s.calls[key]
			// Only the peer the request went to may answer it: the other side must not
			// forge, say, the IDE's answer to Airlock's own question.
			if c != nil && c.dir == dir.Reverse() {
				delete(s.calls, key)
			} else {
				c = nil
			}
			s.mu.Unlock()
			if c != nil {
				c.ch <- m
			} else {
				s.logf("airlock: dropped a response with reserved id %s from the %s side", m.ID, dir.Reverse().side())
			}
			return
		}
		s.mu.Lock()
		table := s.toServer // a response from the server answers a client request
		if dir == ToServer {
			table = s.toClient
		}
		p := table[key]
		delete(table, key)
		s.mu.Unlock()
		if p != nil {
			if p.cancelled {
				return // the requester cancelled it and must not see a late answer
			}
			m.Request = p.req
		}
	case jsonrpc.KindNotification:
		if m.Method == "notifications/cancelled" {
			s.markCancelled(dir, m)
		}
	}
	s.handler(s, dir, m)
}

func (s *Session) markCancelled(dir Direction, m *jsonrpc.Message) {
	var p struct {
		RequestID json.RawMessage `json:"requestId"`
	}
	if json.Unmarshal(m.Params, &p) != nil || len(p.RequestID) == 0 {
		return
	}
	key := string(bytes.TrimSpace(p.RequestID))
	s.mu.Lock()
	if cancel := s.held[key]; cancel != nil && dir == ToServer {
		cancel()
	}
	table := s.toServer // the client cancels its own request to the server
	if dir == ToClient {
		table = s.toClient
	}
	if e := table[key]; e != nil {
		e.cancelled = true
	}
	s.mu.Unlock()
}

// Send forwards m in direction dir, past the rest of the chain. Requests are tracked so
// their answers can be matched and, if the server dies, answered with an error.
func (s *Session) Send(dir Direction, m *jsonrpc.Message) {
	if m.Kind == jsonrpc.KindRequest {
		s.mu.Lock()
		table := s.toServer
		if dir == ToClient {
			table = s.toClient
		}
		if dir == ToServer && s.serverErr != nil {
			err := s.serverErr
			s.mu.Unlock()
			s.write(ToClient, unavailable(m, err))
			return
		}
		req := m
		if !keepWhole[m.Method] {
			req = m.Slim(slimAbove)
		}
		table[m.ID.String()] = &pending{req: req}
		s.mu.Unlock()
	}
	s.write(dir, m)
}

func unavailable(req *jsonrpc.Message, err error) *jsonrpc.Message {
	return jsonrpc.NewError(req.ID, jsonrpc.CodeServerUnavailable, fmt.Sprintf("%v; %s was not answered", err, req.Method), nil)
}

func (s *Session) write(dir Direction, m *jsonrpc.Message) {
	conn := s.client
	if dir == ToServer {
		conn = s.server
	}
	if err := conn.Write(m); err != nil {
		if dir == ToClient {
			// The IDE is gone; the client pump will see it and end the session.
			s.cancel()
			return
		}
		if m.Kind == jsonrpc.KindRequest {
			gone := serverGone(s.Name, err)
			s.mu.Lock()
			c := s.calls[m.ID.String()]
			delete(s.calls, m.ID.String())
			delete(s.toServer, m.ID.String())
			s.mu.Unlock()
			if c != nil {
				// Airlock's own request: its caller gets the error, not the IDE.
				c.ch <- jsonrpc.NewError(m.ID, jsonrpc.CodeServerUnavailable, gone.Error(), nil)
				return
			}
			s.write(ToClient, unavailable(m, gone))
		}
	}
}

// failPending answers every request still waiting on the server with err, and marks the
// server gone so later requests are answered at once.
func (s *Session) failPending(err error) {
	s.mu.Lock()
	if s.serverErr == nil {
		s.serverErr = err
	}
	waiting := s.toServer
	s.toServer = make(map[string]*pending)
	calls := s.calls
	s.calls = make(map[string]*call)
	s.mu.Unlock()
	for _, p := range waiting {
		if !p.cancelled {
			s.write(ToClient, unavailable(p.req, err))
		}
	}
	for id, c := range calls {
		c.ch <- jsonrpc.NewError(jsonrpc.RawID([]byte(id)), jsonrpc.CodeServerUnavailable, err.Error(), nil)
	}
}

// Hold registers req (from the client) as held by an interceptor, for instance while a
// person decides. The returned context ends when the client cancels req or the session
// ends; release must be called when the interceptor is done with req.
func (s *Session) Hold(req *jsonrpc.Message) (ctx context.Context, release func()) {
	ctx, cancel := context.WithCancel(s.ctx)
	key := req.ID.String()
	s.mu.Lock()
	s.held[key] = cancel
	s.mu.Unlock()
	return ctx, func() {
		s.mu.Lock()
		delete(s.held, key)
		s.mu.Unlock()
		cancel()
	}
}

// Reply answers req, which travelled in direction dir, with result.
func (s *Session) Reply(dir Direction, req *jsonrpc.Message, result any) error {
	m, err := jsonrpc.NewResult(req.ID, result)
	if err != nil {
		return err
	}
	s.write(dir.Reverse(), m)
	return nil
}

// ReplyError answers req, which travelled in direction dir, with a JSON-RPC error.
func (s *Session) ReplyError(dir Direction, req *jsonrpc.Message, code int, message string, data any) {
	s.write(dir.Reverse(), jsonrpc.NewError(req.ID, code, message, data))
}

// Call sends a request that Airlock itself originates to the peer in direction dir and
// waits for its answer. Its id comes from a reserved namespace that peers cannot use.
func (s *Session) Call(ctx context.Context, dir Direction, method string, params any) (*jsonrpc.Message, error) {
	id := s.ids.Next()
	req, err := jsonrpc.NewRequest(id, method, params)
	if err != nil {
		return nil, err
	}
	ch := make(chan *jsonrpc.Message, 1)
	s.mu.Lock()
	if dir == ToServer && s.serverErr != nil {
		err := s.serverErr
		s.mu.Unlock()
		return nil, err
	}
	s.calls[id.String()] = &call{dir: dir, ch: ch}
	s.mu.Unlock()
	s.write(dir, req)
	select {
	case resp := <-ch:
		if e := resp.ErrorObject(); e != nil {
			return resp, e
		}
		return resp, nil
	case <-ctx.Done():
		s.mu.Lock()
		delete(s.calls, id.String())
		s.mu.Unlock()
		if n, err := jsonrpc.NewNotification("notifications/cancelled", map[string]any{"requestId": id.Raw(), "reason": "airlock: " + ctx.Err().Error()}); err == nil {
			s.write(dir, n)
		}
		return nil, ctx.Err()
	case <-s.ctx.Done():
		return nil, fmt.Errorf("call %s: session ended", method)
	}
}

// Info returns what the session has learnt about its peers so far.
func (s *Session) Info() PeerInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info
}

// undecidedGeneration reports whether the session has neither done the initialize
// handshake nor seen a 2026-07-28 request, so a request's _meta is worth reading.
func (s *Session) undecidedGeneration() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.info.Modern && s.info.ProtocolVersion == ""
}

func (s *Session) updateInfo(f func(*PeerInfo)) {
	s.mu.Lock()
	f(&s.info)
	s.mu.Unlock()
}
