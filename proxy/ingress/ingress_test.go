package ingress

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/airlock-mcp/airlock/proxy"
	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
	"github.com/airlock-mcp/airlock/proxy/transport"
)

// fakeServer is a minimal MCP server on an in-memory stream: it answers initialize,
// echoes tools/call arguments back after sending a progress notification when asked, and
// counts the backends started.
type fakeServer struct {
	mu      sync.Mutex
	started int
}

func (f *fakeServer) dial(ctx context.Context) (transport.Conn, error) {
	f.mu.Lock()
	f.started++
	f.mu.Unlock()
	ar, bw := io.Pipe()
	br, aw := io.Pipe()
	proxySide := transport.NewStream(ar, aw, func() error { ar.Close(); return aw.Close() }, 0)
	serverSide := transport.NewStream(br, bw, func() error { br.Close(); return bw.Close() }, 0)
	go func() {
		for {
			m, err := serverSide.Read()
			if err != nil {
				return
			}
			if m.Kind != jsonrpc.KindRequest {
				continue
			}
			switch m.Method {
			case "initialize":
				r, _ := jsonrpc.NewResult(m.ID, map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{}, "serverInfo": map[string]any{"name": "fake", "version": "1"}})
				serverSide.Write(r)
			case "tools/call":
				if tok := proxy.RequestMeta(m).ProgressToken; tok != nil {
					n, _ := jsonrpc.NewNotification("notifications/progress", map[string]any{"progressToken": tok, "progress": 1})
					serverSide.Write(n)
				}
				r, _ := jsonrpc.NewResult(m.ID, map[string]any{"echo": json.RawMessage(jsonrpc.Member(m.Params, "arguments"))})
				serverSide.Write(r)
			default:
				r, _ := jsonrpc.NewResult(m.ID, map[string]any{})
				serverSide.Write(r)
			}
		}
	}()
	return proxySide, nil
}

func newTestServer(t *testing.T, token string) (*httptest.Server, *fakeServer) {
	t.Helper()
	f := &fakeServer{}
	s := &Server{Backends: map[string]Backend{"fake": {Dial: f.dial}}, Token: token}
	hs := httptest.NewServer(s)
	t.Cleanup(func() { hs.Close(); s.Close() })
	return hs, f
}

type reply struct {
	status   int
	header   http.Header
	messages []map[string]any
}

func post(t *testing.T, hs *httptest.Server, headers map[string]string, body string) reply {
	t.Helper()
	req, _ := http.NewRequest("POST", hs.URL+"/mcp/fake", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := reply{status: resp.StatusCode, header: resp.Header}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var m map[string]any
				json.Unmarshal([]byte(data), &m)
				r.messages = append(r.messages, m)
			}
		}
	} else {
		var m map[string]any
		if json.NewDecoder(resp.Body).Decode(&m) == nil {
			r.messages = append(r.messages, m)
		}
	}
	return r
}

const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

func TestRequestChecks(t *testing.T) {
	hs, _ := newTestServer(t, "sekret")
	cases := []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"no token", nil, http.StatusUnauthorized},
		{"wrong token", map[string]string{"Authorization": "Bearer nope"}, http.StatusUnauthorized},
		{"foreign host", map[string]string{"Authorization": "Bearer sekret", "Host": "attacker.example:80"}, http.StatusForbidden},
		{"foreign origin", map[string]string{"Authorization": "Bearer sekret", "Origin": "https://attacker.example"}, http.StatusForbidden},
		{"loopback origin", map[string]string{"Authorization": "Bearer sekret", "Origin": "http://localhost:3000"}, http.StatusOK},
		{"localhost host", map[string]string{"Authorization": "Bearer sekret", "Host": "localhost:1234"}, http.StatusOK},
		{"ipv6 loopback host", map[string]string{"Authorization": "Bearer sekret", "Host": "[::1]:1234"}, http.StatusOK},
		{"json with charset", map[string]string{"Authorization": "Bearer sekret", "Content-Type": "application/json; charset=utf-8"}, http.StatusOK},
		// What a web page can send cross-origin without a CORS preflight.
		{"text/plain body", map[string]string{"Authorization": "Bearer sekret", "Content-Type": "text/plain"}, http.StatusUnsupportedMediaType},
		{"form body", map[string]string{"Authorization": "Bearer sekret", "Content-Type": "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
		{"no content type", map[string]string{"Authorization": "Bearer sekret", "Content-Type": ""}, http.StatusUnsupportedMediaType},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if r := post(t, hs, c.headers, initBody); r.status != c.want {
				t.Errorf("status %d, want %d", r.status, c.want)
			}
		})
	}
}

