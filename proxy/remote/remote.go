// Package remote connects Airlock to an MCP server over streamable HTTP, relaying each
// JSON-RPC message byte for byte as a transport.Conn.
package remote

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// Options configures a Conn.
type Options struct {
	// Name is the server's name, used in error messages.
	Name string
	// URL is the server's MCP endpoint; only http and https are accepted.
	URL string
	// Header holds extra headers sent with every request (for example Authorization
	// from the configuration). Header values are never logged nor put in errors.
	Header http.Header
	// Client sends the requests. When nil, a client with timeouts for connecting and
	// none for reading streams is used.
	Client *http.Client
	// MaxMessage caps one message or SSE event (jsonrpc.DefaultMaxMessageSize when <= 0).
	MaxMessage int
	// Auth, when not nil, supplies the Authorization header of every request and signs
	// in when the server answers 401 (or 403 insufficient_scope): the request is then
	// sent once more. Once Auth manages the server, a configured Authorization header
	// is never sent.
	Auth Authorizer
	// Logf, when set, reports what the person running Airlock should know, such as a
	// tool left out of tools/list because its x-mcp-header markings are invalid.
	Logf func(format string, args ...any)
}

// Authorizer supplies Airlock's own credentials for a server. *oauth.Authorizer
// implements it.
type Authorizer interface {
	// Authorization returns the Authorization header for the next request. When
	// managed is false the configured header, if any, is sent instead; when it is true
	// only value is (no header when value is "").
	Authorization(ctx context.Context) (value string, managed bool, err error)
	// Authorize handles resp, a 401 or a 403 insufficient_scope answer to a request
	// sent with Authorization value sent. A nil error means: send the request again.
	// It reads only resp's headers.
	Authorize(ctx context.Context, sent string, resp *http.Response) error
}

// Header names of the streamable HTTP transport.
const (
	hdrSession     = "Mcp-Session-Id"
	hdrVersion     = "Mcp-Protocol-Version"
	hdrMethod      = "Mcp-Method"
	hdrName        = "Mcp-Name"
	hdrLastEventID = "Last-Event-ID"
)

// modernVersion is the first protocol version without sessions (MCP 2026-07-28).
const modernVersion = "2026-07-28"

// Tunables. They are variables so tests can shorten them.
var (
	// deleteTimeout bounds the DELETE that Close sends.
	deleteTimeout = 3 * time.Second
	// notifyTimeout bounds the POST of a notification or a response.
	notifyTimeout = 30 * time.Second
	// cancelGrace is how long a cancelled legacy request's stream stays open for the
	// server's late answer before it is dropped.
	cancelGrace = 30 * time.Second
	// retryBase and retryMax bound the delay between stream reconnections.
	retryBase = 250 * time.Millisecond
	retryMax  = 10 * time.Second
	// maxRetries is how many reconnections in a row may fail or make no progress.
	maxRetries = 5
)

// Conn is a streamable HTTP client transport. It implements transport.Conn: Read is
// called from one goroutine at a time; Write and Close are safe for concurrent use.
//
// Each message written is POSTed as is. Requests are sent concurrently, so a slow
// tools/call does not hold up a ping; notifications and responses are sent in order,
// each after the previous one was accepted. Every message the server sends, on any
// stream, comes out of Read in order of arrival, and a request that fails at the HTTP
// level is answered with a JSON-RPC error so the IDE never waits forever.
type Conn struct {
	name   string
	url    string
	host   string
	header http.Header
	client *http.Client
	max    int
	auth   Authorizer

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	in     chan item
	stop   chan struct{} // closed by Close: producers give up
	eof    chan struct{} // closed by Close once no producer is left
	wg     sync.WaitGroup
	once   sync.Once

	sendMu sync.Mutex // orders notifications and responses

	mu         sync.Mutex
	closed     bool
	session    string                   // Mcp-Session-Id of the legacy session
	version    string                   // protocol version negotiated by initialize
	expired    bool                     // the server forgot the session (HTTP 404)
	modern     string                   // latest 2026-07-28+ version seen on a request
	calls      map[string]*call         // requests in flight, by id
	standalone context.CancelFunc       // stops the GET stream; nil when none runs
	params     map[string][]paramHeader // x-mcp-header markings, by tool name

	logf func(format string, args ...any)
}

type item struct {
	m   *jsonrpc.Message
	err error
}

// call is one request in flight.
type call struct {
	id     jsonrpc.ID
	method string
	modern string // the request's 2026-07-28+ version, "" for legacy requests
	cancel context.CancelFunc

	mu        sync.Mutex
	cancelled bool // the IDE cancelled it: no synthesised error any more
}

func (cl *call) isCancelled() bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.cancelled
}

