package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// recorder wraps a handler and remembers every request it saw.
type recorder struct {
	mu       sync.Mutex
	reqs     []recorded
	watchers []watcher
}

type recorded struct {
	method string
	header http.Header
	body   string
}

type watcher struct {
	match func(recorded) bool
	once  *sync.Once
	ch    chan struct{}
}

func (r *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		rec := recorded{method: req.Method, header: req.Header.Clone(), body: string(body)}
		r.mu.Lock()
		r.reqs = append(r.reqs, rec)
		ws := append([]watcher(nil), r.watchers...)
		r.mu.Unlock()
		for _, w := range ws {
			if w.match(rec) {
				w.once.Do(func() { close(w.ch) })
			}
		}
		h.ServeHTTP(w, req)
	})
}

// when returns a channel closed once a request matching match arrives.
func (r *recorder) when(match func(recorded) bool) <-chan struct{} {
	w := watcher{match: match, once: new(sync.Once), ch: make(chan struct{})}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.reqs {
		if match(rec) {
			close(w.ch)
			return w.ch
		}
	}
	r.watchers = append(r.watchers, w)
	return w.ch
}

func (r *recorder) all() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.reqs...)
}

// find returns the POST whose body contains s.
func (r *recorder) find(t *testing.T, s string) recorded {
	t.Helper()
	for _, rec := range r.all() {
		if rec.method == http.MethodPost && strings.Contains(rec.body, s) {
			return rec
		}
	}
	t.Fatalf("no POST containing %q", s)
	return recorded{}
}

const waitLimit = 10 * time.Second

