package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// caller makes one JSON-RPC request and waits for its response. It is safe for
// concurrent use; implementations allow many calls in flight.
type caller interface {
	// call sends a request whose params are rawParams and returns the raw response
	// bytes (only when keep is true) and its length.
	call(ctx context.Context, method string, rawParams []byte, keep bool) (resp []byte, n int, err error)
	notify(method string) error
	close()
}

const protocolVersion = "2025-06-18"

var initParams = []byte(`{"protocolVersion":"` + protocolVersion + `","capabilities":{},"clientInfo":{"name":"airlock-bench","version":"1.0.0"}}`)

// appendRequest builds {"jsonrpc":"2.0","id":ID,"method":M,"params":P}.
func appendRequest(b []byte, id int64, method string, params []byte) []byte {
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"method":"`...)
	b = append(b, method...)
	b = append(b, '"')
	if params != nil {
		b = append(b, `,"params":`...)
		b = append(b, params...)
	}
	return append(b, '}')
}

// responseID finds the top-level "id" of a JSON-RPC message cheaply: servers put it near
// the start or the end, and the benchmark's payloads never contain quotes. It falls back
// to a full decode.
func responseID(line []byte) (int64, bool, bool) {
	isResp := func(l []byte) bool {
		return bytes.Contains(l, []byte(`"result":`)) || bytes.Contains(l, []byte(`"error":`))
	}
	for _, window := range [][]byte{head(line, 160), tail(line, 160)} {
		if i := bytes.Index(window, []byte(`"id":`)); i >= 0 {
			rest := bytes.TrimLeft(window[i+5:], " ")
			j := 0
			for j < len(rest) && (rest[j] == '-' || rest[j] >= '0' && rest[j] <= '9') {
				j++
			}
			if id, err := strconv.ParseInt(string(rest[:j]), 10, 64); err == nil {
				hasMethod := bytes.Contains(head(line, 160), []byte(`"method":`)) && !isResp(head(line, 160))
				return id, !hasMethod, true
			}
		}
	}
	var m struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
	}
	if json.Unmarshal(line, &m) != nil || len(m.ID) == 0 {
		return 0, false, false
	}
	id, err := strconv.ParseInt(string(m.ID), 10, 64)
	return id, m.Method == "", err == nil
}

func head(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

type reply struct {
	body []byte
	n    int
	err  error
}

type pending struct {
	ch   chan reply
	keep bool
}

// stdioClient is a raw JSON-RPC client over a child's stdin/stdout pipes.
type stdioClient struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	wmu    sync.Mutex
	wbuf   []byte
	nextID atomic.Int64

	mu      sync.Mutex
	pending map[int64]pending
	dead    error
	done    chan struct{}
}

func startStdio(argv []string, env []string, stderr io.Writer) (*stdioClient, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stderr = stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &stdioClient{cmd: cmd, stdin: in, pending: map[int64]pending{}, done: make(chan struct{})}
	go c.readLoop(out)
	return c, nil
}

func (c *stdioClient) pid() int { return c.cmd.Process.Pid }

func (c *stdioClient) readLoop(r io.Reader) {
	br := bufio.NewReaderSize(r, 256<<10)
	var acc []byte
	var err error
	for {
		var line []byte
		line, err = br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			acc = append(acc[:0], line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				acc = append(acc, line...)
			}
			line = acc
		}
		if err != nil {
			break
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			continue
		}
		id, isResp, ok := responseID(line)
		if !ok || !isResp {
			continue // a notification or a request from the server: not used here
		}
		c.mu.Lock()
		p, found := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if !found {
			continue
		}
		rep := reply{n: len(line)}
		if p.keep {
			rep.body = append([]byte(nil), line...)
		}
		p.ch <- rep
	}
	if err == nil || err == io.EOF {
		err = errors.New("server closed its stdout")
	}
	c.mu.Lock()
	c.dead = err
	for id, p := range c.pending {
		p.ch <- reply{err: err}
		delete(c.pending, id)
	}
	c.mu.Unlock()
	close(c.done)
}

func (c *stdioClient) write(msg []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = append(append(c.wbuf[:0], msg...), '\n')
	_, err := c.stdin.Write(c.wbuf)
	return err
}

func (c *stdioClient) call(ctx context.Context, method string, params []byte, keep bool) ([]byte, int, error) {
	id := c.nextID.Add(1)
	ch := make(chan reply, 1)
	c.mu.Lock()
	if c.dead != nil {
		c.mu.Unlock()
		return nil, 0, c.dead
	}
	c.pending[id] = pending{ch: ch, keep: keep}
	c.mu.Unlock()
	c.wmu.Lock()
	c.wbuf = appendRequest(c.wbuf[:0], id, method, params)
	c.wbuf = append(c.wbuf, '\n')
	_, err := c.stdin.Write(c.wbuf)
	c.wmu.Unlock()
	if err != nil {
		return nil, 0, err
	}
	select {
	case r := <-ch:
		return r.body, r.n, r.err
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		return nil, 0, ctx.Err()
	}
}

func (c *stdioClient) notify(method string) error {
	return c.write([]byte(`{"jsonrpc":"2.0","method":"` + method + `"}`))
}