func TestStatefulSession(t *testing.T) {
	hs, f := newTestServer(t, "")
	r := post(t, hs, nil, initBody)
	sid := r.header.Get("Mcp-Session-Id")
	if r.status != 200 || sid == "" || len(r.messages) != 1 {
		t.Fatalf("initialize: %d %q %v", r.status, sid, r.messages)
	}
	// A request without a session is refused; one with an unknown session is 404.
	if r := post(t, hs, nil, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`); r.status != http.StatusBadRequest {
		t.Errorf("no session: %d", r.status)
	}
	if r := post(t, hs, map[string]string{"Mcp-Session-Id": "nope"}, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`); r.status != http.StatusNotFound {
		t.Errorf("unknown session: %d", r.status)
	}
	// Progress for a call arrives on that call's stream, before the answer.
	h := map[string]string{"Mcp-Session-Id": sid}
	if r := post(t, hs, h, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); r.status != http.StatusAccepted {
		t.Errorf("notification: %d", r.status)
	}
	r = post(t, hs, h, `{"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":"x","arguments":{"a":1},"_meta":{"progressToken":"p1"}}}`)
	if len(r.messages) != 2 || r.messages[0]["method"] != "notifications/progress" || r.messages[1]["id"] != "c1" {
		t.Fatalf("call stream: %v", r.messages)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Errorf("a call with progress before its answer came as %q, want an event stream", ct)
	}
	// An answer with nothing before it comes whole, with its length: as a stream of one
	// event to a client that accepts a stream, as one JSON object to a JSON-only client.
	r = post(t, hs, h, `{"jsonrpc":"2.0","id":"c2","method":"tools/call","params":{"name":"x","arguments":{"a":2}}}`)
	if ct := r.header.Get("Content-Type"); ct != "text/event-stream" || len(r.messages) != 1 || r.messages[0]["id"] != "c2" {
		t.Errorf("answer alone: Content-Type %q, messages %v", ct, r.messages)
	}
	if r.header.Get("Content-Length") == "" {
		t.Error("answer alone without Content-Length")
	}
	jsonOnly := map[string]string{"Mcp-Session-Id": sid, "Accept": "application/json"}
	r = post(t, hs, jsonOnly, `{"jsonrpc":"2.0","id":"c3","method":"tools/call","params":{"name":"x","arguments":{"a":3},"_meta":{"progressToken":"p3"}}}`)
	if ct := r.header.Get("Content-Type"); ct != "application/json" || len(r.messages) != 1 || r.messages[0]["id"] != "c3" {
		t.Errorf("JSON-only client: Content-Type %q, messages %v (want only the answer)", ct, r.messages)
	}
	if r.header.Get("Content-Length") == "" {
		t.Error("JSON answer without Content-Length")
	}
	// A malformed body gets a JSON-RPC parse error, and the session goes on.
	if r := post(t, hs, h, `{"jsonrpc":`); r.status != http.StatusBadRequest || r.messages[0]["error"] == nil {
		t.Errorf("bad JSON: %d %v", r.status, r.messages)
	}
	// DELETE ends the session.
	req, _ := http.NewRequest("DELETE", hs.URL+"/mcp/fake", nil)
	req.Header.Set("Mcp-Session-Id", sid)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %v %v", err, resp)
	}
	resp.Body.Close()
	if f.started != 1 {
		t.Errorf("%d backends started, want 1", f.started)
	}
}

