package remote

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
)

// cursor is where a stream stands: the last event id and the server's retry delay.
type cursor struct {
	lastID   string
	retry    time.Duration
	progress bool // a message or a new event id arrived since the last reset
}

// readStream relays the messages of one SSE response body until it ends. When cl is
// not nil the stream answers that request, and readStream returns true once the
// response to it has been relayed (the rest of the stream is then ignored).
func (c *Conn) readStream(resp *http.Response, cl *call, cur *cursor) (answered bool, err error) {
	r := newSSEReader(resp.Body, c.max)
	for {
		ev, err := r.next()
		if err != nil {
			return false, err
		}
		if ev.hasID && ev.id != cur.lastID {
			cur.lastID, cur.progress = ev.id, true
		}
		if ev.hasRetry {
			cur.retry = ev.retry
		}
		if !ev.hasData || (ev.name != "" && ev.name != "message") {
			continue // a priming or close event, or one that is not for MCP
		}
		cur.progress = true
		if ev.tooLarge > 0 {
			id := sniffID(ev.data)
			if !c.push(item{err: c.tooLarge(id, ev.tooLarge)}) {
				return false, context.Canceled
			}
			if cl != nil && id == cl.id {
				return true, nil
			}
			continue
		}
		m, err := jsonrpc.Parse(ev.data)
		if err != nil {
			var bad *jsonrpc.BadMessageError
			if !c.push(item{err: err}) {
				return false, context.Canceled
			}
			if cl != nil && errors.As(err, &bad) && bad.ID == cl.id {
				return true, nil
			}
			continue
		}
		if cl != nil {
			c.answer(cl, m)
		}
		if !c.push(item{m: m}) {
			return false, context.Canceled
		}
		if cl != nil && m.Kind == jsonrpc.KindResponse && m.ID == cl.id {
			return true, nil
		}
	}
}

// streamAnswer relays the SSE answer to a request. If the stream drops before the
// response and the server gave its events ids, the stream is resumed with a GET and
// Last-Event-ID, a bounded number of times without progress.
func (c *Conn) streamAnswer(ctx context.Context, cl *call, resp *http.Response) {
	var cur cursor
	tries := 0
	for {
		answered, _ := c.readStream(resp, cl, &cur)
		drain(resp)
		if answered || ctx.Err() != nil {
			return
		}
		if cur.lastID == "" || cl.modern != "" {
			c.fail(cl, "server %q at %s closed the stream of %s before answering", c.name, c.host, cl.method)
			return
		}
		if cur.progress {
			tries, cur.progress = 0, false
		}
		tries++
		if tries > maxRetries {
			c.fail(cl, "server %q at %s: the stream of %s dropped and could not be resumed", c.name, c.host, cl.method)
			return
		}
		next, err := c.resume(ctx, &cur, tries)
		if err != nil {
			if ctx.Err() == nil {
				c.fail(cl, "server %q at %s: the stream of %s dropped and could not be resumed: %v", c.name, c.host, cl.method, err)
			}
			return
		}
		resp = next
	}
}

// resume waits, then GETs the stream after cur.lastID. A response that is not an event
// stream counts as a failed try.
func (c *Conn) resume(ctx context.Context, cur *cursor, tries int) (*http.Response, error) {
	for ; tries <= maxRetries; tries++ {
		if err := wait(ctx, backoff(tries, cur.retry)); err != nil {
			return nil, err
		}
		resp, err := c.get(ctx, cur.lastID)
		if err != nil {
			continue
		}
		if resp.StatusCode/100 == 2 && mediaType(resp) == "text/event-stream" {
			return resp, nil
		}
		drain(resp)
		if resp.StatusCode/100 == 4 {
			return nil, errors.New(http.StatusText(resp.StatusCode))
		}
	}
	return nil, errors.New("too many tries")
}

// get opens an SSE stream with a GET, resuming after lastID when it is not empty.
func (c *Conn) get(ctx context.Context, lastID string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, err
	}
	if err := c.addHeaders(ctx, req.Header); err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	c.mu.Lock()
	session, version := c.session, c.version
	c.mu.Unlock()
	if session != "" {
		req.Header.Set(hdrSession, session)
	}
	if version != "" {
		req.Header.Set(hdrVersion, version)
	}
	if lastID != "" {
		req.Header.Set(hdrLastEventID, lastID)
	}
	return c.client.Do(req)
}

// openStandalone starts the GET stream on which a legacy server sends messages that
// belong to no request. It does nothing in pure 2026-07-28 use or when it runs.
func (c *Conn) openStandalone() {
	c.mu.Lock()
	if c.version == "" || c.version >= modernVersion || c.standalone != nil || c.expired || c.closed {
		c.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(c.ctx)
	c.standalone = cancel
	session := c.session
	c.mu.Unlock()
	c.spawn(func() {
		defer cancel()
		c.runStandalone(ctx, session)
	})
}

// runStandalone keeps the GET stream open, reconnecting with Last-Event-ID and a
// bounded backoff. It stops when the server has no such stream (405 or another 4xx),
// the session ends, or reconnecting fails too many times in a row.
func (c *Conn) runStandalone(ctx context.Context, session string) {
	var cur cursor
	failures := 0
	for {
		resp, err := c.get(ctx, cur.lastID)
		if ctx.Err() != nil {
			if err == nil {
				drain(resp)
			}
			return
		}
		if err == nil {
			switch {
			case resp.StatusCode == http.StatusNotFound && session != "":
				drain(resp)
				c.expire(session)
				return
			case resp.StatusCode/100 == 4:
				drain(resp) // 405: the server offers no stream
				return
			case resp.StatusCode/100 == 2 && mediaType(resp) == "text/event-stream":
				c.readStream(resp, nil, &cur)
				drain(resp)
				if ctx.Err() != nil {
					return
				}
				if cur.progress {
					failures, cur.progress = 0, false
				}
			case resp.StatusCode/100 == 2:
				drain(resp) // not a stream: the server offers none
				return
			default:
				drain(resp)
			}
		}
		failures++
		if failures > maxRetries {
			return
		}
		if wait(ctx, backoff(failures, cur.retry)) != nil {
			return
		}
	}
}

// backoff returns the delay before reconnection attempt n (from 1): the server's retry
// value when it gave one, else an exponential delay with jitter, capped at retryMax.
func backoff(n int, retry time.Duration) time.Duration {
	if retry > 0 {
		return min(retry, retryMax)
	}
	d := retryBase << min(n-1, 10)
	d = min(d, retryMax)
	return d/2 + rand.N(d/2+1)
}

func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