func (c *stdioClient) close() {
	c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(3 * time.Second):
		c.cmd.Process.Kill()
	}
	waitOrKill(c.cmd, 3*time.Second)
}

func waitOrKill(cmd *exec.Cmd, d time.Duration) {
	ch := make(chan struct{})
	go func() { cmd.Wait(); close(ch) }()
	select {
	case <-ch:
	case <-time.After(d):
		cmd.Process.Kill()
		<-ch
	}
}

// httpClient speaks MCP's streamable HTTP transport to one endpoint, over keep-alive
// connections, accepting both JSON and SSE responses.
type httpClient struct {
	url     string
	token   string
	hc      *http.Client
	session string
	proto   string
	nextID  atomic.Int64
}

func newHTTPClient(url, token string) *httpClient {
	tr := &http.Transport{
		MaxIdleConns:        64,
		MaxIdleConnsPerHost: 64,
		// Below Node's 5 s keep-alive timeout: a connection the bridges are about to close
		// is never reused (a POST on it would fail with "connection reset by peer").
		IdleConnTimeout:    4 * time.Second,
		DisableCompression: true,
		ForceAttemptHTTP2:  false,
	}
	return &httpClient{url: url, token: token, hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

func (c *httpClient) post(ctx context.Context, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.session != "" {
		req.Header.Set("Mcp-Session-Id", c.session)
	}
	if c.proto != "" {
		req.Header.Set("Mcp-Protocol-Version", c.proto)
	}
	return c.hc.Do(req)
}

func (c *httpClient) call(ctx context.Context, method string, params []byte, keep bool) ([]byte, int, error) {
	id := c.nextID.Add(1)
	// A fresh buffer per call: net/http may still be writing the body after Do returns
	// (when a server answers before reading all of it), so a pooled buffer reused by
	// another call could go out with that call's id.
	resp, err := c.post(ctx, appendRequest(nil, id, method, params))
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		if b = bytes.TrimSpace(b); len(b) == 0 || b[0] == '<' {
			b = []byte(http.StatusText(resp.StatusCode))
		}
		return nil, 0, fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	if method == "initialize" {
		c.session = resp.Header.Get("Mcp-Session-Id")
	}
	ct := resp.Header.Get("Content-Type")
	if bytes.HasPrefix([]byte(ct), []byte("text/event-stream")) {
		br := bufio.NewReaderSize(resp.Body, 64<<10)
		var data []byte
		for {
			line, err := br.ReadSlice('\n')
			if err == bufio.ErrBufferFull {
				acc := append([]byte(nil), line...)
				for err == bufio.ErrBufferFull {
					line, err = br.ReadSlice('\n')
					acc = append(acc, line...)
				}
				line = acc
			}
			if err != nil && len(line) == 0 {
				return nil, 0, fmt.Errorf("SSE stream ended before response %d: %v", id, err)
			}
			line = bytes.TrimRight(line, "\r\n")
			switch {
			case len(line) == 0:
				if len(data) > 0 {
					rid, isResp, ok := responseID(data)
					if ok && isResp && rid == id {
						n := len(data)
						var out []byte
						if keep {
							out = append([]byte(nil), data...)
						}
						io.Copy(io.Discard, resp.Body) // the server ends the stream after the response
						return out, n, nil
					}
					data = data[:0]
				}
			case bytes.HasPrefix(line, []byte("data:")):
				d := bytes.TrimPrefix(line[5:], []byte(" "))
				if len(data) > 0 {
					data = append(data, '\n')
				}
				data = append(data, d...)
			}
			if err != nil {
				return nil, 0, fmt.Errorf("SSE stream ended before response %d: %v", id, err)
			}
		}
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, 0, err
	}
	if !keep {
		return nil, len(b), nil
	}
	return b, len(b), nil
}

func (c *httpClient) notify(method string) error {
	resp, err := c.post(context.Background(), []byte(`{"jsonrpc":"2.0","method":"`+method+`"}`))
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: HTTP %d", method, resp.StatusCode)
	}
	return nil
}

func (c *httpClient) close() {
	if c.session != "" {
		req, _ := http.NewRequest(http.MethodDelete, c.url, nil)
		req.Header.Set("Mcp-Session-Id", c.session)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		if resp, err := c.hc.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	c.hc.CloseIdleConnections()
}

// initialize runs the handshake and records the negotiated protocol version.
func initialize(ctx context.Context, c caller) error {
	body, _, err := c.call(ctx, "initialize", initParams, true)
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	var r struct {
		Result *struct {
			ProtocolVersion string `json:"protocolVersion"`
		} `json:"result"`
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("initialize: bad response %.200q", body)
	}
	if r.Error != nil || r.Result == nil {
		return fmt.Errorf("initialize: %.200s", body)
	}
	if hc, ok := c.(*httpClient); ok {
		hc.proto = r.Result.ProtocolVersion
	}
	return c.notify("notifications/initialized")
}

// vmHWM reads a process's peak resident set size in bytes.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		if bytes.HasPrefix(l, []byte("VmHWM:")) {
			f := bytes.Fields(l[6:])
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(string(f[0]), 10, 64)
				return kb << 10
			}
		}
	}
	return -1
}