func awaitChan(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(waitLimit):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func dial(t *testing.T, o Options) *Conn {
	t.Helper()
	if o.Name == "" {
		o.Name = "x"
	}
	c, err := Dial(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func write(t *testing.T, c *Conn, raw string) {
	t.Helper()
	m, err := jsonrpc.Parse([]byte(raw))
	if err != nil {
		t.Fatalf("bad test message %s: %v", raw, err)
	}
	if err := c.Write(m); err != nil {
		t.Fatalf("Write(%s): %v", raw, err)
	}
}

func read(t *testing.T, c *Conn) (*jsonrpc.Message, error) {
	t.Helper()
	type result struct {
		m   *jsonrpc.Message
		err error
	}
	ch := make(chan result, 1)
	go func() {
		m, err := c.Read()
		ch <- result{m, err}
	}()
	select {
	case r := <-ch:
		return r.m, r.err
	case <-time.After(waitLimit):
		t.Fatal("timed out waiting for a message")
		return nil, nil
	}
}

func readMsg(t *testing.T, c *Conn) *jsonrpc.Message {
	t.Helper()
	m, err := read(t, c)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return m
}

// readUntil reads until the response with id arrives, returning everything read.
func readUntil(t *testing.T, c *Conn, id string) []*jsonrpc.Message {
	t.Helper()
	var out []*jsonrpc.Message
	for {
		m := readMsg(t, c)
		out = append(out, m)
		if m.Kind == jsonrpc.KindResponse && m.ID.String() == id {
			return out
		}
	}
}

func errorOf(t *testing.T, m *jsonrpc.Message) *jsonrpc.Error {
	t.Helper()
	e := m.ErrorObject()
	if e == nil {
		t.Fatalf("want an error response, got %s", m.Raw)
	}
	return e
}

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"roots":{"listChanged":true}},"clientInfo":{"name":"ide","version":"1"}}}`

// startLegacy serves srv statefully and runs the initialize handshake over c.
func startLegacy(t *testing.T, srv *mcp.Server, opts *mcp.StreamableHTTPOptions) (*Conn, *recorder, *httptest.Server) {
	t.Helper()
	rec := &recorder{}
	ts := httptest.NewServer(rec.wrap(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, opts)))
	t.Cleanup(ts.Close)
	c := dial(t, Options{URL: ts.URL, Header: http.Header{"X-Api-Key": {"secret"}}})
	write(t, c, initialize)
	m := readMsg(t, c)
	if m.ID.String() != "1" || !strings.Contains(string(m.Result), `"protocolVersion":"2025-11-25"`) {
		t.Fatalf("initialize answered with %s", m.Raw)
	}
	write(t, c, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	return c, rec, ts
}

func TestLegacySession(t *testing.T) {
	srv := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "work"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: req.Params.GetProgressToken(), Progress: 1, Total: 2})
		req.Session.Log(ctx, &mcp.LoggingMessageParams{Level: "info", Data: "working"})
		return text("done"), nil, nil
	})
	mcp.AddTool(srv, &mcp.Tool{Name: "roots"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		res, err := req.Session.ListRoots(ctx, nil)
		if err != nil {
			return nil, nil, err
		}
		return text("root=" + res.Roots[0].URI), nil, nil
	})
	c, rec, _ := startLegacy(t, srv, &mcp.StreamableHTTPOptions{EventStore: mcp.NewMemoryEventStore(nil)})

	write(t, c, `{"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"debug"}}`)
	if m := readMsg(t, c); m.ID.String() != "2" || m.Error != nil {
		t.Fatalf("logging/setLevel answered with %s", m.Raw)
	}

	list := `{"jsonrpc":"2.0","id":3,"method":"tools/list"}`
	write(t, c, list)
	if m := readMsg(t, c); m.ID.String() != "3" || !strings.Contains(string(m.Result), `"name":"work"`) {
		t.Fatalf("tools/list answered with %s", m.Raw)
	}
	// The body is relayed byte for byte, with the session and the negotiated version.
	got := rec.find(t, `"tools/list"`)
	if got.body != list {
		t.Errorf("server got body %q, want %q", got.body, list)
	}
	if got.header.Get("Mcp-Session-Id") == "" || got.header.Get("Mcp-Protocol-Version") != "2025-11-25" {
		t.Errorf("tools/list headers: %v", got.header)
	}
	if got.header.Get("X-Api-Key") != "secret" || !strings.Contains(got.header.Get("Accept"), "text/event-stream") {
		t.Errorf("tools/list headers: %v", got.header)
	}
	if init := rec.find(t, `"initialize"`); init.header.Get("Mcp-Session-Id") != "" || init.header.Get("Mcp-Protocol-Version") != "" {
		t.Errorf("initialize carried session headers: %v", init.header)
	}

	// Progress and log notifications arrive before the response.
	write(t, c, `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"work","arguments":{},"_meta":{"progressToken":"p1"}}}`)
	var methods []string
	for _, m := range readUntil(t, c, "4") {
		methods = append(methods, m.Method)
	}
	if want := "notifications/progress,notifications/message,"; strings.Join(methods, ",") != want {
		t.Errorf("during tools/call got %q, want %q", strings.Join(methods, ","), want)
	}

	// A server→client request during a call, and the IDE's answer.
	write(t, c, `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"roots","arguments":{}}}`)
	ask := readMsg(t, c)
	if ask.Kind != jsonrpc.KindRequest || ask.Method != "roots/list" {
		t.Fatalf("want roots/list, got %s", ask.Raw)
	}
	write(t, c, fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":{"roots":[{"uri":"file:///work","name":"work"}]}}`, ask.ID))
	if m := readMsg(t, c); m.ID.String() != "5" || !strings.Contains(string(m.Result), "root=file:///work") {
		t.Fatalf("tools/call roots answered with %s", m.Raw)
	}

	// A message unrelated to any request comes on the standalone GET stream.
	mcp.AddTool(srv, &mcp.Tool{Name: "late"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return text("late"), nil, nil
	})
	if m := readMsg(t, c); m.Method != "notifications/tools/list_changed" {
		t.Fatalf("want tools/list_changed, got %s", m.Raw)
	}

	session := got.header.Get("Mcp-Session-Id")
	deleted := rec.when(func(r recorded) bool {
		return r.method == http.MethodDelete && r.header.Get("Mcp-Session-Id") == session
	})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	awaitChan(t, deleted, "DELETE")
	if _, err := read(t, c); err != io.EOF {
		t.Errorf("Read after Close: %v, want io.EOF", err)
	}
	if err := c.Write(&jsonrpc.Message{Kind: jsonrpc.KindNotification}); err == nil {
		t.Error("Write after Close succeeded")
	}
	var gets int
	for _, r := range rec.all() {
		if r.method == http.MethodGet {
			gets++
			if r.header.Get("Mcp-Session-Id") != session {
				t.Errorf("GET without the session: %v", r.header)
			}
		}
	}
	if gets == 0 {
		t.Error("no standalone GET stream was opened")
	}
}

// A slow call does not hold up a ping, and a cancelled legacy call is cancelled with a
// notification, its stream kept open.
func TestConcurrentAndCancel(t *testing.T) {
	srv := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	started, stopped := make(chan struct{}), make(chan struct{})
	mcp.AddTool(srv, &mcp.Tool{Name: "block"}, func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		close(started)
		<-ctx.Done()
		close(stopped)
		return nil, nil, ctx.Err()
	})
	c, rec, _ := startLegacy(t, srv, nil)
	write(t, c, `{"jsonrpc":"2.0","id":"slow","method":"tools/call","params":{"name":"block","arguments":{}}}`)
	awaitChan(t, started, "the tool to start")
	write(t, c, `{"jsonrpc":"2.0","id":"ping","method":"ping"}`)
	if m := readMsg(t, c); m.ID.String() != `"ping"` {
		t.Fatalf("want the ping's response, got %s", m.Raw)
	}
	write(t, c, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"slow","reason":"user"}}`)
	awaitChan(t, stopped, "the tool to see the cancellation")
	rec.find(t, `"notifications/cancelled"`)
}

// A 2026-07-28 request goes without a session, with the routing headers, and no GET.
func TestModernStateless(t *testing.T) {
	srv := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "echo"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return text("echoed"), nil, nil
	})
	rec := &recorder{}
	ts := httptest.NewServer(rec.wrap(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{Stateless: true})))
	defer ts.Close()
	c := dial(t, Options{URL: ts.URL})

	call := `{"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}},"name":"echo","arguments":{}}}`
	write(t, c, call)
	m := readMsg(t, c)
	if m.ID.String() != `"c1"` || !strings.Contains(string(m.Result), "echoed") {
		t.Fatalf("tools/call answered with %s", m.Raw)
	}
	got := rec.find(t, `"tools/call"`)
	want := map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "echo", "Mcp-Session-Id": ""}
	for k, v := range want {
		if got.header.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, got.header.Get(k), v)
		}
	}
	c.Close()
	for _, r := range rec.all() {
		if r.method != http.MethodPost {
			t.Errorf("unexpected %s in pure 2026-07-28 use", r.method)
		}
	}
}

