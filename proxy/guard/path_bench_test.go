package guard

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/airlock-mcp/airlock/consent/policy"
	"github.com/airlock-mcp/airlock/proxy"
	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
	"github.com/airlock-mcp/airlock/store"

	"github.com/airlock-mcp/airlock/bench/payload"
)

// chanConn is a Conn whose reads come from a channel and whose writes call a function:
// no pipes, no syscalls, so a benchmark sees only the chain's own work.
type chanConn struct {
	in    chan *jsonrpc.Message
	write func(*jsonrpc.Message)
}

func (c *chanConn) Read() (*jsonrpc.Message, error) {
	m, ok := <-c.in
	if !ok {
		return nil, context.Canceled
	}
	return m, nil
}
func (c *chanConn) Write(m *jsonrpc.Message) error { c.write(m); return nil }
func (c *chanConn) Close() error                   { return nil }

// BenchmarkToolCallPath is the work airlock wrap does for one tier-0 tools/call and its
// answer, as the proxy benchmark's echo calls make it: the handshake and guard
// middleware with the default policy, self-protection and the real decision log. The
// server answers on the goroutine that relays the request, so the figure is the chain's
// own cost (both directions), not pipe or scheduling time.
func BenchmarkToolCallPath(b *testing.B) {
	for _, size := range []int{5, 64 << 10} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) { benchToolCallPath(b, size) })
	}
}

func benchToolCallPath(b *testing.B, size int) {
	text := payload.Text(size)
	answer := json.RawMessage(`{"content":[{"type":"text","text":"` + text + `"}]}`)
	dir := b.TempDir()
	lg, err := store.Open(filepath.Join(dir, "log.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer lg.Close()
	g := &Guard{Server: "echo", Policy: policy.Default(), Log: lg, Redact: lg.Redactor().RedactJSON,
		RedactText: lg.Redactor().RedactString,
		Protect:    NewProtection(dir, []string{filepath.Join(dir, "policy.toml"), "/usr/local/bin/airlock"}, []string{".mcp.json", ".cursor/mcp.json"})}

	ide := make(chan *jsonrpc.Message, 1)
	fromServer := make(chan *jsonrpc.Message, 1)
	toIDE := make(chan *jsonrpc.Message, 1)
	respond := func(m *jsonrpc.Message) {
		if m.Kind != jsonrpc.KindRequest {
			return
		}
		var r *jsonrpc.Message
		switch m.Method {
		case "initialize":
			r, _ = jsonrpc.NewResult(m.ID, json.RawMessage(`{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"bench-echo","version":"1.0.0"}}`))
		case "tools/list":
			r, _ = jsonrpc.NewResult(m.ID, json.RawMessage(`{"tools":[{"name":"echo","description":"Returns its argument.","inputSchema":{"type":"object","properties":{"text":{"type":"string"}}}}]}`))
		default: // parsed from its line, as the proxy's reader does with a server's answer
			var err error
			line := append(append(append([]byte(`{"jsonrpc":"2.0","id":`), m.ID.Raw()...), `,"result":`...), answer...)
			if r, err = jsonrpc.Parse(append(line, '}')); err != nil {
				panic(err)
			}
		}
		fromServer <- r
	}
	client := &chanConn{in: ide, write: func(m *jsonrpc.Message) { toIDE <- m }}
	server := &chanConn{in: fromServer, write: respond}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sess := proxy.NewSession(ctx, client, server, proxy.Options{Name: "echo",
		Middleware: append([]proxy.Middleware{proxy.Handshake()}, g.Middleware()...)})
	go sess.Run()
	call := func(line string) {
		m, err := jsonrpc.Parse([]byte(line))
		if err != nil {
			b.Fatal(err)
		}
		ide <- m
		<-toIDE
	}
	call(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}`)
	call(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	line := []byte(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"` + text + `"}}}`)
	b.SetBytes(int64(2 * size))
	b.ReportAllocs()
	for b.Loop() {
		m, _ := jsonrpc.Parse(line)
		ide <- m
		<-toIDE
	}
	b.StopTimer()
	g.Flush()
}