// Dial validates o and returns a Conn. It does no network I/O: the first request goes
// out with the first Write. ctx only provides values; Close ends the Conn.
func Dial(ctx context.Context, o Options) (*Conn, error) {
	u, err := url.Parse(o.URL)
	if err != nil {
		return nil, fmt.Errorf("server %q: invalid url: %w", o.Name, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("server %q: url must start with http:// or https://", o.Name)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("server %q: url has no host", o.Name)
	}
	client := o.Client
	if client == nil {
		client = defaultClient()
	}
	max := o.MaxMessage
	if max <= 0 {
		max = jsonrpc.DefaultMaxMessageSize
	}
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	return &Conn{
		name:   o.Name,
		url:    u.String(),
		host:   u.Host,
		header: o.Header.Clone(),
		client: client,
		max:    max,
		auth:   o.Auth,
		ctx:    cctx,
		cancel: cancel,
		in:     make(chan item, 64),
		stop:   make(chan struct{}),
		eof:    make(chan struct{}),
		calls:  make(map[string]*call),
		logf:   o.Logf,
	}, nil
}

// defaultClient bounds connecting and the TLS handshake, but not the response: a
// tools/call may rightly take minutes and a stream lasts as long as the session.
func defaultClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   15 * time.Second,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   16,
		ForceAttemptHTTP2:     true,
	}}
}

// Read returns the next message from the server. A message that cannot be accepted
// gives a *jsonrpc.BadMessageError; after Close, Read returns the messages already
// queued and then io.EOF.
func (c *Conn) Read() (*jsonrpc.Message, error) {
	select {
	case it := <-c.in:
		return it.m, it.err
	case <-c.eof:
		select {
		case it := <-c.in:
			return it.m, it.err
		default:
			return nil, errEOF
		}
	}
}

// push queues a message or an error for Read. It reports false when the Conn closed.
func (c *Conn) push(it item) bool {
	select {
	case c.in <- it:
		return true
	case <-c.stop:
		return false
	}
}

func (c *Conn) deliver(m *jsonrpc.Message) { c.push(item{m: m}) }

// fail answers cl with a JSON-RPC error, unless the IDE cancelled it or the Conn closed.
func (c *Conn) fail(cl *call, format string, args ...any) {
	if cl.isCancelled() || c.ctx.Err() != nil {
		return
	}
	c.deliver(jsonrpc.NewError(cl.id, jsonrpc.CodeServerUnavailable, fmt.Sprintf(format, args...), nil))
}

// Close ends every stream, sends a DELETE for the session if there is one (best effort,
// with a short timeout), and makes Read return io.EOF once queued messages are read.
func (c *Conn) Close() error {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		session, expired := c.session, c.expired
		c.mu.Unlock()
		close(c.stop)
		c.cancel()
		c.wg.Wait()
		close(c.eof)
		if session != "" && !expired {
			c.deleteSession(session)
		}
	})
	return nil
}

// deleteSession tells the server the session is over.
func (c *Conn) deleteSession(session string) {
	ctx, cancel := context.WithTimeout(context.Background(), deleteTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, c.url, nil)
	if err != nil {
		return
	}
	if c.addHeaders(ctx, req.Header) != nil {
		return
	}
	req.Header.Set(hdrSession, session)
	c.mu.Lock()
	if c.version != "" {
		req.Header.Set(hdrVersion, c.version)
	}
	c.mu.Unlock()
	if resp, err := c.client.Do(req); err == nil {
		drain(resp)
	}
}

// addHeaders copies the configured extra headers into h, and the Authorizer's
// Authorization header in place of the configured one once it manages the server.
func (c *Conn) addHeaders(ctx context.Context, h http.Header) error {
	for k, v := range c.header {
		h[k] = append([]string(nil), v...)
	}
	if c.auth == nil {
		return nil
	}
	v, managed, err := c.auth.Authorization(ctx)
	if err != nil {
		return err
	}
	if managed {
		h.Del("Authorization")
	}
	if v != "" {
		h.Set("Authorization", v)
	}
	return nil
}

// needsAuth reports whether resp asks for (more) authorization that c.auth may get.
func (c *Conn) needsAuth(resp *http.Response) bool {
	if c.auth == nil {
		return false
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return true
	}
	if resp.StatusCode != http.StatusForbidden {
		return false
	}
	cs, _ := oauthex.ParseWWWAuthenticate(resp.Header.Values("WWW-Authenticate"))
	for _, ch := range cs {
		if ch.Scheme == "bearer" && ch.Params["error"] == "insufficient_scope" {
			return true
		}
	}
	return false
}

// spawn runs f in a goroutine that Close waits for. It reports false when closed.
func (c *Conn) spawn(f func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
	return true
}