// Cancelling a 2026-07-28 request closes its stream.
func TestModernCancel(t *testing.T) {
	srv := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	started, stopped := make(chan struct{}), make(chan struct{})
	mcp.AddTool(srv, &mcp.Tool{Name: "block"}, func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		close(started)
		<-ctx.Done()
		close(stopped)
		return nil, nil, ctx.Err()
	})
	ts := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{Stateless: true, PropagateRequestCancellation: true}))
	defer ts.Close()
	c := dial(t, Options{URL: ts.URL})
	write(t, c, `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}},"name":"block","arguments":{}}}`)
	awaitChan(t, started, "the tool to start")
	write(t, c, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":9}}`)
	awaitChan(t, stopped, "the tool to see the cancellation")
}

// A request whose stream the server closes is resumed with GET and Last-Event-ID.
func TestResumeRequestStream(t *testing.T) {
	srv := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	var resumed <-chan struct{}
	mcp.AddTool(srv, &mcp.Tool{Name: "drop"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: req.Params.GetProgressToken(), Progress: 1})
		req.Extra.CloseSSEStream(mcp.CloseSSEStreamArgs{RetryAfter: time.Millisecond})
		<-resumed
		return text("after the drop"), nil, nil
	})
	c, rec, _ := startLegacy(t, srv, &mcp.StreamableHTTPOptions{EventStore: mcp.NewMemoryEventStore(nil)})
	resumed = rec.when(func(r recorded) bool {
		return r.method == http.MethodGet && r.header.Get("Last-Event-ID") != ""
	})
	write(t, c, `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"drop","arguments":{},"_meta":{"progressToken":1}}}`)
	msgs := readUntil(t, c, "7")
	last := msgs[len(msgs)-1]
	if !strings.Contains(string(last.Result), "after the drop") {
		t.Fatalf("tools/call answered with %s", last.Raw)
	}
	if msgs[0].Method != "notifications/progress" {
		t.Errorf("first message %s, want the progress notification", msgs[0].Raw)
	}
}