func TestModernStatelessRewritesIDs(t *testing.T) {
	hs, f := newTestServer(t, "")
	call := func(id string) map[string]any {
		body := `{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":"x","arguments":{"who":` + id + `},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`
		r := post(t, hs, map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call"}, body)
		if r.status != 200 || len(r.messages) != 1 {
			t.Fatalf("modern call %s: %d %v", id, r.status, r.messages)
		}
		return r.messages[0]
	}
	// Two clients using the same id at once each get their own answer, with their id.
	var wg sync.WaitGroup
	results := make([]map[string]any, 2)
	for i, id := range []string{"7", "7"} {
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = call(id) }()
	}
	wg.Wait()
	for _, m := range results {
		if m["id"] != float64(7) {
			t.Errorf("answer id %v, want 7 (the client's own)", m["id"])
		}
	}
	if m := call(`"s"`); m["id"] != "s" || m["result"].(map[string]any)["echo"].(map[string]any)["who"] != "s" {
		t.Errorf("string id answer: %v", m)
	}
	if f.started != 1 {
		t.Errorf("%d backends for stateless requests, want one shared", f.started)
	}
	// A header that contradicts the body is refused.
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`
	if r := post(t, hs, map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call"}, body); r.status != http.StatusBadRequest {
		t.Errorf("method mismatch: %d", r.status)
	}
	// So is an Mcp-Name that names another tool than the body (a gateway routing on the
	// header would see one tool while Airlock judged another); base64 values are decoded.
	callBody := func(tool string) string {
		return `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":` + strconv.Quote(tool) + `,"arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`
	}
	h := func(name string) map[string]string {
		return map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": name}
	}
	if r := post(t, hs, h("read_file"), callBody("delete_file")); r.status != http.StatusBadRequest || !strings.Contains(fmt.Sprint(r.messages), "Mcp-Name") {
		t.Errorf("name mismatch: %d %v", r.status, r.messages)
	}
	if r := post(t, hs, h("=?base64?eA==?="), callBody("x")); r.status != http.StatusOK {
		t.Errorf("base64 Mcp-Name for x: %d %v", r.status, r.messages)
	}
	if r := post(t, hs, h("=?base64?not base64?="), callBody("x")); r.status != http.StatusBadRequest {
		t.Errorf("bad base64 Mcp-Name: %d", r.status)
	}
}

func TestGetStreamConflict(t *testing.T) {
	hs, _ := newTestServer(t, "")
	sid := post(t, hs, nil, initBody).header.Get("Mcp-Session-Id")
	get := func() *http.Response {
		req, _ := http.NewRequest("GET", hs.URL+"/mcp/fake", nil)
		req.Header.Set("Mcp-Session-Id", sid)
		req.Header.Set("Accept", "text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	first := get()
	defer first.Body.Close()
	if first.StatusCode != 200 {
		t.Fatalf("first GET: %d", first.StatusCode)
	}
	second := get()
	second.Body.Close()
	if second.StatusCode != http.StatusConflict {
		t.Errorf("second GET: %d, want 409", second.StatusCode)
	}
}

func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1:80": true, "localhost": true, "LOCALHOST:1": true, "[::1]:9": true, "127.1.2.3": true,
		"example.com": false, "127.0.0.1.nip.io:80": false, "[::ffff:8.8.8.8]:1": false, "": false,
	} {
		if got := loopbackHost(host); got != want {
			t.Errorf("loopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestReadBody(t *testing.T) {
	body := strings.Repeat("b", 100)
	for _, tc := range []struct {
		name    string
		length  int64 // -1: unknown (chunked)
		max     int
		wantLen int
	}{
		{"announced", 100, 1000, 100},
		{"chunked", -1, 1000, 100},
		{"announced over the cap", 100, 50, 51},
		{"chunked over the cap", -1, 50, 51},
		{"exactly the cap", 100, 100, 100},
	} {
		r := httptest.NewRequest("POST", "/mcp/x", io.NopCloser(strings.NewReader(body)))
		r.ContentLength = tc.length
		got, err := readBody(r, tc.max)
		if err != nil || len(got) != tc.wantLen || string(got) != body[:tc.wantLen] {
			t.Errorf("%s: got %d bytes, %v; want %d", tc.name, len(got), err, tc.wantLen)
		}
	}
}

func TestWriteEventSameBytesLargeOrSmall(t *testing.T) {
	for _, n := range []int{5, eventCopyMax, eventCopyMax + 1, 1 << 20} {
		data := []byte(`{"x":"` + strings.Repeat("y", n) + `"}`)
		var b bytes.Buffer
		writeEvent(&b, data)
		if want := "event: message\ndata: " + string(data) + "\n\n"; b.String() != want {
			t.Errorf("%d bytes: the event differs from the expected framing", n)
		}
	}
}

// watchedBody is a request body that reports when it is first read.
type watchedBody struct {
	r    io.Reader
	read chan<- int
	i    int
	once sync.Once
}

func (b *watchedBody) Read(p []byte) (int, error) {
	b.once.Do(func() { b.read <- b.i })
	return b.r.Read(p)
}
func (b *watchedBody) Close() error { return nil }

// When the server stops reading, a session holds at most its queue budget of request
// bodies: later requests wait with their bodies unread, and give up when their client
// does.
func TestQueueBudgetLeavesBodiesUnread(t *testing.T) {
	gate := make(chan struct{}) // closed: the stuck server reads again
	dial := func(ctx context.Context) (transport.Conn, error) {
		ar, bw := io.Pipe()
		br, aw := io.Pipe()
		serverSide := transport.NewStream(br, bw, func() error { br.Close(); return bw.Close() }, 0)
		go func() {
			m, err := serverSide.Read() // initialize
			if err != nil {
				return
			}
			r, _ := jsonrpc.NewResult(m.ID, map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{}, "serverInfo": map[string]any{"name": "stuck", "version": "1"}})
			serverSide.Write(r)
			<-gate
			io.Copy(io.Discard, br)
		}()
		return transport.NewStream(ar, aw, func() error { ar.Close(); return aw.Close() }, 0), nil
	}
	s := &Server{Backends: map[string]Backend{"stuck": {Dial: dial}}}
	defer s.Close()
	var gateOnce sync.Once
	openGate := func() { gateOnce.Do(func() { close(gate) }) }
	defer openGate()

	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "http://127.0.0.1:9/mcp/stuck", strings.NewReader(initBody))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	s.ServeHTTP(rec, req)
	sid := rec.Header().Get(headerSessionID)
	if sid == "" {
		t.Fatalf("initialize: %d %s", rec.Code, rec.Body)
	}

	const n, size = 6, 768 << 10 // 768 KiB each: the budget (2 MiB) holds two
	read := make(chan int, n)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var finished atomic.Int32
	for i := range n {
		body := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"echo","arguments":{"text":"%s"}}}`, i+10, strings.Repeat("x", size))
		req := httptest.NewRequestWithContext(ctx, "POST", "http://127.0.0.1:9/mcp/stuck", nil)
		req.Body = &watchedBody{r: strings.NewReader(body), read: read, i: i}
		req.ContentLength = int64(len(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set(headerSessionID, sid)
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.ServeHTTP(httptest.NewRecorder(), req)
			finished.Add(1)
		}()
	}
	// One body is being written to the (stuck) server, one waits to be; the other four
	// must stay unread.
	for range 2 {
		select {
		case <-read:
		case <-time.After(10 * time.Second):
			t.Fatal("fewer than two bodies were read")
		}
	}
	select {
	case i := <-read:
		t.Fatalf("body %d was read beyond the queue budget", i)
	case <-time.After(300 * time.Millisecond):
	}
	// The four waiting for the budget give up with their clients; the two being
	// delivered finish once the server reads again.
	cancel()
	deadline := time.Now().Add(10 * time.Second)
	for finished.Load() < n-2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := finished.Load(); got != n-2 {
		t.Fatalf("%d handlers returned after their clients went away, want the %d waiting for the budget", got, n-2)
	}
	openGate()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the handlers delivering to the server did not finish once it read again")
	}
}

