package guard

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/consent/broker"
	"github.com/airlock-mcp/airlock/consent/client"
	"github.com/airlock-mcp/airlock/consent/localapi"
	"github.com/airlock-mcp/airlock/proxy"
	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
)

// BenchmarkTier3ToWatch measures the time from a tier-3 tools/call reaching the proxy to
// its request appearing on the broker's watch stream, as the desktop app and `airlock
// pending --watch` see it: guard, local API over a unix socket, broker, watch stream.
// It reports p50 and p95 in microseconds.
func BenchmarkTier3ToWatch(b *testing.B) {
	dir, err := os.MkdirTemp("", "alb")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	br, err := broker.New(broker.Options{Timeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	sock := filepath.Join(dir, "b.sock")
	ln, err := localapi.Listen(sock)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go localapi.Serve(ctx, ln, &localapi.Server{Broker: br, Host: "bench"})
	cl := &client.Client{Socket: sock}

	seen := make(chan string, 16)
	go cl.Watch(ctx, func(e apitype.Event) error {
		if e.Type == "pending" {
			for _, p := range e.Pending {
				seen <- p.ID
			}
		}
		return nil
	})
	// Wait for the watch stream to be up.
	for {
		if s, err := cl.Status(ctx); err == nil && s.Pending == 0 {
			break
		}
	}

	g := &Guard{Server: "fs", Asker: cl}
	ideSide, proxyClient := pipeConns()
	proxyServer, serverSide := pipeConns()
	sess := proxy.NewSession(ctx, proxyClient, proxyServer, proxy.Options{Name: "fs", Middleware: g.Middleware()})
	go sess.Run()
	go func() { // the server: answers anything it receives
		for {
			m, err := serverSide.Read()
			if err != nil {
				return
			}
			if m.Kind == jsonrpc.KindRequest {
				r, _ := jsonrpc.NewResult(m.ID, map[string]any{"content": []any{}})
				serverSide.Write(r)
			}
		}
	}()
	go func() { // drain the IDE side
		for {
			if _, err := ideSide.Read(); err != nil {
				return
			}
		}
	}()

	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m, _ := jsonrpc.Parse([]byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"delete_file","arguments":{"path":"/tmp/x%d"}}}`, i, i)))
		start := time.Now()
		if err := ideSide.Write(m); err != nil {
			b.Fatal(err)
		}
		id := <-seen
		lat = append(lat, time.Since(start))
		if err := cl.Decide(ctx, apitype.DecideRequest{ID: id, Outcome: apitype.Deny, Channel: apitype.ChannelApp}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds()), "p95-µs")
}
