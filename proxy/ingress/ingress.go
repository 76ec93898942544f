// Package ingress serves MCP's streamable HTTP transport on loopback, so IDEs that prefer
// URLs reach Airlock's relay: one endpoint per configured server at /mcp/NAME.
package ingress

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/airlock-mcp/airlock/proxy"
	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
)

// Backend is one server that the ingress exposes.
type Backend struct {
	Dial proxy.Dialer
}

// Server is the loopback HTTP ingress. Its zero value is not usable: set Backends.
type Server struct {
	// Backends maps a server name to how to reach it.
	Backends map[string]Backend
	// Token, when not empty, must arrive as "Authorization: Bearer TOKEN".
	Token string
	// Middleware returns the interceptor chain for a new relay session with the server
	// name; nil means plain relaying.
	Middleware func(name string) []proxy.Middleware
	// MaxMessage caps one POSTed message (jsonrpc.DefaultMaxMessageSize when 0).
	MaxMessage int
	// IdleTimeout ends a stateful session with no HTTP activity for this long (30 min
	// when 0), shutting its server down.
	IdleTimeout time.Duration
	// Logf writes diagnostic lines; nil discards.
	Logf func(format string, args ...any)

	mu       sync.Mutex
	sessions map[string]*session      // by Mcp-Session-Id
	modern   map[string]*session      // shared stateless 2026-07-28 backend, by server name
	starting map[string]chan struct{} // closed when a modern backend's start ends
	wg       sync.WaitGroup
	ctx      context.Context
	cancel   context.CancelFunc
	initOnce sync.Once
}

type session struct {
	id     string
	name   string
	conn   *conn
	relay  *proxy.Session
	ended  chan struct{}
	modern bool
}

const (
	headerSessionID       = "Mcp-Session-Id"
	headerProtocolVersion = "Mcp-Protocol-Version"
	headerMethod          = "Mcp-Method"
	headerName            = "Mcp-Name"
)

func (s *Server) init() {
	s.initOnce.Do(func() {
		s.sessions = make(map[string]*session)
		s.modern = make(map[string]*session)
		s.starting = make(map[string]chan struct{})
		s.ctx, s.cancel = context.WithCancel(context.Background())
		if s.MaxMessage <= 0 {
			s.MaxMessage = jsonrpc.DefaultMaxMessageSize
		}
		if s.IdleTimeout <= 0 {
			s.IdleTimeout = 30 * time.Minute
		}
		if s.Logf == nil {
			s.Logf = func(string, ...any) {}
		}
		go s.janitor()
	})
}

// Close ends every session and shuts their servers down.
func (s *Server) Close() {
	s.init()
	s.cancel()
	s.mu.Lock()
	var all []*session
	for _, ss := range s.sessions {
		all = append(all, ss)
	}
	for _, ss := range s.modern {
		all = append(all, ss)
	}
	s.mu.Unlock()
	for _, ss := range all {
		ss.conn.Close()
	}
	s.wg.Wait()
}