// HTTP failures of a request become JSON-RPC errors with the request's id.
func TestHTTPErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/mcp"
	ln.Close()

	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string // in the error message
		raw     string // when set, the whole response expected
		code    int
	}{
		{name: "refused", want: `server "x" at 127.0.0.1:`, code: jsonrpc.CodeServerUnavailable},
		{
			name:    "500",
			handler: func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", 500) },
			want:    `server "x" at 127.0.0.1:`, code: jsonrpc.CodeServerUnavailable,
		},
		{
			name:    "401",
			handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(401) },
			want:    "requires authorization", code: jsonrpc.CodeServerUnavailable,
		},
		{
			name: "jsonrpc body",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(400)
				io.WriteString(w, `{"jsonrpc":"2.0","id":"r","error":{"code":-32022,"message":"unsupported"}}`)
			},
			raw: `{"jsonrpc":"2.0","id":"r","error":{"code":-32022,"message":"unsupported"}}`,
		},
		{
			name: "jsonrpc body with null id",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(400)
				io.WriteString(w, `{"jsonrpc":"2.0","id":null,"error":{"code":-32020,"message":"header mismatch"}}`)
			},
			want: "header mismatch", code: -32020,
		},
		{
			name: "stream ends early",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				io.WriteString(w, "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{}}\n\n")
			},
			want: "closed the stream", code: jsonrpc.CodeServerUnavailable,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := refused
			if tt.handler != nil {
				ts := httptest.NewServer(tt.handler)
				defer ts.Close()
				url = ts.URL
			}
			c := dial(t, Options{URL: url})
			write(t, c, `{"jsonrpc":"2.0","id":"r","method":"tools/list"}`)
			m := readMsg(t, c)
			if m.Kind == jsonrpc.KindNotification {
				m = readMsg(t, c)
			}
			if tt.raw != "" {
				if string(m.Raw) != tt.raw {
					t.Errorf("got %s, want %s", m.Raw, tt.raw)
				}
				return
			}
			if m.ID.String() != `"r"` {
				t.Errorf("error response has id %s", m.ID)
			}
			e := errorOf(t, m)
			if e.Code != tt.code || !strings.Contains(e.Message, tt.want) {
				t.Errorf("got error %d %q, want %d containing %q", e.Code, e.Message, tt.code, tt.want)
			}
			if tt.name == "500" && !strings.Contains(e.Message, "answered HTTP 500: boom") {
				t.Errorf("message %q does not give the status", e.Message)
			}
			if tt.name == "refused" && !strings.Contains(e.Message, "is unreachable") {
				t.Errorf("message %q does not say the server is unreachable", e.Message)
			}
		})
	}
}

