package ingress

import (
	"context"
	"encoding/json"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
)

// stream is one HTTP response that messages are written to: the SSE (or JSON) answer to
// a POSTed request, or the standalone GET stream.
type stream struct {
	out  chan *jsonrpc.Message
	done chan struct{} // closed when the HTTP handler has returned
	// key is the id of the request this stream answers, as the relay sees it ("" for GET).
	key string
	// orig is the id the client sent, when the conn rewrites ids.
	orig jsonrpc.ID
	// general reports whether messages unrelated to a specific request may go here.
	general bool
	// cancelAfter is a client's cancellation of this stream's request that arrived before
	// the request itself: the handler delivers it again right after the request.
	cancelAfter *jsonrpc.Message
}

func newStream(key string, general bool) *stream {
	return &stream{out: make(chan *jsonrpc.Message, 64), done: make(chan struct{}), key: key, general: general}
}

// conn is the IDE side of a relay session whose IDE speaks HTTP. Messages POSTed by the
// client go through the relay's chain on their HTTP handler's goroutine (accept, then
// proxy.Session.Deliver), so Read only waits for the end; messages the relay writes are
// routed to the HTTP response they belong to. It implements transport.Conn.
type conn struct {
	closed chan struct{}
	once   sync.Once
	// queue bounds the bytes of request bodies read from HTTP but not yet delivered to
	// the relay (see post): when the server is slow to read, further bodies wait unread
	// in their sockets instead of in memory.
	queue *semaphore.Weighted

	// rewrite makes the conn give every client request a fresh id before the relay sees
	// it, and restore the client's id on the way back. Stateless 2026-07-28 requests from
	// many clients share one backend, so their ids could otherwise collide.
	rewrite bool
	nextID  atomic.Int64

	mu         sync.Mutex
	pending    map[string]*stream // request key → the stream that gets its response
	progress   map[string]*stream // progress token → stream
	open       []*stream          // general POST streams, oldest first
	standalone *stream
	backlog    []*jsonrpc.Message
	lastSeen   atomic.Int64 // unix nanos of the last HTTP activity
	// early holds, for a while, cancellations of requests the conn has not seen (yet):
	// each POST is read on its own, so a small notifications/cancelled can arrive while
	// the large request it cancels is still being read. When that request comes, the
	// cancellation follows it, so a call held for approval is withdrawn, not forwarded.
	early map[string]earlyCancel
}

type earlyCancel struct {
	at time.Time
	m  *jsonrpc.Message
}

const (
	earlyCancelTTL = 30 * time.Second
	earlyCancelMax = 64
)

const maxBacklog = 1024

// queueBudget is how many bytes of request bodies one session may hold while they wait
// to be delivered to the relay: two 1 MiB calls, thousands of small ones.
const queueBudget = 2 << 20

func newConn(rewrite bool) *conn {
	return &conn{
		closed:   make(chan struct{}),
		queue:    semaphore.NewWeighted(queueBudget),
		rewrite:  rewrite,
		pending:  make(map[string]*stream),
		progress: make(map[string]*stream),
	}
}

// Read implements transport.Conn. Client messages are delivered by their HTTP handlers,
// so Read only reports the end of the conn.
func (c *conn) Read() (*jsonrpc.Message, error) {
	<-c.closed
	return nil, io.EOF
}

