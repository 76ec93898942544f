// Package client talks to the broker's local API on behalf of proxies, the CLI and the
// desktop app.
package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/consent/localapi"
)

// Client calls the broker. Its zero value with Socket set works; it is safe for
// concurrent use.
type Client struct {
	// Socket is the broker's unix socket path.
	Socket string
	// Dial, when set, replaces dialing Socket (tests).
	Dial func(ctx context.Context) (net.Conn, error)

	once sync.Once
	hc   *http.Client
}

// NotRunningError means no broker answered: neither the desktop app nor `airlock daemon`
// is running.
type NotRunningError struct {
	Socket string
	Err    error
}

func (e *NotRunningError) Error() string {
	return fmt.Sprintf("no Airlock broker is running (start the Airlock app, or `airlock daemon`): %v", e.Err)
}

func (e *NotRunningError) Unwrap() error { return e.Err }

// IsNotRunning reports whether err means no broker answered.
func IsNotRunning(err error) bool {
	var e *NotRunningError
	return errors.As(err, &e)
}

// APIError is an error answer from the broker.
type APIError struct {
	Status int
	Code   string
	Msg    string
}

func (e *APIError) Error() string { return e.Msg }

// IsNotFound reports whether err is the broker saying the thing does not exist.
func IsNotFound(err error) bool { var e *APIError; return errors.As(err, &e) && e.Code == "not_found" }

// IsCLIDisabled reports whether err is the broker refusing a command-line decision.
func IsCLIDisabled(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Code == "cli_disabled"
}

func (c *Client) http() *http.Client {
	c.once.Do(c.init)
	return c.hc
}

func (c *Client) init() {
	dial := c.Dial
	if dial == nil {
		sock := c.Socket
		dial = func(ctx context.Context) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}
	}
	c.hc = &http.Client{Transport: &http.Transport{
		DialContext:         func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) },
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}}
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+localapi.Host+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &NotRunningError{Socket: c.Socket, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var e apitype.Error
		json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e)
		if e.Error == "" {
			e.Error = resp.Status
		}
		return &APIError{Status: resp.StatusCode, Code: e.Code, Msg: e.Error}
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode broker answer: %w", err)
	}
	return nil
}

// Status reports the running broker, or a *NotRunningError.
func (c *Client) Status(ctx context.Context) (apitype.Status, error) {
	var s apitype.Status
	return s, c.do(ctx, "GET", "/v0/status", nil, &s)
}

// Ask asks a person to decide req and waits for the answer.
func (c *Client) Ask(ctx context.Context, req apitype.AskRequest) (apitype.Decision, error) {
	var d apitype.Decision
	return d, c.do(ctx, "POST", "/v0/ask", req, &d)
}

// Pending lists the requests waiting for a person.
func (c *Client) Pending(ctx context.Context) ([]apitype.Pending, error) {
	var p []apitype.Pending
	return p, c.do(ctx, "GET", "/v0/pending", nil, &p)
}

// Decide decides a pending request.
func (c *Client) Decide(ctx context.Context, d apitype.DecideRequest) error {
	return c.do(ctx, "POST", "/v0/decide", d, nil)
}

// Grants lists standing grants.
func (c *Client) Grants(ctx context.Context) ([]apitype.Grant, error) {
	var g []apitype.Grant
	return g, c.do(ctx, "GET", "/v0/grants", nil, &g)
}

// EndSession tells the broker that a proxy session ended, so its session grants go.
func (c *Client) EndSession(ctx context.Context, session string) error {
	return c.do(ctx, "POST", "/v0/end-session", map[string]string{"session": session}, nil)
}

// Revoke removes a grant.
func (c *Client) Revoke(ctx context.Context, id string) error {
	return c.do(ctx, "POST", "/v0/revoke", map[string]string{"id": id}, nil)
}

// Watch calls fn with each event of the broker's watch stream until ctx ends, fn
// returns an error, or the stream breaks.
func (c *Client) Watch(ctx context.Context, fn func(apitype.Event) error) error {
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+localapi.Host+"/v0/watch", nil)
	if err != nil {
		return err
	}
	resp, err := c.http().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &NotRunningError{Socket: c.Socket, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &APIError{Status: resp.StatusCode, Msg: resp.Status}
	}
	r := bufio.NewReader(resp.Body)
	for {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var e apitype.Event
			if jerr := json.Unmarshal(line, &e); jerr != nil {
				return fmt.Errorf("decode watch event: %w", jerr)
			}
			if e.Type != "keepalive" {
				if ferr := fn(e); ferr != nil {
					return ferr
				}
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, io.EOF) {
				return &NotRunningError{Socket: c.Socket, Err: errors.New("the broker closed the watch stream")}
			}
			return err
		}
	}
}