// A 404 for a known session says the session expired and stops using it.
func TestSessionExpired(t *testing.T) {
	var mu sync.Mutex
	posts := 0
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		posts++
		mu.Unlock()
		if r.Header.Get("Mcp-Session-Id") == "" {
			w.Header().Set("Mcp-Session-Id", "s1")
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"s","version":"1"}}}`)
			return
		}
		http.Error(w, "session not found", http.StatusNotFound)
	}))
	defer ts.Close()
	c := dial(t, Options{URL: ts.URL})
	write(t, c, initialize)
	readMsg(t, c)
	for _, id := range []string{"2", "3"} {
		write(t, c, `{"jsonrpc":"2.0","id":`+id+`,"method":"tools/list"}`)
		m := readMsg(t, c)
		if e := errorOf(t, m); m.ID.String() != id || !strings.Contains(e.Message, "ended the session") {
			t.Errorf("got %s", m.Raw)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if posts != 2 {
		t.Errorf("server saw %d POSTs, want 2 (none after the session expired)", posts)
	}
}

// An SSE event over the cap, or one that is not JSON-RPC, gives a BadMessageError.
func TestBadEvents(t *testing.T) {
	big := `{"jsonrpc":"2.0","id":"r","result":{"pad":"` + strings.Repeat("x", 2000) + `"}}`
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, ": comment\n\nevent: message\ndata: {not json\n\n")
		io.WriteString(w, "id: 1\r\nretry: 5\r\ndata: "+big+"\r\n\r\n")
	}))
	defer ts.Close()
	c := dial(t, Options{URL: ts.URL, MaxMessage: 1024})
	write(t, c, `{"jsonrpc":"2.0","id":"r","method":"tools/list"}`)

	var bad *jsonrpc.BadMessageError
	if _, err := read(t, c); !errors.As(err, &bad) || bad.Code != jsonrpc.CodeParseError {
		t.Fatalf("want a parse error, got %v", err)
	}
	_, err := read(t, c)
	if !errors.As(err, &bad) || bad.Code != jsonrpc.CodeMessageTooLarge || bad.ID.String() != `"r"` {
		t.Fatalf("want a too-large error for id \"r\", got %#v", err)
	}
	// The oversized event was the response: nothing else is synthesised.
	c.Close()
	if m, err := read(t, c); err != io.EOF {
		t.Errorf("after the oversized response: %v %v", m, err)
	}
}

func TestDial(t *testing.T) {
	for _, u := range []string{"ftp://example.com", "example.com/mcp", "http://", "://bad"} {
		if _, err := Dial(context.Background(), Options{Name: "x", URL: u}); err == nil {
			t.Errorf("Dial(%q) succeeded", u)
		}
	}
}

func TestHeaderValue(t *testing.T) {
	for in, want := range map[string]string{
		"echo":          "echo",
		"file:///a b":   "file:///a b",
		" pad":          "=?base64?IHBhZA==?=",
		"héllo":         "=?base64?aMOpbGxv?=",
		"=?base64?x?=":  "=?base64?PT9iYXNlNjQ/eD89?=",
		"line\r\nbreak": "=?base64?bGluZQ0KYnJlYWs=?=",
	} {
		if got := headerValue(in); got != want {
			t.Errorf("headerValue(%q) = %q, want %q", in, got, want)
		}
	}
}

// An application/json answer is one message.
func TestJSONResponse(t *testing.T) {
	srv := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "echo"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return text("echoed"), nil, nil
	})
	c, _, _ := startLegacy(t, srv, &mcp.StreamableHTTPOptions{JSONResponse: true})
	write(t, c, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{}}}`)
	if m := readMsg(t, c); m.ID.String() != "2" || !strings.Contains(string(m.Result), "echoed") {
		t.Fatalf("tools/call answered with %s", m.Raw)
	}
}

