package remote

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
)

var errEOF = io.EOF

// Write sends one message from the IDE. It returns an error only when the Conn is
// closed or, for notifications and responses, when the server could not take them;
// a request that fails is answered through Read instead.
//
// A request is handed off once it has been written to the network (for initialize,
// once the server has answered with headers); its answer is read in the background.
// Notifications and responses are sent one at a time and Write waits for the server
// to accept them, so that notifications/initialized reaches the server before the
// requests that follow it.
func (c *Conn) Write(m *jsonrpc.Message) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return fmt.Errorf("server %q: %w", c.name, net.ErrClosed)
	}
	switch m.Kind {
	case jsonrpc.KindRequest:
		return c.startCall(m)
	case jsonrpc.KindNotification:
		if m.Method == "notifications/cancelled" && c.cancelCall(m) {
			return nil
		}
		err := c.send(m)
		if err == nil && m.Method == "notifications/initialized" {
			c.openStandalone()
		}
		return err
	default:
		return c.send(m)
	}
}

// requestVersion returns params._meta["io.modelcontextprotocol/protocolVersion"] of a
// request when it names 2026-07-28 or later, and "" otherwise.
func requestVersion(m *jsonrpc.Message) string {
	if m.Kind != jsonrpc.KindRequest || m.Params == nil {
		return ""
	}
	meta := jsonrpc.Member(m.Params, "_meta")
	if meta == nil {
		return ""
	}
	v, ok := jsonString(jsonrpc.Member(meta, "io.modelcontextprotocol/protocolVersion"))
	if !ok || v < modernVersion {
		return ""
	}
	return v
}

func jsonString(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// headerValue encodes s for an Mcp-* header: as is when it is printable ASCII without
// surrounding whitespace, otherwise as =?base64?…?= of its UTF-8 bytes.
func headerValue(s string) string {
	plain := strings.TrimSpace(s) == s &&
		!(strings.HasPrefix(s, "=?base64?") && strings.HasSuffix(s, "?="))
	for i := 0; plain && i < len(s); i++ {
		plain = s[i] >= 0x20 && s[i] <= 0x7e
	}
	if plain {
		return s
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return "=?base64?" + base64.StdEncoding.EncodeToString([]byte(s)) + "?="
}

// postRequest builds the POST that carries m. modern is the request's 2026-07-28+
// version, or "" to use the legacy session. It also returns the session id it sent.
func (c *Conn) postRequest(ctx context.Context, m *jsonrpc.Message, modern string) (*http.Request, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(m.Raw))
	if err != nil {
		return nil, "", err
	}
	h := req.Header
	if err := c.addHeaders(ctx, h); err != nil {
		return nil, "", err
	}
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json, text/event-stream")
	c.mu.Lock()
	session, version := c.session, c.version
	if modern == "" && m.Kind != jsonrpc.KindRequest && session == "" && version == "" {
		// A notification in pure 2026-07-28 use goes with the version of the requests.
		modern = c.modern
	}
	c.mu.Unlock()
	if modern != "" {
		h.Del(hdrSession)
		h.Set(hdrVersion, modern)
		h.Set(hdrMethod, m.Method)
		if name, ok := jsonrpc.MCPName(m); ok {
			h.Set(hdrName, headerValue(name))
		}
		for k, v := range c.paramHeaders(m) {
			h.Set(k, v)
		}
		return req, "", nil
	}
	if m.Method == "initialize" {
		// A new session: nothing from an old one goes with it.
		h.Del(hdrSession)
		h.Del(hdrVersion)
		return req, "", nil
	}
	if session != "" {
		h.Set(hdrSession, session)
	}
	if version != "" {
		h.Set(hdrVersion, version)
		if version >= modernVersion && m.Method != "" {
			h.Set(hdrMethod, m.Method)
			for k, v := range c.paramHeaders(m) {
				h.Set(k, v)
			}
		}
	}
	return req, session, nil
}

// send POSTs a notification or a response and waits for the server to accept it.
func (c *Conn) send(m *jsonrpc.Message) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	ctx, cancel := context.WithTimeout(c.ctx, notifyTimeout)
	defer cancel()
	var (
		resp    *http.Response
		session string
	)
	for attempt := 0; ; attempt++ {
		req, sent, err := c.postRequest(ctx, m, "")
		if err != nil {
			return fmt.Errorf("server %q: send %s: %w", c.name, m, err)
		}
		session = sent
		resp, err = c.client.Do(req)
		if err != nil {
			return fmt.Errorf("send %s: %s", m, c.describe(err))
		}
		drain(resp)
		if attempt == 0 && c.needsAuth(resp) {
			if err := c.auth.Authorize(ctx, req.Header.Get("Authorization"), resp); err != nil {
				return fmt.Errorf("server %q: send %s: %w", c.name, m, err)
			}
			continue
		}
		break
	}
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode == http.StatusNotFound && session != "":
		c.expire(session)
		return fmt.Errorf("server %q: send %s: the session expired", c.name, m)
	}
	return fmt.Errorf("server %q: send %s: %s answered HTTP %d", c.name, m, c.host, resp.StatusCode)
}