// reserve takes weight bytes of the queue budget for a body about to be read, waiting
// while the budget is spent. It fails when ctx ends or the conn closes first.
func (c *conn) reserve(ctx context.Context, weight int64) error {
	if c.queue.TryAcquire(weight) {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-c.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	return c.queue.Acquire(ctx, weight)
}

// Close implements transport.Conn.
func (c *conn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

// accept readies a message from the client for the relay. For a request, s is the
// stream that will carry its answer: it is registered, and under rewrite the request
// gets a fresh id (the message to deliver is returned). It returns false when the conn
// is closed.
func (c *conn) accept(m *jsonrpc.Message, s *stream, progressToken json.RawMessage) (*jsonrpc.Message, bool) {
	select {
	case <-c.closed:
		return nil, false
	default:
	}
	if m.Kind == jsonrpc.KindNotification && m.Method == "notifications/cancelled" && !c.rewrite {
		if id := jsonrpc.Member(m.Params, "requestId"); len(id) > 0 {
			c.mu.Lock()
			if c.pending[string(id)] == nil {
				c.rememberCancelLocked(string(id), m)
			}
			c.mu.Unlock()
		}
	}
	if m.Kind == jsonrpc.KindRequest && s != nil {
		key := m.ID.String()
		if !c.rewrite {
			c.mu.Lock()
			if e, ok := c.early[key]; ok {
				delete(c.early, key)
				if time.Since(e.at) < earlyCancelTTL {
					s.cancelAfter = e.m
				}
			}
			c.mu.Unlock()
		}
		if c.rewrite {
			s.orig = m.ID
			id := jsonrpc.StringID("http/" + strconv.FormatInt(c.nextID.Add(1), 10))
			nm, err := withID(m, id)
			if err != nil {
				return nil, false
			}
			m, key = nm, id.String()
		}
		s.key = key
		c.mu.Lock()
		c.pending[key] = s
		if len(progressToken) > 0 {
			c.progress[string(progressToken)] = s
		}
		if s.general {
			c.open = append(c.open, s)
			c.flushBacklogLocked(s)
		}
		c.mu.Unlock()
	}
	return m, true
}

// rememberCancelLocked keeps a cancellation of a request not seen yet, dropping expired
// ones and, past earlyCancelMax, the oldest.
func (c *conn) rememberCancelLocked(key string, m *jsonrpc.Message) {
	if c.early == nil {
		c.early = make(map[string]earlyCancel)
	}
	now := time.Now()
	oldest := ""
	for k, e := range c.early {
		if now.Sub(e.at) >= earlyCancelTTL {
			delete(c.early, k)
		} else if oldest == "" || e.at.Before(c.early[oldest].at) {
			oldest = k
		}
	}
	if len(c.early) >= earlyCancelMax {
		delete(c.early, oldest)
	}
	c.early[key] = earlyCancel{at: now, m: m}
}

// release forgets a stream whose HTTP handler is returning. It reports whether the
// stream's request was still unanswered.
func (c *conn) release(s *stream) (unanswered bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.key != "" && c.pending[s.key] == s {
		delete(c.pending, s.key)
		unanswered = true
	}
	for k, ps := range c.progress {
		if ps == s {
			delete(c.progress, k)
		}
	}
	for i, o := range c.open {
		if o == s {
			c.open = append(c.open[:i], c.open[i+1:]...)
			break
		}
	}
	if c.standalone == s {
		c.standalone = nil
	}
	return unanswered
}

// attachStandalone makes s the GET stream. It reports false if one is already open.
func (c *conn) attachStandalone(s *stream) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.standalone != nil {
		return false
	}
	c.standalone = s
	c.flushBacklogLocked(s)
	return true
}

func (c *conn) flushBacklogLocked(s *stream) {
	for len(c.backlog) > 0 {
		select {
		case s.out <- c.backlog[0]:
			c.backlog = c.backlog[1:]
		default:
			return
		}
	}
}

// Write implements transport.Conn: it routes a message from the relay to the stream it
// belongs to. A response goes to its request's stream; progress to the stream of the
// request that asked for it; a 2026-07-28 subscription notification to its listen
// stream; anything else to the newest open POST stream, else the GET stream, else a
// bounded backlog that the next stream receives.
func (c *conn) Write(m *jsonrpc.Message) error {
	var target *stream
	c.mu.Lock()
	switch m.Kind {
	case jsonrpc.KindResponse:
		key := m.ID.String()
		target = c.pending[key]
		delete(c.pending, key)
		if target == nil {
			c.mu.Unlock()
			return nil // nobody is waiting: the client went away
		}
		if c.rewrite {
			if nm, err := withID(m, target.orig); err == nil {
				m = nm
			}
		}
	default:
		target = c.routeLocked(m)
		if target == nil {
			if len(c.backlog) < maxBacklog {
				c.backlog = append(c.backlog, m)
			}
			c.mu.Unlock()
			return nil
		}
	}
	c.mu.Unlock()
	select {
	case target.out <- m:
	case <-target.done:
	case <-c.closed:
	}
	return nil
}

func (c *conn) routeLocked(m *jsonrpc.Message) *stream {
	if m.Kind == jsonrpc.KindNotification && len(m.Params) > 0 {
		switch m.Method {
		case "notifications/progress":
			if tok := jsonrpc.Member(m.Params, "progressToken"); tok != nil {
				if s := c.progress[string(tok)]; s != nil {
					return s
				}
			}
		default:
			if meta := jsonrpc.Member(m.Params, "_meta"); meta != nil {
				if sub := jsonrpc.Member(meta, "io.modelcontextprotocol/subscriptionId"); sub != nil {
					if s := c.pending[string(sub)]; s != nil {
						return s
					}
				}
			}
		}
	}
	if n := len(c.open); n > 0 {
		return c.open[n-1]
	}
	return c.standalone
}

// withID returns m with its id replaced, every other byte as it was.
func withID(m *jsonrpc.Message, id jsonrpc.ID) (*jsonrpc.Message, error) { return m.WithID(id) }