// The standalone stream reconnects with Last-Event-ID after it drops.
func TestStandaloneReconnect(t *testing.T) {
	rec := &recorder{}
	ts := httptest.NewServer(rec.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.Header.Get("Mcp-Session-Id") == "":
			w.Header().Set("Mcp-Session-Id", "s1")
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"s","version":"1"}}}`)
		case r.Method == http.MethodPost:
			w.WriteHeader(http.StatusAccepted)
		case r.Method == http.MethodGet && r.Header.Get("Last-Event-ID") == "":
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "retry: 1\nid: e1\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/first\"}\n\n")
		case r.Method == http.MethodGet:
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "id: e2\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/second\"}\n\n")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})))
	defer ts.Close()
	c := dial(t, Options{URL: ts.URL})
	write(t, c, initialize)
	readMsg(t, c)
	write(t, c, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	for _, want := range []string{"notifications/first", "notifications/second"} {
		if m := readMsg(t, c); m.Method != want {
			t.Fatalf("got %s, want %s", m.Raw, want)
		}
	}
	var resumed bool
	for _, r := range rec.all() {
		if r.method == http.MethodGet && r.header.Get("Last-Event-ID") == "e1" && r.header.Get("Mcp-Session-Id") == "s1" {
			resumed = true
		}
	}
	if !resumed {
		t.Error("no GET resumed the stream with Last-Event-ID: e1")
	}
	c.Close() // before ts.Close, which waits for the hanging GET
}

// fakeAuth is an Authorizer whose token becomes "Bearer good" after one Authorize.
type fakeAuth struct {
	mu      sync.Mutex
	managed bool
	value   string
	calls   []string // the sent values Authorize saw
	err     error
}

func (f *fakeAuth) Authorization(context.Context) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.value, f.managed, nil
}

func (f *fakeAuth) Authorize(_ context.Context, sent string, _ *http.Response) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, sent)
	if f.err != nil {
		return f.err
	}
	f.managed, f.value = true, "Bearer good"
	return nil
}

func TestAuthorizer(t *testing.T) {
	tests := []struct {
		name      string
		status    int    // answer to a request without "Bearer good"
		challenge string // its WWW-Authenticate
		authErr   error
		want      string // "" for success, else in the error
		calls     int
	}{
		{name: "401 signs in and retries", status: 401, calls: 1},
		{name: "403 insufficient_scope steps up", status: 403, challenge: `Bearer error="insufficient_scope", scope="a b"`, calls: 1},
		{name: "plain 403 is no sign-in", status: 403, want: "HTTP 403", calls: 0},
		{name: "sign-in error reaches the IDE", status: 401, authErr: errors.New("not approved"), want: "not approved", calls: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []string
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen = append(seen, r.Header.Get("Authorization"))
				mu.Unlock()
				if r.Header.Get("Authorization") != "Bearer good" {
					if tc.challenge != "" {
						w.Header().Set("WWW-Authenticate", tc.challenge)
					}
					w.WriteHeader(tc.status)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"jsonrpc":"2.0","id":"r","result":{}}`)
			}))
			defer ts.Close()
			fa := &fakeAuth{err: tc.authErr}
			c := dial(t, Options{URL: ts.URL, Auth: fa, Header: http.Header{"Authorization": {"Bearer ide"}}})
			write(t, c, `{"jsonrpc":"2.0","id":"r","method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`)
			m := readMsg(t, c)
			if tc.want == "" {
				if m.Error != nil {
					t.Fatalf("got %s", m.Raw)
				}
			} else if e := errorOf(t, m); !strings.Contains(e.Message, tc.want) {
				t.Fatalf("error %q lacks %q", e.Message, tc.want)
			}
			if len(fa.calls) != tc.calls || (tc.calls > 0 && fa.calls[0] != "Bearer ide") {
				t.Errorf("Authorize calls = %q", fa.calls)
			}
			mu.Lock()
			defer mu.Unlock()
			if tc.want == "" && (len(seen) != 2 || seen[1] != "Bearer good") {
				t.Errorf("server saw %q; want the IDE's header once, then only Airlock's", seen)
			}
		})
	}
}