// startCall registers a request and POSTs it in the background.
func (c *Conn) startCall(m *jsonrpc.Message) error {
	cl := &call{id: m.ID, method: m.Method, modern: requestVersion(m)}
	ctx, cancel := context.WithCancel(c.ctx)
	cl.cancel = cancel
	key := m.ID.String()

	c.mu.Lock()
	if cl.modern != "" {
		c.modern = cl.modern
	}
	expired := c.expired && cl.modern == "" && m.Method != "initialize"
	if m.Method == "initialize" {
		c.resetSessionLocked()
	}
	if !expired {
		c.calls[key] = cl
	}
	c.mu.Unlock()
	if expired {
		cancel()
		c.deliver(c.expiredError(cl.id))
		return nil
	}

	handed := make(chan struct{})
	var once sync.Once
	handoff := func() { once.Do(func() { close(handed) }) }
	started := c.spawn(func() {
		defer handoff()
		defer cancel()
		defer func() {
			c.mu.Lock()
			if c.calls[key] == cl {
				delete(c.calls, key)
			}
			c.mu.Unlock()
		}()
		c.runCall(ctx, cl, m, handoff)
	})
	if !started {
		cancel()
		return fmt.Errorf("server %q: %w", c.name, net.ErrClosed)
	}
	<-handed
	return nil
}

// resetSessionLocked forgets the current session before a new initialize.
func (c *Conn) resetSessionLocked() {
	c.session, c.version, c.expired = "", "", false
	if c.standalone != nil {
		c.standalone()
		c.standalone = nil
	}
}

// expire records that the server no longer knows session.
func (c *Conn) expire(session string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session != session {
		return
	}
	c.expired = true
	if c.standalone != nil {
		c.standalone()
		c.standalone = nil
	}
}

func (c *Conn) expiredError(id jsonrpc.ID) *jsonrpc.Message {
	return jsonrpc.NewError(id, jsonrpc.CodeServerUnavailable, fmt.Sprintf(
		"server %q at %s ended the session (HTTP 404): reconnect to start a new one", c.name, c.host), nil)
}

// cancelCall handles notifications/cancelled for a request in flight. For a 2026-07-28
// request, closing its stream is the cancellation, and cancelCall reports true: the
// notification is not sent. For a legacy request the stream stays open (a disconnect
// is not a cancellation there) for a grace period, and the notification is sent.
func (c *Conn) cancelCall(m *jsonrpc.Message) bool {
	raw := jsonrpc.Member(m.Params, "requestId")
	if raw == nil {
		return false
	}
	c.mu.Lock()
	cl := c.calls[string(bytes.TrimSpace(raw))]
	c.mu.Unlock()
	if cl == nil {
		return false
	}
	cl.mu.Lock()
	cl.cancelled = true
	cl.mu.Unlock()
	if cl.modern != "" {
		cl.cancel()
		return true
	}
	time.AfterFunc(cancelGrace, cl.cancel)
	return false
}

// runCall POSTs a request and relays its answer. handoff is called once the request
// is on its way.
func (c *Conn) runCall(ctx context.Context, cl *call, m *jsonrpc.Message, handoff func()) {
	var (
		resp    *http.Response
		session string
	)
	for attempt := 0; ; attempt++ {
		req, sent, err := c.postRequest(ctx, m, cl.modern)
		if err != nil {
			c.fail(cl, "server %q: cannot send %s: %v", c.name, m.Method, err)
			return
		}
		session = sent
		if m.Method != "initialize" {
			trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { handoff() }}
			req = req.WithContext(httptrace.WithClientTrace(ctx, trace))
		}
		resp, err = c.client.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				c.fail(cl, "%s", c.describe(err))
			}
			return
		}
		if attempt == 0 && c.needsAuth(resp) {
			// One authorization and one retry per request. A person may take minutes in
			// the browser; only initialize holds up the IDE's next message meanwhile.
			err := c.auth.Authorize(ctx, req.Header.Get("Authorization"), resp)
			drain(resp)
			if err != nil {
				c.fail(cl, "%v", err)
				return
			}
			continue
		}
		break
	}
	defer drain(resp)
	if m.Method == "initialize" && resp.StatusCode/100 == 2 {
		if sid := resp.Header.Get(hdrSession); sid != "" {
			c.mu.Lock()
			c.session = sid
			c.mu.Unlock()
		}
	}
	handoff()

	if resp.StatusCode/100 != 2 {
		c.statusError(cl, resp, session)
		return
	}
	switch mediaType(resp) {
	case "application/json":
		c.jsonAnswer(cl, resp)
	case "text/event-stream":
		c.streamAnswer(ctx, cl, resp)
	default:
		if resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusNoContent {
			c.fail(cl, "server %q at %s accepted %s without answering it (HTTP %d)", c.name, c.host, cl.method, resp.StatusCode)
			return
		}
		c.fail(cl, "server %q at %s answered with unsupported content type %q", c.name, c.host, resp.Header.Get("Content-Type"))
	}
}