// A cancellation that overtakes its request (a small POST read before a large one) is
// not lost: when the request arrives it is withdrawn at once, as if the cancellation had
// come second, and a call held for a decision never reaches the server.
func TestCancelBeforeItsRequest(t *testing.T) {
	f := &fakeServer{}
	withdrawn := make(chan string, 4)
	gate := proxy.GateFunc(func(ctx context.Context, s *proxy.Session, call *proxy.ToolCall) proxy.Verdict {
		select {
		case <-ctx.Done():
			withdrawn <- call.Request.ID.String()
		case <-time.After(10 * time.Second):
		}
		return proxy.Verdict{Refuse: true, Message: "not withdrawn"}
	})
	s := &Server{Backends: map[string]Backend{"fake": {Dial: f.dial}},
		Middleware: func(string) []proxy.Middleware { return []proxy.Middleware{proxy.ToolCalls(gate)} }}
	hs := httptest.NewServer(s)
	t.Cleanup(func() { hs.Close(); s.Close() })
	sid := post(t, hs, nil, initBody).header.Get("Mcp-Session-Id")
	h := map[string]string{"Mcp-Session-Id": sid}

	if r := post(t, hs, h, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"late","reason":"user stopped"}}`); r.status != http.StatusAccepted {
		t.Fatalf("cancel: %d", r.status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", hs.URL+"/mcp/fake",
		strings.NewReader(`{"jsonrpc":"2.0","id":"late","method":"tools/call","params":{"name":"x","arguments":{}}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Session-Id", sid)
	go func() {
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case id := <-withdrawn:
		if id != `"late"` {
			t.Errorf("withdrew %s", id)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("the call was held although its cancellation came first")
	}

	// A cancellation only ever withdraws the request it names.
	if r := post(t, hs, h, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"other"}}`); r.status != http.StatusAccepted {
		t.Fatalf("cancel: %d", r.status)
	}
	req2, _ := http.NewRequestWithContext(ctx, "POST", hs.URL+"/mcp/fake",
		strings.NewReader(`{"jsonrpc":"2.0","id":"fresh","method":"tools/call","params":{"name":"x","arguments":{}}}`))
	req2.Header = req.Header.Clone()
	go func() {
		if resp, err := http.DefaultClient.Do(req2); err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case id := <-withdrawn:
		t.Errorf("withdrew %s, which nobody cancelled", id)
	case <-time.After(300 * time.Millisecond):
	}
}