// A 2026-07-28 server whose tools mark parameters with x-mcp-header, and which, as a
// conforming server does, refuses a tools/call whose Mcp-Param-* headers do not mirror
// the arguments. Airlock learns the markings from tools/list, sends the headers, and
// leaves out a tool whose markings are invalid.
func TestParamHeaders(t *testing.T) {
	const tools = `{"tools":[
	 {"name":"deploy","inputSchema":{"type":"object","properties":{
	   "region":{"type":"string","x-mcp-header":"Region"},
	   "dry":{"type":"boolean","x-mcp-header":"Dry-Run"},
	   "opts":{"type":"object","properties":{"count":{"type":"integer","x-mcp-header":"Count"}}},
	   "note":{"type":"string"}}}},
	 {"name":"bad","inputSchema":{"type":"object","properties":{"x":{"type":"number","x-mcp-header":"X"}}}},
	 {"name":"bad2","inputSchema":{"type":"object","properties":{"a":{"type":"string","x-mcp-header":"Has Space"}}}},
	 {"name":"plain","inputSchema":{"type":"object"}}]}`
	var mu sync.Mutex
	var got []http.Header
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		m, err := jsonrpc.Parse(body)
		if err != nil {
			http.Error(w, "bad", 400)
			return
		}
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		var res *jsonrpc.Message
		switch m.Method {
		case "tools/list":
			res, _ = jsonrpc.NewResult(m.ID, json.RawMessage(tools))
		case "tools/call":
			var p struct {
				Name      string `json:"name"`
				Arguments struct {
					Region *string `json:"region"`
					Dry    *bool   `json:"dry"`
					Opts   struct {
						Count *int64 `json:"count"`
					} `json:"opts"`
				} `json:"arguments"`
			}
			json.Unmarshal(m.Params, &p)
			want := map[string]string{}
			if a := p.Arguments.Region; a != nil {
				want["Mcp-Param-Region"] = headerValue(*a)
			}
			if a := p.Arguments.Dry; a != nil {
				want["Mcp-Param-Dry-Run"] = strconv.FormatBool(*a)
			}
			if a := p.Arguments.Opts.Count; a != nil {
				want["Mcp-Param-Count"] = strconv.FormatInt(*a, 10)
			}
			if p.Name != "deploy" {
				want = map[string]string{} // no markings: no headers
			}
			for _, k := range []string{"Mcp-Param-Region", "Mcp-Param-Dry-Run", "Mcp-Param-Count"} {
				if r.Header.Get(k) != want[k] {
					w.WriteHeader(400)
					e := jsonrpc.NewError(m.ID, -32001, fmt.Sprintf("header %s is %q, the body says %q", k, r.Header.Get(k), want[k]), nil)
					w.Write(e.Raw)
					return
				}
			}
			res, _ = jsonrpc.NewResult(m.ID, map[string]any{"content": []any{}})
		default:
			res, _ = jsonrpc.NewResult(m.ID, map[string]any{})
		}
		w.Write(res.Raw)
	}))
	defer ts.Close()
	var logs []string
	var logMu sync.Mutex
	c := dial(t, Options{URL: ts.URL, Logf: func(f string, a ...any) {
		logMu.Lock()
		logs = append(logs, fmt.Sprintf(f, a...))
		logMu.Unlock()
	}})
	const meta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}`

	write(t, c, `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{`+meta+`}}`)
	list := readMsg(t, c)
	var names []string
	var lr struct{ Tools []struct{ Name string } }
	json.Unmarshal(list.Result, &lr)
	for _, tl := range lr.Tools {
		names = append(names, tl.Name)
	}
	if strings.Join(names, ",") != "deploy,plain" {
		t.Errorf("tools/list relayed %v, want deploy and plain (bad and bad2 have invalid markings)", names)
	}
	logMu.Lock()
	if len(logs) != 2 || !strings.Contains(logs[0], `"bad"`) || !strings.Contains(logs[1], `"bad2"`) {
		t.Errorf("logged %q", logs)
	}
	logMu.Unlock()

	calls := []string{
		`{"region":"eu-west-1","dry":true,"opts":{"count":3},"note":"x"}`,
		`{"region":" spaced ","dry":false}`,
		`{"region":"Zürich"}`,
		`{"note":"no marked argument"}`,
	}
	for i, args := range calls {
		id := strconv.Itoa(10 + i)
		write(t, c, `{"jsonrpc":"2.0","id":`+id+`,"method":"tools/call","params":{`+meta+`,"name":"deploy","arguments":`+args+`}}`)
		if m := readMsg(t, c); m.Error != nil {
			t.Errorf("call %s refused by the server: %s", args, m.Raw)
		}
	}
	mu.Lock()
	last := got[len(got)-1]
	mu.Unlock()
	if last.Get("Mcp-Param-Region") != "" {
		t.Errorf("a header for an absent argument: %v", last)
	}
	// A tool without markings sends none.
	write(t, c, `{"jsonrpc":"2.0","id":20,"method":"tools/call","params":{`+meta+`,"name":"plain","arguments":{"region":"x"}}}`)
	if m := readMsg(t, c); m.Error != nil {
		t.Errorf("plain call refused: %s", m.Raw)
	}
}

func TestHeaderArg(t *testing.T) {
	for in, want := range map[string]string{
		`"eu"`: "eu", `" eu"`: "=?base64?IGV1?=", `true`: "true", `false`: "false", `42`: "42", `-7`: "-7",
		`1e3`: "1000", `9007199254740991`: "9007199254740991",
	} {
		if got, ok := headerArg(json.RawMessage(in)); !ok || got != want {
			t.Errorf("headerArg(%s) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{`1.5`, `9007199254740993`, `null`, `{}`, `[1]`} {
		if got, ok := headerArg(json.RawMessage(in)); ok {
			t.Errorf("headerArg(%s) = %q, want no header", in, got)
		}
	}
}