func (s *Server) janitor() {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			s.mu.Lock()
			for _, ss := range s.sessions {
				if now.Sub(time.Unix(0, ss.conn.lastSeen.Load())) > s.IdleTimeout {
					s.Logf("airlock serve: session %s for %q idle for %s; closing it", ss.id[:8], ss.name, s.IdleTimeout)
					ss.conn.Close()
				}
			}
			s.mu.Unlock()
		}
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.init()
	if !loopbackHost(r.Host) {
		http.Error(w, "Forbidden: Airlock only answers requests addressed to a loopback host (DNS rebinding protection)", http.StatusForbidden)
		return
	}
	if o := r.Header.Get("Origin"); o != "" && !loopbackOrigin(o) {
		http.Error(w, "Forbidden: cross-origin requests are refused", http.StatusForbidden)
		return
	}
	if s.Token != "" && !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="airlock"`)
		http.Error(w, "Unauthorized: send the token from `airlock serve --print-token` as \"Authorization: Bearer TOKEN\"", http.StatusUnauthorized)
		return
	}
	name, ok := strings.CutPrefix(strings.TrimSuffix(r.URL.Path, "/"), "/mcp/")
	if !ok || strings.Contains(name, "/") {
		http.NotFound(w, r)
		return
	}
	backend, ok := s.Backends[name]
	if !ok {
		http.Error(w, fmt.Sprintf("Not Found: no server %q is configured", name), http.StatusNotFound)
		return
	}
	switch r.Method {
	case http.MethodPost:
		if !jsonContent(r.Header.Get("Content-Type")) {
			// MCP clients send application/json. Requiring it also means a web page can
			// reach this endpoint only after a CORS preflight, which Airlock never grants:
			// a "simple" cross-origin POST (text/plain, form data) carries no such type.
			http.Error(w, "Unsupported Media Type: send MCP messages with Content-Type: application/json", http.StatusUnsupportedMediaType)
			return
		}
		s.post(w, r, name, backend)
	case http.MethodGet:
		s.get(w, r, name)
	case http.MethodDelete:
		s.delete(w, r, name)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
	}
}

func (s *Server) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(s.Token)) == 1
}

// loopbackHost reports whether the Host header names a loopback address.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// jsonContent reports whether a Content-Type header is application/json (parameters
// such as charset allowed).
func jsonContent(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

func loopbackOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return loopbackHost(u.Host)
}

func writeJSONRPCError(w http.ResponseWriter, status int, id jsonrpc.ID, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(jsonrpc.NewError(id, code, msg, nil).Raw)
}

func (s *Server) lookup(r *http.Request, name string) (*session, bool) {
	id := r.Header.Get(headerSessionID)
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions[id]
	if !ok || ss.name != name {
		return nil, false
	}
	return ss, true
}

func (s *Server) post(w http.ResponseWriter, r *http.Request, name string, backend Backend) {
	// A request to a known session reserves its body's size in the session's queue budget
	// before the body is read, until the message has been delivered to the relay: when the
	// server reads slowly, further bodies wait unread.
	known, _ := s.lookup(r, name)
	var delivered func() // releases the reservation
	if known != nil {
		weight := bodyWeight(r, s.MaxMessage)
		if err := known.conn.reserve(r.Context(), weight); err != nil {
			if r.Context().Err() == nil {
				writeJSONRPCError(w, http.StatusNotFound, jsonrpc.ID{}, jsonrpc.CodeServerUnavailable, "session ended")
			}
			return
		}
		var once sync.Once
		delivered = func() { once.Do(func() { known.conn.queue.Release(weight) }) }
		defer delivered()
	}
	body, err := readBody(r, s.MaxMessage)
	if err != nil {
		writeJSONRPCError(w, http.StatusBadRequest, jsonrpc.ID{}, jsonrpc.CodeParseError, "could not read the request body: "+err.Error())
		return
	}
	if len(body) > s.MaxMessage {
		writeJSONRPCError(w, http.StatusRequestEntityTooLarge, jsonrpc.ID{}, jsonrpc.CodeMessageTooLarge,
			fmt.Sprintf("message too large: the limit is %d bytes", s.MaxMessage))
		return
	}
	m, err := jsonrpc.Parse(body)
	if err != nil {
		var bad *jsonrpc.BadMessageError
		errors.As(err, &bad)
		writeJSONRPCError(w, http.StatusBadRequest, bad.ID, bad.Code, bad.Reason)
		return
	}
	meta := proxy.Meta{}
	if m.Kind == jsonrpc.KindRequest {
		meta = proxy.RequestMeta(m)
	}
	modern := meta.ProtocolVersion >= proxy.ModernVersion
	if modern {
		if hv := r.Header.Get(headerProtocolVersion); hv != "" && hv != meta.ProtocolVersion {
			writeJSONRPCError(w, http.StatusBadRequest, m.ID, -32020,
				fmt.Sprintf("header mismatch: %s is %q but _meta says %q", headerProtocolVersion, hv, meta.ProtocolVersion))
			return
		}
		if hm := r.Header.Get(headerMethod); hm != "" && hm != m.Method {
			writeJSONRPCError(w, http.StatusBadRequest, m.ID, -32020,
				fmt.Sprintf("header mismatch: %s is %q but the body's method is %q", headerMethod, hm, m.Method))
			return
		}
		if hn := r.Header.Get(headerName); hn != "" {
			body, _ := jsonrpc.MCPName(m)
			if v, ok := decodeHeaderValue(hn); !ok || v != body {
				writeJSONRPCError(w, http.StatusBadRequest, m.ID, -32020,
					fmt.Sprintf("header mismatch: %s is %q but the body names %q", headerName, hn, body))
				return
			}
		}
	}

	var ss *session
	switch {
	case r.Header.Get(headerSessionID) != "":
		var ok bool
		if ss, ok = s.lookup(r, name); !ok {
			writeJSONRPCError(w, http.StatusNotFound, m.ID, jsonrpc.CodeInvalidRequest, "session not found: it ended or expired; initialize a new one")
			return
		}
	case modern:
		if ss, err = s.modernSession(name, backend); err != nil {
			writeJSONRPCError(w, http.StatusOK, m.ID, jsonrpc.CodeServerUnavailable, err.Error())
			return
		}
	case m.Kind == jsonrpc.KindRequest && m.Method == "initialize":
		if ss, err = s.newSession(name, backend); err != nil {
			writeJSONRPCError(w, http.StatusOK, m.ID, jsonrpc.CodeServerUnavailable, err.Error())
			return
		}
		w.Header().Set(headerSessionID, ss.id)
	default:
		writeJSONRPCError(w, http.StatusBadRequest, m.ID, jsonrpc.CodeInvalidRequest,
			"Bad Request: missing "+headerSessionID+" header; start with initialize (or send 2026-07-28 requests with _meta)")
		return
	}
	ss.conn.lastSeen.Store(time.Now().UnixNano())

	if m.Kind != jsonrpc.KindRequest {
		if _, ok := ss.conn.accept(m, nil, nil); !ok {
			http.Error(w, "session ended", http.StatusNotFound)
			return
		}
		ss.relay.Deliver(m)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	sse := acceptsSSE(r)
	st := newStream("", sse && !ss.modern)
	defer close(st.done)
	dm, ok := ss.conn.accept(m, st, meta.ProgressToken)
	if !ok {
		writeJSONRPCError(w, http.StatusNotFound, m.ID, jsonrpc.CodeServerUnavailable, "session ended")
		return
	}
	// The chain runs here, on this request's goroutine: no hand-off to another.
	ss.relay.Deliver(dm)
	if st.cancelAfter != nil { // the client cancelled it before its body was read
		ss.relay.Deliver(st.cancelAfter)
	}
	if delivered != nil {
		delivered()
	}
	s.answer(w, r, ss, st, sse)
}

// answer writes the messages routed to st until its response has gone out.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, ss *session, st *stream, sse bool) {
	flusher, _ := w.(http.Flusher)
	started := false
	for {
		select {
		case m := <-st.out:
			final := m.Kind == jsonrpc.KindResponse
			if !started && (final || !sse) {
				// An answer with nothing before it goes out whole, with its length: one
				// write instead of an open event stream and its end in two. A client that
				// accepts an event stream gets it as a stream of one event (as the server
				// itself would send it), a JSON-only client as plain JSON; the latter gets
				// only the answer.
				if !final {
					continue
				}
				if sse {
					w.Header().Set("Content-Type", "text/event-stream")
					w.Header().Set("Cache-Control", "no-cache")
					w.Header().Set("Content-Length", strconv.Itoa(eventLen(m.Raw)))
					writeEvent(w, m.Raw)
				} else {
					w.Header().Set("Content-Type", "application/json")
					w.Header().Set("Content-Length", strconv.Itoa(len(m.Raw)))
					w.Write(m.Raw)
				}
				ss.conn.release(st)
				return
			}
			if !started {
				w.Header().Set("Content-Type", "text/event-stream")
				w.Header().Set("Cache-Control", "no-cache")
				w.WriteHeader(http.StatusOK)
				started = true
			}
			writeEvent(w, m.Raw)
			if flusher != nil {
				flusher.Flush()
			}
			if final {
				ss.conn.release(st)
				return
			}
		case <-r.Context().Done():
			if ss.conn.release(st) && ss.modern {
				// In 2026-07-28 closing the stream cancels the request.
				if n, err := jsonrpc.NewNotification("notifications/cancelled", map[string]any{
					"requestId": json.RawMessage(st.key), "reason": "the HTTP client closed the stream",
				}); err == nil {
					ss.relay.Deliver(n)
				}
			}
			return
		case <-ss.ended:
			ss.conn.release(st)
			if !started {
				writeJSONRPCError(w, http.StatusOK, st.orig, jsonrpc.CodeServerUnavailable, fmt.Sprintf("server %q is gone", ss.name))
			}
			return
		}
	}
}

// readBody reads a request body of at most max bytes (one more when it is longer, so the
// caller can tell). With a Content-Length it allocates once, instead of growing a buffer
// (and leaving garbage twice the size of a large message behind).
func readBody(r *http.Request, max int) ([]byte, error) {
	lr := io.LimitReader(r.Body, int64(max)+1)
	if n := r.ContentLength; n > 0 && n <= int64(max) {
		buf := make([]byte, n+1) // +1 sees a body longer than announced
		k, err := io.ReadFull(lr, buf)
		switch {
		case err == io.ErrUnexpectedEOF || err == io.EOF:
			return buf[:k], nil
		case err != nil:
			return nil, err
		}
		rest, err := io.ReadAll(lr) // longer than announced: keep reading up to the cap
		return append(buf, rest...), err
	}
	return io.ReadAll(lr)
}

// bodyWeight is the share of a session's queue budget a request body takes: its
// announced length (a body without one counts as 64 KiB), at most the whole budget.
func bodyWeight(r *http.Request, max int) int64 {
	n := r.ContentLength
	if n <= 0 {
		n = 64 << 10
	}
	return min(n, int64(max)+1, queueBudget)
}

// eventCopyMax is the largest message writeEvent copies to send its event in one write;
// a larger one is written in place, in three writes, rather than copied.
const eventCopyMax = 32 << 10

// The framing of one event. JSON text from the relay never contains a raw newline, so one
// data line suffices.
const eventPrefix, eventSuffix = "event: message\ndata: ", "\n\n"

// eventLen is the length of the event writeEvent writes for data.
func eventLen(data []byte) int { return len(eventPrefix) + len(data) + len(eventSuffix) }

func writeEvent(w io.Writer, data []byte) {
	const prefix, suffix = eventPrefix, eventSuffix
	if len(data) > eventCopyMax {
		io.WriteString(w, prefix)
		w.Write(data)
		io.WriteString(w, suffix)
		return
	}
	buf := make([]byte, 0, len(data)+len(prefix)+len(suffix))
	buf = append(buf, prefix...)
	buf = append(buf, data...)
	buf = append(buf, suffix...)
	w.Write(buf)
}

func acceptsSSE(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		if strings.Contains(v, "text/event-stream") {
			return true
		}
	}
	return false
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, name string) {
	if r.Header.Get(headerSessionID) == "" {
		w.Header().Set("Allow", "POST")
		http.Error(w, "Method Not Allowed: GET needs an "+headerSessionID, http.StatusMethodNotAllowed)
		return
	}
	ss, ok := s.lookup(r, name)
	if !ok {
		http.Error(w, "Not Found: session ended or expired", http.StatusNotFound)
		return
	}
	if !acceptsSSE(r) {
		http.Error(w, "Not Acceptable: GET needs Accept: text/event-stream", http.StatusNotAcceptable)
		return
	}
	st := newStream("", true)
	defer close(st.done)
	if !ss.conn.attachStandalone(st) {
		http.Error(w, "Conflict: a GET stream is already open for this session", http.StatusConflict)
		return
	}
	defer ss.conn.release(st)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	for {
		select {
		case m := <-st.out:
			ss.conn.lastSeen.Store(time.Now().UnixNano())
			writeEvent(w, m.Raw)
			if flusher != nil {
				flusher.Flush()
			}
		case <-r.Context().Done():
			return
		case <-ss.ended:
			return
		}
	}
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, name string) {
	ss, ok := s.lookup(r, name)
	if !ok {
		http.Error(w, "Not Found: session ended or expired", http.StatusNotFound)
		return
	}
	ss.conn.Close()
	w.WriteHeader(http.StatusNoContent)
}

func newSessionID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newSession starts a stateful session: its own server process (or upstream connection)
// and its own relay.
func (s *Server) newSession(name string, backend Backend) (*session, error) {
	return s.start(name, backend, false)
}

// modernSession returns the shared stateless backend for name, starting it if needed.
// Concurrent first requests wait for one start rather than each launching a server.
func (s *Server) modernSession(name string, backend Backend) (*session, error) {
	for {
		s.mu.Lock()
		if ss := s.modern[name]; ss != nil {
			s.mu.Unlock()
			return ss, nil
		}
		if wait := s.starting[name]; wait != nil {
			s.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-s.ctx.Done():
				return nil, s.ctx.Err()
			}
		}
		done := make(chan struct{})
		s.starting[name] = done
		s.mu.Unlock()
		ss, err := s.start(name, backend, true)
		s.mu.Lock()
		delete(s.starting, name)
		if err == nil {
			select {
			case <-ss.ended: // died already; the next request starts afresh
			default:
				s.modern[name] = ss
			}
		}
		close(done)
		s.mu.Unlock()
		return ss, err
	}
}

func (s *Server) start(name string, backend Backend, modern bool) (*session, error) {
	server, err := backend.Dial(s.ctx)
	if err != nil {
		s.Logf("airlock serve: %v", err)
		return nil, err
	}
	c := newConn(modern)
	c.lastSeen.Store(time.Now().UnixNano())
	var mw []proxy.Middleware
	if s.Middleware != nil {
		mw = s.Middleware(name)
	}
	ss := &session{id: newSessionID(), name: name, conn: c, ended: make(chan struct{}), modern: modern}
	ss.relay = proxy.NewSession(s.ctx, c, server, proxy.Options{Name: name, Middleware: mw, Logf: s.Logf})
	s.mu.Lock()
	if !modern {
		s.sessions[ss.id] = ss
	}
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ss.relay.Run()
		c.Close()
		close(ss.ended)
		s.mu.Lock()
		if s.sessions[ss.id] == ss {
			delete(s.sessions, ss.id)
		}
		if s.modern[name] == ss {
			delete(s.modern, name)
		}
		s.mu.Unlock()
	}()
	return ss, nil
}

// decodeHeaderValue reads an Mcp-* header value: as is, or =?base64?…?= of UTF-8 bytes.
func decodeHeaderValue(h string) (string, bool) {
	if strings.HasPrefix(h, "=?base64?") && strings.HasSuffix(h, "?=") && len(h) >= len("=?base64??=") {
		b, err := base64.StdEncoding.DecodeString(h[len("=?base64?") : len(h)-2])
		if err != nil || !utf8.Valid(b) {
			return "", false
		}
		return string(b), true
	}
	return h, true
}