func mediaType(resp *http.Response) string {
	t, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return t
}

// describe says why a request failed without quoting the URL, whose query may hold
// secrets.
func (c *Conn) describe(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Sprintf("server %q at %s did not answer in time", c.name, c.host)
	}
	return fmt.Sprintf("server %q at %s is unreachable: %v", c.name, c.host, err)
}

// maxErrorBody caps what is read of an HTTP error's body.
const maxErrorBody = 1 << 20

// statusError answers a request the server refused with an HTTP error status.
func (c *Conn) statusError(cl *call, resp *http.Response, session string) {
	if resp.StatusCode == http.StatusNotFound && session != "" {
		c.expire(session)
		if !cl.isCancelled() {
			c.deliver(c.expiredError(cl.id))
		}
		return
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, int64(min(c.max, maxErrorBody))))
	if m, err := jsonrpc.Parse(body); err == nil && m.Kind == jsonrpc.KindResponse && m.Error != nil {
		if cl.isCancelled() {
			return
		}
		if m.ID == cl.id {
			c.deliver(m)
			return
		}
		// An error that does not name the request (say, a null id) still answers it.
		e := m.ErrorObject()
		var data any
		if e.Data != nil {
			data = e.Data
		}
		c.deliver(jsonrpc.NewError(cl.id, e.Code, e.Message, data))
		return
	}
	if resp.StatusCode == http.StatusUnauthorized && c.auth != nil {
		c.fail(cl, "server %q at %s refused Airlock's access token (HTTP 401) even after signing in", c.name, c.host)
		return
	}
	if resp.StatusCode == http.StatusUnauthorized {
		c.fail(cl, "server %q at %s requires authorization (HTTP 401); Airlock cannot sign in to it yet: add credentials to its headers in the configuration", c.name, c.host)
		return
	}
	msg := fmt.Sprintf("server %q at %s answered HTTP %d", c.name, c.host, resp.StatusCode)
	if text := snippet(body); text != "" {
		msg += ": " + text
	}
	c.fail(cl, "%s", msg)
}

// snippet returns the start of a plain-text error body, made safe to show.
func snippet(body []byte) string {
	const limit = 200
	if !utf8.Valid(body) {
		return ""
	}
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > limit {
		s = strings.ToValidUTF8(s[:limit], "") + "…"
	}
	return s
}

// jsonAnswer relays an application/json answer: one message.
func (c *Conn) jsonAnswer(cl *call, resp *http.Response) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(c.max)+1))
	if err != nil {
		if c.ctx.Err() == nil {
			c.fail(cl, "server %q at %s: reading the answer: %v", c.name, c.host, err)
		}
		return
	}
	if len(body) > c.max {
		c.push(item{err: c.tooLarge(cl.id, len(body))})
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		c.fail(cl, "server %q at %s answered %s with an empty body", c.name, c.host, cl.method)
		return
	}
	m, err := jsonrpc.Parse(body)
	if err != nil {
		var bad *jsonrpc.BadMessageError
		if errors.As(err, &bad) && bad.ID.IsZero() {
			bad.ID = cl.id
		}
		c.push(item{err: err})
		return
	}
	c.answer(cl, m)
	c.deliver(m)
	if m.Kind != jsonrpc.KindResponse || m.ID != cl.id {
		c.fail(cl, "server %q at %s answered %s with something other than its response", c.name, c.host, cl.method)
	}
}

func (c *Conn) tooLarge(id jsonrpc.ID, n int) *jsonrpc.BadMessageError {
	return &jsonrpc.BadMessageError{
		Code:   jsonrpc.CodeMessageTooLarge,
		Reason: fmt.Sprintf("message too large: more than %d bytes (the limit is %d; raise it with --max-message-size)", max(n, c.max+1), c.max),
		ID:     id,
	}
}

// answer notes what a request's response tells the Conn: the protocol version that
// initialize negotiated.
func (c *Conn) answer(cl *call, m *jsonrpc.Message) {
	if m.Kind != jsonrpc.KindResponse || m.ID != cl.id || m.Result == nil {
		return
	}
	if cl.method == "tools/list" {
		res, dropped := c.learnTools(m.Result)
		if res == nil || cl.modern == "" {
			return // the rule to leave out invalid tools is 2026-07-28's
		}
		if nm, err := jsonrpc.NewResult(m.ID, res); err == nil {
			*m = *nm
			for _, d := range dropped {
				if c.logf != nil {
					c.logf("airlock: server %q: left out of tools/list: %s", c.name, d)
				}
			}
		}
		return
	}
	if cl.method != "initialize" {
		return
	}
	v, ok := jsonString(jsonrpc.Member(m.Result, "protocolVersion"))
	if !ok {
		return
	}
	c.mu.Lock()
	c.version = v
	c.mu.Unlock()
}

// drain closes a response body after reading a little of what is left, so the
// connection can be reused.
func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
}
